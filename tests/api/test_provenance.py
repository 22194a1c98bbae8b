"""`provenance {method, engine, cached}` on every answer beyond calculus (whose own tests are in test_trust.py):
the method each area computes by, its engine with the version the installed library itself reports, and `cached`
false on a first request, true on an identical second one wherever the area caches (false where it does not)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import numpy
import pytest
import scipy
import symengine
import sympy

import service
from service.config import Settings
from tests.api.answers import ok
from tests.conftest import http_client, started

pytestmark = pytest.mark.anyio

NUMPY = f"numpy {numpy.__version__}"
SCIPY = f"scipy {scipy.__version__}"
SYMENGINE = f"symengine {symengine.__version__}"
SYMPY = f"sympy {sympy.__version__}"


async def twice(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The provenance of two identical requests, one after the other."""
    first = await ok(client, path, body)
    second = await ok(client, path, body)
    return first["provenance"], second["provenance"]


@pytest.fixture(scope="module")
async def one_worker() -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with one worker: a worker's own cache is then every request's."""
    async with started(Settings(workers=1, compute_timeout=5.0, cache_size=64)) as app, http_client(app) as http:
        yield http


STOCHASTIC = {
    "function": "X^3 + 11*X",
    "random": {"X": {"family": "normal", "parameters": {"mu": "theta", "sigma": 1}}},
    "wrt": ["theta"],
    "at": {"theta": 0.5},
    "samples": 2_000,
    "seed": 3,
}


class TestStochastic:
    async def test_monte_carlo_and_the_workers_cache(self, one_worker: httpx.AsyncClient) -> None:
        first, second = await twice(one_worker, "/v1/stochastic-derivative", STOCHASTIC)
        assert first == {"method": "monte_carlo", "engine": NUMPY, "cached": False}
        assert second == {"method": "monte_carlo", "engine": NUMPY, "cached": True}

    async def test_another_seed_reuses_the_compiled_model(self, one_worker: httpx.AsyncClient) -> None:
        body = {**STOCHASTIC, "function": "X^3 + 12*X"}
        await ok(one_worker, "/v1/stochastic-derivative", body)
        again = await ok(one_worker, "/v1/stochastic-derivative", {**body, "seed": 4, "at": {"theta": 2.0}})
        assert again["provenance"]["cached"] is True

    async def test_another_model_is_compiled(self, one_worker: httpx.AsyncClient) -> None:
        await ok(one_worker, "/v1/stochastic-derivative", {**STOCHASTIC, "function": "X^3 + 13*X"})
        other = await ok(one_worker, "/v1/stochastic-derivative", {**STOCHASTIC, "function": "X^3 + 14*X"})
        assert other["provenance"]["cached"] is False


class TestDistributions:
    async def test_statistics_numeric_and_remembered(self, client: httpx.AsyncClient) -> None:
        body = {"parameters": {"mu": 0.125, "sigma": 3.5}}
        first, second = await twice(client, "/v1/distributions/normal/statistics", body)
        assert first == {"method": "numeric", "engine": SCIPY, "cached": False}
        assert second == {"method": "numeric", "engine": SCIPY, "cached": True}

    async def test_statistics_with_closed_forms_are_exact(self, client: httpx.AsyncClient) -> None:
        body = {"parameters": {"lam": 3.25}, "exact": True}
        first, second = await twice(client, "/v1/distributions/poisson/statistics", body)
        assert first == {"method": "exact", "engine": f"{SCIPY}, {SYMPY}", "cached": False}
        assert second["cached"] is True

    async def test_fit_numeric_and_remembered(self, client: httpx.AsyncClient) -> None:
        body = {"data": [1.5, 2.25, 0.75, 3.0, 2.5]}
        first, second = await twice(client, "/v1/distributions/gamma/fit", body)
        assert first == {"method": "numeric", "engine": SCIPY, "cached": False}
        assert second == {"method": "numeric", "engine": SCIPY, "cached": True}

    async def test_other_data_are_not_remembered(self, client: httpx.AsyncClient) -> None:
        await ok(client, "/v1/distributions/normal/fit", {"data": [1.0, 2.0, 4.5]})
        other = await ok(client, "/v1/distributions/normal/fit", {"data": [1.0, 2.0, 4.75]})
        assert other["provenance"]["cached"] is False


class TestMatrix:
    async def test_symbolic_by_the_services_rules_and_cached(self, client: httpx.AsyncClient) -> None:
        body = {"function": "x'*A*x + b'*x", "wrt": "x", "shapes": {"x": ["n"], "A": ["n", "n"], "b": ["n"]}}
        first, second = await twice(client, "/v1/matrix/derivative", body)
        engine = f"nabla {service.__version__}"
        assert first == {"method": "symbolic", "engine": engine, "cached": False}
        assert second == {"method": "symbolic", "engine": engine, "cached": True}


class TestGeometry:
    async def test_taylor_comparison_cached(self, client: httpx.AsyncClient) -> None:
        body = {"function": "exp(x)*y + 3*y", "variables": ["x", "y"], "at": [0, 1], "order": 2, "points": [[0.1, 1]]}
        first, second = await twice(client, "/v1/taylor", body)
        assert first == {"method": "symbolic", "engine": SYMENGINE, "cached": False}
        assert second == {"method": "symbolic", "engine": SYMENGINE, "cached": True}

    async def test_taylor_without_points_caches_nothing(self, client: httpx.AsyncClient) -> None:
        body = {"function": "exp(x)*y + 4*y", "variables": ["x", "y"], "at": [0, 1]}
        first, second = await twice(client, "/v1/taylor", body)
        assert first["cached"] is second["cached"] is False

    async def test_sympy_engine_where_symengine_cannot(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/taylor", {"function": "gamma(x)", "variables": ["x"], "at": [2]})
        assert answer["provenance"]["engine"] == SYMPY

    async def test_level_set_symbolic(self, client: httpx.AsyncClient) -> None:
        body = {"function": "x^2 + 3*y^2", "variables": ["x", "y"], "at": [1, 2]}
        first, second = await twice(client, "/v1/level-set", body)
        assert first == {"method": "symbolic", "engine": SYMENGINE, "cached": False}
        assert second["cached"] is False  # nothing is cached: the worker computes it again

    async def test_critical_points_symbolic(self, client: httpx.AsyncClient) -> None:
        answer = await ok(client, "/v1/critical-points", {"function": "x^2 + 5*y^2", "variables": ["x", "y"]})
        assert answer["method"] == "symbolic"
        assert answer["provenance"] == {"method": "symbolic", "engine": SYMENGINE, "cached": False}

    async def test_critical_points_numeric(self, client: httpx.AsyncClient) -> None:
        body = {"function": "cos(x) + x^2/10", "variables": ["x"], "bounds": {"x": [-5, 5]}}
        answer = await ok(client, "/v1/critical-points", body)
        assert answer["method"] == "numeric"
        assert answer["provenance"] == {"method": "numeric", "engine": f"{SYMENGINE}, {NUMPY}", "cached": False}


class TestOptimize:
    async def test_numeric(self, client: httpx.AsyncClient) -> None:
        body = {"function": "(x - 2)^2", "variables": ["x"], "start": [0], "method": "newton"}
        first, second = await twice(client, "/v1/optimize", body)
        assert first == {"method": "numeric", "engine": NUMPY, "cached": False}
        assert second["cached"] is False
