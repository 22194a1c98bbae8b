"""Level sets: hand-derived normals and tangent planes, and the gradient's perpendicularity to a traced level curve."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy.optimize import brentq

from service.compute.anchor import Coordinate, FunctionSpec
from service.compute.errors import InvalidInput, InvalidPoint, NablaError
from service.compute.level_set import LevelSet, LevelSetTask, level_set, orthonormal_complement


def _level(text: str, at: tuple[Coordinate, ...], **spec: Any) -> LevelSet:
    return level_set(LevelSetTask(FunctionSpec(text, **spec), at))


def _error(text: str, at: tuple[Coordinate, ...], **spec: Any) -> NablaError:
    with pytest.raises(NablaError) as caught:
        _level(text, at, **spec)
    assert caught.value.errors[0].msg == caught.value.detail
    return caught.value


class TestByHand:
    def test_the_contract_example(self) -> None:
        # x^2 + y^2 at (1, 2): level 5, gradient (2, 4), normal (1, 2)/sqrt(5), slope -x/y = -1/2.
        answer = _level("x^2 + y^2", (1, 2))
        assert answer.level == 5.0
        assert answer.gradient == (2.0, 4.0)
        np.testing.assert_allclose(answer.normal or (), np.array([1, 2]) / math.sqrt(5), rtol=1e-15)
        np.testing.assert_allclose(answer.tangent or (), [np.array([-2, 1]) / math.sqrt(5)], rtol=1e-15)
        assert answer.tangent_plane == ("2*(x - 1) + 4*(y - 2)", r"2 \left(x - 1\right) + 4 \left(y - 2\right)")
        assert answer.slope == -0.5
        assert answer.slope_text == "-1/2"
        assert not answer.critical

    def test_exact_coefficients_at_an_exact_point(self) -> None:
        # sin(x) y at (pi/4, 1): gradient (cos(pi/4), sin(pi/4)) = (sqrt(2)/2, sqrt(2)/2); slope -1.
        answer = _level("sin(x)*y", ("pi/4", 1))
        assert answer.level_text == "sqrt(2)/2"
        assert answer.tangent_plane is not None
        assert answer.tangent_plane[0] == "sqrt(2)*(x - pi/4)/2 + sqrt(2)*(y - 1)/2"
        assert answer.slope == -1.0

    def test_a_vertical_tangent_has_no_slope(self) -> None:
        answer = _level("x^2 + y^2", (1, 0))
        assert answer.slope is None
        assert answer.normal == (1.0, 0.0)
        assert answer.tangent == ((0.0, 1.0),)
        assert answer.tangent_plane is not None
        assert answer.tangent_plane[0] == "2*(x - 1)"

    def test_a_sphere_in_three_variables(self) -> None:
        # x^2 + y^2 + z^2 at (1, 2, 2): normal (1, 2, 2)/3; no slope with three variables.
        answer = _level("x^2 + y^2 + z^2", (1, 2, 2))
        np.testing.assert_allclose(answer.normal or (), np.array([1, 2, 2]) / 3, rtol=1e-15)
        assert answer.tangent_plane is not None
        assert answer.tangent_plane[0] == "2*(x - 1) + 4*(y - 2) + 4*(z - 2)"
        assert answer.slope is None
        basis = np.array(answer.tangent)
        np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-15)
        np.testing.assert_allclose(basis @ np.array([1, 2, 2]), 0, atol=1e-15)

    def test_one_variable(self) -> None:
        answer = _level("x^3", (1,))
        assert answer.normal == (1.0,)
        assert answer.tangent == ()
        assert answer.tangent_plane is not None
        assert answer.tangent_plane[0] == "3*(x - 1)"

    def test_at_a_critical_point_there_is_no_normal(self) -> None:
        answer = _level("x^2 - y^2", (0, 0))
        assert answer.critical
        assert answer.gradient == (0.0, 0.0)
        assert (answer.normal, answer.tangent, answer.tangent_plane, answer.slope) == (None, None, None, None)

    def test_numeric_parameters(self) -> None:
        answer = _level("a*x + y^2", (0, 1), parameters=("a",), parameter_values=(3,))
        assert answer.gradient == (3.0, 2.0)
        assert answer.slope == -1.5


class TestPerpendicular:
    """The level curve traced numerically (root finding on f = c, no derivative of ours involved)."""

    @pytest.mark.parametrize(("text", "f", "at"), [
        ("x^2*y + exp(y)", lambda x, y: x**2 * y + math.exp(y), (1.0, 0.5)),
        ("sin(x*y) + x^2/3", lambda x, y: math.sin(x * y) + x**2 / 3, (0.7, -1.2)),
    ])  # fmt: skip
    def test_gradient_is_normal_to_the_traced_curve(
        self, text: str, f: Callable[[float, float], float], at: tuple[float, float]
    ) -> None:
        answer = _level(text, at)
        x0, y0 = at
        c = f(x0, y0)
        normal = np.array(answer.normal)
        cosines = []
        for dx in (1e-2, 1e-3, 1e-4):
            ys = [brentq(lambda y, x=x0 + s: f(x, y) - c, y0 - 0.5, y0 + 0.5, xtol=1e-15) for s in (-dx, dx)]
            secant = np.array([2 * dx, ys[1] - ys[0]])
            cosines.append(abs(secant @ normal) / np.linalg.norm(secant))
            assert (ys[1] - ys[0]) / (2 * dx) == pytest.approx(answer.slope, rel=10 * dx**2 + 1e-9)
        assert cosines[0] < 1e-3
        assert cosines[-1] < 1e-7  # the central secant's angle to the tangent shrinks like dx^2

    def test_tangent_vectors_of_a_surface_stay_on_it(self) -> None:
        def f(p: np.ndarray) -> float:
            return float(p[0] ** 2 + p[1] ** 2 / 4 + p[2] ** 2 / 9 + p[0] * p[2])

        answer = _level("x^2 + y^2/4 + z^2/9 + x*z", (1, 1, 1))
        point, normal = np.ones(3), np.array(answer.normal)
        c = f(point)
        for t in np.array(answer.tangent):
            for s in (1e-2, 1e-3):
                # The point of the surface on the normal line through point + s*t: its offset u is O(s^2).
                u = brentq(lambda u, s=s, t=t: f(point + s * t + u * normal) - c, -0.1, 0.1, xtol=1e-17)
                assert abs(u) < 2 * s**2


class TestBasis:
    @pytest.mark.parametrize("n", [2, 3, 4, 7])
    def test_orthonormal_and_perpendicular(self, n: int) -> None:
        normal = np.random.default_rng(n).normal(size=n)
        normal /= np.linalg.norm(normal)
        basis = orthonormal_complement(normal)
        assert basis.shape == (n - 1, n)
        np.testing.assert_allclose(basis @ basis.T, np.eye(n - 1), atol=1e-14)
        np.testing.assert_allclose(basis @ normal, 0, atol=1e-14)


class TestErrors:
    def test_undefined_at_the_point(self) -> None:
        error = _error("log(x) + y", (-1, 0))
        assert isinstance(error, InvalidPoint)
        assert error.detail == (
            "the function is undefined or not real at (x = -1, y = 0); choose a point where the function is defined "
            "and smooth"
        )

    def test_symbolic_parameters(self) -> None:
        error = _error("a*x + y", (0, 0), parameters=("a",))
        assert isinstance(error, InvalidInput)
        assert (
            error.detail
            == "a level set needs numbers for every parameter (a); give their values in 'parameters' as an object"
        )
        assert error.errors[0].loc == ("body", "parameters")

    def test_no_variables(self) -> None:
        error = _error("3", ())
        assert (
            error.detail == "the function has no variables, so it has no level sets in them; name them in 'variables'"
        )
