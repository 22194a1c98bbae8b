"""ASGI middleware of the service: the request-body limit, answered as problem+json.

Starlette's own body limit answers 413 in plain text before any exception handler can speak; this one counts the
declared Content-Length and the bytes actually received, and answers an RFC 9457 problem either way.
"""

from __future__ import annotations

import logging

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _TooLarge(Exception):
    pass


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


class Unhandled:
    """A bug becomes a logged, plain 500 problem here, inside Starlette's error middleware, which would re-raise it
    and drop the client's keep-alive connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started or scope["type"] != "http":
                raise
            body = orjson.dumps(
                {
                    "type": "/problems/internal_error",
                    "title": "Internal server error",
                    "status": 500,
                    "detail": "an unexpected error occurred",
                    "instance": scope.get("path", ""),
                    "errors": [],
                }
            )
            headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})


log = logging.getLogger("nabla.errors")


class BodyLimit:
    """Refuse request bodies larger than ``limit`` bytes with a 413 problem."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self.refuse(scope, send)
            return
        if declared is None:  # chunked: read it all first, so that an oversized body is a 413 before any handler
            messages = await self._read(receive)
            if messages is None:
                await self.refuse(scope, send)
                return
            receive = _replay(messages, receive)
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self.refuse(scope, send)

    async def _read(self, receive: Receive) -> list[Message] | None:
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.limit:
                return None
            if message["type"] != "http.request" or not message.get("more_body", False):
                return messages

    async def refuse(self, scope: Scope, send: Send) -> None:
        detail = f"the request body is larger than {self.limit} bytes (NABLA_MAX_BODY_BYTES)"
        body = orjson.dumps(
            {
                "type": "/problems/too_large",
                "title": "Request too large",
                "status": 413,
                "detail": detail,
                "instance": scope.get("path", ""),
                "errors": [{"loc": ["body"], "msg": detail, "type": "too_large"}],
            }
        )
        headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
