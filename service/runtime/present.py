"""Results to the JSON the contract describes: symbolic parts, values, statuses and warnings, exact values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson

from service.compute.calculus import CalculusResult
from service.compute.exact import DOMAIN_ERROR, NON_DIFFERENTIABLE, NON_FINITE, OK, ExactValues
from service.compute.geometry import classify_hessians, directional
from service.compute.numeric import Evaluation
from service.compute.points import Constants, read_vector


def matrix(items: list[Any], shape: tuple[int, ...]) -> Any:
    """A flat row-major list as nested lists of ``shape`` (at most two dimensions)."""
    if len(shape) < 2:
        return items
    rows, width = shape[0], shape[-1]
    return [items[i * width : (i + 1) * width] for i in range(rows)]


def symbolic(operation: str, result: CalculusResult) -> dict[str, Any]:
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


def merge_exact(evaluation: Evaluation, exact: ExactValues) -> Evaluation:
    """The evaluation of one exact point, corrected by its exact values: a pole or branch point hidden by float
    rounding (tan at the float nearest pi/2 is finite) makes the point not ok, whatever the floats said."""
    if exact.status == OK:
        return evaluation
    values = evaluation.values.copy()
    status = evaluation.status.copy()
    status[0] = exact.status
    if exact.status in (DOMAIN_ERROR, NON_FINITE):
        values[0, :] = np.nan
    else:
        values[0, np.array(exact.undefined, dtype=bool)] = np.nan
    return Evaluation(values, evaluation.functions, status)


def _exact_part(operation: str, result: CalculusResult, exact: ExactValues, evaluation: Evaluation) -> dict[str, Any]:
    status = int(evaluation.status[0])
    hidden = np.isnan(evaluation.values[0]) & (status in (DOMAIN_ERROR, NON_DIFFERENTIABLE))
    texts = [None if h else t for t, h in zip(exact.texts, hidden, strict=True)]
    latex = [None if h else t for t, h in zip(exact.latex, hidden, strict=True)]
    if operation == "derivative":
        return {"exact": {"expression": texts[0], "latex": latex[0]}}
    key = "exact_gradient" if operation == "directional" else "exact"
    return {key: {"expressions": matrix(texts, result.shape), "latex": matrix(latex, result.shape)}}


def _derived(
    operation: str, result: CalculusResult, query: Any, values: np.ndarray, single: bool, constants: Constants
) -> dict[str, Any]:
    if operation == "directional":
        direction = read_vector(query.direction, result.variables, ("direction",), constants)
        return directional(values, direction, query.normalize, result.variables, single)
    if operation == "hessian" and query.classify:
        return classify_hessians(values, single)
    return {}


def _overflowed(operation: str, part: dict[str, Any], single: bool, shape: tuple[int, ...]) -> np.ndarray | None:
    """Points where a quantity derived from finite derivatives (a directional value, a rate, an eigenvalue)
    overflowed float64."""
    if operation == "directional":
        ascent = part["steepest_ascent"]
        value = np.atleast_1d(part["value" if single else "values"])
        rate = np.atleast_1d(ascent["rate" if single else "rates"])
        overflowed: np.ndarray = ~np.isfinite(value) | ~np.isfinite(rate)
        return overflowed
    if "eigenvalues" in part and shape[0]:
        broken: np.ndarray = ~np.isfinite(np.atleast_2d(part["eigenvalues"])).all(axis=1)
        return broken
    return None


def numeric(
    query: Any,
    result: CalculusResult,
    evaluation: Evaluation,
    exact: ExactValues | None,
    max_warnings: int,
    constants: Constants,
) -> dict[str, Any]:
    """Values, derived quantities, statuses and warnings of an evaluated request."""
    single = query.at is not None
    operation = query.operation
    values = evaluation.values.reshape(len(evaluation.values), *result.shape)
    part: dict[str, Any] = {}
    if operation != "directional":
        part["value" if single else "values"] = values[0] if single else values
    part |= _derived(operation, result, query, values, single, constants)
    overflowed = _overflowed(operation, part, single, result.shape)
    if overflowed is not None:
        evaluation = evaluation.flag_non_finite(overflowed)
    warnings, counts = evaluation.problems(max_warnings)
    if operation == "directional" and single and part["steepest_ascent"]["rate"] == 0.0:
        warnings.append(
            {"point": 0, "status": "ok", "detail": "a critical point: the gradient is zero, so no direction ascends"}
        )
    if single:
        part["status"] = evaluation.status_of(0)
    else:
        part["status_counts"] = counts
    part["warnings"] = warnings
    omitted = sum(counts.get(s, 0) for s in counts if s != "ok") - len(warnings)
    if omitted > 0:
        part["warnings_omitted"] = omitted
    if exact is not None:
        part |= _exact_part(operation, result, exact, evaluation)
    return part


def present(
    query: Any,
    result: CalculusResult,
    evaluation: Evaluation | None,
    exact: ExactValues | None,
    max_warnings: int,
    exact_timeout: float | None = None,
    constants: Constants | None = None,
) -> dict[str, Any]:
    """The whole answer of a calculus request. ``exact_timeout``: exact values were asked for but ran out of it."""
    answer: dict[str, Any] = {"variables": list(result.variables)}
    if result.parameters:
        answer["parameters"] = list(result.parameters)
    answer |= symbolic(query.operation, result)
    if evaluation is not None:
        answer |= numeric(query, result, evaluation, exact, max_warnings, constants or {})
    if exact_timeout is not None:
        answer["warnings"].append(
            {
                "point": 0,
                "status": answer["status"],
                "detail": f"the exact value was not computed within {exact_timeout:g} s; the float values stand",
            }
        )
    return answer


def _contiguous(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__}")


_ENCODE_ROWS = 16_384
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def _set_aside(value: Any, large: dict[bytes, np.ndarray]) -> Any:
    """``value`` with every large array replaced by a placeholder string, remembered in ``large``."""
    if isinstance(value, np.ndarray) and value.ndim and len(value) > _ENCODE_ROWS:
        token = f"nabla-array-{len(large)}"
        large[orjson.dumps(token)] = value
        return token
    if isinstance(value, dict):
        return {k: _set_aside(v, large) for k, v in value.items()}
    return value


def _array(values: np.ndarray) -> list[bytes]:
    parts = [b"["]
    for i in range(0, len(values), _ENCODE_ROWS):
        if i:
            parts.append(b",")
        parts.append(orjson.dumps(np.ascontiguousarray(values[i : i + _ENCODE_ROWS]), option=_OPTIONS)[1:-1])
    parts.append(b"]")
    return parts


def encode(answer: Mapping[str, Any]) -> bytes:
    """JSON bytes of an answer; NumPy arrays are written directly, NaN as null. Large arrays are written a block of
    rows at a time, so that no single call holds the interpreter for long, and joined once."""
    large: dict[bytes, np.ndarray] = {}
    text = orjson.dumps(_set_aside(dict(answer), large), option=_OPTIONS, default=_contiguous)
    if not large:
        return text
    parts: list[bytes] = []
    for token, values in large.items():
        head, _, text = text.partition(token)
        parts.append(head)
        parts.extend(_array(values))
    parts.append(text)
    return b"".join(parts)
