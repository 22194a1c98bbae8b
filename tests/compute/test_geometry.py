"""Directional derivatives, steepest ascent and the definiteness of Hessians."""

from __future__ import annotations

import numpy as np
import pytest

from service.compute.calculus import CalculusTask, run
from service.compute.errors import InvalidInput
from service.compute.geometry import Directional, classify_hessians, directional, unit_direction
from service.compute.numeric import compile_evaluator


def _gradients(text: str, points: list[list[float]]) -> np.ndarray:
    result = run(CalculusTask("gradient", (text,), None, ()))
    evaluator = compile_evaluator(result.variables, result.functions, [d.expr for d in result.derivatives])
    evaluation = evaluator.evaluate(np.array(points, dtype=float))
    assert evaluation.status.tolist() == [0] * len(points)
    return evaluation.values


def _hessians(text: str, points: list[list[float]]) -> np.ndarray:
    result = run(CalculusTask("hessian", (text,), None, ()))
    evaluator = compile_evaluator(result.variables, result.functions, [d.expr for d in result.derivatives])
    values = evaluator.evaluate(np.array(points, dtype=float)).values
    return values.reshape(len(points), *result.shape)


def _along(gradients: np.ndarray, direction: list[float], normalize: bool = True) -> Directional:
    return directional(gradients, unit_direction(direction, normalize))


class TestDirectional:
    def test_seed_slide_is_wrong(self) -> None:
        # The course slide says 4; the gradient of x^2*y^2 at (2, 0) is (2xy^2, 2x^2y) = (0, 0).
        gradient = _gradients("x^2*y^2", [[2.0, 0.0]])
        answer = _along(gradient, [1.0, 0.0], True)
        assert answer.values[0] == 0.0
        assert gradient[0].tolist() == [0.0, 0.0]
        assert answer.rates[0] == 0.0
        assert np.isnan(answer.ascent[0]).all()  # a critical point: no ascent direction

    def test_along_a_normalised_direction(self) -> None:
        gradient = _gradients("x^2*y^2", [[1.0, 2.0]])  # (8, 4)
        answer = _along(gradient, [3.0, 4.0], True)
        assert answer.unit.tolist() == [0.6, 0.8]
        assert answer.values[0] == pytest.approx(8 * 0.6 + 4 * 0.8, rel=1e-15)
        assert answer.rates[0] == pytest.approx(np.sqrt(80), rel=1e-15)
        np.testing.assert_allclose(answer.ascent[0], np.array([8.0, 4.0]) / np.sqrt(80))

    def test_without_normalising(self) -> None:
        answer = _along(np.array([[3.0, 4.0]]), [3.0, 4.0], False)
        assert answer.values[0] == 25.0
        assert answer.unit.tolist() == [3.0, 4.0]

    def test_batch(self) -> None:
        answer = _along(np.array([[0.0, 0.0], [3.0, 4.0]]), [0.0, 2.0], True)
        assert answer.values.tolist() == [0.0, 4.0]
        assert answer.rates.tolist() == [0.0, 5.0]
        assert np.isnan(answer.ascent[0]).all()
        assert answer.ascent[1].tolist() == [0.6, 0.8]

    def test_huge_and_tiny_gradients_neither_overflow_nor_underflow(self) -> None:
        gradients = np.array([[1e300, 1e300], [1e-200, -1e-200]])
        answer = _along(gradients, [1e300, 1e300], True)
        half = np.sqrt(0.5)
        np.testing.assert_allclose(answer.unit, [half, half], rtol=1e-15)
        np.testing.assert_allclose(answer.rates, [np.sqrt(2) * 1e300, np.sqrt(2) * 1e-200])
        np.testing.assert_allclose(answer.ascent, [[half, half], [half, -half]], rtol=1e-15)

    def test_points_that_are_not_ok_give_nan(self) -> None:
        answer = _along(np.array([[np.nan, np.nan], [1.0, 0.0]]), [1.0, 0.0], True)
        assert np.isnan(answer.values[0])
        assert np.isnan(answer.rates[0])
        assert np.isnan(answer.ascent[0]).all()
        assert answer.ascent[1].tolist() == [1.0, 0.0]

    def test_zero_vector(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            _along(np.zeros((1, 2)), [0.0, 0.0], True)
        assert caught.value.detail == (
            "direction is the zero vector, which has no unit direction; give a non-zero vector or set normalize to "
            "false"
        )

    def test_zero_vector_without_normalising(self) -> None:
        assert _along(np.ones((1, 2)), [0.0, 0.0], False).values[0] == 0.0


class TestClassifyHessians:
    @pytest.mark.parametrize(
        ("matrix", "classification", "eigenvalues"),
        [
            ([[2, 0], [0, 3]], "positive definite", [2, 3]),
            ([[-2, 1], [1, -3]], "negative definite", None),
            ([[2, 0], [0, -3]], "indefinite", [-3, 2]),
            ([[1, 2], [2, 4]], "positive semidefinite", [0, 5]),
            ([[-1, 0], [0, 0]], "negative semidefinite", [-1, 0]),
            ([[0, 0], [0, 0]], "positive semidefinite", [0, 0]),
            ([[1e-20, 0], [0, 1]], "positive semidefinite", [1e-20, 1]),  # within n*eps*max|eigenvalue| of zero
            ([[1e-300, 0], [0, 2e-300]], "positive definite", [1e-300, 2e-300]),  # the tolerance is relative
        ],
    )
    def test_single(self, matrix: list[list[float]], classification: str, eigenvalues: list[float] | None) -> None:
        answer = classify_hessians(np.array([matrix], dtype=float))
        assert answer.classes[0] == classification
        if eigenvalues is not None:
            np.testing.assert_allclose(answer.eigenvalues[0], eigenvalues, rtol=1e-12, atol=1e-14)

    def test_batch_with_non_finite_rows(self) -> None:
        hessians = np.array([[[2, 0], [0, 3]], [[np.nan, 0], [0, 1]], [[1, np.inf], [np.inf, 1]], [[0, 1], [1, 0]]])
        answer = classify_hessians(hessians)
        assert list(answer.classes) == ["positive definite", None, None, "indefinite"]
        assert np.isnan(answer.eigenvalues[1:3]).all()
        np.testing.assert_allclose(answer.eigenvalues[3], [-1.0, 1.0])

    def test_all_rows_non_finite(self) -> None:
        answer = classify_hessians(np.full((2, 3, 3), np.nan))
        assert list(answer.classes) == [None, None]

    def test_from_computed_hessians(self) -> None:
        # x^2 + y^2 has a minimum, -(x^2 + y^2) a maximum, x^2 - y^2 a saddle, x^4 + y^2 is flat in x at 0.
        cases = {
            "x^2 + 3*y^2 + x*y": "positive definite",
            "-(x^2 + y^2)": "negative definite",
            "x^2 - y^2": "indefinite",
            "x^4 + y^2": "positive semidefinite",
            "-x^4 - y^2": "negative semidefinite",
        }
        for text, classification in cases.items():
            answer = classify_hessians(_hessians(text, [[0.0, 0.0]]))
            assert answer.classes[0] == classification, text

    def test_sin_xy_hessian_eigenvalues(self) -> None:
        # At (0, 0) the Hessian of sin(x*y) is [[0, 1], [1, 0]]: eigenvalues -1 and 1, a saddle.
        answer = classify_hessians(_hessians("sin(x*y)", [[0.0, 0.0]]))
        assert answer.classes[0] == "indefinite"
        np.testing.assert_allclose(answer.eigenvalues[0], [-1.0, 1.0])
