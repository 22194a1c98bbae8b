"""``numeric_check`` over a batch: one evaluation of f for every point, the same numbers as point by point, and
agreement with closed forms (the Hessian of sin(x)*exp(y) and the gradient of x^3*y)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from service.compute.calculus import CalculusTask, run
from service.compute.numeric import compile_evaluator
from service.compute.trust import Check, check_evaluations, numeric_check

_POINTS = arrays(np.float64, st.tuples(st.integers(1, 8), st.just(2)), elements=st.floats(-3, 3))


def _check(operation: str, function: str, points: np.ndarray) -> tuple[Check, np.ndarray, list[int]]:
    result = run(CalculusTask(operation, (function,), ("x", "y"), ()))
    evaluator = compile_evaluator(result.variables, result.functions, [d.expr for d in result.derivatives])
    calls: list[int] = []

    def evaluate(matrix: np.ndarray) -> np.ndarray:
        calls.append(len(matrix))
        return evaluator.evaluate(matrix).functions

    values = evaluator.evaluate(points).values
    return numeric_check(evaluate, points, operation, [], 1, 2, values), values, calls


def _hessian(points: np.ndarray) -> np.ndarray:
    x, y = points[:, 0], points[:, 1]
    s, c = np.sin(x) * np.exp(y), np.cos(x) * np.exp(y)
    return np.stack([-s, c, c, s], axis=1)


@settings(max_examples=40, deadline=None)
@given(points=_POINTS)
def test_hessian_batch_matches_the_closed_form_in_one_evaluation(points: np.ndarray) -> None:
    found, _, calls = _check("hessian", "sin(x)*exp(y)", points)
    assert calls == [len(points) * check_evaluations("hessian", 0, 1, 2)]
    truth = _hessian(points)
    value = np.array(found.values, dtype=float)
    error = np.array(found.errors, dtype=float)
    assert (np.abs(value - truth) <= 10 * error + 1e-7 * np.maximum(1.0, np.abs(truth))).all()
    assert all(all(row) for row in found.agrees)


@settings(max_examples=30, deadline=None)
@given(points=_POINTS)
def test_a_batch_is_its_points_one_by_one(points: np.ndarray) -> None:
    batch, _, _ = _check("gradient", "x^3*y", points)
    for i in range(len(points)):
        single, _, _ = _check("gradient", "x^3*y", points[i : i + 1])
        assert batch.values[i] == single.values[0]
        assert batch.errors[i] == single.errors[0]
        assert batch.agrees[i] == single.agrees[0]


def test_evaluations_per_point() -> None:
    assert check_evaluations("derivative", 2, 1, 1) == 24  # 6 steps x 4 sign patterns
    assert check_evaluations("derivative", 5, 1, 1) == 0  # order above 4: not checked
    assert check_evaluations("jacobian", 0, 3, 2) == 3 * 2 * 12
