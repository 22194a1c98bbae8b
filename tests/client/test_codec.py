"""The client's codec and retries without a server: msgpack round trips, answers as NumPy, 503 retried."""

from __future__ import annotations

import httpx
import msgspec
import numpy as np
import pytest

from service.client import Client, ProblemError
from service.client.clients import msgpack_paths, retry_delay
from service.client.codec import decode_msgpack, encode_msgpack, numeric


class TestMsgpack:
    def test_points_go_as_little_endian_float64(self) -> None:
        points = np.arange(6.0).reshape(3, 2)
        sent = msgspec.msgpack.decode(encode_msgpack({"function": "x*y", "points": points.tolist()}))
        assert sent["function"] == "x*y"
        assert sent["points"] == {"dtype": "<f8", "shape": [3, 2], "data": points.astype("<f8").tobytes()}

    def test_an_answer_round_trips(self) -> None:
        values = np.random.default_rng(1).normal(size=(1000, 3))
        body = encode_msgpack({"values": values, "variables": ["x", "y", "z"]})
        answer = decode_msgpack(body)
        np.testing.assert_array_equal(answer.values, values)
        assert answer.values.flags.writeable
        assert answer.variables == ("x", "y", "z")


class TestAnswers:
    def test_numbers_with_nulls_are_float_arrays(self) -> None:
        np.testing.assert_array_equal(numeric([[1.0, None], [2.0, 3.0]]), [[1.0, np.nan], [2.0, 3.0]])

    def test_other_lists_stay_tuples(self) -> None:
        assert numeric(["x", "y"]) == ("x", "y")
        ragged = numeric([[1.0], [1.0, 2.0]])
        assert isinstance(ragged, tuple)
        assert [r.tolist() for r in ragged] == [[1.0], [1.0, 2.0]]


class TestRetries:
    def test_a_503_is_retried_after_its_retry_after(self, monkeypatch: pytest.MonkeyPatch) -> None:
        waits: list[float] = []
        monkeypatch.setattr("service.client.clients.time.sleep", waits.append)
        answers = iter([503, 503, 200])

        def handler(request: httpx.Request) -> httpx.Response:
            status = next(answers)
            if status == 503:
                return httpx.Response(503, headers={"retry-after": "2"}, json={"title": "Unavailable", "status": 503})
            return httpx.Response(200, json={"status": "ok"})

        with Client("http://nabla.test", transport=httpx.MockTransport(handler)) as client:
            assert client.healthz().status == "ok"
        assert waits == [2.0, 2.0]

    def test_the_last_503_is_raised(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("service.client.clients.time.sleep", lambda _: None)
        problem = {"type": "/problems/unavailable", "title": "Service unavailable", "status": 503, "detail": "busy"}
        transport = httpx.MockTransport(lambda request: httpx.Response(503, json=problem))
        with Client("http://nabla.test", transport=transport, retries=1) as client, pytest.raises(ProblemError) as e:
            client.healthz()
        assert str(e.value) == "503 Service unavailable: busy"

    def test_delays(self) -> None:
        assert retry_delay(httpx.Response(503, headers={"retry-after": "999"}), 0) == 30.0
        assert retry_delay(httpx.Response(503), 1) == 1.0
        assert retry_delay(httpx.Response(500), 0) is None


def test_msgpack_paths_come_from_the_openapi_document() -> None:
    document = {"paths": {"/v1/gradient": {"post": {"requestBody": {"content": {"application/msgpack": {}}}}}}}
    assert msgpack_paths(document) == {"/v1/gradient"}


def test_every_route_has_a_method() -> None:
    import json
    from pathlib import Path

    from service.client import AsyncClient

    document = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())
    operations = {op["operationId"] for ops in document["paths"].values() for op in ops.values()}
    assert {name for name in operations if not callable(getattr(Client, name, None))} == set()
    assert {name for name in operations if not callable(getattr(AsyncClient, name, None))} == set()


def test_the_client_and_the_command_import_no_server() -> None:
    import subprocess
    import sys

    server = "{'fastapi', 'sympy', 'starlette', 'pydantic', 'uvicorn'}"
    code = f"import sys, service.client; print(sorted({server} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"
    code = "import sys, service.cli; print(sorted({'fastapi', 'sympy'} & set(sys.modules)))"  # nabla's startup
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"


@pytest.mark.anyio
async def test_the_async_client_retries_a_503(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.client import AsyncClient

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("service.client.clients.asyncio.sleep", sleep)
    answers = iter([httpx.Response(503, headers={"retry-after": "1"}), httpx.Response(200, json={"status": "ok"})])
    async with AsyncClient("http://nabla.test", transport=httpx.MockTransport(lambda r: next(answers))) as client:
        assert (await client.healthz()).status == "ok"
    assert waits == [1.0]


def test_a_binary_batch_goes_and_comes_back_as_msgpack() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        points = decode_msgpack(request.content).points
        body = encode_msgpack({"values": 2 * points})
        return httpx.Response(200, content=body, headers={"content-type": "application/msgpack"})

    points = np.arange(8.0).reshape(4, 2)
    with Client("http://nabla.test", binary=True, transport=httpx.MockTransport(handler)) as client:
        answer = client.gradient("x*y", points=points)
    np.testing.assert_array_equal(answer.values, 2 * points)
    assert seen[0].headers["content-type"] == "application/msgpack"
    assert seen[0].headers["accept"] == "application/msgpack, application/problem+json"
