"""CORS: off by default; on for the origins of NABLA_CORS_ORIGINS (a list or ``*``); an origin not allowed gets no
``access-control-*`` header. In-process, without the lifespan: no request here needs a worker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from service.config import Settings
from service.main import create_app
from tests.conftest import http_client

pytestmark = pytest.mark.anyio

ORIGINS = "https://app.example, http://localhost:3000"
ALLOWED_HEADERS = "Accept, Accept-Language, Content-Language, Content-Type, If-None-Match, X-Request-ID"
PREFLIGHT = {"access-control-request-method": "POST", "access-control-request-headers": "content-type, x-request-id"}


async def client_for(origins: str) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(create_app(Settings(workers=1, cors_origins=origins))) as http:
        yield http


@pytest.fixture
async def off() -> AsyncIterator[httpx.AsyncClient]:
    async for http in client_for(""):
        yield http


@pytest.fixture
async def listed() -> AsyncIterator[httpx.AsyncClient]:
    async for http in client_for(ORIGINS):
        yield http


@pytest.fixture
async def anyone() -> AsyncIterator[httpx.AsyncClient]:
    async for http in client_for("*"):
        yield http


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.startswith("access-control-")}


def vary(response: httpx.Response) -> list[str]:
    return [token.strip() for token in response.headers.get("vary", "").split(",") if token.strip()]


async def preflight(http: httpx.AsyncClient, origin: str, **headers: str) -> httpx.Response:
    return await http.options("/v1/gradient", headers={"origin": origin, **PREFLIGHT, **headers})


class TestOff:
    def test_off_by_default(self) -> None:
        assert Settings().cors_origins == ""
        assert Settings().cors_origin_list() == []

    async def test_a_preflight_is_an_unknown_method(self, off: httpx.AsyncClient) -> None:
        response = await preflight(off, "https://app.example")
        assert response.status_code == 405
        assert response.headers["content-type"] == "application/problem+json"
        assert cors_headers(response) == {}

    async def test_a_simple_request_gets_no_cors_header(self, off: httpx.AsyncClient) -> None:
        response = await off.get("/healthz", headers={"origin": "https://app.example"})
        assert response.status_code == 200
        assert cors_headers(response) == {}
        assert "vary" not in response.headers


class TestListedOrigins:
    @pytest.mark.parametrize("origin", ["https://app.example", "http://localhost:3000"])
    async def test_a_preflight_from_an_allowed_origin(self, listed: httpx.AsyncClient, origin: str) -> None:
        response = await preflight(listed, origin)
        assert response.status_code == 200
        assert response.text == "OK"
        assert cors_headers(response) == {
            "access-control-allow-origin": origin,
            "access-control-allow-methods": "GET, HEAD, POST",
            "access-control-allow-headers": ALLOWED_HEADERS,
            "access-control-max-age": "600",
        }
        assert "Origin" in vary(response)

    @pytest.mark.parametrize("origin", ["https://evil.example", "https://app.example:8443", "http://app.example"])
    async def test_a_preflight_from_another_origin_gets_none(self, listed: httpx.AsyncClient, origin: str) -> None:
        response = await preflight(listed, origin)
        assert response.status_code == 400
        assert response.text == "Disallowed CORS origin"
        assert cors_headers(response) == {}
        assert "Origin" in vary(response)

    async def test_a_preflight_for_a_method_the_api_does_not_have(self, listed: httpx.AsyncClient) -> None:
        response = await preflight(listed, "https://app.example", **{"access-control-request-method": "DELETE"})
        assert response.status_code == 400
        assert response.text == "Disallowed CORS method"
        assert cors_headers(response) == {
            "access-control-allow-origin": "https://app.example",
            "access-control-allow-methods": "GET, HEAD, POST",
            "access-control-allow-headers": ALLOWED_HEADERS,
            "access-control-max-age": "600",
        }

    async def test_a_preflight_for_a_header_the_api_does_not_read(self, listed: httpx.AsyncClient) -> None:
        headers = {"access-control-request-headers": "authorization"}
        response = await preflight(listed, "https://app.example", **headers)
        assert response.status_code == 400
        assert response.text == "Disallowed CORS headers"

    async def test_a_simple_request_from_an_allowed_origin(self, listed: httpx.AsyncClient) -> None:
        response = await listed.get("/healthz", headers={"origin": "https://app.example"})
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert cors_headers(response) == {
            "access-control-allow-origin": "https://app.example",
            "access-control-expose-headers": "ETag, Retry-After, X-Request-ID",
        }
        assert vary(response) == ["Origin"]
        assert response.headers["x-request-id"]

    async def test_a_problem_is_readable_from_an_allowed_origin(self, listed: httpx.AsyncClient) -> None:
        response = await listed.get("/v1/no-such-thing", headers={"origin": "http://localhost:3000"})
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert cors_headers(response) == {
            "access-control-allow-origin": "http://localhost:3000",
            "access-control-expose-headers": "ETag, Retry-After, X-Request-ID",
        }

    async def test_a_simple_request_from_another_origin_gets_none(self, listed: httpx.AsyncClient) -> None:
        response = await listed.get("/healthz", headers={"origin": "https://evil.example"})
        assert response.status_code == 200  # the browser, not the server, withholds the answer from the page
        assert cors_headers(response) == {}
        assert vary(response) == ["Origin"]

    async def test_a_request_without_origin_gets_only_vary(self, listed: httpx.AsyncClient) -> None:
        response = await listed.get("/healthz")
        assert response.status_code == 200
        assert cors_headers(response) == {}
        assert vary(response) == ["Origin"]


class TestAnyOrigin:
    async def test_a_preflight(self, anyone: httpx.AsyncClient) -> None:
        response = await preflight(anyone, "https://anywhere.example")
        assert response.status_code == 200
        assert cors_headers(response) == {
            "access-control-allow-origin": "*",
            "access-control-allow-methods": "GET, HEAD, POST",
            "access-control-allow-headers": ALLOWED_HEADERS,
            "access-control-max-age": "600",
        }

    async def test_a_simple_request(self, anyone: httpx.AsyncClient) -> None:
        response = await anyone.get("/healthz", headers={"origin": "https://anywhere.example"})
        assert response.status_code == 200
        assert cors_headers(response) == {
            "access-control-allow-origin": "*",
            "access-control-expose-headers": "ETag, Retry-After, X-Request-ID",
        }


class TestSetting:
    def test_read_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NABLA_CORS_ORIGINS", " https://app.example ,, http://localhost:3000 ,")
        settings = Settings()
        assert settings.cors_origins == "https://app.example,http://localhost:3000"
        assert settings.cors_origin_list() == ["https://app.example", "http://localhost:3000"]

    def test_any_origin(self) -> None:
        assert Settings(cors_origins="*").cors_origin_list() == ["*"]

    @pytest.mark.parametrize("origin", ["https://app.example/", "app.example", "https://app.example/path", "*.example"])
    def test_what_is_not_an_origin_is_refused(self, origin: str) -> None:
        with pytest.raises(ValidationError) as error:
            Settings(cors_origins=f"http://localhost:3000,{origin}")
        [problem] = error.value.errors()
        assert problem["loc"] == ("cors_origins",)
        assert problem["msg"] == (
            f"Value error, {origin!r} is not an origin: give scheme://host[:port] with no path and no trailing slash "
            "(https://app.example), or * for any origin"
        )
