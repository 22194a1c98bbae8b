"""The lean path of a repeated calculus request: a pure-ASGI layer that answers a small JSON request for a function
whose compiled derivatives are already cached without FastAPI's routing, request object and dependency solving.

It validates the body with the same request model FastAPI would use (``model_validate`` of the ``orjson`` document,
as ``JSONRoute`` decodes it) and calls the same handler with the same service, so the answer is byte for byte the
one the framework path gives. Anything else goes on to the framework, the body replayed: a miss, a body that does not
validate (its error answer is the framework's, unchanged), a large or chunked body, a type other than JSON, a client
that asks for another media type. Measured with wrk in ``tests/bench``: see its README.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from service.compute.errors import NablaError
from service.middleware import read_messages, replay
from service.runtime.calculus import CalculusService

SMALL_BODY_BYTES = 16 * 1024  # a single point of a large function fits; batches take the framework's path
_JSON_TYPES = (b"application/json", b"application/x-www-form-urlencoded", b"text/plain")

Handler = Callable[[Any, CalculusService], Awaitable[Response]]


class CachedCalculus:
    """Answers cache hits of the calculus routes in ``routes`` (POST only); passes everything else to ``app``."""

    def __init__(self, app: ASGIApp, routes: list[APIRoute]) -> None:
        self.app = app
        self.routes: dict[str, tuple[APIRoute, type[BaseModel]]] = {}
        for route in routes:
            model = route.body_field.field_info.annotation if route.body_field is not None else None
            if isinstance(model, type) and issubclass(model, BaseModel) and "POST" in (route.methods or ()):
                self.routes[route.path] = (route, model)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        entry = self.routes.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if entry is None or not _small_json(scope["headers"]):
            await self.app(scope, receive, send)
            return
        messages, within = await read_messages(receive, SMALL_BODY_BYTES)
        again = replay(messages, receive)
        complete = within and messages[-1]["type"] == "http.request"
        body = b"".join(m.get("body", b"") for m in messages)
        response = await self._answer(scope, entry, body) if complete else None
        if response is None:
            await self.app(scope, again, send)
            return
        scope["route"] = entry[0]  # as the router would set it: metrics count the route template
        await response(scope, again, send)

    async def _answer(self, scope: Scope, entry: tuple[APIRoute, type[BaseModel]], body: bytes) -> Response | None:
        services = getattr(scope["app"].state, "services", None)
        calculus: CalculusService | None = getattr(services, "calculus", None)
        if calculus is None or not calculus.settings.fast_path:
            return None
        route, model = entry
        try:
            request = model.model_validate(orjson.loads(body))
            if not calculus.cached(request.to_query()):  # type: ignore[attr-defined]
                return None
            handler: Handler = route.endpoint
            return await handler(request, calculus)
        except (orjson.JSONDecodeError, ValidationError, NablaError):
            return None  # the framework's path says what is wrong, in its own words


def _small_json(headers: list[tuple[bytes, bytes]]) -> bool:
    """A request with a declared small length, of a JSON-read type, for a client that takes JSON."""
    length = None
    for name, value in headers:
        if name == b"content-length":
            length = value
        elif name == b"content-type":
            if value.split(b";", 1)[0].strip().lower() not in _JSON_TYPES:
                return False
        elif name == b"accept":
            if b"msgpack" in value:
                return False
    return length is not None and length.isdigit() and int(length) <= SMALL_BODY_BYTES
