"""The answers of the distribution endpoints as plain JSON-ready dicts, computed where the runtime puts them (the
worker pool: SciPy's cost grows with some parameters, and a deadline and a memory limit must bound it).

Each function takes plain values (what the request held) and returns the response body; errors are ``NablaError``s.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from functools import cache
from typing import Any

from service.compute.distributions.closed_forms import closed_forms
from service.compute.distributions.families import FAMILIES, Family
from service.compute.distributions.fit import fit
from service.compute.distributions.inference import Inference, infer
from service.compute.distributions.statistics import bounded, describe, prepare
from service.compute.errors import NablaError

Body = dict[str, Any]


@contextmanager
def _in_body() -> Iterator[None]:
    """Errors located in the request body, as the HTTP layer reports locations (``["body", "parameters", "p"]``).
    Also a decorator (``@_in_body()``)."""
    try:
        yield
    except NablaError as error:
        raise error.at("body") from None


def _family(family: Family) -> Body:
    return {
        "name": family.name,
        "title": family.title,
        "discrete": family.discrete,
        "parameters": [
            {"name": p.name, "constraint": p.constraint, "description": p.description, "integer": p.integer}
            for p in family.parameters
        ],
        "required": family.expected(),
        "support": family.support,
        "convention": family.convention,
        "regular": family.irregular is None,
    }


@cache
def catalogue() -> Body:
    """GET /v1/distributions."""
    return {"families": [_family(f) for f in FAMILIES.values()]}


def likelihood(inference: Inference) -> Body:
    fisher = None
    if inference.fisher_per_observation is not None and inference.fisher_sample is not None:
        fisher = {"per_observation": inference.fisher_per_observation, "sample": inference.fisher_sample}
    return {
        "parameters": list(inference.parameters),
        "observations": inference.observations,
        "log_likelihood": inference.log_likelihood,
        "score": inference.score,
        "fisher_information": fisher,
        "observed_information": inference.observed_information,
        "notes": inference.notes,
    }


@_in_body()
def statistics(
    family: str,
    parameters: Mapping[str, float],
    x: Sequence[float] | None,
    q: Sequence[float] | None,
    exact: bool,
    data: Sequence[float] | None,
    limit: int,
    max_warnings: int,
) -> Body:
    """POST /v1/distributions/{family}/statistics; at most ``max_warnings`` warnings are listed."""
    law = prepare(family, parameters)
    points, probabilities, observations = (bounded(v, n, limit) for v, n in ((x, "x"), (q, "q"), (data, "data")))
    result = describe(law, points, probabilities, max_warnings)
    body: Body = {
        "family": family,
        "parameters": law.given,
        "discrete": law.family.discrete,
        **result.summary,
        "undefined": result.undefined,
        "infinite": result.infinite,
        "support": asdict(result.support),
        **(result.at_x or {}),
    }
    if result.quantiles is not None:
        body["quantiles"] = result.quantiles
    body["warnings"] = [asdict(w) for w in result.warnings]
    body["warnings_omitted"] = result.warnings_omitted
    if exact:
        body["exact"] = {k: asdict(v) for k, v in closed_forms(family, frozenset(parameters)).items()}
    if observations is not None:
        body["likelihood"] = likelihood(infer(law, observations))
    return body


def maximum_likelihood(
    family: str,
    data: Sequence[float],
    fixed: Mapping[str, float],
    parameterization: str | None,
    confidence: float,
    limit: int,
) -> Body:
    """POST /v1/distributions/{family}/fit."""
    with _in_body():
        observations = bounded(data, "data", limit)
        assert observations is not None
        result = fit(family, observations, fixed, parameterization, confidence)
    return {
        "family": family,
        "parameters": result.estimate,
        "estimated": list(result.estimated),
        "standard_errors": result.standard_errors,
        "confidence_interval": {"level": result.level, "low": result.low, "high": result.high},
        "covariance": result.covariance,
        "method": result.method,
        "iterations": result.iterations,
        "likelihood": likelihood(result.inference),
        "notes": result.notes,
    }
