"""Distribution answers to the JSON of the contract: the catalogue, statistics, and fits."""

from __future__ import annotations

from dataclasses import asdict
from functools import cache

import orjson

from service.compute.distributions import FAMILIES, Family
from service.compute.distributions.answers import FitAnswer, StatisticsAnswer
from service.compute.distributions.inference import Inference
from service.compute.distributions.statistics import ValueWarning
from service.compute.notes import Note, Notes
from service.present.encoding import Body, provenance, warnings


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
def catalogue() -> bytes:
    """GET /v1/distributions: fixed, so encoded once."""
    return orjson.dumps({"families": [_family(f) for f in FAMILIES.values()]})


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


def _note(warning: ValueWarning) -> Note:
    return Note("null_value", warning.detail, field=warning.field, index=warning.index)


def statistics_body(answer: StatisticsAnswer) -> Body:
    result = answer.statistics
    body: Body = {
        "family": answer.family,
        "parameters": answer.parameters,
        "discrete": answer.discrete,
        **result.summary,
        "undefined": result.undefined,
        "infinite": result.infinite,
        "support": asdict(result.support),
        **(result.at_x or {}),
    }
    if result.quantiles is not None:
        body["quantiles"] = result.quantiles
    body |= warnings(Notes(tuple(_note(w) for w in result.warnings), result.warnings_omitted))
    if answer.exact is not None:
        body["exact"] = {k: asdict(v) for k, v in answer.exact.items()}
    if answer.likelihood is not None:
        body["likelihood"] = likelihood(answer.likelihood)
    return body | provenance(answer.provenance)


def statistics(answer: StatisticsAnswer) -> bytes:
    return orjson.dumps(statistics_body(answer))


def fit_body(answer: FitAnswer) -> Body:
    result = answer.fit
    return {
        "family": answer.query.family,
        "parameters": result.estimate,
        "estimated": list(result.estimated),
        "standard_errors": result.standard_errors,
        "confidence_interval": {"level": result.level, "low": result.low, "high": result.high},
        "covariance": result.covariance,
        "method": result.method,
        "iterations": result.iterations,
        "likelihood": likelihood(result.inference),
        "notes": result.notes,
        **warnings(Notes()),
        **provenance(answer.provenance),
    }


def fit(answer: FitAnswer) -> bytes:
    return orjson.dumps(fit_body(answer))
