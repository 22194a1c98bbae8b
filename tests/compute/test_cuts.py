"""atan2 on its branch cut (y = 0, x < 0) jumps by 2*pi: non_differentiable there, differentiable off it."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.compute.calculus import CalculusTask, run
from service.compute.numeric import Evaluation, compile_evaluator, refine

_COORDINATE = st.floats(-1e3, 1e3).filter(lambda v: v == 0 or abs(v) > 1e-100)  # x^2 + y^2 without underflow


def _gradient(function: str, x: float, y: float) -> Evaluation:
    result = run(CalculusTask("gradient", (function,), ("x", "y"), ()))
    evaluator = compile_evaluator(result.variables, result.functions, [d.expr for d in result.derivatives])
    points = np.array([[x, y]])
    return refine(evaluator, points, evaluator.evaluate(points), 32)


@settings(max_examples=60, deadline=None)
@given(x=st.floats(-1e300, -1e-300))
@example(x=-1.0)
def test_on_the_cut_is_non_differentiable(x: float) -> None:
    evaluation = _gradient("atan2(y, x)", x, 0.0)
    assert evaluation.status_of(0) == "non_differentiable"
    assert np.isnan(evaluation.values[0]).all()
    assert evaluation.functions[0, 0] == math.pi


@settings(max_examples=60, deadline=None)
@given(x=_COORDINATE, y=_COORDINATE)
def test_off_the_cut_matches_mpmath(x: float, y: float) -> None:
    if y == 0 and x <= 0:  # the cut, and the origin (a pole of both partials)
        return
    evaluation = _gradient("atan2(y, x)", x, y)
    assert evaluation.status_of(0) == "ok"
    with mpmath.workdps(50):
        r2 = mpmath.mpf(x) ** 2 + mpmath.mpf(y) ** 2
        truth = [float(-y / r2), float(x / r2)]
    assert evaluation.values[0].tolist() == pytest.approx(truth, rel=1e-12, abs=1e-300)


def test_the_cut_of_a_composition_and_a_kink_together() -> None:
    evaluation = _gradient("atan2(y, x) + abs(x)", -2.0, 0.0)
    assert evaluation.status_of(0) == "non_differentiable"
