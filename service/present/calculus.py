"""Calculus answers to the JSON of the contract: symbolic parts, values, statuses, warnings, exact values."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.compute.answer import CalculusAnswer
from service.compute.calculus import CalculusResult
from service.compute.exact import ExactValues
from service.compute.geometry import Definiteness, Directional
from service.present.encoding import Body, encode, encode_value, matrix, provenance, warnings


def symbolic(operation: str, result: CalculusResult) -> Body:
    texts = [d.text for d in result.derivatives]
    latex = [d.latex for d in result.derivatives]
    if operation == "derivative":
        wrt = result.wrt
        return {
            "variable": wrt[0] if len(set(wrt)) == 1 else None,
            "order": len(wrt),
            "wrt": list(wrt),
            "derivative": {"expression": texts[0], "latex": latex[0]},
        }
    part = {"expressions": matrix(texts, result.shape), "latex": matrix(latex, result.shape)}
    if operation == "hessian":
        return {"hessian": part, "symmetric": True}
    return {"gradient_expressions" if operation == "directional" else operation: part}


def _exact(operation: str, result: CalculusResult, exact: ExactValues) -> Body:
    if operation == "derivative":
        return {"exact": {"expression": exact.texts[0], "latex": exact.latex[0]}}
    key = "exact_gradient" if operation == "directional" else "exact"
    return {
        key: {"expressions": matrix(list(exact.texts), result.shape), "latex": matrix(list(exact.latex), result.shape)}
    }


def _directional(part: Directional, gradients: Any, single: bool) -> Body:
    if single:
        return {
            "value": part.values[0],
            "gradient": gradients[0],
            "direction": part.unit,
            "steepest_ascent": {"direction": part.ascent[0], "rate": part.rates[0]},
        }
    return {
        "values": part.values,
        "gradient": gradients,
        "gradients": gradients,  # the name before 0.2: an alias for one release
        "direction": part.unit,
        "steepest_ascent": {"directions": part.ascent, "rates": part.rates},
    }


def _definiteness(part: Definiteness, single: bool) -> Body:
    if single:
        return {"eigenvalues": part.eigenvalues[0], "classification": part.classes[0]}
    return {"eigenvalues": part.eigenvalues, "classifications": list(part.classes)}


def _function(functions: np.ndarray, several: bool, single: bool) -> Body:
    """f itself: a number per point, or with several functions (a Jacobian's) a list of them."""
    values = functions if several else functions[:, 0]
    return {"function_value": values[0]} if single else {"function_values": values}


def numeric(answer: CalculusAnswer) -> Body:
    """Values, derived quantities, statuses and warnings of an evaluated answer."""
    assert answer.values is not None
    assert answer.counts is not None
    single = answer.query.single
    body: Body = {}
    if answer.directional is not None:
        body |= _directional(answer.directional, answer.values, single)
    else:
        body["value" if single else "values"] = answer.values[0] if single else answer.values
    if answer.functions is not None:
        body |= _function(answer.functions, answer.query.operation == "jacobian", single)
    if answer.definiteness is not None:
        body |= _definiteness(answer.definiteness, single)
    if answer.critical_point is not None:
        body["critical_point"] = answer.critical_point
    if single:
        body["status"] = answer.status_label
    else:
        body["status_counts"] = answer.counts
    body |= warnings(answer.notes)
    if answer.exact is not None:
        body |= _exact(answer.query.operation, answer.result, answer.exact)
    if answer.decimal is not None:
        shape = answer.result.shape
        rows = [matrix(list(row), shape) if shape else row[0] for row in answer.decimal]
        body["decimal"] = rows[0] if single else rows
    if answer.sides is not None:
        left, right = (
            matrix(list(side), answer.result.shape) if answer.result.shape else side[0] for side in answer.sides
        )
        for warning in body["warnings"]:
            if warning["code"] == "non_differentiable" and warning["point"] == 0:
                warning |= {"left": left, "right": right}
    if answer.check is not None:
        found, shape = answer.check, answer.result.shape
        parts = (found.values, found.errors, found.agrees)
        shaped = [[matrix(list(row), shape) if shape else row[0] for row in part] for part in parts]
        value, error, agrees = (rows[0] if single else rows for rows in shaped)
        body["check"] = {"value": value, "error_estimate": error, "agrees": agrees}
    return body


def body(answer: CalculusAnswer) -> Body:
    """The whole answer of a calculus request, as a dict of JSON-ready values and arrays."""
    result = answer.result
    out: Body = {"variables": list(result.variables)}
    if result.parameters:
        out["parameters"] = list(result.parameters)
    out |= symbolic(answer.query.operation, result)
    if answer.values is not None:
        out |= numeric(answer)
    elif answer.notes.listed:
        out |= warnings(answer.notes)
    return out | provenance(answer.provenance)


def present(answer: CalculusAnswer) -> bytes:
    """The JSON bytes of a calculus answer."""
    return encode(body(answer))


@dataclass(frozen=True)
class Template:
    """The JSON of a single-point answer around its two numeric fields, ``value`` and ``function_value``: an answer
    at another point of the same request is those bytes with that point's numbers."""

    head: bytes  # up to the value
    middle: bytes  # between the value and the function's value
    tail: bytes
    shape: tuple[int, ...]  # of the derivative
    several: bool  # a Jacobian's: the function's value is a list


def template(answer: CalculusAnswer) -> Template | None:
    """The template of a single-point answer whose only numbers are its value and the function's value."""
    marker = os.urandom(8).hex()
    slots = (f"@value-{marker}", f"@function-{marker}")
    whole = body(answer)
    if "value" not in whole or "function_value" not in whole:
        return None
    whole["value"], whole["function_value"] = slots
    head, _, rest = encode(whole).partition(encode_value(slots[0]))
    middle, _, tail = rest.partition(encode_value(slots[1]))
    return Template(head, middle, tail, answer.result.shape, answer.query.operation == "jacobian")


def render(template: Template, functions: np.ndarray, values: np.ndarray) -> bytes:
    """The answer's bytes at one point, from the functions and flat derivative entries there (1 x n arrays)."""
    value = values.reshape(1, *template.shape)[0]
    function = functions[0] if template.several else functions[0, 0]
    return b"".join((template.head, encode_value(value), template.middle, encode_value(function), template.tail))
