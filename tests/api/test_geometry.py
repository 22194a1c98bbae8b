"""The geometry endpoints over HTTP: Taylor polynomials, level sets, critical points; every error message asserted.

Truth is independent: tangent planes and Taylor coefficients worked by hand, the remainder's order, the known
critical points of classic functions (Himmelblau's minima as tabulated in the literature).
"""

from __future__ import annotations

import math

import httpx
import numpy as np
import pytest
import symengine

from tests.api.answers import ok, problem

pytestmark = pytest.mark.anyio


class TestTaylor:
    async def test_tangent_plane_by_hand(self, client: httpx.AsyncClient) -> None:
        # f = x^2 y + 3y at (1, 2): f = 8, f_x = 2xy = 4, f_y = x^2 + 3 = 4.
        body = await ok(client, "/v1/taylor", {"function": "x^2*y + 3*y", "at": {"x": 1, "y": 2}})
        assert body == {
            "variables": ["x", "y"],
            "at": [1.0, 2.0],
            "order": 1,
            "polynomial": {
                "expression": "8 + 4*(x - 1) + 4*(y - 2)",
                "latex": r"8 + 4 \left(x - 1\right) + 4 \left(y - 2\right)",
            },
            "function_value": 8.0,
            "warnings": [],
            "warnings_omitted": 0,
            "provenance": {"method": "symbolic", "engine": f"symengine {symengine.__version__}", "cached": False},
        }

    async def test_third_order_with_errors_at_points(self, client: httpx.AsyncClient) -> None:
        # e^x cos y = 1 + x + x^2/2 - y^2/2 + x^3/6 - x y^2/2 + O(4); the error shrinks like h^4.
        h = [0.1 / 2**k for k in range(4)]
        request = {"function": "exp(x)*cos(y)", "at": [0, 0], "order": 3, "points": [[t, -t] for t in h]}
        body = await ok(client, "/v1/taylor", request)
        assert body["polynomial"]["expression"] == "1 + x + x^2/2 - y^2/2 + x^3/6 - x*y^2/2"
        polynomial = [1 + t + t**2 / 2 - t**2 / 2 + t**3 / 6 - t**3 / 2 for t in h]
        assert body["values"] == pytest.approx(polynomial, rel=1e-15)
        assert body["errors"] == pytest.approx(
            [math.exp(t) * math.cos(t) - p for t, p in zip(h, polynomial, strict=True)], rel=1e-9
        )
        slope = np.polyfit(np.log(h), np.log(np.abs(body["errors"])), 1)[0]
        assert slope == pytest.approx(4, abs=0.1)
        assert body["status_counts"] == {"ok": 4}

    async def test_symbolic_parameters(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/taylor", {"function": "a*x^3", "at": [-1], "order": 2, "parameters": ["a"]})
        assert body["polynomial"]["expression"] == "-a + 3*a*(x + 1) - 3*a*(x + 1)^2"
        assert body["parameters"] == ["a"]
        assert body["function_value"] is None

    async def test_symbolic_parameters_cannot_be_compared_at_points(self, client: httpx.AsyncClient) -> None:
        request = {"function": "a*x", "at": [0], "parameters": ["a"], "points": [[1]]}
        body = await problem(client, "/v1/taylor", request, 422, "validation_error")
        assert body["detail"] == (
            "body: points need numbers for the parameters; give 'parameters' as an object {name: value}, or no points"
        )

    async def test_undefined_at_the_point(self, client: httpx.AsyncClient) -> None:
        body = await problem(client, "/v1/taylor", {"function": "log(x)", "at": [0]}, 422, "invalid_point")
        assert (
            body["detail"]
            == "the function is infinite at (x = 0); choose a point where the function is defined and smooth"
        )
        assert body["errors"][0]["loc"] == ["body", "at"]

    async def test_too_many_coefficients(self, client: httpx.AsyncClient) -> None:
        body = await problem(
            client, "/v1/taylor", {"function": "x*y*z", "at": [0, 0, 0], "order": 40}, 422, "limit_exceeded"
        )
        assert body["detail"] == (
            "a Taylor polynomial of order 40 in 3 variables has 12341 coefficients; the limit is 10000 "
            "(NABLA_MAX_TAYLOR_TERMS); ask for a lower order or fewer variables"
        )


class TestLevelSet:
    async def test_the_contract_example(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/level-set", {"function": "x^2 + y^2", "at": {"x": 1, "y": 2}})
        assert body["level"] == 5.0
        assert body["gradient"] == [2.0, 4.0]
        assert body["normal"] == pytest.approx([1 / math.sqrt(5), 2 / math.sqrt(5)], rel=1e-15)
        assert body["tangent"] == [pytest.approx([-2 / math.sqrt(5), 1 / math.sqrt(5)], rel=1e-15)]
        assert body["tangent_plane"]["expression"] == "2*(x - 1) + 4*(y - 2)"
        assert body["slope"] == -0.5
        assert body["warnings"] == []

    async def test_at_a_critical_point(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/level-set", {"function": "x^2 - y^2", "at": [0, 0]})
        assert (body["normal"], body["tangent"], body["tangent_plane"], body["slope"]) == (None, None, None, None)
        assert [w["code"] for w in body["warnings"]] == ["critical_point"]

    async def test_three_variables_have_no_slope(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/level-set", {"function": "x^2 + y^2 + z^2", "at": [1, 2, 2]})
        assert "slope" not in body
        basis = np.array(body["tangent"])
        np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-15)
        np.testing.assert_allclose(basis @ np.array(body["normal"]), 0, atol=1e-15)

    async def test_symbolic_parameters_are_refused(self, client: httpx.AsyncClient) -> None:
        body = await problem(
            client, "/v1/level-set", {"function": "a*x + y", "at": [0, 0], "parameters": ["a"]}, 422, "invalid_input"
        )
        assert (
            body["detail"]
            == "a level set needs numbers for every parameter (a); give their values in 'parameters' as an object"
        )


class TestCriticalPoints:
    async def test_double_well(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/critical-points", {"function": "x^4/4 - x^2 + 1/2"})
        assert (body["method"], body["complete"]) == ("symbolic", True)
        assert [p["kind"] for p in body["points"]] == ["minimum", "maximum", "minimum"]
        assert [p["at"][0] for p in body["points"]] == pytest.approx([-math.sqrt(2), 0, math.sqrt(2)], abs=1e-15)

    async def test_himmelblau_four_minima(self, client: httpx.AsyncClient) -> None:
        request = {"function": "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", "bounds": {"x": [-5, 5], "y": [-5, 5]}}
        body = await ok(client, "/v1/critical-points", request)
        minima = [p["at"] for p in body["points"] if p["kind"] == "minimum"]
        expected = [(-3.779310, -3.283186), (-2.805118, 3.131312), (3.0, 2.0), (3.584428, -1.848126)]
        np.testing.assert_allclose(minima, expected, atol=1e-6)
        assert len(body["points"]) == 9

    async def test_numeric_search_says_so(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/critical-points", {"function": "exp(x)*(x^2 - 1)"})
        assert (body["method"], body["complete"]) == ("numeric", False)
        assert [p["at"][0] for p in body["points"]] == pytest.approx([-1 - math.sqrt(2), -1 + math.sqrt(2)], rel=1e-14)
        assert body["warnings"][0]["code"] == "default_bounds"
        assert body["bounds"] == {"x": [-10.0, 10.0]}

    async def test_bounds_for_an_unknown_variable(self, client: httpx.AsyncClient) -> None:
        body = await problem(
            client, "/v1/critical-points", {"function": "x^2", "bounds": {"y": [0, 1]}}, 422, "invalid_input"
        )
        assert (
            body["detail"]
            == "bounds names 'y', which is not one of the variables (x); give bounds for the variables only"
        )
        assert body["errors"][0]["loc"] == ["body", "bounds", "y"]

    async def test_empty_bounds(self, client: httpx.AsyncClient) -> None:
        body = await problem(
            client, "/v1/critical-points", {"function": "x^2", "bounds": {"x": [1, 0]}}, 422, "invalid_input"
        )
        assert body["detail"] == "bounds for x are [1, 0]; give two finite numbers [lo, hi] with lo < hi"


class TestLimitsAndShapes:
    async def test_order_above_the_limit(self, client: httpx.AsyncClient) -> None:
        body = await problem(client, "/v1/taylor", {"function": "x", "at": [0], "order": 1001}, 422, "limit_exceeded")
        assert body["detail"] == "order 1001 is above the limit of 1000 (NABLA_MAX_ORDER)"
        assert body["errors"][0]["loc"] == ["body", "order"]

    async def test_a_point_of_the_wrong_size(self, client: httpx.AsyncClient) -> None:
        body = await problem(client, "/v1/level-set", {"function": "x*y", "at": [1]}, 422, "invalid_point")
        assert body["detail"] == (
            "at has 1 value but there are 2 variables (x, y); give one value per variable, in that order"
        )

    async def test_a_bound_needs_two_numbers(self, client: httpx.AsyncClient) -> None:
        request = {"function": "x^2", "bounds": {"x": [0, 1, 2]}}
        body = await problem(client, "/v1/critical-points", request, 422, "validation_error")
        assert body["errors"][0]["loc"] == ["body", "bounds", "x"]
        assert body["detail"] == "body.bounds.x: List should have at most 2 items after validation, not 3"

    async def test_critical_points_need_parameter_values(self, client: httpx.AsyncClient) -> None:
        request = {"function": "a*x^2", "parameters": ["a"]}
        body = await problem(client, "/v1/critical-points", request, 422, "invalid_input")
        assert body["detail"] == (
            "critical points need numbers for every parameter (a); give their values in 'parameters' as an object"
        )

    async def test_exact_strings_in_the_points_to_compare(self, client: httpx.AsyncClient) -> None:
        request = {"function": "sin(x)", "at": [0], "order": 1, "points": [["pi/6"]]}
        body = await ok(client, "/v1/taylor", request)
        assert body["values"] == pytest.approx([math.pi / 6], rel=1e-15)
        assert body["errors"] == pytest.approx([0.5 - math.pi / 6], rel=1e-14)

    async def test_numeric_parameters_substitute_exactly(self, client: httpx.AsyncClient) -> None:
        request = {"function": "a*x^2 + y", "parameters": {"a": 0.5}, "at": {"x": 2, "y": 0}}
        body = await ok(client, "/v1/level-set", request)
        assert body["gradient"] == [2.0, 1.0]
        assert body["tangent_plane"]["expression"] == "2*(x - 2) + y"
