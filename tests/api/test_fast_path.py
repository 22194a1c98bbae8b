"""The lean path of cached calculus requests (service/api/fast.py) answers exactly what the framework's path does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from service.api.fast import SMALL_BODY_BYTES, CachedCalculus
from service.config import Settings
from tests.conftest import http_client, started

pytestmark = pytest.mark.anyio

BODIES: list[tuple[str, dict[str, Any]]] = [
    ("/v1/gradient", {"function": "sin(x*y) + z*cos(x)", "at": [1, 2, 3]}),
    ("/v1/gradient", {"function": "sin(x*y) + z*cos(x)", "at": {"x": 0.5, "y": -1, "z": 2}}),
    ("/v1/gradient", {"function": "a*x^2 + y", "parameters": {"a": 3}, "at": [1, 2]}),
    ("/v1/gradient", {"function": "log(x) + y", "at": [-1, 2]}),  # a warning and a status
    ("/v1/gradient", {"function": "x^2 + y^2", "at": ["pi/4", "1/3"]}),  # exact strings and exact values
    ("/v1/derivative", {"function": "x^3", "order": 2, "at": [2]}),
    ("/v1/derivative", {"function": "x*y^2", "wrt": ["x", "y"], "at": [1, 2]}),
    ("/v1/hessian", {"function": "x^2*y + y^3", "at": [1, 2]}),
    ("/v1/jacobian", {"functions": ["x*y", "x + y"], "at": [1, 2]}),
    ("/v1/directional-derivative", {"function": "x*y", "direction": [1, 1], "at": [1, 2]}),
    ("/v1/gradient", {"function": "x*y", "points": [[1, 2], [3, 4]]}),
]
ERRORS: list[tuple[str, dict[str, Any]]] = [
    ("/v1/gradient", {"function": "sin(x*y) + z*cos(x)", "at": [1, 2]}),  # a point of the wrong size
    ("/v1/gradient", {"function": "sin(x*y) + z*cos(x)", "at": [1, 2, 3], "extra": 1}),  # an unknown field
    ("/v1/derivative", {"function": "x^3", "order": 10_000, "at": [2]}),  # over a limit
]


@pytest.fixture(scope="module")
async def clients() -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """One app with the lean path, one without, each with the functions above compiled."""
    async with (
        started(Settings(workers=1)) as fast_app,
        started(Settings(workers=1, fast_path=False)) as framework_app,
        http_client(fast_app) as fast,
        http_client(framework_app) as framework,
    ):
        for path, body in BODIES:
            for client in (fast, framework):
                (await client.post(path, json=body)).raise_for_status()
        yield fast, framework


def _without_request_id(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
    return response.status_code, headers, response.content.replace(response.headers["x-request-id"].encode(), b"")


@pytest.fixture
def lean(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the lean path answered, for each request it looked at."""
    answered: list[bool] = []
    original = CachedCalculus._answer

    async def spy(self: CachedCalculus, *args: Any) -> Any:
        response = await original(self, *args)
        answered.append(response is not None)
        return response

    monkeypatch.setattr(CachedCalculus, "_answer", spy)
    return answered


Reply = tuple[int, dict[str, str], bytes]


async def _both(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], path: str, body: dict[str, Any], lean: list[bool]
) -> tuple[Reply, list[bool], Reply]:
    """The answer of the app with the lean path, what the spy saw of it, then the framework's answer."""
    fast, framework = clients
    first = _without_request_id(await fast.post(path, json=body))
    seen = list(lean)
    return first, seen, _without_request_id(await framework.post(path, json=body))


class TestSameAnswers:
    @pytest.mark.parametrize(("path", "body"), BODIES)
    async def test_a_hit_is_answered_by_the_lean_path_with_the_same_status_headers_and_bytes(
        self, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], path: str, body: dict[str, Any], lean: list[bool]
    ) -> None:
        answer, seen, framework = await _both(clients, path, body, lean)
        assert seen == [True]
        assert answer == framework

    @pytest.mark.parametrize(("path", "body"), ERRORS)
    async def test_an_error_is_the_framework_s_own(
        self, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], path: str, body: dict[str, Any], lean: list[bool]
    ) -> None:
        answer, seen, framework = await _both(clients, path, body, lean)
        assert seen == [False]
        assert answer[0] in (413, 422)
        assert answer == framework

    async def test_a_miss_goes_to_the_framework_and_is_a_hit_next_time(
        self, clients: tuple[httpx.AsyncClient, ...], lean: list[bool]
    ) -> None:
        body = {"function": "x^5 + 7*y", "at": [1, 2]}
        first, second = [(await clients[0].post("/v1/gradient", json=body)).json()["value"] for _ in range(2)]
        assert first == second == [5, 7]
        assert lean == [False, True]

    async def test_hits_are_counted_once_and_by_route(self, clients: tuple[httpx.AsyncClient, ...]) -> None:
        fast = clients[0]
        path, body = BODIES[0]
        before = (await fast.get("/metrics")).text
        await fast.post(path, json=body)
        after = (await fast.get("/metrics")).text
        line = 'http_requests_total{handler="/v1/gradient",method="POST",status="200"}'
        assert _sample(after, line) - _sample(before, line) == 1


def _sample(text: str, name: str) -> float:
    return float(next(line for line in text.splitlines() if line.startswith(name)).split()[-1])


class TestTheFrameworkPathTakesTheRest:
    @pytest.mark.parametrize(
        "headers",
        [{"Accept": "application/msgpack"}, {"Content-Type": "application/msgpack"}, {"Content-Type": "text/xml"}],
    )
    async def test_another_media_type_is_not_looked_at(
        self, clients: tuple[httpx.AsyncClient, ...], lean: list[bool], headers: dict[str, str]
    ) -> None:
        path, body = BODIES[0]
        await clients[0].post(path, content=orjson.dumps(body), headers=headers)
        assert lean == []

    async def test_a_large_body_is_not_looked_at(
        self, clients: tuple[httpx.AsyncClient, ...], lean: list[bool]
    ) -> None:
        body = {"function": "x*y", "points": [[1.0, 2.0]] * 2000}
        assert len(orjson.dumps(body)) > SMALL_BODY_BYTES
        assert len((await clients[0].post("/v1/gradient", json=body)).json()["values"]) == 2000
        assert lean == []

    async def test_a_request_id_is_echoed(self, clients: tuple[httpx.AsyncClient, ...]) -> None:
        fast = clients[0]
        path, body = BODIES[0]
        response = await fast.post(path, json=body, headers={"X-Request-ID": "lean-1"})
        assert response.headers["x-request-id"] == "lean-1"
