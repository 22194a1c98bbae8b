"""JSON and msgpack bytes of an answer, and the pieces every presenter shares: warnings, and flat lists as matrices.

JSON: NumPy arrays are written directly by orjson, NaN as null. Large arrays are written a block of rows at a time
(``json_chunks``), so that no single call holds the interpreter for long and a streamed answer is never whole in
memory.

msgpack (``application/msgpack``): the same fields; every float array is ``{"dtype": "<f8", "shape": [...], "data":
<bin>}`` (little-endian float64, C order; NaN and infinities stay as they are, the warnings say why). A large array is
not copied into the body: ``msgpack_parts`` returns the body around it and the array's own memory, to be sent as they
are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from typing import Any

import msgspec
import numpy as np
import orjson

from service.compute.notes import Notes
from service.compute.trust import Provenance

Body = dict[str, Any]
JSON = "application/json"
MSGPACK = "application/msgpack"
WIRE_DTYPE = "<f8"  # the one dtype of an array on the msgpack wire
WIRE_KEYS = frozenset({"dtype", "shape", "data"})


def matrix(items: list[Any], shape: tuple[int, ...]) -> Any:
    """A flat row-major list as nested lists of ``shape`` (at most two dimensions)."""
    if len(shape) < 2:
        return items
    rows, width = shape[0], shape[-1]
    return [items[i * width : (i + 1) * width] for i in range(rows)]


def warnings(notes: Notes) -> Body:
    """``warnings`` (every field of every warning, null where it does not apply) and ``warnings_omitted``."""
    return {"warnings": [asdict(note) for note in notes.listed], "warnings_omitted": notes.omitted}


def provenance(made: Provenance | None) -> Body:
    """``provenance {method, engine, cached}``: how the answer was computed (nothing when it is not known)."""
    if made is None:
        return {}
    return {"provenance": {"method": made.method, "engine": made.engine, "cached": made.cached}}


def _contiguous(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__}")


_CHUNK_VALUES = 65_536  # numbers written per orjson call, and the least size of an array set aside
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def _set_aside(value: Any, large: dict[bytes, np.ndarray]) -> Any:
    """``value`` with every large array replaced by a placeholder string, remembered in ``large``."""
    if isinstance(value, np.ndarray) and value.ndim and value.size > _CHUNK_VALUES:
        token = f"nabla-array-{len(large)}"
        large[orjson.dumps(token)] = value
        return token
    if isinstance(value, dict):
        return {k: _set_aside(v, large) for k, v in value.items()}
    return value


def _array(values: np.ndarray) -> Iterator[bytes]:
    rows = max(1, _CHUNK_VALUES // max(1, values[0].size if len(values) else 1))
    yield b"["
    for i in range(0, len(values), rows):
        if i:
            yield b","
        yield orjson.dumps(np.ascontiguousarray(values[i : i + rows]), option=_OPTIONS)[1:-1]
    yield b"]"


def json_chunks(answer: Mapping[str, Any]) -> Iterator[bytes]:
    """JSON bytes of an answer, in pieces of at most about ``_CHUNK_VALUES`` numbers each beyond the first."""
    large: dict[bytes, np.ndarray] = {}
    text = orjson.dumps(_set_aside(dict(answer), large), option=_OPTIONS, default=_contiguous)
    for token, values in large.items():
        head, _, text = text.partition(token)
        yield head
        yield from _array(values)
    yield text


def encode_value(value: Any) -> bytes:
    """JSON bytes of one small value (a number, or an array), exactly as ``encode`` writes it inside an answer."""
    return orjson.dumps(value, option=_OPTIONS, default=_contiguous)


def encode(answer: Mapping[str, Any]) -> bytes:
    """JSON bytes of an answer."""
    parts = list(json_chunks(answer))
    return parts[0] if len(parts) == 1 else b"".join(parts)


def wire_array(values: np.ndarray, data: Any) -> Body:
    """A float array as the msgpack wire gives it, with ``data`` (its bytes, or a placeholder for them)."""
    return {"dtype": WIRE_DTYPE, "shape": list(values.shape), "data": data}


def _little_endian(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=WIRE_DTYPE)


def _wire(value: Any, large: dict[bytes, np.ndarray], marker: bytes) -> Any:
    """``value`` with every float array in wire form: small ones with their bytes, large ones with a placeholder
    (``marker`` and a number), remembered in ``large`` by the msgpack bytes of that placeholder."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        values = _little_endian(value)
        if values.size <= _CHUNK_VALUES:
            return wire_array(values, values.tobytes())
        token = marker + len(large).to_bytes(4, "big")
        large[_bin_header(len(token)) + token] = values
        return wire_array(values, token)
    if isinstance(value, dict):
        return {k: _wire(v, large, marker) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v, large, marker) for v in value]
    return value


def _bin_header(size: int) -> bytes:
    if size < 1 << 8:
        return b"\xc4" + size.to_bytes(1, "big")
    if size < 1 << 16:
        return b"\xc5" + size.to_bytes(2, "big")
    return b"\xc6" + size.to_bytes(4, "big")


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__}")


_MSGPACK = msgspec.msgpack.Encoder(enc_hook=_plain)
_PIECE_BYTES = 4 << 20  # a large array is sent in views of this size: nothing below copies more at once


def msgpack_parts(answer: Mapping[str, Any]) -> list[bytes | memoryview]:
    """msgpack bytes of an answer, as pieces to send in order: the encoded body around each large array, and views
    of the array's own memory (written once, when the array was computed)."""
    large: dict[bytes, np.ndarray] = {}
    text = _MSGPACK.encode(_wire(dict(answer), large, os.urandom(16)))
    parts: list[bytes | memoryview] = []
    for token, values in large.items():
        head, _, text = text.partition(token)
        view = values.data.cast("B")
        parts += [head, _bin_header(len(view))]
        parts += [view[i : i + _PIECE_BYTES] for i in range(0, len(view), _PIECE_BYTES)]
    parts.append(text)
    return parts


def encode_msgpack(answer: Mapping[str, Any]) -> bytes:
    """msgpack bytes of an answer, whole."""
    return b"".join(msgpack_parts(answer))
