"""f itself on every calculus endpoint (function_value, order 0), grids of points, parameters left as symbols, and
the Hessian's word on a critical point; checked against closed forms worked by hand."""

from __future__ import annotations

import math
from typing import Any

import httpx
import numpy as np
import pytest

from tests.api.answers import ok, problem

pytestmark = pytest.mark.anyio


class TestFunctionValue:
    @pytest.mark.parametrize("path", ["/v1/derivative", "/v1/gradient", "/v1/hessian"])
    async def test_at_a_point(self, client: httpx.AsyncClient, path: str) -> None:
        function = "x^2*sin(x)" if path == "/v1/derivative" else "x^2*sin(y)"
        at = {"x": 1.5} if path == "/v1/derivative" else {"x": 1.5, "y": 0.5}
        body = await ok(client, path, {"function": function, "at": at})
        expected = 1.5**2 * math.sin(1.5 if path == "/v1/derivative" else 0.5)
        assert body["function_value"] == pytest.approx(expected, rel=1e-15)

    async def test_jacobian_gives_each_function(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/jacobian", {"functions": ["x*y", "x + y"], "at": [2, 3]})
        assert body["function_value"] == [6.0, 5.0]

    async def test_at_points(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/gradient", {"function": "x*y", "points": [[1, 2], [3, 4]]})
        assert body["function_values"] == [2.0, 12.0]

    async def test_null_where_f_is_undefined(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "log(x)", "points": [[-1], [1]]})
        assert body["function_values"] == [None, 0.0]

    async def test_each_function_of_a_jacobian_on_its_own(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/jacobian", {"functions": ["log(x)", "x"], "points": [[-1], [1]]})
        assert body["function_values"] == [[None, -1.0], [0.0, 1.0]]

    async def test_an_exact_pole_hidden_by_rounding(self, client: httpx.AsyncClient) -> None:
        # tan at the float nearest pi/2 is 1.6e16; at the exact pi/2 it is a pole, and f has no value.
        body = await ok(client, "/v1/derivative", {"function": "tan(x)", "at": ["pi/2"]})
        assert (body["status"], body["function_value"]) == ("non_finite", None)

    async def test_order_zero_is_f_itself(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "x^2*y", "variable": "x", "order": 0, "at": [3, 2]})
        assert body["derivative"]["expression"] == "x^2*y"
        assert (body["order"], body["wrt"], body["value"]) == (0, [], 18.0)


class TestGrid:
    async def test_values_in_ij_order(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/gradient", {"function": "x*y", "grid": {"x": [0, 1, 2], "y": [0, 2, 3]}})
        xs, ys = np.meshgrid([0, 1], [0, 1, 2], indexing="ij")
        assert body["values"] == [[y, x] for x, y in zip(xs.ravel(), ys.ravel(), strict=True)]
        assert body["function_values"] == [x * y for x, y in zip(xs.ravel(), ys.ravel(), strict=True)]

    async def test_exact_bounds(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "sin(x)", "grid": {"x": [0, "pi", 3]}})
        assert body["values"] == pytest.approx([1, 0, -1], abs=1e-15)

    async def test_only_one_way_to_give_points(self, client: httpx.AsyncClient) -> None:
        request = {"function": "x", "at": [1], "grid": {"x": [0, 1, 2]}}
        body = await problem(client, "/v1/derivative", request, 422, "validation_error")
        assert (
            body["detail"] == "body: give one of 'at' (one point), 'points' (a batch) or 'grid' (ranges), not several"
        )

    async def test_a_bad_range(self, client: httpx.AsyncClient) -> None:
        body = await problem(
            client, "/v1/gradient", {"function": "x*y", "grid": {"x": [0, 1, 0], "y": [0, 1, 2]}}, 422, "invalid_point"
        )
        assert body["detail"] == "grid.x[2] (the number of values) must be a whole number of at least 1, got 0"
        assert body["errors"][0]["loc"] == ["body", "grid", "x", 2]

    async def test_a_directional_derivative_over_a_grid(self, client: httpx.AsyncClient) -> None:
        # x^2 + y^2 along (3, 4)/5 at (x, y): (6x + 8y)/5.
        request = {"function": "x^2 + y^2", "direction": [3, 4], "grid": {"x": [0, 1, 2], "y": [1, 1, 1]}}
        body = await ok(client, "/v1/directional-derivative", request)
        assert body["values"] == pytest.approx([8 / 5, 14 / 5], rel=1e-15)

    async def test_a_grid_larger_than_the_limit_is_refused_before_any_work(self, client: httpx.AsyncClient) -> None:
        request = {"function": "x*y", "grid": {"x": [0, 1, 2000], "y": [0, 1, 2000]}}
        body = await problem(client, "/v1/gradient", request, 413, "too_large")
        assert body["detail"] == (
            "the grid has 2000 x 2000 = 4000000 points; the limit is 2000000; ask for fewer values per variable"
        )
        assert body["errors"][0]["loc"] == ["body", "grid"]


class TestParameterNames:
    async def test_symbols_in_the_result(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/gradient", {"function": "a*x^2 + b*y", "parameters": ["a", "b"]})
        assert body["gradient"]["expressions"] == ["2*a*x", "b"]
        assert body["parameters"] == ["a", "b"]

    async def test_no_point_with_symbols(self, client: httpx.AsyncClient) -> None:
        request = {"function": "a*x", "parameters": ["a"], "at": [1]}
        body = await problem(client, "/v1/derivative", request, 422, "validation_error")
        assert body["detail"] == (
            "body: parameters given as names stay symbols, so there is nothing to evaluate at a point; give them "
            "values ({name: value}) or no at, points or grid"
        )


class TestCriticalPoint:
    @pytest.mark.parametrize(("function", "at", "expected"), [
        ("x^2 - y^2", [0, 0], {"is_critical": True, "kind": "saddle"}),
        ("x^2 + y^2", [0, 0], {"is_critical": True, "kind": "minimum"}),
        ("-x^2 - y^2", [0, 0], {"is_critical": True, "kind": "maximum"}),
        ("x^3 + y^2", [0, 0], {"is_critical": True, "kind": "inconclusive"}),
        ("x^2 + y^2", [1, 0], {"is_critical": False, "kind": None}),
        ("cos(x) + y^2", ["pi", 0], {"is_critical": True, "kind": "minimum"}),
    ])  # fmt: skip
    async def test_second_derivative_test(
        self, client: httpx.AsyncClient, function: str, at: list[Any], expected: dict[str, Any]
    ) -> None:
        body = await ok(client, "/v1/hessian", {"function": function, "at": at})
        assert body["critical_point"] == expected
