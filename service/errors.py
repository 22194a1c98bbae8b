"""RFC 9457 problem responses for every failure. The error tree itself lives in ``service.compute.errors``.

``add_exception_handlers(app)`` renders: ``NablaError`` with its own status and type; request validation errors as
422 (400 for a body that is not JSON); HTTP errors (404, 405, 413 body too large) with their status; anything else
as a logged, plain 500 that reveals nothing of the internals. Every problem carries the ``request_id`` the response
returns in its ``X-Request-ID`` header.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from service.compute.errors import ERROR_CLASSES, NablaError, count
from service.observability.logs import request_id

PROBLEM = "application/problem+json"
log = logging.getLogger("nabla.errors")

_HTTP_TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Request too large"}


def problem_type(slug: str) -> str:
    return f"/problems/{slug}"


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An RFC 9457 problem response; ``instance`` is the request's path; ``request_id`` names the request (in the
    logs too)."""
    body = {
        "type": problem_type(slug),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "errors": errors or [],
        "request_id": request_id(),
    }
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM, headers=headers)


def _nabla_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, NablaError)
    errors = [e.as_dict() for e in error.errors]
    return problem(error.status, error.type, error.title, error.detail, request.url.path, errors, error.headers)


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    items = []
    for e in error.errors():
        loc = [p for p in e.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-after"))]
        message = str(e.get("msg", "")).removeprefix("Value error, ")
        items.append({"loc": loc, "msg": message, "type": e.get("type", "")})
    if any(i["type"] == "json_invalid" for i in items):
        first = error.errors()[0]
        reason = (first.get("ctx") or {}).get("error", "invalid JSON")
        return problem(
            400,
            "malformed_json",
            "Malformed JSON",
            f"the body is not valid JSON ({reason}); NaN and Infinity are not JSON numbers",
            request.url.path,
            items,
        )
    first = items[0]
    detail = f"{_location(tuple(first['loc']))}: {first['msg']}"
    if len(items) > 1:
        detail += f" (and {count(len(items) - 1, 'more problem')})"
    return problem(422, "validation_error", "Invalid request", detail, request.url.path, items)


def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    title = _HTTP_TITLES.get(error.status_code, "HTTP error")
    detail = str(error.detail)
    slug = title.lower().replace(" ", "_")
    return problem(error.status_code, slug, title, detail, request.url.path, headers=dict(error.headers or {}))


def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(500, "internal_error", "Internal server error", "an unexpected error occurred", request.url.path)


def add_exception_handlers(app: FastAPI) -> None:
    """Render every error as application/problem+json."""
    for cls in ERROR_CLASSES:
        app.add_exception_handler(cls, _nabla_error)
    app.add_exception_handler(NablaError, _nabla_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
