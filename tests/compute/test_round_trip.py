"""Every printed derivative parses back with the service's own parser, to an expression equal to the derivative;
an order argument the language would not read back (polygamma(1001, x)) is refused, never printed."""

from __future__ import annotations

import cmath

import pytest
import sympy as sp
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from service.compute.calculus import CalculusTask, run
from service.compute.engine import to_sympy
from service.compute.errors import LimitExceeded, NablaError
from service.compute.language.build import MAX_INDEX, parse_expression, symbol
from service.compute.limits import Limits

# Length, node count and depth are request limits (a derivative may be longer than any request); numbers and order
# arguments are the language's, and every derivative keeps within them (the default literal and bit limits here).
_SIZES = Limits(max_length=10**7, max_nodes=10**7, max_depth=10**4)
_POINTS = (
    {symbol("x"): sp.Rational(7, 5), symbol("y"): sp.Rational(3, 7)},
    {symbol("x"): sp.Rational(11, 4), symbol("y"): sp.Rational(2, 9)},
)

_ATOMS = st.sampled_from(["x", "y", "2", "3", "0.5", "pi", "e"])
_UNARY = [
    "sin", "cos", "tan", "exp", "atan", "sinh", "cosh", "tanh", "asinh", "erf", "erfc", "abs", "sign", "cbrt",
    "sigmoid", "softplus", "heaviside",
]  # fmt: skip
_POSITIVE = ["sqrt", "log", "log2", "log10", "gamma", "loggamma", "digamma", "acosh"]  # kept on (1 + x^2 + ...)


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(
        lambda t: f"({t[0]}){t[1]}({t[2]})"
    )
    power = st.tuples(children, st.integers(-3, 3)).map(lambda t: f"({t[0]})^({t[1]})")
    unary = st.tuples(st.sampled_from(_UNARY), children).map(lambda t: f"{t[0]}({t[1]})")
    positive = st.tuples(st.sampled_from(_POSITIVE), children).map(lambda t: f"{t[0]}(2 + ({t[1]})^2)")
    polygamma = st.tuples(st.integers(0, 5), children).map(lambda t: f"polygamma({t[0]}, 2 + ({t[1]})^2)")
    two = st.tuples(st.sampled_from(["atan2", "min", "max"]), children, children).map(
        lambda t: f"{t[0]}({t[1]}, {t[2]})"
    )
    return binary | power | unary | positive | polygamma | two


EXPRESSIONS = st.recursive(_ATOMS, _extend, max_leaves=6)


def _value(expr: sp.Expr, point: dict[sp.Symbol, sp.Expr]) -> complex | None:
    try:
        return complex(expr.xreplace(point).evalf(30))
    except (TypeError, ValueError):  # zoo, nan, a step at its jump: no number
        return None


def _equal(a: sp.Expr, b: sp.Expr) -> bool:
    """Structurally equal, or equal (to 12 digits, at 30-digit evaluation) at two rational points."""
    if a == b:
        return True
    for point in _POINTS:
        u, v = _value(a, point), _value(b, point)
        if (u is None) != (v is None):
            return False
        if u is not None and v is not None and not cmath.isclose(u, v, rel_tol=1e-12, abs_tol=1e-25):
            return False
    return True


def _derivatives(operation: str, text: str, order: int = 1) -> list[tuple[str, sp.Expr]]:
    wrt = ("x",) * order if operation == "derivative" else ()
    result = run(CalculusTask(operation, (text,), ("x", "y"), (), wrt=wrt))
    return [(d.text, to_sympy(d.expr)) for d in result.derivatives]


@settings(max_examples=150, deadline=None)
@given(text=EXPRESSIONS, operation=st.sampled_from(["derivative", "gradient"]), order=st.integers(1, 3))
@example(text="digamma(2 + x^2)", operation="derivative", order=3)
@example(text="polygamma(5, 2 + x^2)*sign(x)", operation="derivative", order=2)
@example(text="heaviside(x)*x^3", operation="derivative", order=3)
@example(text="0^x*x", operation="gradient", order=1)
def test_every_printed_derivative_parses_back_equal(text: str, operation: str, order: int) -> None:
    try:
        printed = _derivatives(operation, text, order)
    except NablaError:
        assume(False)  # a constant sub-expression that is undefined, or a derivative too large
    for shown, derivative in printed:
        again = parse_expression(shown, known=("x", "y"), limits=_SIZES)
        assert _equal(again, derivative), (text, shown)


def test_the_highest_order_the_language_reads_is_printed_and_read_back() -> None:
    result = run(CalculusTask("derivative", ("digamma(x)",), None, (), order=MAX_INDEX))
    (derivative,) = result.derivatives
    assert derivative.text == f"polygamma({MAX_INDEX}, x)"
    assert parse_expression(derivative.text) == sp.polygamma(MAX_INDEX, symbol("x"))


@pytest.mark.parametrize(
    ("text", "order", "name"),
    [(f"polygamma({MAX_INDEX}, x)", 1, "polygamma"), ("digamma(x)", MAX_INDEX + 1, "polygamma"),
     (f"dirac(x, {MAX_INDEX})", 1, "dirac")],
)  # fmt: skip
def test_a_derivative_the_language_cannot_read_is_refused(text: str, order: int, name: str) -> None:
    with pytest.raises(LimitExceeded) as raised:
        run(CalculusTask("derivative", (text,), None, (), order=order))
    assert raised.value.detail == (
        f"the derivative holds {name} of order {MAX_INDEX + 1}, above {MAX_INDEX}, the highest the expression "
        "language reads, so it could not be read back; ask for a lower order"
    )
    assert raised.value.errors[0].loc == ("body", "order")


def test_a_gradient_beyond_the_language_is_refused_at_the_function() -> None:
    with pytest.raises(LimitExceeded) as raised:
        run(CalculusTask("gradient", (f"polygamma({MAX_INDEX}, x)*y",), None, ()))
    assert raised.value.errors[0].loc == ("body", "function")


def test_a_large_coefficient_within_the_language_is_printed_and_read_back() -> None:
    (derivative,) = run(CalculusTask("derivative", ("x^2000",), None, (), order=800)).derivatives
    coefficient = sp.factorial(2000) / sp.factorial(1200)  # closed form; 8505 bits
    assert parse_expression(derivative.text) == coefficient * symbol("x") ** 1200


def test_a_derivative_with_a_number_the_language_cannot_read_is_refused() -> None:
    with pytest.raises(LimitExceeded) as raised:
        run(CalculusTask("derivative", ("x^2000",), None, (), order=1000))
    digits = len(str(sp.factorial(2000) / sp.factorial(1000)))
    bits = int(sp.factorial(2000) / sp.factorial(1000)).bit_length()
    assert (digits, bits) == (3168, 10524)
    assert raised.value.detail == (
        f"the derivative holds a number of {digits} digits ({bits} bits), above what the expression language reads "
        "(3000 digits, 9000 bits: NABLA_MAX_LITERAL_DIGITS, NABLA_MAX_POWER_BITS), so it could not be read back; "
        "ask for a lower order"
    )
    assert raised.value.errors[0].loc == ("body", "order")
