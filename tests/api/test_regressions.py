"""Past failures, pinned: each test is a request that once misbehaved."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def answer(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


class TestConstantsAsVariables:
    async def test_variable_e_is_the_variable_not_eulers_number(self, client: httpx.AsyncClient) -> None:
        body = await answer(client, "/v1/derivative", {"function": "e*x", "variable": "e", "at": {"e": 2, "x": 3}})
        assert body["derivative"]["expression"] == "x"
        assert body["value"] == 3.0

    async def test_variable_pi_is_the_variable(self, client: httpx.AsyncClient) -> None:
        body = await answer(client, "/v1/derivative", {"function": "pi^2", "variable": "pi", "at": {"pi": 5}})
        assert body["derivative"]["expression"] == "2*pi"
        assert body["value"] == 10.0


class TestFunctionsWithoutVariables:
    @pytest.mark.parametrize(
        ("path", "body", "key"),
        [
            ("/v1/gradient", {"function": "1"}, "gradient"),
            ("/v1/hessian", {"function": "2", "at": []}, "hessian"),
            ("/v1/jacobian", {"functions": ["3"], "points": [[]]}, "jacobian"),
            ("/v1/jacobian", {"functions": ["a*2"], "parameters": {"a": 1}}, "jacobian"),
            ("/v1/hessian", {"function": "a*2", "parameters": {"a": 1}, "at": []}, "hessian"),
        ],
    )
    async def test_a_constant_has_empty_derivatives(
        self, client: httpx.AsyncClient, path: str, body: dict[str, Any], key: str
    ) -> None:
        result = await answer(client, path, body)
        assert result["variables"] == []
        assert result[key]["expressions"] in ([], [[]])

    async def test_an_empty_hessian_has_no_classification(self, client: httpx.AsyncClient) -> None:
        result = await answer(client, "/v1/hessian", {"function": "7", "at": []})
        assert result["eigenvalues"] == []
        assert result["classification"] is None


class TestExtremeDirections:
    async def test_a_huge_direction_is_normalised_without_overflow(self, client: httpx.AsyncClient) -> None:
        body = {"function": "x*y", "at": [1, 2], "direction": [1e200, 1e200]}
        result = await answer(client, "/v1/directional-derivative", body)
        assert result["direction"] == pytest.approx([math.sqrt(0.5)] * 2, rel=1e-15)
        assert result["value"] == pytest.approx(3 / math.sqrt(2), rel=1e-15)

    async def test_a_tiny_direction_is_not_the_zero_vector(self, client: httpx.AsyncClient) -> None:
        body = {"function": "x + y", "at": [1, 1], "direction": [1e-200, 1e-200]}
        result = await answer(client, "/v1/directional-derivative", body)
        assert result["value"] == pytest.approx(math.sqrt(2), rel=1e-15)

    async def test_a_huge_gradient_keeps_its_ascent_direction(self, client: httpx.AsyncClient) -> None:
        body = {"function": "1e300*x + 1e300*y", "at": [1, 1], "direction": [1, 1]}
        result = await answer(client, "/v1/directional-derivative", body)
        assert result["steepest_ascent"]["direction"] == pytest.approx([math.sqrt(0.5)] * 2, rel=1e-15)
        assert result["steepest_ascent"]["rate"] == pytest.approx(math.sqrt(2) * 1e300, rel=1e-15)

    async def test_an_overflowing_directional_value_says_why_it_is_null(self, client: httpx.AsyncClient) -> None:
        body = {"function": "1e308*x + 1e308*y", "at": [1, 1], "direction": [1, 1], "normalize": False}
        result = await answer(client, "/v1/directional-derivative", body)
        assert result["value"] is None
        assert result["status"] == "non_finite"
        assert result["warnings"][0]["status"] == "non_finite"
