"""0^u for a real exponent u: 0 where u > 0, 1 at u = 0, infinite where u < 0. Its derivative is 0 where u > 0,
does not exist at u = 0 (a jump), and f itself is infinite where u < 0: never a 422 for "ComplexInfinity"."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.compute.calculus import CalculusTask, run
from service.compute.exact import exact_values
from service.compute.numeric import Evaluation, compile_evaluator

# f, its mpmath form, and its exponent u (numbers in and out)
CASES = {
    "0^x": (lambda t: mpmath.power(0, t), lambda t: t),
    "0^(x - 1) + sin(x)": (lambda t: mpmath.power(0, t - 1) + mpmath.sin(t), lambda t: t - 1),
    "x^2*0^x": (lambda t: t**2 * mpmath.power(0, t), lambda t: t),
    "0^(x^3)*exp(x)": (lambda t: mpmath.power(0, t**3) * mpmath.exp(t), lambda t: t**3),
}


def _evaluate(text: str, order: int, x: float) -> Evaluation:
    result = run(CalculusTask("derivative", (text,), None, (), order=order))
    evaluator = compile_evaluator(result.variables, result.functions, [d.expr for d in result.derivatives])
    return evaluator.evaluate(np.array([[x]]))


@pytest.mark.parametrize("text", sorted(CASES))
@pytest.mark.parametrize("order", [1, 2])
@settings(max_examples=40, deadline=None)
@given(x=st.floats(-500, 500).filter(lambda v: v == 0 or abs(v) > 1e-100))  # u = x^3 without underflow
@example(x=0.0)
@example(x=1.0)
@example(x=1e-90)
@example(x=-1e-90)
def test_zero_powers_against_mpmath(text: str, order: int, x: float) -> None:
    function, exponent = CASES[text]
    evaluation = _evaluate(text, order, x)
    with mpmath.workdps(50):
        u = exponent(mpmath.mpf(x))
        if u < 0:
            assert evaluation.status_of(0) == "non_finite"  # 0 to a negative power: f is infinite
        elif u == 0:
            assert evaluation.status_of(0) == "non_differentiable"  # 0^0 = 1, 0^(0+) = 0: a jump
            assert np.isnan(evaluation.values[0, 0])
        else:  # 0^u is 0 on a neighbourhood: f is the rest of the function there
            step = min(u, mpmath.mpf(1)) / 4 if u < 1 else mpmath.mpf(1) / 4
            truth = mpmath.diff(function, mpmath.mpf(x), order, h=step * mpmath.mpf(10) ** -10)
            assert evaluation.status_of(0) == "ok"
            assert float(evaluation.values[0, 0]) == pytest.approx(float(truth), rel=1e-9, abs=1e-12)


def test_the_derivative_of_zero_to_the_x_is_a_delta_and_parses_back() -> None:
    (derivative,) = run(CalculusTask("derivative", ("0^x",), None, ())).derivatives
    assert derivative.text == "-dirac(x)"


@pytest.mark.parametrize(
    ("point", "status", "text"), [(sp.Rational(1, 2), "OK", "0"), (sp.Integer(0), "NON_DIFFERENTIABLE", None)]
)
def test_exact_values(point: sp.Expr, status: str, text: str | None) -> None:
    result = run(CalculusTask("derivative", ("x*0^x",), None, ()))
    found = exact_values(result.functions, [d.expr for d in result.derivatives], ("x",), (point,))
    assert found.status.name == status
    assert found.texts == (text,)


def test_a_partial_by_the_exponent_of_a_zero_power() -> None:
    result = run(CalculusTask("gradient", ("x*0^y",), None, ()))
    assert [d.text for d in result.derivatives] == ["0^y", "-x*dirac(y)"]
