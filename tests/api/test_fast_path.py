"""The lean path of cached calculus requests (service/api/fast.py) answers exactly what the framework's path does."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import httpx
import numpy as np
import orjson
import pytest

from service.api import fast
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


def _points(count: int, width: int, seed: int) -> list[list[Any]]:
    """Points across the float range: magnitudes from 1e-300 to 1e300 of both signs, zeros of both signs, integers
    (exact ones and ones a float cannot hold exactly), and plain values near 1."""
    rng = np.random.default_rng(seed)
    special: list[Any] = [0.0, -0.0, 0, 1, -3, 2**53, 2**60, 1e-300, -1e300, 5e-324, 0.5]
    out = []
    for _ in range(count):
        row: list[Any] = []
        for _ in range(width):
            pick = rng.integers(3)
            if pick == 0:
                row.append(special[rng.integers(len(special))])
            elif pick == 1:
                row.append(float(rng.choice([-1, 1]) * 10.0 ** rng.uniform(-300, 300)))
            else:
                row.append(float(rng.uniform(-4, 4)))
        out.append(row)
    return out


PLANNED: list[tuple[str, dict[str, Any]]] = [
    ("/v1/gradient", {"function": "sin(x*y) + z*cos(x)"}),
    ("/v1/gradient", {"function": "a*x^2 + y*exp(-x)", "parameters": {"a": 3}}),
    ("/v1/gradient", {"function": "log(x) + sqrt(y)"}),  # statuses and warnings off the plan
    ("/v1/derivative", {"function": "x^3 - 1/x", "order": 2}),
    ("/v1/jacobian", {"functions": ["x*y", "x/y"]}),
    ("/v1/hessian", {"function": "x^2*y + y^3", "classify": False}),
]


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether a point plan answered, for each request the lean path looked at with a plan's key."""
    answered: list[bool] = []
    original = fast._planned

    def spy(*args: Any) -> Any:
        found = original(*args)
        answered.append(found is not None)
        return found

    monkeypatch.setattr(fast, "_planned", spy)
    return answered


class TestPointPlans:
    """A repeated single-point request answered from its plan gives the framework's bytes at every point."""

    @pytest.mark.parametrize(("path", "fields"), PLANNED)
    async def test_every_point_is_the_framework_s_answer(
        self, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], path: str, fields: dict[str, Any],
        planned: list[bool],
    ) -> None:  # fmt: skip
        width = 1 if path == "/v1/derivative" else 3 if "z" in str(fields) else 2
        points = [[1.5] * width, *_points(120, width, seed=len(path) + width)]
        for point in points:
            body = {**fields, "at": point}
            answer, _, framework = await _both(clients, path, body, [])
            assert answer == framework, point
        assert sum(planned) >= 10  # the plan answered many points; the rest (values not finite) went the checked way

    async def test_a_point_by_name_is_planned_too(
        self, clients: tuple[httpx.AsyncClient, ...], planned: list[bool]
    ) -> None:
        for at in ({"x": 1, "y": 2}, {"y": 3, "x": 4}):
            answer, _, framework = await _both(clients, "/v1/jacobian", {"functions": ["x*y", "x/y"], "at": at}, [])
            assert answer == framework
        assert planned[-1]

    @pytest.mark.parametrize(
        "at", [[1, "1/3"], [True, 2], [1], [1, 2, 3], {"x": 1}, {"x": 1, "y": 2, "z": 3}, [1, None], [1e400, 1]]
    )
    async def test_a_point_the_plan_cannot_read_is_the_framework_s(
        self, clients: tuple[httpx.AsyncClient, ...], planned: list[bool], at: Any
    ) -> None:
        fields = {"function": "x*y + y"}
        for point in ([1, 2], [3, 4], [5, 6]):  # compiled, then learnt, then planned
            await _both(clients, "/v1/gradient", {**fields, "at": point}, [])
        assert planned[-1]
        before = len(planned)
        body = orjson.dumps({**fields, "at": "AT"}).replace(
            b'"AT"', orjson.dumps(at) if at != [1e400, 1] else b"[1e400, 1]"
        )
        fast_answer, framework = [
            _without_request_id(
                await client.post("/v1/gradient", content=body, headers={"content-type": "application/json"})
            )
            for client in clients
        ]
        assert fast_answer == framework
        assert fast_answer[0] == (200 if at == [1, "1/3"] else 400 if at == [1e400, 1] else 422)
        assert not any(planned[before:])

    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/v1/gradient", {"function": "abs(x) + y", "at": [1, 2]}),  # one-sided kernels
            ("/v1/gradient", {"function": "atan2(y, x)", "at": [1, 2]}),  # a branch cut
            ("/v1/gradient", {"function": "xy + x*y", "variables": ["x", "y", "xy"], "at": [1, 2, 3]}),  # a warning
            ("/v1/hessian", {"function": "x^2*y", "at": [1, 2]}),  # definiteness
            ("/v1/gradient", {"function": "x^2*y", "at": [1, 2], "digits": 30}),
            ("/v1/gradient", {"function": "x^2*y", "at": [1, 2], "check": True}),
            ("/v1/directional-derivative", {"function": "x*y", "direction": [1, 1], "at": [1, 2]}),
        ],
    )
    async def test_answers_that_say_more_than_values_have_no_plan(
        self, clients: tuple[httpx.AsyncClient, ...], planned: list[bool], path: str, body: dict[str, Any]
    ) -> None:
        for _ in range(3):
            answer, _, framework = await _both(clients, path, body, [])
            assert answer == framework
        assert planned == [False, False, False]

    async def test_a_plan_goes_with_its_compiled_function(self, monkeypatch: pytest.MonkeyPatch) -> None:
        async with started(Settings(workers=1, cache_size=1)) as app, http_client(app) as client:
            calls = []
            original = fast._planned
            monkeypatch.setattr(fast, "_planned", lambda *a: calls.append(original(*a)) or calls[-1])
            f, g = {"function": "x^2 + y"}, {"function": "y^3 + x"}
            for fields, at in ((f, [1, 2]), (f, [1, 2]), (f, [3, 4]), (g, [1, 2]), (f, [5, 6])):
                response = await client.post("/v1/gradient", json={**fields, "at": at})
                assert response.status_code == 200
            assert response.json()["value"] == [10, 1]
            assert [c is not None for c in calls] == [False, False, True, False, False]  # g pushed f out

    async def test_a_failure_on_the_lean_path_is_logged_and_the_framework_answers(
        self, clients: tuple[httpx.AsyncClient, ...], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        def broken(*args: Any) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr(fast, "_planned", broken)
        path, body = BODIES[0]
        answer, _, framework = await _both(clients, path, body, [])
        assert answer == framework
        assert "the lean path failed on /v1/gradient; the framework's path answers" in caplog.text


class TestTheLayersItSkips:
    """The lean path sits outside gzip and the body limit: what they would do still happens."""

    async def test_a_body_over_the_limit_is_the_framework_s_413(self) -> None:
        async with started(Settings(workers=1, max_body_bytes=1024)) as app, http_client(app) as client:
            body = {"function": "x*y" + " + 0*x" * 200, "at": [1, 2]}
            assert 1024 < len(orjson.dumps(body)) < SMALL_BODY_BYTES
            response = await client.post("/v1/gradient", json=body)
            assert response.status_code == 413
            assert response.json()["detail"] == "the request body is larger than 1024 bytes (NABLA_MAX_BODY_BYTES)"

    async def test_an_answer_gzip_would_compress_is_the_framework_s(self) -> None:
        async with started(Settings(workers=1, gzip_min_bytes=200)) as app, http_client(app) as client:
            body = {"function": "sin(x*y)", "at": [1, 2]}
            headers = {"accept-encoding": "gzip"}
            answers = [
                await client.post("/v1/gradient", json={**body, "at": [k, 2]}, headers=headers) for k in range(3)
            ]
            assert all(a.headers["content-encoding"] == "gzip" for a in answers)
            assert answers[2].json()["value"][1] == pytest.approx(2 * math.cos(4))
