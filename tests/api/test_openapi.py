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
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

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


class TestGeneratedClients:
    """What a client generated from the document needs: named enums, examples, headers, tags, a licence, and a
    schema that accepts nothing the server refuses."""

    async def test_every_response_model_has_an_example_that_fits_it(self, app: FastAPI) -> None:
        schema = app.openapi()
        for method, path, operation in operations(schema):
            content = operation["responses"]["200"].get("content", {}).get("application/json")
            if content is None:
                continue
            ref = content["schema"]["$ref"]
            model = resolve(schema, content["schema"])
            assert model.get("examples"), f"{method.upper()} {path}: {ref} has no example"
            validator = Draft202012Validator(
                {"$ref": f"urn:nabla{ref}"},
                registry=Registry().with_resource("urn:nabla", DRAFT202012.create_resource(schema)),
            )
            for example in model["examples"]:
                errors = list(validator.iter_errors(example))
                assert not errors, f"{ref} example: {errors[0].message}"

    async def test_request_models_carry_whole_examples_only(self, app: FastAPI) -> None:
        # A generator that combines property examples would build requests the server must refuse.
        schema = app.openapi()
        for name, model in schema["components"]["schemas"].items():
            if name.endswith("Request") or name.endswith("Law") or name.endswith("LawParameters"):
                for field, definition in model.get("properties", {}).items():
                    assert "examples" not in json.dumps(definition), f"{name}.{field} has a property example"

    async def test_enums_are_named_components_used_once_each(self, app: FastAPI) -> None:
        text = json.dumps(app.openapi()["paths"]) + json.dumps(app.openapi()["components"]["schemas"])
        schemas = app.openapi()["components"]["schemas"]
        for name in ("PointStatus", "Classification", "FamilyName"):
            assert "enum" in schemas[name], name
            assert text.count(json.dumps(schemas[name]["enum"])) == 1, f"{name} is copied inline"

    async def test_request_id_and_retry_after_are_documented_headers(self, app: FastAPI) -> None:
        schema = app.openapi()
        assert set(schema["components"]["headers"]) == {"X-Request-ID", "Retry-After"}
        for method, path, operation in operations(schema):
            for status, response in operation["responses"].items():
                assert "X-Request-ID" in response["headers"], f"{method.upper()} {path} {status}"
            if path.startswith("/v1/"):
                assert "Retry-After" in operation["responses"]["503"]["headers"], f"{method.upper()} {path}"

    async def test_tags_license_and_descriptions(self, app: FastAPI) -> None:
        schema = app.openapi()
        assert schema["info"]["license"]["name"]
        described = {tag["name"] for tag in schema["tags"] if tag["description"]}
        for method, path, operation in operations(schema):
            assert operation.get("description"), f"{method.upper()} {path} has no description"
            assert set(operation["tags"]) <= described, f"{method.upper()} {path}"

    @pytest.mark.parametrize(
        ("model", "request_body", "valid"),
        [
            ("GradientRequest", {"function": "x", "at": [1], "points": [[1]]}, False),
            ("GradientRequest", {"function": "x", "at": None, "points": [[1]]}, True),
            ("DerivativeRequest", {"function": "x", "wrt": ["x"], "order": 2}, False),
            ("DirectionalRequest", {"function": "x", "direction": [1]}, False),
            ("DirectionalRequest", {"function": "x", "direction": [1], "points": [[1]]}, True),
            ("StochasticRequest", {"function": "X", "random": {"X": {"family": "gamma", "parameters": {}}}}, False),
            (
                "StochasticRequest",
                {"function": "X", "random": {"X": {"family": "gamma", "parameters": {"shape": 2, "rate": 1}}}},
                True,
            ),
            (
                "StochasticRequest",
                {
                    "function": "X",
                    "random": {"X": {"family": "gamma", "parameters": {"shape": 2, "rate": 1, "scale": 1}}},
                },
                False,
            ),
            (
                "StochasticRequest",
                {"function": "X", "random": {"1X": {"family": "poisson", "parameters": {"lam": 1}}}},
                False,
            ),
        ],
    )
    async def test_the_schema_refuses_what_the_server_refuses(
        self, app: FastAPI, client: httpx.AsyncClient, model: str, request_body: dict[str, Any], valid: bool
    ) -> None:
        if model == "StochasticRequest":
            request_body = request_body | {"at": {"t": 1}}
        schema = app.openapi()
        registry = Registry().with_resource("urn:nabla", DRAFT202012.create_resource(schema))
        validator = Draft202012Validator({"$ref": f"urn:nabla#/components/schemas/{model}"}, registry=registry)
        assert validator.is_valid(request_body) == valid
        path = {
            "GradientRequest": "/v1/gradient",
            "DerivativeRequest": "/v1/derivative",
            "DirectionalRequest": "/v1/directional-derivative",
            "StochasticRequest": "/v1/stochastic-derivative",
        }[model]
        response = await client.post(path, json=request_body)
        # The schema's verdict is the server's: a schema-valid body is not refused for its shape.
        assert (response.status_code != 422 or response.json()["type"] != "/problems/validation_error") == valid
