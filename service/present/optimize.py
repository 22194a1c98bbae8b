"""Optimisation answers to the JSON of the contract."""

from __future__ import annotations

from service.compute.notes import Notes
from service.compute.optimize import OptimizeAnswer
from service.present.encoding import Body, encode, provenance, warnings


def body(answer: OptimizeAnswer) -> Body:
    result = answer.result
    return {
        "method": result.method,
        "variables": list(result.variables),
        "learning_rate": result.learning_rate,
        "trajectory": [
            {
                "iteration": it.iteration,
                "point": list(it.point),
                "function_value": it.function_value,
                "gradient_norm": it.gradient_norm,
                "step": it.step,
            }
            for it in result.trajectory
        ],
        "converged": result.converged,
        "reason": result.reason,
        "detail": result.detail,
        "iterations": result.iterations,
        "minimum": {"at": list(result.minimum_at), "function_value": result.minimum_value, "note": result.minimum_note},
        "seed": result.seed,
        **warnings(Notes(result.warnings)),
        **provenance(result.provenance),
    }


def present(answer: OptimizeAnswer) -> bytes:
    return encode(body(answer))
