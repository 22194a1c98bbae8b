"""A float64 intermediate that overflows where the answer is finite (cosh(800), exp(800)) does not make the answer
null: the MPFR re-check (``refine``) gives the value; a value that really exceeds float64 stays non_finite.
Against mpmath at 50 digits over x in [-1e6, 1e6]."""

from __future__ import annotations

import math
from collections.abc import Callable

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.compute.calculus import CalculusTask, run
from service.compute.numeric import Evaluation, compile_evaluator, refine

Real = Callable[[mpmath.mpf], mpmath.mpf]


def _log_cosh(t: mpmath.mpf) -> mpmath.mpf:
    return mpmath.log(mpmath.cosh(t))


def _log_exp_sum(t: mpmath.mpf) -> mpmath.mpf:
    return mpmath.log(mpmath.exp(t) + mpmath.exp(-t))


# f in the language, f in mpmath, and its first two derivatives in closed form
CASES: dict[str, tuple[Real, Real, Real]] = {
    "log(cosh(x))": (_log_cosh, mpmath.tanh, lambda t: 1 / mpmath.cosh(t) ** 2),
    "log(exp(x) + exp(-x))": (_log_exp_sum, mpmath.tanh, lambda t: 1 / mpmath.cosh(t) ** 2),
    "cosh(x)/sinh(x)": (
        mpmath.coth,
        lambda t: -(mpmath.csch(t) ** 2),
        lambda t: 2 * mpmath.coth(t) * mpmath.csch(t) ** 2,
    ),
    "sinh(x)/cosh(x)": (
        mpmath.tanh,
        lambda t: mpmath.sech(t) ** 2,
        lambda t: -2 * mpmath.tanh(t) * mpmath.sech(t) ** 2,
    ),
}
_FLOAT_MAX = mpmath.mpf(np.finfo(float).max)


def _evaluate(text: str, order: int, x: float) -> Evaluation:
    result = run(CalculusTask("derivative", (text,), None, (), order=order))
    evaluator = compile_evaluator(result.variables, result.functions, [d.expr for d in result.derivatives])
    points = np.array([[x]])
    return refine(evaluator, points, evaluator.evaluate(points), 32)


def _close(value: float, truth: mpmath.mpf, scale: mpmath.mpf) -> bool:
    """Within a few float64 roundings of the terms the printed form adds (``1 - cosh(x)^2/sinh(x)^2`` cancels)."""
    return abs(mpmath.mpf(value) - truth) <= 1e-13 * (abs(truth) + scale) + mpmath.mpf(1e-300)


@pytest.mark.parametrize("text", sorted(CASES))
@pytest.mark.parametrize("order", [1, 2])
@settings(max_examples=50, deadline=None)
@given(x=st.floats(-1e6, 1e6).filter(lambda v: abs(v) > 1e-6))
@example(x=800.0)
@example(x=-800.0)
@example(x=1000.0)
@example(x=1e6)
@example(x=710.0)
@example(x=711.0)
def test_finite_answers_stay_finite(text: str, order: int, x: float) -> None:
    function, first, second = CASES[text]
    evaluation = _evaluate(text, order, x)
    with mpmath.workdps(50):
        t = mpmath.mpf(x)
        truth = (first if order == 1 else second)(t)
        scale = 1 + mpmath.coth(t) ** 2 if "sinh(x)^2" in text or "/sinh" in text else mpmath.mpf(1)
        assert evaluation.status_of(0) == "ok", (text, order, x)
        assert _close(float(evaluation.functions[0, 0]), function(t), mpmath.mpf(1))
        assert _close(float(evaluation.values[0, 0]), truth, scale), (float(evaluation.values[0, 0]), truth)


@settings(max_examples=50, deadline=None)
@given(x=st.floats(-1e6, 1e6))
@example(x=800.0)
@example(x=710.4)
@example(x=710.5)
def test_a_value_beyond_float64_stays_non_finite(x: float) -> None:
    evaluation = _evaluate("cosh(x)", 1, x)
    with mpmath.workdps(50):
        beyond = mpmath.cosh(mpmath.mpf(x)) > _FLOAT_MAX
        if beyond:
            assert evaluation.status_of(0) == "non_finite"
            assert np.isnan(evaluation.values[0, 0])
        else:
            assert evaluation.status_of(0) == "ok"
            assert evaluation.values[0, 0] == pytest.approx(float(mpmath.sinh(mpmath.mpf(x))), rel=1e-14)


def test_a_finite_function_with_a_derivative_beyond_float64_is_non_finite() -> None:
    evaluation = _evaluate("log(cosh(x))*exp(x)", 1, 800.0)  # f = 799.3*e^800 is beyond float64 too
    assert evaluation.status_of(0) == "non_finite"
    evaluation = _evaluate("log(cosh(x))", 3, 1000.0)
    assert evaluation.status_of(0) == "ok"
    assert math.isclose(evaluation.functions[0, 0], 1000 - math.log(2), rel_tol=1e-15)


@pytest.mark.parametrize("text", sorted(t for t in CASES if "cosh" in t))
def test_a_whole_batch_is_finite_without_the_mpfr_re_check(text: str) -> None:
    # The stable forms of cosh and sinh keep e^|x| out of quotients and logarithms in the compiled kernel itself,
    # so every point of a batch is finite, not only the NABLA_REFINE_POINTS that MPFR re-checks (a sum of
    # exponentials, log(exp(x) + exp(-x)), has no stable form: MPFR alone makes it finite).
    function, first, _ = CASES[text]
    xs = np.concatenate([np.linspace(-1e6, 1e6, 1001), np.geomspace(1e-8, 1e6, 400), -np.geomspace(1e-8, 1e6, 400)])
    xs = xs[xs != 0]
    result = run(CalculusTask("derivative", (text,), None, ()))
    evaluator = compile_evaluator(result.variables, result.functions, [d.expr for d in result.derivatives])
    evaluation = evaluator.evaluate(xs[:, None])  # no refine()
    assert (evaluation.status == 0).all()
    with mpmath.workdps(50):
        for x, value, f in zip(xs, evaluation.values[:, 0], evaluation.functions[:, 0], strict=True):
            t = mpmath.mpf(float(x))
            scale = 1 + mpmath.coth(t) ** 2 if "/sinh" in text else mpmath.mpf(1)
            assert _close(float(f), function(t), mpmath.mpf(1)), (text, x)
            assert _close(float(value), first(t), scale), (text, x)
