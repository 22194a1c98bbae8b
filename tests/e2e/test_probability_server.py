"""Distributions and the stochastic derivative over HTTP against a real uvicorn process (test_server's fixture)."""

from __future__ import annotations

import math

import httpx
import pytest

from tests.e2e.test_server import assert_healthy, http, server

__all__ = ["http", "server"]  # the module-scoped fixtures this module uses

pytestmark = pytest.mark.e2e


def test_a_hierarchical_model_over_http(http: httpx.Client) -> None:
    # Y | X ~ Poisson(X), X ~ Gamma(shape 2, rate 1/theta): E[Y] = 2 theta, so the derivative is 2.
    request = {
        "function": "Y",
        "random": {
            "X": {"family": "gamma", "parameters": {"shape": 2, "rate": "1/theta"}},
            "Y": {"family": "poisson", "parameters": {"lam": "X"}},
        },
        "at": {"theta": 0.5},
        "samples": 200_000,
        "seed": 11,
    }
    response = http.post("/v1/stochastic-derivative", json=request)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["estimators"] == {"X": "pathwise", "Y": "measure_valued"}
    assert body["confidence_interval"]["low"][0] <= 2 <= body["confidence_interval"]["high"][0]
    assert body["exact"] == [2.0]


def test_the_seed_numbers_over_http(http: httpx.Client) -> None:
    # 7 or more girls of 8 births at p = 1/2: (8 + 1)/256; the bus stop: P(N <= 3) for Poisson(2.5 * 4).
    births = http.post("/v1/distributions/binomial/statistics", json={"parameters": {"n": 8, "p": 0.5}, "x": [6]})
    assert births.status_code == 200, births.text
    assert births.json()["sf"] == [pytest.approx(9 / 256, rel=1e-12)]
    bus = http.post("/v1/distributions/poisson/statistics", json={"parameters": {"lam": 10}, "x": [3]}).json()
    truth = math.exp(-10) * (1 + 10 + 50 + 1000 / 6)
    assert bus["cdf"] == [pytest.approx(truth, rel=1e-12)]


def test_a_fit_over_http(http: httpx.Client) -> None:
    # The MLE of a normal is the sample mean and the (biased) sample standard deviation.
    data = [1.0, 2.0, 4.0, 7.0]
    response = http.post("/v1/distributions/normal/fit", json={"data": data})
    assert response.status_code == 200, response.text
    estimate = response.json()["parameters"]
    assert estimate["mu"] == pytest.approx(3.5, rel=1e-9)
    assert estimate["sigma"] == pytest.approx(math.sqrt(sum((d - 3.5) ** 2 for d in data) / 4), rel=1e-9)


def test_a_hostile_law_is_refused_and_the_server_stays_healthy(http: httpx.Client) -> None:
    request = {
        "function": "X",
        "random": {"X": {"family": "normal", "parameters": {"mu": "9^9^9^9", "sigma": "__import__('os')"}}},
        "at": {"theta": 1},
    }
    response = http.post("/v1/stochastic-derivative", json=request)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert_healthy(http)
