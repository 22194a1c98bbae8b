"""The route class of the API: the body read as its ``Content-Type`` says (``service.api.bodies``), large bodies
decoded in a thread, and the answer encoded as ``Accept`` asks (JSON or msgpack), streamed when it is large."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from starlette.types import Scope

from service.api.bodies import answer_type, body_type, decode_json, decode_large_json, decode_msgpack
from service.present.encoding import JSON, MSGPACK, Body, encode, encode_msgpack, json_chunks, msgpack_parts
from service.runtime.base import Service

_THREAD_DECODE_BYTES = 256 * 1024
_ANSWER_TYPE: ContextVar[str] = ContextVar("answer_type", default=JSON)


class DecodedRequest(Request):
    """A request whose body, of type ``kind``, is decoded once (in a thread when large) and handed to FastAPI as
    the JSON value it stands for."""

    kind = JSON

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            msgpack = self.kind == MSGPACK
            if len(body) > _THREAD_DECODE_BYTES:
                self._json = await asyncio.to_thread(decode_msgpack if msgpack else decode_large_json, body)
            else:
                self._json = decode_msgpack(body) if msgpack else decode_json(body)
        return self._json


class JSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            decoded = DecodedRequest(_as_json(request.scope), request.receive)
            if request.method not in ("GET", "HEAD"):
                decoded.kind = body_type(request.headers.get("content-type", ""))
            _ANSWER_TYPE.set(answer_type(request.headers.get("accept", "")))
            return await handler(decoded)

        return route


def _as_json(scope: Scope) -> Scope:
    """FastAPI is told every body is JSON: ``DecodedRequest.json`` gives the value, whatever the body's type was.
    A body that does not decode still gets its 400 problem."""
    headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
    return {**scope, "headers": [*headers, (b"content-type", b"application/json")]}


class Answer(Protocol):
    @property
    def size(self) -> int: ...


A = TypeVar("A", bound=Answer)


async def reply(service: Service, present: Callable[[A], Body], answer: A) -> Response:
    """The response of ``answer`` in the type ``Accept`` asked for, presented off the event loop when it is large,
    and then streamed: the JSON a block of rows at a time, the msgpack with its arrays sent from their own memory,
    so that the web process never holds a second whole copy of a large answer."""
    media = _ANSWER_TYPE.get()
    if answer.size <= service.settings.inline_batch_values:
        body = present(answer)
        return Response(encode_msgpack(body) if media == MSGPACK else encode(body), media_type=media)
    body = await service.offload(answer.size, lambda: present(answer))
    if media == JSON:
        return StreamingResponse(json_chunks(body), media_type=media)
    parts = msgpack_parts(body)
    length = sum(len(p) for p in parts)
    return StreamingResponse(_sent(parts), media_type=media, headers={"Content-Length": str(length)})


def _sent(parts: list[bytes | memoryview]) -> Iterable[bytes | memoryview]:
    """The parts in order, each let go once sent."""
    while parts:
        yield parts.pop(0)


async def image_reply(present: Callable[[A], bytes], media_type: Callable[[A], str], answer: A) -> Response:
    """The response of an answer that is an image (its bytes are already made: no offloading)."""
    return Response(present(answer), media_type=media_type(answer))
