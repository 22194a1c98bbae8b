"""The lean path of a repeated calculus request: a pure-ASGI layer that answers a small JSON request for a function
whose compiled derivatives are already cached without FastAPI's routing, request object and dependency solving.

It validates the body with the same request model FastAPI would use (``model_validate`` of the ``orjson`` document,
as ``JSONRoute`` decodes it) and does what every calculus handler does with the same service and presenter, so the
answer is byte for byte the one the framework path gives. Anything else goes on to the framework, the body replayed:
a miss, a body that does not validate (its error answer is the framework's, unchanged), a large or chunked body, a
type other than JSON, a client that asks for another media type.

A single-point answer that is only values (status ok, no warnings, nothing exact) also leaves a point plan: the
answer's bytes around its numbers (``present.calculus.template``), kept by the exact JSON of every field but ``at``.
The next request that differs only in its point, given as plain numbers, is the compiled kernel at that point and
those bytes, with no validation to repeat: every other field is the very JSON that validated. A template is kept only
when it gives back the bytes it was made from; a point where a value is not finite goes the checked way, whose
statuses and warnings say why. Measured with wrk in ``tests/bench``: see its README.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.routing import reply
from service.compute.answer import CalculusAnswer
from service.compute.calculus import CalculusQuery
from service.compute.errors import NablaError
from service.compute.points import plain_point
from service.config import Settings
from service.middleware import read_messages, replay
from service.present.calculus import Template, render, template
from service.present.calculus import body as present
from service.present.encoding import JSON
from service.runtime.calculus import CalculusService, PointPlan

SMALL_BODY_BYTES = 16 * 1024  # a single point of a large function fits; batches take the framework's path
_JSON_TYPES = (b"application/json", b"application/x-www-form-urlencoded", b"text/plain")
_JSON_TYPE = JSON.encode()
log = logging.getLogger("nabla.errors")

PlanKey = tuple[str, bytes]


class CachedCalculus:
    """Answers cache hits of the calculus routes in ``routes`` (POST only); passes everything else to ``app``.

    It sits outside the gzip, body-limit and last-resort layers, so what they would do to a request it answers must
    not apply: it takes bodies within the body limit only, and answers smaller than gzip's threshold only (gzip
    would leave those alone, and add no ``Vary``); anything that goes wrong on the way is logged and the request is
    left to the framework's path, inside the last-resort layer, whose answer stands."""

    def __init__(self, app: ASGIApp, routes: list[APIRoute], settings: Settings) -> None:
        self.app = app
        self.enabled = settings.fast_path
        self.max_body = min(SMALL_BODY_BYTES, settings.max_body_bytes)
        self.max_answer = settings.gzip_min_bytes - 1
        self.routes: dict[str, tuple[APIRoute, type[BaseModel]]] = {}
        for route in routes:
            model = route.body_field.field_info.annotation if route.body_field is not None else None
            if isinstance(model, type) and issubclass(model, BaseModel) and "POST" in (route.methods or ()):
                self.routes[route.path] = (route, model)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        entry = self.routes.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if entry is None or not self.enabled or not _small_json(scope["headers"], self.max_body):
            await self.app(scope, receive, send)
            return
        messages, within = await read_messages(receive, self.max_body)
        again = replay(messages, receive)
        complete = within and messages[-1]["type"] == "http.request"
        body = b"".join(m.get("body", b"") for m in messages)
        answer = await self._answer(scope, entry, body) if complete else None
        if answer is None:
            await self.app(scope, again, send)
            return
        scope["route"] = entry[0]  # as the router would set it: metrics count the route template
        headers = [(b"content-length", str(len(answer)).encode()), (b"content-type", _JSON_TYPE)]  # as Starlette's
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    async def _answer(self, scope: Scope, entry: tuple[APIRoute, type[BaseModel]], body: bytes) -> bytes | None:
        """The answer's JSON bytes, or None for the framework's path to answer."""
        try:
            answer = await _answer(scope, entry[1], body)
        except Exception:
            log.exception("the lean path failed on %s; the framework's path answers", scope["path"])
            return None
        return answer if answer is None or len(answer) <= self.max_answer else None


async def _answer(scope: Scope, model: type[BaseModel], body: bytes) -> bytes | None:
    services = getattr(scope["app"].state, "services", None)
    calculus: CalculusService | None = getattr(services, "calculus", None)
    if calculus is None:
        return None
    try:
        document = orjson.loads(body)
        key = _plan_key(scope["path"], document)
        planned = None if key is None else _planned(calculus, key, document["at"])
        if planned is not None:
            return planned
        query: CalculusQuery = model.model_validate(document).to_query()  # type: ignore[attr-defined]
        if not calculus.cached(query):
            return None
        answered = await calculus.answer(query)
        response = await reply(calculus, present, answered)
    except (orjson.JSONDecodeError, ValidationError, NablaError):
        return None  # the framework's path says what is wrong, in its own words
    if response.status_code != 200 or response.media_type != JSON or not isinstance(response.body, bytes):
        return None
    if key is not None:
        _learn(calculus, key, query, answered, response.body)
    return response.body


def _plan_key(path: str, document: Any) -> PlanKey | None:
    """The key of a single-point request's plan: its path and the exact JSON of every field but the point."""
    if not isinstance(document, dict) or not isinstance(document.get("at"), list | dict):
        return None
    return path, orjson.dumps({k: v for k, v in document.items() if k != "at"})


def _planned(calculus: CalculusService, key: PlanKey, at: Any) -> bytes | None:
    entry: tuple[PointPlan, Template] | None = calculus.plans.get(key)
    if entry is None:
        return None
    plan, shape = entry
    point = plain_point(at, plan.variables)
    found = None if point is None else calculus.planned(plan, point)
    return None if found is None else render(shape, *found)


def _learn(
    calculus: CalculusService, key: PlanKey, query: CalculusQuery, answered: CalculusAnswer, sent: bytes
) -> None:
    """Keep the plan of ``answered`` when there is one and its template gives back the very bytes sent."""
    plan = calculus.plan(query, answered)
    made = None if plan is None else template(answered)
    if made is None or answered.functions is None or answered.values is None:
        return
    if render(made, answered.functions, answered.values.reshape(1, -1)) == sent:
        calculus.plans.put(key, (plan, made))


def _small_json(headers: list[tuple[bytes, bytes]], limit: int) -> bool:
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
    return length is not None and length.isdigit() and int(length) <= limit
