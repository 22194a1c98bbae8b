"""The OpenAPI document is a committed artifact, complete enough to use, and its documentation pages work offline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.anyio

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
REGENERATE = "python -m service.openapi > openapi/openapi.json"
METHODS = {"get", "post", "put", "patch", "delete"}


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    target: dict[str, Any] = schema
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def described(schema: dict[str, Any], definition: dict[str, Any]) -> bool:
    """A property has a description: its own, its referenced schema's, or (optional fields) its non-null branch's."""
    branches = [definition, resolve(schema, definition)]
    branches += [resolve(schema, b) for b in definition.get("anyOf", []) if b != {"type": "null"}]
    return any(b.get("description") for b in branches)


def request_examples(schema: dict[str, Any], operation: dict[str, Any]) -> list[Any]:
    """Examples of an operation's JSON body: on the media type, or on the body's schema."""
    media = operation["requestBody"]["content"]["application/json"]
    examples = [e["value"] for e in media.get("examples", {}).values()]
    if "example" in media:
        examples.append(media["example"])
    examples += resolve(schema, media["schema"]).get("examples", [])
    return examples


def with_path_examples(path: str, operation: dict[str, Any]) -> str:
    """``path`` with each path parameter replaced by its first example (``/v1/distributions/gamma/fit``)."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            path = path.replace(f"{{{parameter['name']}}}", str(parameter["schema"]["examples"][0]))
    return path


class TestCommittedDocument:
    async def test_the_committed_file_is_what_the_app_builds(self, app: FastAPI) -> None:
        committed = json.loads(COMMITTED.read_text())
        assert committed == app.openapi(), f"openapi/openapi.json is stale; regenerate it: {REGENERATE}"

    def test_the_committed_file_is_byte_for_byte_what_the_generator_prints(self) -> None:
        printed = subprocess.run(
            [sys.executable, "-m", "service.openapi"], capture_output=True, text=True, check=True, timeout=120
        ).stdout
        assert COMMITTED.read_text() == printed, f"regenerate it: {REGENERATE}"

    async def test_the_served_document_is_the_committed_one(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/openapi.json")
        assert response.status_code == 200
        assert response.json() == json.loads(COMMITTED.read_text())


class TestOperations:
    async def test_every_operation_has_a_summary_and_an_id(self, app: FastAPI) -> None:
        for method, path, operation in operations(app.openapi()):
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            assert operation.get("operationId"), f"{method.upper()} {path} has no operationId"

    async def test_operation_ids_are_unique(self, app: FastAPI) -> None:
        ids = [operation["operationId"] for _, _, operation in operations(app.openapi())]
        assert len(ids) == len(set(ids))

    async def test_every_request_body_has_examples(self, app: FastAPI) -> None:
        schema = app.openapi()
        bodies = [(m, p, o) for m, p, o in operations(schema) if "requestBody" in o]
        assert {p for _, p, _ in bodies} >= {
            "/v1/derivative",
            "/v1/gradient",
            "/v1/directional-derivative",
            "/v1/jacobian",
            "/v1/hessian",
        }
        for method, path, operation in bodies:
            assert request_examples(schema, operation), f"{method.upper()} {path} has no request example"

    async def test_every_request_example_is_accepted(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        schema = app.openapi()
        for method, path, operation in operations(schema):
            if "requestBody" not in operation:
                continue
            for example in request_examples(schema, operation):
                response = await client.request(method, with_path_examples(path, operation), json=example)
                assert response.status_code == 200, f"{method.upper()} {path} example {example}: {response.text}"

    async def test_every_v1_operation_documents_its_problems(self, app: FastAPI) -> None:
        for method, path, operation in operations(app.openapi()):
            if not path.startswith("/v1/"):
                continue
            for status in ("400", "413", "422"):
                content = operation["responses"][status]["content"]
                ref = content["application/problem+json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Problem", f"{method.upper()} {path} {status}"

    async def test_every_request_field_is_described(self, app: FastAPI) -> None:
        components = app.openapi()["components"]["schemas"]
        for name in ("DerivativeRequest", "GradientRequest", "DirectionalRequest", "JacobianRequest", "HessianRequest"):
            model = components[name]
            assert model.get("description"), f"{name} has no description"
            for field, definition in model["properties"].items():
                assert described(app.openapi(), definition), f"{name}.{field} has no description"


class TestDocumentationPages:
    @pytest.mark.parametrize(("path", "title"), [("/docs", "Swagger UI"), ("/redoc", "ReDoc")])
    async def test_pages_and_their_assets_are_served_locally(
        self, client: httpx.AsyncClient, path: str, title: str
    ) -> None:
        page = await client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert f"<title>Nabla - {title}</title>" in page.text
        assert not re.search(r"(https?:)?//[\w.-]+\.\w+/", page.text), "the page refers to another host"
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert any(a.endswith(".js") for a in assets)
        for asset in assets:
            assert asset.startswith("/"), asset
            response = await client.get(asset)
            assert response.status_code == 200, asset
            assert len(response.content) > 100, asset

    @pytest.mark.parametrize("path", ["/docs", "/redoc"])
    async def test_pages_load_the_served_schema(self, client: httpx.AsyncClient, path: str) -> None:
        page = await client.get(path)
        assert "/openapi.json" in page.text
