"""The stochastic derivative over HTTP against a real uvicorn process (the server fixture of test_server)."""

from __future__ import annotations

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
    assert body["estimators"] == {"X": "pathwise", "Y": "score"}
    assert body["confidence_interval"]["low"][0] <= 2 <= body["confidence_interval"]["high"][0]
    assert body["exact"] == [2.0]


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
