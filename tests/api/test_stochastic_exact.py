"""POST /v1/stochastic-derivative: the exact value by summation, how it was found, and a search made once per model."""

from __future__ import annotations

import re
from typing import Any

import httpx
import mpmath
import pytest

pytestmark = pytest.mark.anyio

PATH = "/v1/stochastic-derivative"


def request(function: str, **extra: Any) -> dict[str, Any]:
    return {
        "function": function,
        "random": {"X": {"family": "poisson", "parameters": {"lam": "lam"}}},
        "at": {"lam": 3.0},
        "samples": 2_000,
        "seed": 3,
    } | extra


def truth(f: Any) -> tuple[Any, Any]:
    """E[f(X)] and d/dlam for X ~ Poisson(3), mpmath at 40 digits over 0..299 (the rest is below 1e-200)."""
    with mpmath.workdps(40):
        lam = mpmath.mpf(3)
        pmf = [mpmath.exp(k * mpmath.log(lam) - lam - mpmath.loggamma(k + 1)) for k in range(300)]
        return (
            mpmath.fsum(f(k) * pmf[k] for k in range(300)),
            mpmath.fsum(f(k) * (k / lam - 1) * pmf[k] for k in range(300)),
        )


def note(body: dict[str, Any], code: str) -> str | None:
    return next((w["detail"] for w in body["warnings"] if w["code"] == code), None)


async def hits(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics")).text
    found = re.search(r"^nabla_closed_form_searches_cache_hits(?:_total)? ([0-9.e+]+)$", text, re.MULTILINE)
    assert found is not None, text
    return float(found.group(1))


class TestSummation:
    async def test_sqrt_of_a_poisson_is_exact_by_summation(self, client: httpx.AsyncClient) -> None:
        body = (await client.post(PATH, json=request("sqrt(X)"))).json()
        value, slope = truth(mpmath.sqrt)
        assert abs(body["exact"][0] - slope) <= 1e-12 * abs(slope)
        assert abs(body["expected_value"] - value) <= 1e-12 * abs(value)
        assert (body["exact_method"], body["expectation"], body["exact_derivatives"]) == ("summation", None, None)

    async def test_a_closed_form_says_so(self, client: httpx.AsyncClient) -> None:
        body = (await client.post(PATH, json=request("X^2"))).json()
        # E[X^2] = lam + lam^2 = 12, d/dlam = 1 + 2 lam = 7.
        assert (body["exact"], body["expected_value"], body["exact_method"]) == ([7.0], 12.0, "closed_form")

    async def test_what_cannot_be_summed_says_why(self, client: httpx.AsyncClient) -> None:
        body = (await client.post(PATH, json=request("exp(X)*sin(X)"))).json()
        assert body["exact"] is None
        assert note(body, "no_exact_sum") == (
            "the exact value was not summed either: the function's growth in the random variables cannot be bounded "
            "(Nabla bounds sums, products, powers, logarithms and bounded functions such as sin, tanh, erf), so "
            "neither can the sum's tail"
        )


class TestSearchOnce:
    async def test_the_second_identical_request_does_not_search(self, client: httpx.AsyncClient) -> None:
        before = await hits(client)
        first = (await client.post(PATH, json=request("sqrt(2*X)"))).json()
        second = (await client.post(PATH, json=request("sqrt(2*X)"))).json()
        assert note(first, "no_closed_form") == (
            "sympy.stats found no closed form; the outcome is remembered for this model, so identical requests do "
            'not search again (send "exact": true to search afresh, "exact": false to skip it)'
        )
        assert note(second, "no_closed_form") == (
            "sympy.stats found no closed form in an earlier request for this model; it is remembered, so this "
            'request did not search again (send "exact": true to search afresh, "exact": false to skip it)'
        )
        assert await hits(client) == before + 1
        assert second["exact"] == first["exact"]

    async def test_exact_true_searches_afresh_and_false_skips(self, client: httpx.AsyncClient) -> None:
        await client.post(PATH, json=request("sqrt(3*X)"))
        fresh = (await client.post(PATH, json=request("sqrt(3*X)", exact=True))).json()
        assert note(fresh, "no_closed_form") is not None
        assert "the outcome is remembered for this model" in note(fresh, "no_closed_form")  # type: ignore[operator]
        off = (await client.post(PATH, json=request("sqrt(3*X)", exact=False))).json()
        assert (off["exact"], off["exact_method"], note(off, "no_closed_form")) == (None, None, None)
