"""POST /v1/stochastic-derivative over the app: the contract's fields, reproducibility, limits and problems."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service.config import Settings
from tests.conftest import http_client, started

pytestmark = pytest.mark.anyio

PATH = "/v1/stochastic-derivative"
NORMAL_MEAN = {
    "function": "X^2",
    "random": {"X": {"family": "normal", "parameters": {"mu": "theta", "sigma": 1}}},
    "at": {"theta": 1.5},
    "samples": 200_000,
    "seed": 7,
}


def problem_of(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    return body


class TestAnswer:
    async def test_the_contract_fields(self, client: httpx.AsyncClient) -> None:
        body = (await client.post(PATH, json=NORMAL_MEAN)).json()
        # d/dtheta E[X^2] = d/dtheta (theta^2 + 1) = 2 theta = 3.
        low, high = body["confidence_interval"]["low"][0], body["confidence_interval"]["high"][0]
        assert low <= 3 <= high
        assert body["estimate"][0] == pytest.approx(3, abs=5 * body["standard_error"][0])
        assert body["confidence_interval"]["level"] == 0.95
        assert (body["estimator"], body["estimators"]) == ("pathwise", {"X": "pathwise"})
        assert body["exact"] == [3.0]
        assert body["expectation"] == {"expression": "theta^2 + 1", "latex": r"\theta^{2} + 1"}
        assert body["exact_derivatives"] == {"expressions": ["2*theta"], "latex": [r"2 \theta"]}
        assert (body["samples"], body["seed"], body["wrt"], body["at"]) == (200_000, 7, ["theta"], {"theta": 1.5})
        assert body["variance"]["measure_valued"] is None  # no discrete law
        assert set(body["variance"]) == {"pathwise", "score", "measure_valued"}

    async def test_the_same_seed_gives_the_same_numbers(self, client: httpx.AsyncClient) -> None:
        first = (await client.post(PATH, json=NORMAL_MEAN)).json()
        second = (await client.post(PATH, json=NORMAL_MEAN)).json()
        made, again = first.pop("provenance"), second.pop("provenance")
        assert (made["method"], made["engine"]) == (again["method"], again["engine"])  # cached: per worker
        assert first == second

    async def test_a_generated_seed_is_returned_and_reproduces(self, client: httpx.AsyncClient) -> None:
        request = {k: v for k, v in NORMAL_MEAN.items() if k != "seed"} | {"samples": 1000}
        first = (await client.post(PATH, json=request)).json()
        again = (await client.post(PATH, json=request | {"seed": first["seed"]})).json()
        assert again["estimate"] == first["estimate"]

    async def test_score_on_a_discrete_law_with_wrt_and_confidence(self, client: httpx.AsyncClient) -> None:
        request = {
            "function": "N*a",
            "random": {"N": {"family": "poisson", "parameters": {"lam": "2*b"}}},
            "at": {"a": 3.0, "b": 1.0},
            "wrt": ["b"],
            "confidence": 0.99,
            "samples": 50_000,
            "seed": 1,
        }
        body = (await client.post(PATH, json=request)).json()
        # E[N a] = 2 a b: d/db = 2a = 6.
        assert body["wrt"] == ["b"]
        assert body["exact"] == [6.0]
        assert body["confidence_interval"]["low"][0] <= 6 <= body["confidence_interval"]["high"][0]
        assert body["variance"]["pathwise"] is None


BINOMIAL = {
    "function": "X^2",
    "random": {"X": {"family": "binomial", "parameters": {"n": 10, "p": "theta"}}},
    "at": {"theta": 0.3},
    "samples": 100_000,
    "seed": 3,
}


class TestMeasureValued:
    async def test_auto_couples_a_discrete_law_and_reports_every_variance(self, client: httpx.AsyncClient) -> None:
        body = (await client.post(PATH, json=BINOMIAL)).json()
        # d/dp E[X^2] = d/dp (10p(1 - p) + 100p^2) = 10 + 180p = 64 at p = 0.3.
        assert (body["estimator"], body["estimators"]) == ("measure_valued", {"X": "measure_valued"})
        assert body["confidence_interval"]["low"][0] <= 64 <= body["confidence_interval"]["high"][0]
        variance = body["variance"]
        assert variance["pathwise"] is None
        assert 10 * variance["measure_valued"][0] < variance["score"][0]
        assert body["standard_error"][0] == pytest.approx((variance["measure_valued"][0] / 100_000) ** 0.5)

    async def test_asked_for_by_name(self, client: httpx.AsyncClient) -> None:
        coupled = (await client.post(PATH, json=BINOMIAL | {"estimator": "measure_valued"})).json()
        scored = (await client.post(PATH, json=BINOMIAL | {"estimator": "score"})).json()
        assert coupled["estimators"] == {"X": "measure_valued"}
        assert scored["estimators"] == {"X": "score"}
        assert coupled["variance"] == scored["variance"]  # the same draws, whichever estimator is chosen
        assert scored["confidence_interval"]["low"][0] <= 64 <= scored["confidence_interval"]["high"][0]

    async def test_where_it_cannot_apply(self, client: httpx.AsyncClient) -> None:
        request = {
            "function": "Y",
            "random": {
                "N": {"family": "poisson", "parameters": {"lam": "theta"}},
                "Y": {"family": "binomial", "parameters": {"n": "N", "p": 0.5}},
            },
            "at": {"theta": 2.0},
            "samples": 2_000,
            "seed": 1,
            "estimator": "measure_valued",
        }
        body = problem_of(await client.post(PATH, json=request), 422, "invalid_input")
        assert body["errors"][0]["loc"] == ["body", "random", "N"]
        assert body["detail"].startswith("the measure_valued estimator does not apply to 'N': the law of 'Y' depends")
        fallback = (await client.post(PATH, json=request | {"estimator": "auto"})).json()
        assert fallback["estimators"] == {"N": "score", "Y": "independent"}
        assert fallback["variance"]["measure_valued"] is None


class TestProblems:
    async def test_pathwise_on_a_discrete_law(self, client: httpx.AsyncClient) -> None:
        request = NORMAL_MEAN | {
            "random": {"X": {"family": "binomial", "parameters": {"n": 10, "p": "theta/2"}}},
            "estimator": "pathwise",
        }
        body = problem_of(await client.post(PATH, json=request), 422, "invalid_input")
        assert body["errors"][0]["loc"] == ["body", "random", "X"]
        assert "use estimator 'score', or 'auto'" in body["detail"]

    async def test_wrt_without_a_value(self, client: httpx.AsyncClient) -> None:
        body = problem_of(await client.post(PATH, json=NORMAL_MEAN | {"wrt": ["phi"]}), 422, "validation_error")
        assert "'phi' in wrt has no value in 'at'" in body["detail"]

    async def test_nothing_to_differentiate_by(self, client: httpx.AsyncClient) -> None:
        request = NORMAL_MEAN | {"at": {}, "random": {"X": {"family": "normal", "parameters": {"mu": 0, "sigma": 1}}}}
        body = problem_of(await client.post(PATH, json=request), 422, "validation_error")
        assert "nothing to differentiate by" in body["detail"]

    async def test_a_syntax_error_in_a_law_is_located(self, client: httpx.AsyncClient) -> None:
        request = NORMAL_MEAN | {"random": {"X": {"family": "normal", "parameters": {"mu": "theta +", "sigma": 1}}}}
        body = problem_of(await client.post(PATH, json=request), 422, "syntax_error")
        assert body["errors"][0]["loc"] == ["body", "random", "X", "parameters", "mu"]

    async def test_a_boolean_parameter_is_refused(self, client: httpx.AsyncClient) -> None:
        request = NORMAL_MEAN | {"random": {"X": {"family": "normal", "parameters": {"mu": True, "sigma": 1}}}}
        problem_of(await client.post(PATH, json=request), 422, "validation_error")

    async def test_a_confidence_outside_0_1(self, client: httpx.AsyncClient) -> None:
        problem_of(await client.post(PATH, json=NORMAL_MEAN | {"confidence": 1.0}), 422, "validation_error")


@pytest.fixture(scope="module")
async def small() -> AsyncIterator[httpx.AsyncClient]:
    async with started(Settings(workers=1, max_samples=1_000)) as app, http_client(app) as http:
        yield http


async def test_samples_over_the_configured_limit_is_413(small: httpx.AsyncClient) -> None:
    body = problem_of(await small.post(PATH, json=NORMAL_MEAN | {"samples": 1_001}), 413, "too_large")
    assert body["errors"][0]["loc"] == ["body", "samples"]
    assert "at most 1000 are allowed (NABLA_MAX_SAMPLES)" in body["detail"]


class TestLawSchemas:
    async def test_an_alternative_given_as_an_expression(self, client: httpx.AsyncClient) -> None:
        # rate = 1/scale is taken by name first: an expression (schemathesis found a 500 here) is checked later.
        request = {
            "function": "X",
            "random": {"X": {"family": "exponential", "parameters": {"rate": "1/theta"}}},
            "at": {"theta": 2.0},
            "samples": 2000,
            "seed": 1,
        }
        response = await client.post("/v1/stochastic-derivative", json=request)
        assert response.status_code == 200, response.text
        assert response.json()["exact"] == [1.0]  # E[X] = theta
