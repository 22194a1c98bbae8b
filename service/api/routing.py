"""The route class of the JSON API: bodies decoded by orjson (strict JSON: NaN and Infinity are refused); large
bodies decoded in a thread with their batch left as text; any declared content type read as JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

import msgspec
import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import Scope

from service.compute.points import RawJSON
from service.runtime.base import Service

_THREAD_DECODE_BYTES = 256 * 1024


def decode_large(body: bytes) -> Any:
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


class JSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            if len(body) > _THREAD_DECODE_BYTES:
                self._json = await asyncio.to_thread(decode_large, body)
            else:
                self._json = orjson.loads(body)
        return self._json


class JSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(JSONRequest(_as_json(request.scope), request.receive))

        return route


def _as_json(scope: Scope) -> Scope:
    """Every body is read as JSON, whatever its declared type: ``curl -d '{...}'`` without a content-type header
    sends form encoding. A body that is not JSON still gets its 400 problem."""
    headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
    return {**scope, "headers": [*headers, (b"content-type", b"application/json")]}


def json_response(body: bytes, status_code: int = 200) -> Response:
    """A response whose body is already JSON bytes."""
    return Response(body, status_code=status_code, media_type="application/json")


class Answer(Protocol):
    @property
    def size(self) -> int: ...


A = TypeVar("A", bound=Answer)


async def reply(service: Service, present: Callable[[A], bytes], answer: A) -> Response:
    """The JSON response of ``answer``, presented off the event loop when it is large."""
    return json_response(await service.offload(answer.size, lambda: present(answer)))


async def image_reply(present: Callable[[A], bytes], media_type: Callable[[A], str], answer: A) -> Response:
    """The response of an answer that is an image (its bytes are already made: no offloading)."""
    return Response(present(answer), media_type=media_type(answer))
