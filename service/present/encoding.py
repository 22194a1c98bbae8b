"""JSON bytes of an answer, and the pieces every presenter shares: warnings, and flat lists as matrices.

NumPy arrays are written directly by orjson, NaN as null. Large arrays are written a block of rows at a time, so that
no single call holds the interpreter for long, and joined once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import numpy as np
import orjson

from service.compute.notes import Notes

Body = dict[str, Any]


def matrix(items: list[Any], shape: tuple[int, ...]) -> Any:
    """A flat row-major list as nested lists of ``shape`` (at most two dimensions)."""
    if len(shape) < 2:
        return items
    rows, width = shape[0], shape[-1]
    return [items[i * width : (i + 1) * width] for i in range(rows)]


def warnings(notes: Notes) -> Body:
    """``warnings`` (every field of every warning, null where it does not apply) and ``warnings_omitted``."""
    return {"warnings": [asdict(note) for note in notes.listed], "warnings_omitted": notes.omitted}


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
    """JSON bytes of an answer."""
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
