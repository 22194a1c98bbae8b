"""RFC 9457 problem responses for every failure. The error tree itself, with every slug and title, lives in
``service.compute.errors``; this module only renders it.

``add_exception_handlers(app)`` renders: ``NablaError`` with its own status and type; request validation errors as
``InvalidRequest`` (``MalformedJSON`` for a body that is not JSON); 404 and 405 as problems that say what exists;
anything else as a logged, plain ``InternalError`` that reveals nothing of the internals. Every problem carries the
``request_id`` the response returns in its ``X-Request-ID`` header.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import compile_path

from service.compute.errors import (
    ERROR_CLASSES,
    ErrorItem,
    InternalError,
    InvalidRequest,
    MalformedJSON,
    MethodNotAllowed,
    NablaError,
    NotFound,
    count,
)
from service.observability.logs import request_id

PROBLEM = "application/problem+json"
log = logging.getLogger("nabla.errors")


def problem_type(slug: str) -> str:
    return f"/problems/{slug}"


def problem_body(error: NablaError, instance: str) -> bytes:
    """The problem document of ``error``; ``instance`` is the request's path."""
    body = {
        "type": problem_type(error.type),
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "instance": instance,
        "errors": [e.as_dict() for e in error.errors],
        "request_id": request_id(),
    }
    return orjson.dumps(body)


def problem(error: NablaError, instance: str) -> Response:
    """An RFC 9457 problem response for ``error``, with its headers (``Retry-After``, ``Allow``)."""
    return Response(problem_body(error, instance), error.status, error.headers or None, PROBLEM)


def internal_error() -> InternalError:
    return InternalError("an unexpected error occurred")


def _nabla_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, NablaError)
    return problem(error, request.url.path)


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    items = []
    for e in error.errors():
        loc = tuple(p for p in e.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-after")))
        message = str(e.get("msg", "")).removeprefix("Value error, ")
        items.append(ErrorItem(loc, message, str(e.get("type", ""))))
    if any(i.type == "json_invalid" for i in items):
        first = error.errors()[0]
        reason = (first.get("ctx") or {}).get("error", "invalid JSON")
        detail = f"the body is not valid JSON ({reason}); NaN and Infinity are not JSON numbers"
        return problem(MalformedJSON(detail, items), request.url.path)
    detail = f"{_location(items[0].loc)}: {items[0].msg}"
    if len(items) > 1:
        detail += f" (and {count(len(items) - 1, 'more problem')})"
    return problem(InvalidRequest(detail, items), request.url.path)


def _endpoints(request: Request) -> list[tuple[str, set[str]]]:
    """The documented paths of the app and their methods, as its OpenAPI document lists them."""
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    return [(path, {m.upper() for m in item}) for path, item in paths.items()]


def _methods_at(request: Request) -> set[str]:
    """Every documented method of the path the request names."""
    path = request.url.path
    return {m for template, methods in _endpoints(request) if compile_path(template)[0].match(path) for m in methods}


def _not_found(request: Request) -> NablaError:
    paths = ", ".join(f"{' '.join(sorted(methods))} {path}" for path, methods in _endpoints(request))
    detail = f"there is no endpoint at {request.url.path}; the endpoints are {paths} (see /docs)"
    return NotFound(detail, [ErrorItem(("path",), detail, NotFound.type)])


def _method_not_allowed(request: Request, headers: dict[str, str]) -> NablaError:
    allowed = ", ".join(sorted(_methods_at(request))) or headers.get("Allow", "")
    headers = {**headers, "Allow": allowed}
    body = " with a JSON body" if "POST" in allowed else ""
    detail = f"{request.url.path} does not take {request.method}; it takes {allowed}{body} (see /docs)"
    return MethodNotAllowed(detail, [ErrorItem(("method",), detail, MethodNotAllowed.type)], headers)


def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    headers = dict(error.headers or {})
    if error.status_code == 404:
        return problem(_not_found(request), request.url.path)
    if error.status_code == 405:
        return problem(_method_not_allowed(request, headers), request.url.path)
    kind = MalformedJSON if error.status_code == 400 else InvalidRequest
    return problem(kind(str(error.detail), headers=headers), request.url.path)


def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(internal_error(), request.url.path)


def add_exception_handlers(app: FastAPI) -> None:
    """Render every error as application/problem+json."""
    for cls in ERROR_CLASSES:
        app.add_exception_handler(cls, _nabla_error)
    app.add_exception_handler(NablaError, _nabla_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
