"""Request bodies, in one place: which types are read (JSON, msgpack), how, and which answer type is wanted.

JSON is decoded by orjson (strict JSON: NaN and Infinity are refused); a large JSON body is decoded in a thread with
its batch left as text. A body with no type, ``application/x-www-form-urlencoded`` (what ``curl -d`` sends) or
``text/plain`` is read as JSON too. ``application/msgpack`` is decoded by msgspec, with the same fields; a float
array on the wire (``{"dtype": "<f8", "shape": [...], "data": <bin>}``) becomes a NumPy array for ``points`` and
plain lists elsewhere. Any other type is a 415 problem. Errors are problem+json whatever the request's type.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import numpy as np
import orjson

from service.compute.errors import InvalidPoint, MalformedMsgpack, UnsupportedMediaType, located
from service.compute.points import RawJSON
from service.present.encoding import JSON, MSGPACK, WIRE_DTYPE, WIRE_KEYS

READ_AS_JSON = frozenset({"", JSON, "application/x-www-form-urlencoded", "text/plain"})
MSGPACK_TYPES = frozenset({MSGPACK, "application/x-msgpack", "application/vnd.msgpack"})


def body_type(content_type: str) -> str:
    """``JSON`` or ``MSGPACK``: how a body of ``content_type`` is read; ``UnsupportedMediaType`` for any other."""
    media = content_type.partition(";")[0].strip().lower()
    if media in READ_AS_JSON or (media.startswith("application/") and media.endswith("+json")):
        return JSON
    if media in MSGPACK_TYPES:
        return MSGPACK
    raise located(
        UnsupportedMediaType,
        f"a body of type {media} is not read here; send application/json or application/msgpack "
        "(a body with no type, form encoding or text/plain is read as JSON)",
        ("header", "content-type"),
    )


def answer_type(accept: str) -> str:
    """``MSGPACK`` when ``Accept`` prefers it to JSON (by quality, then the more specific range, then order), else
    ``JSON``: also when it names neither, so that an answer always comes (errors are always problem+json)."""
    best, best_rank = JSON, (0.0, 0, 0)
    for position, item in enumerate(accept.split(",")):
        media, *params = (p.strip().lower() for p in item.split(";"))
        quality = _quality(params)
        kind = MSGPACK if media in MSGPACK_TYPES else JSON if media in (JSON, "application/*", "*/*") else None
        rank = (quality, int(not media.endswith("*")), -position)
        if kind is not None and quality > 0 and rank > best_rank:
            best, best_rank = kind, rank
    return best


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                return 0.0
            return quality if math.isfinite(quality) else 0.0
    return 1.0


def decode_json(body: bytes) -> Any:
    return orjson.loads(body)


def decode_large_json(body: bytes) -> Any:
    """A large body decoded but for its ``points``, kept as JSON text (``RawJSON``): the batch is decoded later,
    in pieces, off the event loop. msgspec finds the end of each member without building it."""
    try:
        members = msgspec.json.decode(body, type=dict[str, msgspec.Raw])
    except (msgspec.DecodeError, msgspec.ValidationError):
        return orjson.loads(body)  # not an object, or not JSON: orjson's answer and error are the usual ones
    return {k: _member(k, bytes(v)) for k, v in members.items()}


def _member(key: str, text: bytes) -> Any:
    if key == "points" and text.lstrip()[:1] in (b"[", b"{"):
        return RawJSON(text)
    return orjson.loads(text)


def decode_msgpack(body: bytes) -> Any:
    """A msgpack body as the JSON fields it stands for; a wire array as a NumPy array (``points``) or lists."""
    try:
        members = msgspec.msgpack.decode(body)
    except msgspec.DecodeError as error:
        raise located(MalformedMsgpack, f"the body is not valid msgpack ({error})", ("body",)) from error
    if not isinstance(members, dict):
        raise located(MalformedMsgpack, "the body must be a msgpack map of the request's fields", ("body",))
    return {k: _from_wire(k, v) for k, v in members.items()}


def _from_wire(key: Any, value: Any) -> Any:
    if key == "points" and isinstance(value, dict) and value.keys() != WIRE_KEYS:  # columns by name
        return {name: _column(name, column) for name, column in value.items()}
    if not (isinstance(value, dict) and value.keys() == WIRE_KEYS):
        return value
    array = wire_to_array(value, ("body", str(key)))
    return array if key == "points" else array.tolist()


def _column(name: Any, value: Any) -> Any:
    """A column of ``points`` as a NumPy array when it came as a wire array, else as it came."""
    if isinstance(value, dict) and value.keys() == WIRE_KEYS:
        return wire_to_array(value, ("body", "points", str(name)))
    return value


def wire_to_array(value: dict[str, Any], loc: tuple[str, ...]) -> np.ndarray:
    """The NumPy array of a wire array: one copy of its bytes, writable (the compiled kernels need that)."""
    dtype, shape, data = value["dtype"], value["shape"], value["data"]
    if dtype != WIRE_DTYPE:
        detail = f"an array's dtype must be {WIRE_DTYPE!r} (little-endian float64), got {dtype!r}"
        raise located(InvalidPoint, detail, loc)
    if not (isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape)):
        raise located(InvalidPoint, f"an array's shape must be a list of sizes, got {shape!r}", loc)
    if not isinstance(data, bytes):
        raise located(InvalidPoint, f"an array's data must be msgpack bin, got {type(data).__name__}", loc)
    if len(data) != 8 * math.prod(shape):
        raise located(
            InvalidPoint, f"an array of shape {shape} needs {8 * math.prod(shape)} bytes of data, got {len(data)}", loc
        )
    return np.frombuffer(data, dtype=WIRE_DTYPE).reshape(shape).copy()
