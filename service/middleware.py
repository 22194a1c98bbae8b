"""ASGI middleware of the service: the request-body limit and the last-resort 500, answered as problem+json; request
ids, metrics and the access log in one pure-ASGI pass; CORS for the origins of NABLA_CORS_ORIGINS.

Starlette's own body limit answers 413 in plain text before any exception handler can speak; this one counts the
declared Content-Length and the bytes actually received, and answers an RFC 9457 problem either way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.compute.errors import ErrorItem, TooLarge
from service.errors import internal_error, problem
from service.observability.logs import ACCESS_LOGGER, access_handler, start_request
from service.observability.metrics import HttpMetrics

log = logging.getLogger("nabla.errors")
access_log = logging.getLogger(ACCESS_LOGGER)


class _TooLarge(Exception):
    pass


class _Tracked:
    """A ``send`` that remembers whether the response has started, and its status."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status: int | None = None

    @property
    def started(self) -> bool:
        return self.status is not None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self.send(message)


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` again, then goes on with ``receive``."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


async def read_messages(receive: Receive, limit: int) -> tuple[list[Message], bool]:
    """The messages of a request body up to its end, a disconnect, or more than ``limit`` bytes (then False)."""
    messages, size = [], 0
    while True:
        message = await receive()
        messages.append(message)
        size += len(message.get("body", b""))
        if size > limit:
            return messages, False
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages, True


class Unhandled:
    """A bug becomes a logged, plain 500 problem here, inside Starlette's error middleware, which would re-raise it
    and drop the client's keep-alive connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tracked = _Tracked(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if tracked.started or scope["type"] != "http":
                raise
            await problem(internal_error(), scope.get("path", ""))(scope, receive, send)


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
            await self.refuse(scope, receive, send)
            return
        if declared is None:  # chunked: read it all first, so that an oversized body is a 413 before any handler
            messages, within = await read_messages(receive, self.limit)
            if not within:
                await self.refuse(scope, receive, send)
                return
            receive = replay(messages, receive)
        received = 0
        tracked = _Tracked(send)

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, tracked)
        except _TooLarge:
            if not tracked.started:
                await self.refuse(scope, receive, send)

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is larger than {self.limit} bytes (NABLA_MAX_BODY_BYTES)"
        error = TooLarge(detail, [ErrorItem(("body",), detail, TooLarge.type)])
        await problem(error, scope.get("path", ""))(scope, receive, send)


class Observe:
    """The outermost middleware: in one pass per HTTP request, its id (``X-Request-ID`` kept when valid, else made,
    and sent back), the in-flight gauge, the request count and latency by route template, and one ``nabla.access``
    record once it is answered: method, path, status, duration in ms, client and request id (a warning for a 5xx
    other than the 503s of a busy or starting service). Nothing is done per request that can be done once."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                received = value
                break
        rid = start_request(received)
        header = (b"x-request-id", rid.encode())
        status = None

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        metrics = self.metrics
        metrics.in_progress += 1
        start = time.perf_counter()
        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - start
            metrics.in_progress -= 1
            route = scope.get("route")
            metrics.observe(getattr(route, "path", "none"), scope["method"], status or 500, seconds)
            _log_access(scope, status, seconds * 1000, rid)


def _log_access(scope: Scope, status: int | None, duration_ms: float, rid: str) -> None:
    level = logging.WARNING if status is None or (status >= 500 and status != 503) else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    client = scope.get("client")
    method, path = scope["method"], scope["path"]
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(duration_ms, 3),
        "client": f"{client[0]}:{client[1]}" if client else None,
        "request_id": rid,
    }
    args = (method, path, status, duration_ms)
    handler = access_handler()
    if handler is not None and handler.direct(level):
        handler.write(level, _ACCESS % args, fields)
        return
    # The record made and handled directly: Logger.log would also walk the stack for the caller's file and line,
    # which no access line shows.
    access_log.handle(access_log.makeRecord(access_log.name, level, "", 0, _ACCESS, args, None, extra=fields))


_ACCESS = "%s %s %s %.1f ms"


class CORS(CORSMiddleware):
    """Starlette's CORS middleware for the API's methods and request headers, exposing the response headers a client
    reads (request id, Retry-After, ETag). An origin it does not allow gets no ``access-control-*`` header at all:
    Starlette's own sends its methods, headers and max-age in a refused preflight, and its exposed headers to any
    origin."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=("GET", "HEAD", "POST"),
            allow_headers=("Content-Type", "If-None-Match", "X-Request-ID"),
            expose_headers=("ETag", "Retry-After", "X-Request-ID"),
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if not self.is_allowed_origin(request_headers["origin"]):
            for name in [name for name in response.headers if name.startswith("access-control-")]:
                del response.headers[name]
        return response

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("origin")
        if origin is None or self.is_allowed_origin(origin):
            await super().send(message, send, request_headers)
            return
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).add_vary_header("Origin")  # the answer differs by origin: caches must know
        await send(message)
