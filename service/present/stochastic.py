"""Stochastic-derivative answers to the JSON of the contract."""

from __future__ import annotations

import orjson

from service.compute.notes import Notes
from service.compute.stochastic import StochasticAnswer
from service.present.encoding import Body, provenance, warnings


def _symbolic(pairs: tuple[tuple[str, str], ...] | None) -> dict[str, list[str]] | None:
    if pairs is None:
        return None
    return {"expressions": [text for text, _ in pairs], "latex": [latex for _, latex in pairs]}


def body(answer: StochasticAnswer) -> Body:
    result, query = answer.result, answer.query
    expectation = result.expectation
    return {
        "wrt": list(result.wrt),
        "at": dict(query.at),
        "estimate": list(result.estimate),
        "standard_error": list(result.standard_error),
        "confidence_interval": {"level": query.confidence, "low": list(result.low), "high": list(result.high)},
        "estimator": result.estimator,
        "estimators": dict(result.treatments),
        "variance": {name: None if v is None else list(v) for name, v in result.variance.items()},
        "samples": query.samples,
        "seed": answer.seed,
        "exact": None if result.exact is None else list(result.exact),
        "exact_method": result.exact_method,
        "expected_value": result.expected_value,
        "expectation": None if expectation is None else {"expression": expectation[0], "latex": expectation[1]},
        "exact_derivatives": _symbolic(result.exact_derivatives),
        **warnings(Notes(result.warnings)),
        **provenance(result.provenance),
    }


def present(answer: StochasticAnswer) -> bytes:
    return orjson.dumps(body(answer))
