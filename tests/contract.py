"""Every 200 answer an in-process test receives is checked against the response schema the OpenAPI document
promises for its operation (the transport of the test clients of tests/conftest.py)."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
from fastapi import FastAPI
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from starlette.routing import compile_path

_LARGEST_CHECKED = 2_000_000  # bytes: a larger batch answer is checked by its first bytes' tests, not by the schema


class ResponseContract:
    """Validators of the 200 JSON answer of each operation of ``app``."""

    def __init__(self, app: FastAPI) -> None:
        document = app.openapi()
        registry = Registry().with_resource("urn:nabla", DRAFT202012.create_resource(document))
        self.operations: list[tuple[re.Pattern[str], str, Draft202012Validator]] = []
        for path, item in document["paths"].items():
            for method, operation in item.items():
                content = operation.get("responses", {}).get("200", {}).get("content", {})
                schema = content.get("application/json", {}).get("schema")
                if schema is None:
                    continue
                resolved = _anchored(schema)
                self.operations.append((compile_path(path)[0], method.upper(), _validator(resolved, registry)))

    def check(self, method: str, path: str, body: bytes) -> None:
        for pattern, expected, validator in self.operations:
            if expected == method and pattern.match(path):
                errors = sorted(validator.iter_errors(orjson.loads(body)), key=lambda e: list(e.path))
                assert not errors, (
                    f"{method} {path}: the answer breaks its schema: {errors[0].message} at {list(errors[0].path)}"
                )
                return


class _Replay(httpx.AsyncByteStream):
    """The raw bytes of an answer already received, streamed again to the test."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.raw


class CheckedTransport(httpx.AsyncBaseTransport):
    """An in-process transport that checks every 200 JSON answer against its schema before the test sees it."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.contract = ResponseContract(app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        if response.status_code == 200 and response.headers.get("content-type", "").startswith("application/json"):
            body = gzip.decompress(raw) if response.headers.get("content-encoding") == "gzip" else raw
            if len(body) <= _LARGEST_CHECKED:
                self.contract.check(request.method, request.url.path, body)
        return httpx.Response(response.status_code, headers=response.headers, stream=_Replay(raw), request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _anchored(node: Any) -> Any:
    """``node`` with its local references made absolute in the document's registry."""
    if isinstance(node, dict):
        return {k: (f"urn:nabla{v}" if k == "$ref" and v.startswith("#") else _anchored(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_anchored(v) for v in node]
    return node


def _validator(schema: Any, registry: Registry) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=registry)
