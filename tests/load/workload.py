"""The load test's mixed workload as plain data: which requests, how often, and what answer each must get.

Kept free of locust (which monkey-patches the standard library when imported) so the runner and the test suite can
import it. ``locustfile.py`` sends these calls; ``run.py`` warms the server with them and summarises the outcomes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_rng = random.Random(20261122)


@dataclass(frozen=True)
class Call:
    """One HTTP request of the workload and the answer it must get."""

    kind: str
    path: str
    body: bytes
    expected_status: int
    expected_type: str | None = None  # the problem document's ``type`` for an expected 4xx


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def cached_gradient() -> Call:
    """A gradient of one fixed function at a fresh point: after the first request its kernel is cached."""
    point = {"x": _rng.uniform(-3, 3), "y": _rng.uniform(-3, 3), "z": _rng.uniform(-3, 3)}
    return Call("cached_gradient", "/v1/gradient", _json({"function": "sin(x*y) + z*cos(x)", "at": point}), 200)


def _hessian_batch(seed: int) -> bytes:
    rng = random.Random(seed)
    points = [[round(rng.uniform(-2, 2), 6), round(rng.uniform(-2, 2), 6)] for _ in range(1000)]
    return _json({"function": "exp(-(x^2 + y^2)/2) * cos(x*y)", "points": points})


# A few bodies made once: building 1000 points per request would load the client, which shares the machine.
_HESSIAN_BODIES = [_hessian_batch(seed) for seed in range(8)]


def batch_hessian() -> Call:
    """A Hessian of one fixed function at 1000 points (cached kernel, numeric batch work in the web process)."""
    return Call("batch_hessian", "/v1/hessian", _rng.choice(_HESSIAN_BODIES), 200)


def new_derivative() -> Call:
    """A second derivative of a function never seen before: parsed and differentiated in a worker process."""
    a, b = _rng.randint(2, 10**9), _rng.randint(2, 10**9)
    body = {"function": f"sin({a}*x) * exp(x/{b}) + x^3", "order": 2, "at": [_rng.uniform(-1, 1)]}
    return Call("new_derivative", "/v1/derivative", _json(body), 200)


def distribution_statistics() -> Call:
    """Moments, pdf/cdf at two points and two quantiles of the standard normal."""
    body = {"parameters": {"mu": 0, "sigma": 1}, "x": [0, 1], "q": [0.5, 0.975]}
    return Call("distribution_statistics", "/v1/distributions/normal/statistics", _json(body), 200)


HOSTILE = (
    Call("hostile", "/v1/derivative", _json({"function": "x**"}), 422, "/problems/syntax_error"),
    Call(
        "hostile",
        "/v1/gradient",
        _json({"function": "frobnicate(x)", "at": [1]}),
        422,
        "/problems/unsupported_function",
    ),
    Call("hostile", "/v1/derivative", _json({"function": "sin(x)", "order": 1001}), 422, "/problems/limit_exceeded"),
    Call("hostile", "/v1/gradient", b'{"function": "x", "at": [NaN]}', 400, "/problems/malformed_json"),
)


def hostile() -> Call:
    """A request a client gets wrong: a syntax error, an unknown function, an order over the limit, bad JSON."""
    return _rng.choice(HOSTILE)


# kind -> (relative weight, call factory). Mostly cheap cached requests, as a production mix would be.
WORKLOAD: dict[str, tuple[int, Callable[[], Call]]] = {
    "cached_gradient": (10, cached_gradient),
    "batch_hessian": (2, batch_hessian),
    "new_derivative": (1, new_derivative),
    "distribution_statistics": (5, distribution_statistics),
    "hostile": (2, hostile),
}

OK = "ok"
EXPECTED_4XX = "expected_4xx"
ADMISSION_503 = "admission_503"
OTHER_5XX = "other_5xx"
CONNECTION = "connection_error"
UNEXPECTED = "unexpected"
OUTCOMES = (OK, EXPECTED_4XX, ADMISSION_503, OTHER_5XX, CONNECTION, UNEXPECTED)


def classify(expected_status: int, status: int) -> str:
    """The outcome class of one answer; ``status`` 0 means no HTTP answer (connection refused, reset, timeout)."""
    if status == 0:
        return CONNECTION
    if status == expected_status:
        return OK if status < 400 else EXPECTED_4XX
    if status == 503:
        return ADMISSION_503
    if status >= 500:
        return OTHER_5XX
    return UNEXPECTED  # a valid request refused, or a hostile one accepted
