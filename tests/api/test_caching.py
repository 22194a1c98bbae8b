"""GET /v1/distributions is cacheable: a strong ETag that is a hash of the body, Cache-Control, 304 on a matching
If-None-Match (a tag, a list, a weak tag, ``*``) and HEAD; and the If-None-Match rules of service/api/caching.py.

In-process, without the lifespan: the catalogue needs no worker.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest

from service.api.caching import entity_tag, none_match
from service.config import Settings
from service.main import create_app
from service.schemas.distributions import DistributionsResponse
from tests.conftest import http_client

pytestmark = pytest.mark.anyio

CATALOGUE = "/v1/distributions"
CACHE_CONTROL = "public, max-age=3600"


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(create_app(Settings(workers=1))) as client:
        yield client


@pytest.fixture(scope="module")
async def tag(http: httpx.AsyncClient) -> str:
    etag: str = (await http.get(CATALOGUE)).headers["etag"]
    return etag


def blake2b_tag(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def assert_not_modified(response: httpx.Response, tag: str) -> None:
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == tag
    assert response.headers["cache-control"] == CACHE_CONTROL
    assert "content-type" not in response.headers
    assert "content-length" not in response.headers


class TestGet:
    async def test_the_body_with_its_validators(self, http: httpx.AsyncClient) -> None:
        response = await http.get(CATALOGUE)
        assert response.status_code == 200
        DistributionsResponse.model_validate_json(response.content)
        assert response.headers["content-type"] == "application/json"
        assert response.headers["content-length"] == str(len(response.content))
        assert response.headers["etag"] == blake2b_tag(response.content)  # strong: no W/ prefix
        assert response.headers["cache-control"] == CACHE_CONTROL

    async def test_the_tag_is_the_same_in_another_process(self, http: httpx.AsyncClient, tag: str) -> None:
        async with http_client(create_app(Settings(workers=1))) as other:
            assert (await other.get(CATALOGUE)).headers["etag"] == tag

    async def test_the_tag_matches(self, http: httpx.AsyncClient, tag: str) -> None:
        assert_not_modified(await http.get(CATALOGUE, headers={"if-none-match": tag}), tag)

    async def test_any_tag_matches(self, http: httpx.AsyncClient, tag: str) -> None:
        assert_not_modified(await http.get(CATALOGUE, headers={"if-none-match": "*"}), tag)

    async def test_the_tag_in_a_list(self, http: httpx.AsyncClient, tag: str) -> None:
        field = f'"0123", W/"old",{tag} , "later"'
        assert_not_modified(await http.get(CATALOGUE, headers={"if-none-match": field}), tag)

    async def test_the_tag_made_weak_matches(self, http: httpx.AsyncClient, tag: str) -> None:
        # If-None-Match uses the weak comparison (RFC 9110 section 13.1.2).
        assert_not_modified(await http.get(CATALOGUE, headers={"if-none-match": f"W/{tag}"}), tag)

    async def test_the_tag_on_a_second_header_line(self, http: httpx.AsyncClient, tag: str) -> None:
        headers = [("if-none-match", '"stale"'), ("if-none-match", tag)]
        assert_not_modified(await http.get(CATALOGUE, headers=headers), tag)

    @pytest.mark.parametrize(
        "field",
        ['"stale"', '"stale", W/"older"', "unquoted", '"a" "b"', ""],
        ids=["another tag", "other tags", "not a tag", "no comma", "empty"],
    )
    async def test_another_tag_gets_the_body(self, http: httpx.AsyncClient, tag: str, field: str) -> None:
        response = await http.get(CATALOGUE, headers={"if-none-match": field})
        assert response.status_code == 200
        DistributionsResponse.model_validate_json(response.content)
        assert response.headers["etag"] == tag
        assert response.headers["cache-control"] == CACHE_CONTROL
        assert response.headers["content-length"] == str(len(response.content))

    async def test_the_tag_inside_a_malformed_field_does_not_match(self, http: httpx.AsyncClient, tag: str) -> None:
        response = await http.get(CATALOGUE, headers={"if-none-match": f"{tag} junk"})
        assert response.status_code == 200
        assert response.headers["etag"] == tag


class TestHead:
    async def test_the_headers_of_the_get_without_its_body(self, http: httpx.AsyncClient, tag: str) -> None:
        got = await http.get(CATALOGUE)
        response = await http.head(CATALOGUE)
        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["content-length"] == str(len(got.content))
        assert response.headers["content-type"] == "application/json"
        assert response.headers["etag"] == tag
        assert response.headers["cache-control"] == CACHE_CONTROL

    async def test_a_matching_tag(self, http: httpx.AsyncClient, tag: str) -> None:
        assert_not_modified(await http.head(CATALOGUE, headers={"if-none-match": tag}), tag)

    async def test_head_is_not_in_the_openapi_document(self, http: httpx.AsyncClient) -> None:
        # HTTP implies HEAD wherever GET is; a generated client needs no second operation.
        operations = (await http.get("/openapi.json")).json()["paths"][CATALOGUE]
        assert set(operations) == {"get"}


class TestRules:
    def test_the_tag_is_a_quoted_hash_of_the_bytes(self) -> None:
        assert entity_tag(b"") == '"cae66941d9efbd404e4d88758ea67670"'  # BLAKE2b-128 of no bytes (RFC 7693 family)
        assert entity_tag(b'{"a":1}') == blake2b_tag(b'{"a":1}')
        assert entity_tag(b'{"a":1}') != entity_tag(b'{"a":2}')

    @pytest.mark.parametrize(
        ("fields", "matches"),
        [
            (['"x"'], True),
            (["*"], True),
            ([" * "], True),
            (['W/"x"'], True),
            (['"y","x"'], True),
            (['"y" ,  W/"x" ,'], True),
            ([', ,"x"'], True),
            (['"y"', '"x"'], True),
            (['"y"'], False),
            ([], False),
            (['"X"'], False),  # entity tags are case-sensitive
            (["x"], False),
            (['"y" "x"'], False),
            (['"y", *'], False),  # "*" only as the whole field
            (['w/"x"'], False),  # the weak prefix is case-sensitive
        ],
    )
    def test_if_none_match(self, fields: list[str], matches: bool) -> None:
        assert none_match(fields, '"x"') is matches
