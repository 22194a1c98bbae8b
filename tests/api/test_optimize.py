"""POST /v1/optimize over the app: the contract's fields against closed-form minimisers, reproducible SGD, divergence
as an answer, limits and problems."""

from __future__ import annotations

import math
from typing import Any

import httpx
import numpy as np
import pytest

from service.config import Settings
from tests.conftest import http_client, started

pytestmark = pytest.mark.anyio

PATH = "/v1/optimize"
SGD = {
    "function": "(theta - X)^2",
    "random": {"X": {"family": "normal", "parameters": {"mu": 2, "sigma": 1}}},
    "start": [0],
    "method": "sgd",
    "samples": 1000,
    "seed": 7,
    "max_iterations": 200,
}


def assert_problem(response: httpx.Response, status: int, slug: str, loc: list[str | int], detail: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["detail"] == detail
    assert [(e["loc"], e["msg"]) for e in body["errors"]] == [(loc, detail)]


async def optimize(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(PATH, json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


class TestAnswer:
    async def test_the_contract_fields(self, client: httpx.AsyncClient) -> None:
        # f = exp(x) - 2x is minimised at log 2, where f = 2 - 2 log 2.
        body = await optimize(
            client, {"function": "exp(x) - 2*x", "start": [1], "method": "newton", "tolerance": 1e-12}
        )
        assert (body["method"], body["variables"], body["converged"], body["reason"]) == (
            "newton",
            ["x"],
            True,
            "gradient_norm",
        )
        assert body["iterations"] == len(body["trajectory"]) - 1
        first = body["trajectory"][0]
        assert first == {
            "iteration": 0,
            "point": [1.0],
            "function_value": pytest.approx(math.e - 2),
            "gradient_norm": pytest.approx(math.e - 2),
            "step": None,
        }
        assert body["minimum"]["at"][0] == pytest.approx(math.log(2), abs=1e-9)
        assert body["minimum"]["function_value"] == pytest.approx(2 - 2 * math.log(2))
        assert body["detail"].startswith("the gradient norm")
        assert (body["warnings"], body["warnings_omitted"], body["seed"]) == ([], 0, None)

    async def test_a_model_is_fitted_by_fisher_scoring(self, client: httpx.AsyncClient) -> None:
        data = [2.1, 3.4, 1.9, 4.2, 2.8]
        body = await optimize(
            client,
            {"model": {"family": "normal", "data": data}, "start": {"mu": 0, "sigma": 1}, "method": "natural_gradient"},
        )
        assert body["variables"] == ["mu", "sigma"]
        np.testing.assert_allclose(body["minimum"]["at"], [np.mean(data), np.std(data)], rtol=1e-8)

    async def test_sgd_is_reproducible_by_its_seed(self, client: httpx.AsyncClient) -> None:
        first = await optimize(client, SGD)
        assert first == await optimize(client, SGD)
        assert abs(first["minimum"]["at"][0] - 2) < 0.05  # E[(theta - X)^2] is least at theta = E X = 2
        assert first["warnings"][0]["code"] == "monte_carlo"
        unseeded = {k: v for k, v in SGD.items() if k != "seed"} | {"max_iterations": 5}
        drawn = await optimize(client, unseeded)
        assert await optimize(client, unseeded | {"seed": drawn["seed"]}) == drawn

    async def test_divergence_is_an_answer(self, client: httpx.AsyncClient) -> None:
        body = await optimize(client, {"function": "x^2", "start": [1], "learning_rate": 1.5})
        assert (body["converged"], body["reason"]) == (False, "diverged")
        assert all(math.isfinite(it["function_value"]) for it in body["trajectory"])


class TestProblems:
    async def test_iterations_above_the_setting(self) -> None:
        async with started(Settings(workers=1, max_optimize_iterations=50)) as app, http_client(app) as client:
            response = await client.post(PATH, json={"function": "x^2", "start": [1], "max_iterations": 51})
        detail = "max_iterations is 51; at most 50 are allowed (NABLA_MAX_OPTIMIZE_ITERATIONS)"
        assert_problem(response, 413, "too_large", ["body", "max_iterations"], detail)

    async def test_natural_gradient_needs_a_model(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PATH, json={"function": "x^2", "start": [1], "method": "natural_gradient"})
        detail = (
            "natural_gradient needs 'model' {family, data}: its metric is the Fisher information of a family's "
            "parameters; for a plain function use newton (the Hessian as metric) or gradient_descent"
        )
        assert_problem(response, 422, "invalid_input", ["body", "method"], detail)

    async def test_a_start_outside_the_domain(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PATH, json={"function": "log(x)", "start": {"x": -1}})
        detail = "the run cannot start at (-1): f is undefined or not real there; choose another start"
        assert_problem(response, 422, "invalid_point", ["body", "start"], detail)

    async def test_an_unknown_method_is_a_validation_error(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PATH, json={"function": "x^2", "start": [1], "method": "lbfgs"})
        assert response.status_code == 422
        assert response.json()["type"] == "/problems/validation_error"
