"""Request bodies out and answers in: JSON (orjson) or msgpack (msgspec) with binary arrays, NumPy on both sides.

A msgpack array is ``{"dtype": "<f8", "shape": [N, n], "data": <bin>}``: little-endian float64 in C order
(../README.md, "Python client and command line"). An answer's numeric lists become NumPy arrays (float64, null as
NaN; int64 when every entry is an integer), its objects read-only ``Answer`` mappings, other lists tuples.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import msgspec
import numpy as np
import orjson

JSON = "application/json"
MSGPACK = "application/msgpack"
ARRAY_KEYS = frozenset({"dtype", "shape", "data"})
FLOAT64 = np.dtype("<f8")


class Answer:
    """A server's answer: read-only, by attribute (``answer.values``) or key (``answer["values"]``), ``in``, ``len``
    and iteration over its field names; ``as_dict()`` copies it. Not a ``Mapping``: ``values`` and ``items`` are the
    answer's fields, not methods."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        object.__setattr__(self, "_fields", fields)

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, key: object) -> bool:
        return key in self._fields

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Answer) and self._fields == other._fields

    __hash__ = None  # type: ignore[assignment]

    def as_dict(self) -> dict[str, Any]:
        return dict(self._fields)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(f"the answer has no field {name!r}; it has {', '.join(self._fields)}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("an answer is read-only")

    def __repr__(self) -> str:
        return f"Answer({self._fields!r})"


def encode_json(body: Mapping[str, Any]) -> bytes:
    """``body`` as JSON; NumPy arrays and scalars become lists and numbers."""
    return orjson.dumps(body, default=_plain, option=orjson.OPT_SERIALIZE_NUMPY)


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot send a {type(value).__name__} in a request")


def encode_msgpack(body: Mapping[str, Any]) -> bytes:
    """``body`` as msgpack; every NumPy array (and the rows or columns of ``points``) as a binary float64 array."""
    fields = dict(body)
    if "points" in fields:
        fields["points"] = _batch(fields["points"])
    return msgspec.msgpack.encode(fields, enc_hook=_binary)


def _batch(points: Any) -> Any:
    if isinstance(points, Mapping):
        return {name: np.asarray(column, dtype=FLOAT64) for name, column in points.items()}
    return np.asarray(points, dtype=FLOAT64)


def _binary(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value, dtype=FLOAT64)
        return {"dtype": "<f8", "shape": list(array.shape), "data": array.tobytes()}
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot send a {type(value).__name__} in a request")


def decode_json(content: bytes) -> Any:
    return answer(orjson.loads(content))


def decode_msgpack(content: bytes) -> Any:
    return answer(msgspec.msgpack.decode(content))


def answer(value: Any) -> Any:
    """A decoded body with its arrays as NumPy arrays and its objects as ``Answer``."""
    if isinstance(value, dict):
        if value.keys() == ARRAY_KEYS and isinstance(value["data"], bytes | bytearray | memoryview):
            return array_of(value)
        return Answer({key: answer(item) for key, item in value.items()})
    if isinstance(value, list):
        return numeric(value)
    return value


def array_of(fields: Mapping[str, Any]) -> np.ndarray[Any, Any]:
    """A binary msgpack array: a writable NumPy array of its dtype and shape."""
    dtype = np.dtype(fields["dtype"])
    return np.frombuffer(fields["data"], dtype=dtype).reshape(fields["shape"]).astype(dtype.newbyteorder("="))


def numeric(items: list[Any]) -> Any:
    """A rectangular list of numbers (null as NaN) as an array; any other list as a tuple of its decoded items."""
    leaves = list(_leaves(items))
    if leaves and all(_is_number(leaf) for leaf in leaves):
        integers = all(isinstance(leaf, int) for leaf in leaves)
        try:
            return np.array(items, dtype=np.int64 if integers else np.float64)
        except (ValueError, TypeError):  # ragged
            pass
    return tuple(answer(item) for item in items)


def _leaves(items: list[Any]) -> Iterator[Any]:
    for item in items:
        if isinstance(item, list):
            yield from _leaves(item)
        else:
            yield item


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def plain(value: Any) -> Any:
    """An answer back as JSON-ready values (arrays as lists, NaN as null): what ``--json`` prints."""
    if isinstance(value, Answer):
        value = value.as_dict()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()  # orjson writes NaN and infinities as null
    return value
