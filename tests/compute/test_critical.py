"""Critical points of classic functions, symbolically and numerically, against their known coordinates and kinds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from service.compute.anchor import FunctionSpec
from service.compute.critical import (
    CriticalPoints,
    CriticalTask,
    critical_point,
    critical_points,
    is_critical,
    kinds,
)
from service.compute.errors import InvalidInput, NablaError

HIMMELBLAU = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
# Himmelblau's four minima (f = 0), as tabulated in the literature (e.g. Wikipedia, "Himmelblau's function").
HIMMELBLAU_MINIMA = [(-3.779310, -3.283186), (-2.805118, 3.131312), (3.0, 2.0), (3.584428, -1.848126)]
ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"


def _himmelblau_gradient(x: float, y: float) -> np.ndarray:
    """Differentiated by hand, independently of the engine."""
    u, v = x**2 + y - 11, x + y**2 - 7
    return np.array([4 * x * u + 2 * v, 2 * u + 4 * y * v])


def _himmelblau_hessian(x: float, y: float) -> np.ndarray:
    u, v = x**2 + y - 11, x + y**2 - 7
    return np.array([[4 * u + 8 * x**2 + 2, 4 * x + 4 * y], [4 * x + 4 * y, 4 * v + 8 * y**2 + 2]])


def _points(text: str, **task: Any) -> CriticalPoints:
    return critical_points(CriticalTask(FunctionSpec(text), **task))


def _box(size: float, names: str = "xy") -> tuple[tuple[str, float, float], ...]:
    return tuple((n, -size, size) for n in names)


def _error(text: str, **task: Any) -> NablaError:
    with pytest.raises(NablaError) as caught:
        _points(text, **task)
    assert caught.value.errors[0].msg == caught.value.detail
    return caught.value


@pytest.fixture(params=[True, False], ids=["symbolic", "numeric"])
def solve(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


class TestClassics:
    def test_double_well(self, solve: bool) -> None:
        # f = x^4/4 - x^2 + 1/2: f' = x^3 - 2x = 0 at 0, +-sqrt(2); f'' = 3x^2 - 2 is -2 there and 4 at +-sqrt(2).
        answer = _points("x^4/4 - x^2 + 1/2", solve=solve)
        assert [p.kind for p in answer.points] == ["minimum", "maximum", "minimum"]
        np.testing.assert_allclose([p.at[0] for p in answer.points], [-math.sqrt(2), 0, math.sqrt(2)], atol=1e-15)
        np.testing.assert_allclose([p.function_value for p in answer.points], [-0.5, 0.5, -0.5], rtol=1e-14)
        np.testing.assert_allclose([p.eigenvalues[0] for p in answer.points], [4, -2, 4], rtol=1e-14)
        assert (answer.method, answer.complete) == (("symbolic", True) if solve else ("numeric", False))

    def test_saddle(self, solve: bool) -> None:
        answer = _points("x^2 - y^2", solve=solve)
        assert [(p.at, p.kind, p.eigenvalues) for p in answer.points] == [((0.0, 0.0), "saddle", (-2.0, 2.0))]

    def test_monkey_saddle_is_degenerate(self, solve: bool) -> None:
        # x^3 - 3xy^2: the only critical point is the origin, where the Hessian is zero.
        answer = _points("x^3 - 3*x*y^2", solve=solve)
        assert len(answer.points) == 1
        (point,) = answer.points
        assert point.kind == "degenerate"
        np.testing.assert_allclose(point.at, [0, 0], atol=1e-12)

    def test_rosenbrock(self, solve: bool) -> None:
        # The one critical point is (1, 1); Hessian [[802, -400], [-400, 200]] there, by hand.
        answer = _points(ROSENBROCK, bounds=(("x", -2.0, 2.0), ("y", -1.0, 3.0)), solve=solve)
        assert [p.kind for p in answer.points] == ["minimum"]
        np.testing.assert_allclose(answer.points[0].at, [1, 1], rtol=1e-14)
        expected = np.linalg.eigvalsh(np.array([[802.0, -400.0], [-400.0, 200.0]]))
        np.testing.assert_allclose(answer.points[0].eigenvalues, expected, rtol=1e-12)

    def test_himmelblau(self, solve: bool) -> None:
        answer = _points(HIMMELBLAU, bounds=_box(5), solve=solve)
        minima = [p for p in answer.points if p.kind == "minimum"]
        np.testing.assert_allclose([p.at for p in minima], HIMMELBLAU_MINIMA, atol=1e-6)
        np.testing.assert_allclose([p.function_value for p in minima], 0, atol=1e-25)
        # Nine critical points in all: 4 minima, 4 saddles, 1 maximum, each checked with a hand-written gradient
        # and Hessian.
        assert sorted(p.kind for p in answer.points) == ["maximum"] + ["minimum"] * 4 + ["saddle"] * 4
        for point in answer.points:
            assert np.abs(_himmelblau_gradient(*point.at)).max() < 1e-11
            np.testing.assert_allclose(point.eigenvalues, np.linalg.eigvalsh(_himmelblau_hessian(*point.at)))
        maximum = next(p for p in answer.points if p.kind == "maximum")
        np.testing.assert_allclose(maximum.at, [-0.270845, -0.923039], atol=1e-6)
        np.testing.assert_allclose(maximum.function_value, 181.617, atol=1e-3)


class TestSymbolic:
    def test_rational_function(self) -> None:
        # x + 1/x: 1 - 1/x^2 = 0 at +-1; f'' = 2/x^3.
        answer = _points("x + 1/x")
        assert [(p.at, p.kind) for p in answer.points] == [((-1.0,), "maximum"), ((1.0,), "minimum")]
        assert answer.complete

    def test_no_critical_point_is_complete(self) -> None:
        answer = _points("x + 2*y")
        assert (answer.points, answer.method, answer.complete) == ((), "symbolic", True)

    def test_only_complex_solutions(self) -> None:
        answer = _points("x^3/3 + x")  # x^2 + 1 = 0 has no real root
        assert (answer.points, answer.complete) == ((), True)

    def test_bounds_filter_the_exact_solutions(self) -> None:
        answer = _points("x^4/4 - x^2 + 1/2", bounds=(("x", 0.5, 3.0),))
        assert [p.at for p in answer.points] == [(math.sqrt(2),)]
        assert answer.complete

    def test_numeric_parameters(self) -> None:
        # a x^2 - x with a = 2: 4x - 1 = 0 at 1/4.
        answer = critical_points(CriticalTask(FunctionSpec("a*x^2 - x", None, ("a",), (2,))))
        assert [p.at for p in answer.points] == [(0.25,)]

    def test_a_positive_dimensional_set_is_searched_numerically(self) -> None:
        answer = _points("(x - y)^2", bounds=_box(1), starts=16)
        assert not answer.complete
        assert answer.method == "numeric"
        assert answer.warnings == (
            (
                "not_isolated",
                "grad f = 0 has infinitely many (complex) solutions; the points were searched numerically",
            ),
        )
        assert answer.points
        assert all(p.kind == "degenerate" and abs(p.at[0] - p.at[1]) < 1e-12 for p in answer.points)

    def test_out_of_time_falls_back_to_the_numeric_search(self) -> None:
        answer = _points(HIMMELBLAU, bounds=_box(5), solve_seconds=0.001)
        assert answer.warnings == (
            ("solve_timed_out", "the symbolic solution took longer than 0.001 s; searched numerically"),
        )
        assert (answer.method, answer.complete, len(answer.points)) == ("numeric", False, 9)


class TestNumeric:
    def test_periodic_function_in_a_box(self) -> None:
        # sin x cos y: cos x cos y = sin x sin y = 0. In [-4, 4]^2: x = +-pi/2 with y in {-pi, 0, pi} (extrema) and
        # x in {-pi, 0, pi} with y = +-pi/2 (saddles).
        answer = _points("sin(x)*cos(y)", bounds=_box(4))
        expected = sorted(
            [(sx * math.pi / 2, k * math.pi) for sx in (-1, 1) for k in (-1, 0, 1)]
            + [(k * math.pi, sy * math.pi / 2) for k in (-1, 0, 1) for sy in (-1, 1)]
        )
        np.testing.assert_allclose([p.at for p in answer.points], expected, atol=1e-12)
        for point in answer.points:
            x, y = point.at
            on_axis = abs(math.cos(x)) < 1e-9
            expected_kind = ("maximum" if math.sin(x) * math.cos(y) > 0 else "minimum") if on_axis else "saddle"
            assert point.kind == expected_kind
        assert (answer.method, answer.complete) == ("numeric", False)

    def test_transcendental_in_one_variable(self) -> None:
        # e^x (x^2 - 1): derivative e^x (x^2 + 2x - 1) = 0 at -1 +- sqrt(2).
        answer = _points("exp(x)*(x^2 - 1)")
        np.testing.assert_allclose([p.at[0] for p in answer.points], [-1 - math.sqrt(2), -1 + math.sqrt(2)], rtol=1e-14)
        assert [p.kind for p in answer.points] == ["maximum", "minimum"]
        assert answer.warnings == (
            (
                "default_bounds",
                "searched numerically within [-10, 10] in every variable; give bounds to search elsewhere",
            ),
        )

    def test_a_kink_is_no_critical_point(self) -> None:
        assert _points("abs(x) + y^2").points == ()

    def test_three_variables(self) -> None:
        # x^2 + y^2 + z^2 - xy: positive definite quadratic, minimum at 0 with eigenvalues 1, 2, 3... of
        # [[2, -1, 0], [-1, 2, 0], [0, 0, 2]]: 1, 2, 3.
        answer = _points("x^2 + y^2 + z^2 - x*y + 0*sin(z)", solve=False)
        assert [p.kind for p in answer.points] == ["minimum"]
        np.testing.assert_allclose(answer.points[0].eigenvalues, [1, 2, 3], rtol=1e-14)

    def test_at_most_max_points(self) -> None:
        answer = _points("sin(x)", bounds=(("x", -100.0, 100.0),), starts=256, max_points=5)
        assert len(answer.points) == 5
        assert not answer.complete
        code, detail = answer.warnings[-1]
        assert code == "truncated"
        assert detail.endswith("critical points were found; the first 5 (by coordinates) are listed")


class TestKinds:
    def test_signs_of_eigenvalues(self) -> None:
        eigenvalues = np.array([[1.0, 2.0], [-2.0, -1.0], [-1.0, 1.0], [0.0, 1.0], [1e-20, 1.0], [np.nan, 1.0]])
        assert kinds(eigenvalues, np.full(6, 1e-12)) == [
            "minimum",
            "maximum",
            "saddle",
            "degenerate",
            "degenerate",
            None,
        ]

    def test_a_saddle_with_a_zero_eigenvalue_is_still_a_saddle(self) -> None:
        assert kinds(np.array([[-1.0, 0.0, 1.0]]), np.zeros(1)) == ["saddle"]


class TestHessianAnswer:
    def test_is_critical_allows_for_the_rounding_of_the_point(self) -> None:
        # cos at the float nearest pi: gradient -sin(pi_float) = -1.2e-16, not 0; Hessian -cos = 1.
        points = np.array([[math.pi], [3.0], [0.0]])
        gradients = -np.sin(points)
        hessians = -np.cos(points)[:, :, None]
        assert is_critical(points, gradients, hessians).tolist() == [True, False, True]

    def test_a_zero_hessian_needs_a_zero_gradient(self) -> None:
        # x^3 at 0: gradient 0, Hessian 0; x^4 at 1e-10: gradient 4e-30 is not 0.
        points = np.array([[0.0], [1e-10]])
        assert is_critical(points, np.array([[0.0], [4e-30]]), np.array([[[0.0]], [[1.2e-19]]])).tolist() == [
            True,
            False,
        ]

    def test_kind_follows_the_classification(self) -> None:
        assert critical_point(True, "positive definite") == {"is_critical": True, "kind": "minimum"}
        assert critical_point(True, "negative definite") == {"is_critical": True, "kind": "maximum"}
        assert critical_point(True, "indefinite") == {"is_critical": True, "kind": "saddle"}
        assert critical_point(True, "positive semidefinite") == {"is_critical": True, "kind": "inconclusive"}
        assert critical_point(True, None) == {"is_critical": True, "kind": "inconclusive"}
        assert critical_point(False, "positive definite") == {"is_critical": False, "kind": None}


class TestErrors:
    def test_bounds_for_an_unknown_name(self) -> None:
        error = _error("x^2", bounds=(("y", 0.0, 1.0),))
        assert isinstance(error, InvalidInput)
        assert (
            error.detail
            == "bounds names 'y', which is not one of the variables (x); give bounds for the variables only"
        )
        assert error.errors[0].loc == ("body", "bounds", "y")

    def test_empty_bounds(self) -> None:
        error = _error("x^2", bounds=(("x", 1.0, 1.0),))
        assert error.detail == "bounds for x are [1, 1]; give two finite numbers [lo, hi] with lo < hi"

    def test_symbolic_parameters(self) -> None:
        with pytest.raises(NablaError) as caught:
            critical_points(CriticalTask(FunctionSpec("a*x^2", None, ("a",))))
        assert caught.value.detail == (
            "critical points need numbers for every parameter (a); give their values in 'parameters' as an object"
        )

    def test_no_variables(self) -> None:
        error = _error("7")
        assert error.detail == (
            "the function has no variables, so it has no critical points in them; name them in 'variables'"
        )


class TestRobustness:
    def test_an_undefined_hessian_stops_newton_without_failing(self) -> None:
        # x^2 + y|y|: the Hessian jumps at y = 0 (no second derivative there), so no point is classified.
        assert _points("x^2 + y^2*sign(y)", bounds=_box(1)).points == ()

    def test_a_flat_region_is_a_set_of_degenerate_points(self) -> None:
        # max(x, 0)^3 + y^2 is flat in x for x <= 0: every point of the half line y = 0 is critical.
        answer = _points("max(x, 0)^3 + y^2", bounds=_box(1), starts=16)
        assert answer.points
        assert all(p.kind == "degenerate" and p.at[0] < 1e-12 and p.at[1] == 0 for p in answer.points)
