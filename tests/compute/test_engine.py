"""The SymEngine-or-SymPy choice: every allowlisted function either differentiates identically in both engines, or
is kept in SymPy (SymEngine silently differentiates an unknown function to 0)."""

from __future__ import annotations

import mpmath
import pytest
import symengine as se
import sympy as sp

from service.compute.engine import (
    NodeBudget,
    differentiate,
    is_symengine,
    node_count,
    symengine_supports,
    to_engine,
    to_sympy,
)
from service.compute.errors import TooComplex
from service.compute.language.build import parse_expression, symbol
from service.compute.language.functions import CATALOGUE

x = symbol("x")

# For each function SymEngine handles: a call in x, and points inside its real domain.
SUPPORTED: dict[str, tuple[str, tuple[float, ...]]] = {
    "sin": ("sin(x)", (0.3, -1.7)),
    "cos": ("cos(x)", (0.3, 2.2)),
    "tan": ("tan(x)", (0.3, -1.2)),
    "sec": ("sec(x)", (0.3, 2.5)),
    "csc": ("csc(x)", (0.3, -2.0)),
    "cot": ("cot(x)", (0.4, 2.0)),
    "asin": ("asin(x)", (0.3, -0.8)),
    "acos": ("acos(x)", (0.3, -0.8)),
    "atan": ("atan(x)", (0.3, -4.0)),
    "atan2": ("atan2(2*x, 1 - x)", (0.3, -0.7, 1.5)),  # 1.5: second quadrant
    "sinh": ("sinh(x)", (0.3, -2.0)),
    "cosh": ("cosh(x)", (0.3, -2.0)),
    "tanh": ("tanh(x)", (0.3, -2.0)),
    "asinh": ("asinh(x)", (0.3, -2.0)),
    "acosh": ("acosh(x)", (1.3, 4.0)),
    "atanh": ("atanh(x)", (0.3, -0.9)),
    "exp": ("exp(x)", (0.3, -2.0)),
    "log": ("log(x) + log(x, 3)", (0.3, 5.0)),
    "ln": ("ln(x)", (0.3, 5.0)),
    "log2": ("log2(x)", (0.3, 5.0)),
    "log10": ("log10(x)", (0.3, 5.0)),
    "sqrt": ("sqrt(x)", (0.3, 5.0)),
    "erf": ("erf(x)", (0.3, -1.5)),
    "erfc": ("erfc(x)", (0.3, -1.5)),
    "sigmoid": ("sigmoid(x)", (0.3, -3.0)),
    "softplus": ("softplus(x)", (0.3, -3.0)),
}
UNSUPPORTED = {
    "abs": "abs(x)",
    "sign": "sign(x)",
    "min": "min(x, 1)",
    "max": "max(x, 1)",
    "gamma": "gamma(x)",
    "loggamma": "loggamma(x)",
    "heaviside": "heaviside(x)",
    "dirac": "dirac(x)",
    "polygamma": "polygamma(1, x)",
    "digamma": "digamma(x)",
    "cbrt": "cbrt(x)",
    "re": "re(x^x)",
    "im": "im(x^x)",
}


def _mp(expr: sp.Expr, value: float) -> mpmath.mpf:
    """The derivative of ``expr`` at x = value by mpmath.diff at 50 digits: independent of both engines."""
    function = sp.lambdify(x, expr, modules="mpmath")
    with mpmath.workdps(50):
        return mpmath.diff(function, mpmath.mpf(value))


def test_every_function_is_classified() -> None:
    assert set(SUPPORTED) | set(UNSUPPORTED) == set(CATALOGUE)
    assert not set(SUPPORTED) & set(UNSUPPORTED)


class TestCrossEngine:
    @pytest.mark.parametrize("name", sorted(SUPPORTED))
    def test_symengine_and_sympy_agree(self, name: str) -> None:
        text, points = SUPPORTED[name]
        expr = parse_expression(text)
        assert symengine_supports(expr)
        fast = to_engine(expr)
        assert is_symengine(fast)
        fast_derivative = differentiate(fast, "x")
        slow_derivative = sp.diff(expr, x)
        for value in points:
            from_symengine = float(fast_derivative.subs({se.Symbol("x"): se.RealDouble(value)}))
            from_sympy = float(slow_derivative.evalf(30, subs={x: sp.Float(value, 30)}))
            oracle = float(_mp(expr, value))
            assert from_symengine == pytest.approx(oracle, rel=1e-12, abs=1e-14), (text, value)
            assert from_sympy == pytest.approx(oracle, rel=1e-12, abs=1e-14), (text, value)

    @pytest.mark.parametrize("name", sorted(UNSUPPORTED))
    def test_unsupported_functions_stay_in_sympy(self, name: str) -> None:
        expr = parse_expression(UNSUPPORTED[name])
        assert symengine_supports(expr) is False
        assert to_engine(expr) is expr
        assert not is_symengine(to_engine(expr))

    def test_one_unsupported_node_sends_everything_to_sympy(self) -> None:
        expr = parse_expression("sin(x)*exp(x) + abs(x)")
        assert not symengine_supports(expr)
        assert differentiate(to_engine(expr), "x") == sp.diff(expr, x)

    def test_the_silent_zero_trap(self) -> None:
        # What the allowlist guards against: a PyFunction wrapper differentiates to 0 without complaint.
        assert se.sympify(sp.erfinv(x)).diff(se.Symbol("x")) == 0
        assert not symengine_supports(sp.erfinv(x))
        assert differentiate(to_engine(sp.erfinv(x)), "x") == sp.diff(sp.erfinv(x), x) != 0

    def test_gamma_derivative_keeps_digamma(self) -> None:
        derivative = differentiate(to_engine(parse_expression("gamma(x)")), "x")
        assert derivative == sp.gamma(x) * sp.polygamma(0, x)


class TestSifting:
    """c(x)*dirac(u) is c(x0)*dirac(u) where u(x0) = 0: a vanishing coefficient removes the delta term."""

    @pytest.mark.parametrize(
        ("text", "derivative"),
        [
            ("x^2*sign(x)", "2*x*sign(x)"),
            ("(x - 1)^2*sign(x - 1)", "(2*x - 2)*sign(x - 1)"),
            ("x*heaviside(x)", "heaviside(x)"),
            ("sign(x)*sign(y)*x", "sign(x)*sign(y)"),
            ("cbrt(x)", "sign(x)^2/(3*abs(x)^(2/3))"),
        ],
    )
    def test_vanishing_coefficients(self, text: str, derivative: str) -> None:
        assert differentiate(to_engine(parse_expression(text)), "x") == parse_expression(derivative)

    @pytest.mark.parametrize(
        ("text", "derivative"),
        [("sign(x)", "2*dirac(x)"), ("exp(x)*heaviside(x)", "exp(x)*heaviside(x) + dirac(x)")],
    )
    def test_other_coefficients_are_evaluated_at_the_root(self, text: str, derivative: str) -> None:
        assert differentiate(to_engine(parse_expression(text)), "x") == parse_expression(derivative)

    def test_nonlinear_argument_is_left_alone(self) -> None:
        expr = parse_expression("x*heaviside(x^2 - 1)")
        assert differentiate(expr, "x") == sp.diff(expr, x)


class TestConversions:
    def test_to_sympy_gives_real_symbols(self) -> None:
        back = to_sympy(se.sympify("x*y + sin(x)"))
        assert back == parse_expression("x*y + sin(x)")
        assert all(s.is_real for s in back.free_symbols)

    def test_to_sympy_keeps_sympy(self) -> None:
        expr = parse_expression("abs(x)")
        assert to_sympy(expr) is expr


class TestNodeBudget:
    def test_node_count(self) -> None:
        assert node_count(parse_expression("x"), 100) == 1
        assert node_count(parse_expression("sin(x) + 2*y"), 100) == 6  # Add, sin, x, Mul, 2, y
        assert node_count(to_engine(parse_expression("sin(x) + 2*y")), 100) == 6

    def test_node_count_stops_past_the_budget(self) -> None:
        big = parse_expression("+".join(f"x^{k}" for k in range(2, 500)))
        assert node_count(big, 10) == 11

    def test_charge_within_budget(self) -> None:
        budget = NodeBudget(10)
        budget.charge([parse_expression("x*y"), parse_expression("x")])
        assert budget.used == 4

    def test_charge_over_budget(self) -> None:
        budget = NodeBudget(5)
        with pytest.raises(TooComplex) as caught:
            budget.charge([parse_expression("x*y"), parse_expression("sin(x)*cos(y)")])
        assert caught.value.detail == (
            "the derivatives grew past 5 expression nodes; ask for a lower order, fewer variables or a simpler function"
        )
