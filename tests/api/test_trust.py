"""Trust fields of the calculus endpoints over HTTP: `digits` (decimal values checked against mpmath at N + 20
digits), `provenance`, and `parameters` as names kept symbolic."""

from __future__ import annotations

import httpx
import mpmath
import numpy as np
import pytest

from service.config import Settings
from tests.api.answers import ok, problem
from tests.conftest import http_client, started

pytestmark = pytest.mark.anyio


def _digits_agree(text: str, truth: mpmath.mpf, digits: int) -> None:
    """``text`` is ``truth`` correct to ``digits`` significant digits (half a unit in the last place)."""
    with mpmath.workdps(digits + 20):
        error = abs(mpmath.mpf(text) - truth)
        assert error <= abs(truth) * mpmath.mpf(10) ** (1 - digits) / 2


class TestDigits:
    @pytest.mark.parametrize("digits", [1, 15, 50, 200])
    async def test_derivative_at_an_exact_point(self, client: httpx.AsyncClient, digits: int) -> None:
        answer = await ok(client, "/v1/derivative", {"function": "sin(x)*exp(x)", "at": ["1/3"], "digits": digits})
        with mpmath.workdps(digits + 20):
            x = mpmath.mpf(1) / 3
            truth = mpmath.cos(x) * mpmath.exp(x) + mpmath.sin(x) * mpmath.exp(x)
            _digits_agree(answer["decimal"], truth, digits)

    async def test_float_point_is_its_binary_value(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/derivative", {"function": "x^3", "at": [0.1], "digits": 40})
        with mpmath.workdps(60):
            truth = 3 * mpmath.mpf(0.1) ** 2  # mpf(0.1) is the double nearest 0.1, exactly
            _digits_agree(answer["decimal"], truth, 40)

    async def test_gradient_shape_and_null_where_not_finite(self, client: httpx.AsyncClient) -> None:
        answer = await ok(
            client, "/v1/gradient", {"function": "log(x) + y^2", "points": [[2, 3], [0, 1]], "digits": 30}
        )
        first, second = answer["decimal"]
        _digits_agree(first[0], mpmath.mpf("0.5"), 30)
        _digits_agree(first[1], mpmath.mpf(6), 30)
        assert second == [None, None]

    async def test_hessian_matrix_shape(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/hessian", {"function": "exp(x*y)", "at": [1, 2], "digits": 25})
        with mpmath.workdps(45):
            e2 = mpmath.exp(2)
            truth = [[4 * e2, 3 * e2], [3 * e2, e2]]
        for row, true_row in zip(answer["decimal"], truth, strict=True):
            for text, value in zip(row, true_row, strict=True):
                _digits_agree(text, value, 25)

    async def test_above_the_limit(self, client: httpx.AsyncClient) -> None:
        found = await problem(
            client, "/v1/derivative", {"function": "x^2", "at": [1], "digits": 1001}, 422, "limit_exceeded"
        )
        assert found["errors"][0]["msg"] == "digits 1001 is above the limit of 1000 (NABLA_MAX_DIGITS)"

    async def test_zero_is_refused(self, client: httpx.AsyncClient) -> None:
        found = await problem(
            client, "/v1/derivative", {"function": "x^2", "at": [1], "digits": 0}, 422, "validation_error"
        )
        assert found["errors"][0]["msg"] == "Input should be greater than or equal to 1"


class TestProvenance:
    async def test_engine_and_cache(self, client: httpx.AsyncClient) -> None:
        body = {"function": "x^2*cos(x) + 17*x", "at": [1]}
        first = await ok(client, "/v1/derivative", body)
        second = await ok(client, "/v1/derivative", body)
        assert first["provenance"]["method"] == "symbolic"
        assert first["provenance"]["engine"].startswith("symengine ")
        assert first["provenance"]["cached"] is False
        assert second["provenance"]["cached"] is True

    async def test_sympy_engine_and_exact_method(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/derivative", {"function": "abs(x)^3 + 19*x", "at": ["1/2"]})
        assert answer["provenance"]["method"] == "exact"
        assert answer["provenance"]["engine"].startswith("sympy ")


class TestParameterNames:
    async def test_symbols_kept(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/gradient", {"function": "a*x^2 + b*y", "parameters": ["a", "b"]})
        assert answer["variables"] == ["x", "y"]
        assert answer["parameters"] == ["a", "b"]
        assert answer["gradient"]["expressions"] == ["2*a*x", "b"]

    async def test_no_point_with_names(self, client: httpx.AsyncClient) -> None:
        found = await problem(
            client, "/v1/gradient", {"function": "a*x", "parameters": ["a"], "at": [1]}, 422, "validation_error"
        )
        assert found["errors"][0]["msg"] == (
            "parameters given as names stay symbols, so there is nothing to evaluate at a point; give "
            "them values ({name: value}) or no at, points or grid"
        )


class TestCheck:
    async def test_derivative_agrees(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/derivative", {"function": "x^2*sin(x)", "order": 2, "at": [1], "check": True})
        with mpmath.workdps(50):
            truth = float(mpmath.diff(lambda t: t**2 * mpmath.sin(t), 1, 2))
        assert answer["check"]["agrees"] is True
        assert abs(answer["check"]["value"] - truth) <= 10 * answer["check"]["error_estimate"] + 1e-9
        assert not [w for w in answer["warnings"] if w["code"] == "check_disagrees"]

    async def test_hessian_shape(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/hessian", {"function": "sin(x)*exp(y)", "at": [1, 0.5], "check": True})
        assert answer["check"]["agrees"] == [[True, True], [True, True]]
        truth = [
            [-np.sin(1) * np.exp(0.5), np.cos(1) * np.exp(0.5)],
            [np.cos(1) * np.exp(0.5), np.sin(1) * np.exp(0.5)],
        ]
        assert np.allclose(answer["check"]["value"], truth, rtol=1e-9)

    async def test_jacobian_shape(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/jacobian", {"functions": ["x*y", "exp(x)"], "at": [1, 2], "check": True})
        assert np.allclose(answer["check"]["value"], [[2, 1], [np.e, 0]], rtol=1e-9, atol=1e-9)

    async def test_needs_points(self, client: httpx.AsyncClient) -> None:
        found = await problem(client, "/v1/gradient", {"function": "x*y", "check": True}, 422, "validation_error")
        assert found["errors"][0]["msg"] == "'check' compares values at points: give 'at', 'points' or 'grid'"


class TestCheckBatch:
    """`check: true` for every point of a batch: the same numbers as `at` point by point, in one evaluation."""

    async def test_every_point_agrees_with_the_closed_form(self, client: httpx.AsyncClient) -> None:
        xs = [-3.0, -0.5, 0.0, 0.25, 2.0, 40.0]
        answer = await ok(
            client, "/v1/derivative", {"function": "x^2*sin(x)", "points": [[v] for v in xs], "check": True}
        )
        with mpmath.workdps(50):
            truth = [float(2 * t * mpmath.sin(t) + t**2 * mpmath.cos(t)) for t in map(mpmath.mpf, xs)]
        check = answer["check"]
        assert check["agrees"] == [True] * len(xs)
        for value, error, exact in zip(check["value"], check["error_estimate"], truth, strict=True):
            assert abs(value - exact) <= 10 * error + 1e-9 * max(1.0, abs(exact))

    async def test_the_batch_is_the_points_one_by_one(self, client: httpx.AsyncClient) -> None:
        rows = [[1, 0.5], [0, 0], [-2, 1.5]]
        batch = await ok(client, "/v1/hessian", {"function": "sin(x)*exp(y)", "points": rows, "check": True})
        for i, row in enumerate(rows):
            single = await ok(client, "/v1/hessian", {"function": "sin(x)*exp(y)", "at": row, "check": True})
            for key in ("value", "error_estimate", "agrees"):
                assert batch["check"][key][i] == single["check"][key]

    async def test_a_grid_is_checked(self, client: httpx.AsyncClient) -> None:
        body = {"function": "x^3*y", "grid": {"x": [-1, 1, 3], "y": [0, 2, 2]}, "check": True}
        answer = await ok(client, "/v1/gradient", body)
        points = [(x, y) for x in (-1, 0, 1) for y in (0, 2)]
        assert np.allclose(answer["check"]["value"], [[3 * x**2 * y, x**3] for x, y in points], atol=1e-9)
        assert answer["check"]["agrees"] == [[True, True]] * len(points)

    async def test_a_disagreement_is_warned_at_its_point(self, client: httpx.AsyncClient) -> None:
        # abs(x) within the largest step (0.05) of its kink: the differences straddle it, the symbolic value is 1
        answer = await ok(
            client, "/v1/derivative", {"function": "abs(x)", "points": [[0.001], [1], [-0.002]], "check": True}
        )
        assert answer["check"]["agrees"] == [False, True, False]
        flagged = [(w["point"], w["status"]) for w in answer["warnings"] if w["code"] == "check_disagrees"]
        assert flagged == [(0, "ok"), (2, "ok")]

    async def test_a_point_that_is_not_ok_is_not_compared(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/derivative", {"function": "log(x)", "points": [[-1], [2]], "check": True})
        assert answer["check"]["agrees"] == [None, True]

    async def test_too_many_values_is_413(self) -> None:
        async with started(Settings(workers=1, max_check_values=100)) as app, http_client(app) as client:
            found = await problem(
                client, "/v1/gradient", {"function": "x*y", "points": [[1, 2]] * 5, "check": True}, 413, "too_large"
            )
            assert found["errors"][0]["loc"] == ["body", "check"]
            assert found["detail"] == (
                "check: true would evaluate f at 5 points x 24 steps x 2 coordinates = 240 values; the limit is 100 "
                "(NABLA_MAX_CHECK_VALUES); check fewer points at a time"
            )
            await ok(client, "/v1/gradient", {"function": "x*y", "points": [[1, 2]] * 2, "check": True})


class TestOneSided:
    async def test_abs_at_zero(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/derivative", {"function": "abs(x)", "at": [0]})
        (warning,) = answer["warnings"]
        assert warning["code"] == "non_differentiable"
        assert (warning["left"], warning["right"]) == (-1.0, 1.0)

    async def test_gradient_shape(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/gradient", {"function": "abs(x - 1) + 3*y", "at": [1, 2]})
        (warning,) = answer["warnings"]
        assert warning["left"] == pytest.approx([-1.0, 3.0], rel=1e-9)
        assert warning["right"] == pytest.approx([1.0, 3.0], rel=1e-9)

    async def test_none_when_a_side_is_infinite(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/derivative", {"function": "sqrt(abs(x))", "at": [0]})
        (warning,) = answer["warnings"]
        assert "left" not in warning


class TestPartialsWithoutDerivative:
    """Partials that exist where f is not differentiable, over HTTP (the class: tests/compute/test_frechet.py)."""

    async def test_sqrt_abs_xy_at_the_origin(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/gradient", {"function": "sqrt(abs(x*y))", "at": [0, 0]})
        assert answer["status"] == "non_differentiable"
        assert answer["value"] == [None, None]
        kink, frechet = answer["warnings"]
        assert (kink["code"], kink["left"], kink["right"]) == ("non_differentiable", [0.0, 0.0], [0.0, 0.0])
        assert frechet["code"] == "partials_not_differentiable"
        assert (frechet["point"], frechet["status"]) == (0, "non_differentiable")
        assert frechet["detail"] == (
            "the partial derivatives exist here (equal from both sides: see left and right), but f is not "
            "differentiable: along the direction (0.707107, 0.707107) in (x, y) its one-sided derivatives (from "
            "behind, from ahead) are -0.707107 and 0.707107, where the partials give 0"
        )

    async def test_x_cubed_over_r_squared_extended_by_zero(self, client: httpx.AsyncClient) -> None:
        body = {"function": "x^3/(x^2 + y^2 + 0^(x^2 + y^2))", "at": [0, 0]}
        answer = await ok(client, "/v1/gradient", body)
        kink, frechet = answer["warnings"]
        assert (kink["left"], kink["right"]) == ([1.0, 0.0], [1.0, 0.0])
        assert frechet["code"] == "partials_not_differentiable"
        assert "are 0.353553 and 0.353553, where the partials give 0.707107" in frechet["detail"]

    async def test_a_jacobian_names_the_function(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/jacobian", {"functions": ["x", "sqrt(abs(x*y))"], "at": [0, 0]})
        frechet = answer["warnings"][1]
        assert frechet["detail"].startswith("the partial derivatives of functions[1] exist here")

    async def test_a_one_variable_derivative_is_not_tested(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/derivative", {"function": "sqrt(abs(x*y))", "variable": "x", "at": [0, 0]})
        assert [w["code"] for w in answer["warnings"]] == ["non_differentiable"]
