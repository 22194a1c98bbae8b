"""The OpenAPI document: problem responses on every operation, and the committed copy in openapi/openapi.json.

``python -m service.openapi`` (``__main__``, which nothing imports) prints the document the app serves; the README's
command writes it to the file, and a test fails when the two differ.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from service.schemas.common import Problem

_PROBLEMS = {
    "400": "The body is not valid JSON.",
    "413": "The body or the batch is larger than the configured limit.",
    "422": "The request is invalid: its fields, its expression, its points, or a limit. See `errors`.",
    "503": "The service is at capacity (workers busy, queue full) or a worker process stopped; retry after the "
    "`Retry-After` seconds.",
}


def customise_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` add the problem responses and the Problem schema to every operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in components["Problem"].pop("$defs", {}).items():
            components[name] = definition
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, methods in schema["paths"].items():
            for operation in methods.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                if path.startswith("/v1/"):
                    for status, text in _PROBLEMS.items():
                        responses[status] = {"description": text, "content": problem}
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
