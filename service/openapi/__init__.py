"""The OpenAPI document: problem responses and headers on every operation, tags, and the committed copy in
openapi/openapi.json.

``python -m service.openapi`` (``__main__``, which nothing imports) prints the document the app serves; the README's
command writes it to the file, and a test fails when the two differ.

Request examples are whole requests, on the request models: a property of a request model carries no example of its
own, because a generator that combines property examples (schemathesis, Swagger's "try it out") would build a request
the server must refuse (`at` and `points` together). Every request example is a test that the server answers 200.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from service.schemas import examples
from service.schemas.common import Problem

_PROBLEMS = {
    "400": "The body is not valid JSON (or, sent as `application/msgpack`, not valid msgpack).",
    "413": "The body or the batch is larger than the configured limit.",
    "415": "The body's `Content-Type` is one the service does not read (it reads JSON and msgpack).",
    "422": "The request is invalid: its fields, its expression, its points, or a limit. See `errors`.",
    "503": "The service is at capacity (workers busy, queue full) or a worker process stopped; retry after the "
    "`Retry-After` seconds.",
}

TAGS = [
    {"name": "calculus", "description": "Symbolic derivatives and their values: any order, gradients, directional "
     "derivatives, Jacobians, Hessians."},
    {"name": "distributions", "description": "The twelve distribution families: statistics, densities, quantiles, "
     "closed forms, likelihood and maximum-likelihood fits."},
    {"name": "stochastic", "description": "Derivatives of expectations of random functions, with standard errors."},
    {
        "name": "optimize",
        "description": "Trajectories of optimisers (gradient descent to SGD), with stopping reasons and divergence.",
    },
    {"name": "plots", "description": "Pictures of functions and distributions, as SVG or PNG."},
    {"name": "geometry", "description": "What the gradient is for: Taylor polynomials and tangent planes, level sets "
     "and their normals, critical points and the second derivative test."},
    {"name": "matrix", "description": "Matrix calculus: gradients, Jacobians and Hessians of expressions over vectors "
     "and matrices, in matrix notation, checked entry by entry."},
    {"name": "operations", "description": "Liveness, readiness and Prometheus metrics, for orchestrators."},
]  # fmt: skip
LICENSE = {"name": "Proprietary: the Nabla team's; no licence to redistribute is granted"}

HEADERS = {
    "X-Request-ID": {
        "description": "The request's id: the client's X-Request-ID when it is 1 to 128 letters, digits, . _ : or - "
        "(starting with a letter or digit), else a new one. Problems carry it as `request_id`; logs too.",
        "schema": {"type": "string", "maxLength": 128},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying (NABLA_RETRY_AFTER).",
        "schema": {"type": "integer", "minimum": 1},
    },
}


def _header(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            yield ref.rsplit("/", 1)[1]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _request_models(schema: dict[str, Any]) -> set[str]:
    """The components a request body uses, directly or through others."""
    components = schema["components"]["schemas"]
    pending = [
        name
        for item in schema["paths"].values()
        for operation in item.values()
        for name in _references(operation.get("requestBody", {}))
    ]
    found: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(_references(components[name]))
    return found


def _drop_property_examples(node: Any) -> None:
    if isinstance(node, dict):
        for definition in node.get("properties", {}).values():
            _drop_examples(definition)
        for value in node.values():
            if isinstance(value, dict | list):
                _drop_property_examples(value)
    elif isinstance(node, list):
        for value in node:
            _drop_property_examples(value)


def _drop_examples(node: Any) -> None:
    if isinstance(node, dict):
        node.pop("examples", None)
        node.pop("example", None)
        for value in node.values():
            _drop_examples(value)
    elif isinstance(node, list):
        for value in node:
            _drop_examples(value)


MSGPACK = "application/msgpack"
MSGPACK_NOTE = (
    "The same fields may be sent and asked for as `application/msgpack` (by `Content-Type` and `Accept`). There, a "
    "numeric array may be a wire array (`WireArray`: little-endian float64 bytes with their shape); `points` is "
    "then read without a copy per number, and the answer's arrays come back as wire arrays."
)
WIRE_ARRAY = {
    "title": "WireArray",
    "type": "object",
    "description": "A numeric array on the msgpack wire: its bytes are the float64 values, little-endian, C order.",
    "properties": {
        "dtype": {"const": "<f8", "description": "Always `<f8` (little-endian float64)."},
        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}, "description": "The array's sizes."},
        "data": {"type": "string", "format": "binary", "description": "msgpack bin: 8 bytes a value."},
    },
    "required": ["dtype", "shape", "data"],
    "additionalProperties": False,
}


def _msgpack(operation: dict[str, Any]) -> None:
    """The msgpack twin of a JSON request body and of a JSON answer: the same schema, read and written as msgpack."""
    body = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in body:
        return
    body[MSGPACK] = body["application/json"]
    description = operation["requestBody"].get("description")
    operation["requestBody"]["description"] = f"{description} {MSGPACK_NOTE}" if description else MSGPACK_NOTE
    answer = operation.get("responses", {}).get("200", {}).get("content", {})
    if "application/json" in answer:
        answer[MSGPACK] = answer["application/json"]


def _responses(path: str, operation: dict[str, Any]) -> None:
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    if path.startswith("/v1/"):
        for status, text in _PROBLEMS.items():
            if status != "415" or "requestBody" in operation:
                responses[status] = {"description": text, "content": problem}
        _msgpack(operation)
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = _header("X-Request-ID")
        if status == "503":
            headers["Retry-After"] = _header("Retry-After")


def customise_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` add the problem responses, the headers, the tags and the Problem schema."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=TAGS,
            license_info=LICENSE,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in components["Problem"].pop("$defs", {}).items():
            components[name] = definition
        components["WireArray"] = WIRE_ARRAY
        schema["components"]["headers"] = HEADERS
        for path, methods in schema["paths"].items():
            for operation in methods.values():
                _responses(path, operation)
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        for name in _request_models(schema):
            _drop_property_examples(components[name])
        for name, example in examples.RESPONSES.items():
            components[name]["examples"] = [example]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
