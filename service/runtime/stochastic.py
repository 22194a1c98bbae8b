"""The stochastic derivative end to end: limits, a seed, one worker task (symbolic work, draws and estimate, all
bounded by the worker's deadline and memory), and the JSON answer."""

from __future__ import annotations

import secrets
from typing import Any

import orjson

from service.compute import stochastic
from service.compute.errors import TooLarge, located
from service.compute.stochastic import StochasticResult
from service.config import Settings
from service.runtime.workers import WorkerPool
from service.schemas.stochastic import StochasticRequest


def _symbolic(pairs: tuple[tuple[str, str], ...] | None) -> dict[str, list[str]] | None:
    if pairs is None:
        return None
    return {"expressions": [text for text, _ in pairs], "latex": [latex for _, latex in pairs]}


def present(result: StochasticResult, at: dict[str, float], samples: int, seed: int, level: float) -> dict[str, Any]:
    """The response body of a result."""
    expectation = result.expectation
    return {
        "wrt": list(result.wrt),
        "at": at,
        "estimate": list(result.estimate),
        "standard_error": list(result.standard_error),
        "confidence_interval": {"level": level, "low": list(result.low), "high": list(result.high)},
        "estimator": result.estimator,
        "estimators": result.treatments,
        "variance": {name: None if v is None else list(v) for name, v in result.variance.items()},
        "samples": samples,
        "seed": seed,
        "exact": None if result.exact is None else list(result.exact),
        "expectation": None if expectation is None else {"expression": expectation[0], "latex": expectation[1]},
        "exact_derivatives": _symbolic(result.exact_derivatives),
        "warnings": list(result.warnings),
    }


async def answer(body: StochasticRequest, settings: Settings, pool: WorkerPool) -> bytes:
    if body.samples > settings.max_samples:
        raise located(
            TooLarge,
            f"{body.samples} samples were asked for; at most {settings.max_samples} are allowed (NABLA_MAX_SAMPLES): "
            "ask for fewer and use the standard error to judge the precision",
            ("body", "samples"),
        )
    seed = body.seed if body.seed is not None else secrets.randbits(63)
    task = body.to_task(settings, seed)
    result = await pool.run(stochastic.run, task)
    return orjson.dumps(present(result, dict(body.at), body.samples, seed, body.confidence))
