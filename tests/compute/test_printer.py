"""SymPy to the service's text and to LaTeX: exact forms, and the round trip text -> tree -> text -> tree."""

from __future__ import annotations

import cmath

import pytest
import sympy as sp
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from service.compute.errors import NablaError
from service.compute.language.build import parse_expression, symbol
from service.compute.language.printer import UnprintableExpression, to_latex, to_text
from service.compute.limits import Limits

x, y = symbol("x"), symbol("y")


class TestToText:
    @pytest.mark.parametrize(
        ("text", "printed"),
        [
            ("x*e", "e*x"),
            ("x^2/3", "x^2/3"),
            ("-x/2", "-x/2"),
            ("x/y/z", "x/y/z"),  # one '/' per factor: '/(y*z)' would re-read as (y*z)^-1
            ("1/(x+1)", "1/(x + 1)"),
            ("x^(1/2)", "sqrt(x)"),
            ("x^(3/2)", "x^(3/2)"),
            ("x^-y", "x^(-y)"),
            ("(-1)^x", "(-1)^x"),
            ("(x*y)^x", "(x*y)^x"),
            ("-(x+y)", "-x - y"),
            ("x-(-y)", "x + y"),
            ("e^x", "exp(x)"),
            ("x*10^(-3)", "x/1000"),
            ("digamma(x)", "digamma(x)"),
            ("polygamma(2,x)", "polygamma(2, x)"),
            ("heaviside(x)", "heaviside(x)"),
            ("dirac(x,2)", "dirac(x, 2)"),
            ("min(x,y)", "min(x, y)"),
            ("atan2(y,x)", "atan2(y, x)"),
            ("abs(x)", "abs(x)"),
        ],
    )
    def test_forms(self, text: str, printed: str) -> None:
        assert to_text(parse_expression(text)) == printed

    def test_euler_number_when_e_is_a_variable(self) -> None:
        e = symbol("e")
        assert to_text(e * sp.E) == "exp(1)*e"
        assert parse_expression(to_text(e * sp.E), known=("e",)) == e * sp.E

    def test_deterministic(self) -> None:
        expr = parse_expression("z + y*x + sin(x)*cos(y) - 3")
        assert {to_text(expr) for _ in range(5)} == {to_text(parse_expression("cos(y)*sin(x) - 3 + x*y + z"))}

    @pytest.mark.parametrize("expr", [sp.Integral(x, x), sp.I, sp.Symbol("t") * sp.zeta(x)])
    def test_unprintable_nodes_are_a_bug_not_input(self, expr: sp.Expr) -> None:
        with pytest.raises(UnprintableExpression, match=r"^no text form for "):
            to_text(expr)


class TestToLatex:
    @pytest.mark.parametrize(
        ("text", "latex"),
        [
            ("log(x)", r"\log{\left(x \right)}"),
            ("x/y/z", r"\frac{x}{y z}"),
            ("e^x", "e^{x}"),
            ("sqrt(x+1)", r"\sqrt{x + 1}"),
            ("abs(x)", r"\left|{x}\right|"),
            ("heaviside(x)", r"\theta\left(x\right)"),
        ],
    )
    def test_forms(self, text: str, latex: str) -> None:
        assert to_latex(parse_expression(text)) == latex


# A strategy for well-formed text of the language. Arguments of sqrt/log and bases of non-integer powers are kept
# positive (pi, e, or 1 + abs(...)): non-real values such as sqrt(-1), or abs(exp(x^x)) which SymPy rewrites with
# re(...), are known defects tested on their own. Integer exponents stay small.
_NAMES = st.sampled_from(["x", "y", "z", "pi", "e"])
_ATOMS = _NAMES | st.integers(0, 12).map(str) | st.sampled_from(["0.5", "2.25", "1e-3", "3.0"])
_POSITIVE_CONSTANTS = st.sampled_from(["pi", "e", "2.25"])


def _positive(child: str) -> str:
    return f"(1 + abs({child}))"


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(
        lambda t: f"({t[0]}){t[1]}({t[2]})"
    )
    integer_power = st.tuples(children, st.sampled_from(["^", "**"]), st.integers(-3, 3)).map(
        lambda t: f"({t[0]}){t[1]}({t[2]})"
    )
    real_power = st.tuples(_POSITIVE_CONSTANTS | children.map(_positive), children).map(lambda t: f"{t[0]}^({t[1]})")
    unary = st.tuples(st.sampled_from(["-", "+"]), children).map(lambda t: f"{t[0]}({t[1]})")
    total = st.tuples(st.sampled_from(["sin", "cos", "exp", "abs", "atan", "tanh", "erf", "sign", "cbrt"]), children)
    partial = st.tuples(st.sampled_from(["sqrt", "log", "log10"]), _POSITIVE_CONSTANTS | children.map(_positive))
    two = st.tuples(st.sampled_from(["atan2", "max", "min"]), children, children).map(
        lambda t: f"{t[0]}({t[1]}, {t[2]})"
    )
    return (
        binary
        | integer_power
        | real_power
        | unary
        | total.map(lambda t: f"{t[0]}({t[1]})")
        | partial.map(lambda t: f"{t[0]}({t[1]})")
        | two
    )


EXPRESSIONS = st.recursive(_ATOMS, _extend, max_leaves=10)
_GENEROUS = Limits(max_literal_digits=10_000)  # printed literals may be longer than typed ones (a separate finding)


_PROBES = (
    {symbol("x"): sp.Rational(7, 5), symbol("y"): sp.Rational(-3, 7), symbol("z"): sp.Rational(5, 3)},
    {symbol("x"): sp.Rational(-11, 4), symbol("y"): sp.Rational(2, 9), symbol("z"): sp.Rational(-1, 6)},
)


def _value(expr: sp.Expr, point: dict[sp.Symbol, sp.Expr]) -> complex | None:
    try:
        return complex(expr.xreplace(point).evalf(30))
    except (TypeError, ValueError):  # zoo, nan: no number
        return None


def _same(a: sp.Expr, b: sp.Expr) -> bool:
    """Structurally equal, or (SymPy does not always collapse Abs(Abs(u)) built from Abs(-Abs(u)), while it does when
    the text is read again) equal at exact probe points."""
    if a == b:
        return True
    for point in _PROBES:
        u, v = _value(a, point), _value(b, point)
        if u is None or v is None:
            if (u is None) != (v is None):
                return False
        elif not cmath.isclose(u, v, rel_tol=1e-12, abs_tol=1e-25):
            return False
    return True


class TestRoundTrip:
    @settings(max_examples=200, deadline=None)
    @given(EXPRESSIONS)
    @example("-(x)^(2)")
    @example("(2)^(-(x))")
    @example("(x)^((y)^(z))")
    @example("(x)/((y)*(z))")
    @example("((x)+(y))/(-(x))")
    @example("e^(x)*(e)")
    @example("max(-(x), min(y, 2.25))")
    @example("abs(-(abs(x)))")
    def test_parse_print_parse(self, text: str) -> None:
        try:
            expr = parse_expression(text)
        except NablaError:
            assume(False)  # e.g. a division by zero in a constant sub-expression
        printed = to_text(expr)
        again = parse_expression(printed, limits=_GENEROUS)
        assert _same(again, expr), (text, printed)
        assert to_text(again) == printed or _same(parse_expression(to_text(again), limits=_GENEROUS), expr)

    @pytest.mark.parametrize(
        "text", ["x/y/z", "-x^2", "2^-x", "x^y^z", "x - (y - z)", "sqrt(x)/2", "1/sqrt(x)", "x*(-y)^(1/3)"]
    )
    def test_structural_on_canonical_forms(self, text: str) -> None:
        expr = parse_expression(text)
        assert parse_expression(to_text(expr)) == expr
