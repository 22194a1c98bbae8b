"""Geometry answers to the JSON of the contract."""

from __future__ import annotations

from service.compute.critical import CriticalAnswer
from service.compute.level_set import LevelSetAnswer
from service.compute.notes import Note, Notes
from service.compute.status import Status
from service.compute.taylor import TaylorAnswer
from service.present.encoding import Body, encode, provenance, warnings


def taylor(answer: TaylorAnswer) -> Body:
    result = answer.result
    body: Body = {"variables": list(result.variables)}
    if result.parameters:
        body["parameters"] = list(result.parameters)
    body |= {
        "at": list(result.at),
        "order": result.order,
        "polynomial": {"expression": result.text, "latex": result.latex},
        "function_value": result.function_value,
    }
    notes = Notes()
    comparison = answer.comparison
    if comparison is not None:
        counts = {s.label: int((comparison.status == s).sum()) for s in Status if (comparison.status == s).any()}
        body |= {
            "values": comparison.values,
            "errors": comparison.errors,
            "function_values": comparison.function_values,
            "status_counts": counts,
        }
    return body | warnings(notes) | provenance(result.provenance)


def present_taylor(answer: TaylorAnswer) -> bytes:
    return encode(taylor(answer))


_CRITICAL = Note(
    "critical_point",
    "the gradient is zero here, so the level set need not be a smooth curve or surface: there is no normal, tangent "
    "space or tangent plane (see /v1/critical-points for what the point is)",
)


def level_set(answer: LevelSetAnswer) -> Body:
    result = answer.result
    plane = result.tangent_plane
    body: Body = {
        "variables": list(result.variables),
        "at": list(result.at),
        "level": result.level,
        "gradient": list(result.gradient),
        "normal": None if result.normal is None else list(result.normal),
        "tangent": None if result.tangent is None else [list(row) for row in result.tangent],
        "tangent_plane": None if plane is None else {"expression": plane[0], "latex": plane[1]},
    }
    if len(result.variables) == 2:
        body["slope"] = result.slope
    return body | warnings(Notes((_CRITICAL,) if result.critical else ())) | provenance(result.provenance)


def present_level_set(answer: LevelSetAnswer) -> bytes:
    return encode(level_set(answer))


def critical_points(answer: CriticalAnswer) -> Body:
    result = answer.result
    body: Body = {
        "variables": list(result.variables),
        "points": [
            {
                "at": list(p.at),
                "function_value": p.function_value,
                "gradient_norm": p.gradient_norm,
                "eigenvalues": list(p.eigenvalues),
                "kind": p.kind,
            }
            for p in result.points
        ],
        "method": result.method,
        "complete": result.complete,
        "bounds": {n: list(b) for n, b in zip(result.variables, result.bounds, strict=True)},
    }
    notes = Notes(tuple(Note(code, detail) for code, detail in result.warnings))
    return body | warnings(notes) | provenance(result.provenance)


def present_critical_points(answer: CriticalAnswer) -> bytes:
    return encode(critical_points(answer))
