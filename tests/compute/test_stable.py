"""Sigmoid and softplus far in their tails: the kernels' stable forms against mpmath at 50 digits."""

from __future__ import annotations

import math
from collections.abc import Callable

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.compute.calculus import CalculusTask, run
from service.compute.numeric import compile_evaluator


def _mp_sigmoid(x: mpmath.mpf) -> mpmath.mpf:
    return 1 / (1 + mpmath.exp(-x))


def _mp_softplus(x: mpmath.mpf) -> mpmath.mpf:
    return mpmath.log1p(mpmath.exp(x))


def _mp_composition(x: mpmath.mpf) -> mpmath.mpf:
    return _mp_softplus(_mp_sigmoid(x) * x)


CASES: dict[str, Callable[[mpmath.mpf], mpmath.mpf]] = {
    "sigmoid(x)": _mp_sigmoid,
    "softplus(x)": _mp_softplus,
    "softplus(sigmoid(x)*x)": _mp_composition,
}


def _truth(f: Callable[[mpmath.mpf], mpmath.mpf], x: float, order: int) -> float:
    with mpmath.workdps(50):
        return float(mpmath.diff(f, mpmath.mpf(x), order))


def _evaluate(text: str, order: int, x: float) -> tuple[float, str]:
    result = run(CalculusTask("derivative", (text,), None, (), order=order))
    evaluator = compile_evaluator(result.variables, result.functions, [d.expr for d in result.derivatives])
    evaluation = evaluator.evaluate(np.array([[x]]))
    return float(evaluation.values[0, 0]), evaluation.status_of(0)


@pytest.mark.parametrize("text", sorted(CASES))
@pytest.mark.parametrize("order", [1, 2])
@settings(max_examples=40, deadline=None)
@given(x=st.floats(-1e6, 1e6))
@example(x=800.0)
@example(x=-800.0)
@example(x=1e5)
@example(x=-1e5)
def test_tails_are_finite_and_match_mpmath(text: str, order: int, x: float) -> None:
    value, status = _evaluate(text, order, x)
    assert status == "ok"
    truth = _truth(CASES[text], x, order)
    assert math.isfinite(value)
    assert value == pytest.approx(truth, rel=1e-9, abs=1e-12)


def test_function_value_far_out_is_finite() -> None:
    result = run(CalculusTask("derivative", ("softplus(x)",), None, ()))
    evaluator = compile_evaluator(result.variables, result.functions, [d.expr for d in result.derivatives])
    evaluation = evaluator.evaluate(np.array([[800.0], [-800.0]]))
    assert evaluation.functions[:, 0].tolist() == [800.0, 0.0]
    assert evaluation.values[:, 0].tolist() == [1.0, 0.0]
