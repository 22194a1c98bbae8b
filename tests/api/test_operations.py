"""Operations: readiness, Prometheus metrics, request ids, access logs, admission control over HTTP, gzip."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import logging
import re
from collections.abc import AsyncIterator

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from service.config import Settings
from service.main import create_app
from service.observability import logs
from service.runtime.workers import WorkerPool
from tests.conftest import http_client, started

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"
SLOW = {"function": "gamma(x)", "order": 200, "at": ["1/3"]}  # runs past any deadline below


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text document, by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return samples(response.text)


def unavailable(response: httpx.Response, detail: str, retry_after: str = "1") -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == retry_after
    body = response.json()
    assert body["type"] == "/problems/service_unavailable"
    assert body["detail"] == detail
    assert body["request_id"] == response.headers["x-request-id"]


async def until_in_flight(pool: WorkerPool, count: int) -> None:
    async with asyncio.timeout(60):
        while pool.in_flight < count:
            await asyncio.sleep(0.01)


class TestReadiness:
    async def test_ready_when_the_workers_are_warm(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"status": "ready"}
        assert (await client.head("/readyz")).status_code == 200

    async def test_not_ready_before_the_workers_start(self) -> None:
        async with http_client(create_app(Settings(workers=1, retry_after=2))) as client:
            unavailable(await client.get("/readyz"), "not ready: the process is starting its workers", "2")
            assert (await client.head("/readyz")).status_code == 503
            assert (await client.get("/healthz")).status_code == 200  # liveness is another question

    async def test_not_ready_once_shutting_down(self) -> None:
        async with started(Settings(workers=1)) as app:
            pass
        async with http_client(app) as client:
            unavailable(await client.get("/readyz"), "not ready: the process is shutting down")


class TestMetrics:
    async def test_prometheus_text_with_requests_by_route_and_status(self, client: httpx.AsyncClient) -> None:
        await client.post("/v1/gradient", json={"function": "x*y", "at": [1, 2]})
        await client.post("/v1/gradient", json={"function": "x*"})
        response = await client.get("/metrics")
        assert response.headers["content-type"].startswith("text/plain; version=")
        found = samples(response.text)
        ok = (("handler", "/v1/gradient"), ("method", "POST"), ("status", "200"))
        invalid = (("handler", "/v1/gradient"), ("method", "POST"), ("status", "422"))
        assert found["http_requests_total", ok] >= 1
        assert found["http_requests_total", invalid] >= 1
        assert found["http_request_duration_seconds_count", ok] >= 1
        assert found["http_requests_inprogress", ()] >= 1  # this scrape
        assert found["nabla_workers", ()] == 2
        assert found["nabla_ready", ()] == 1

    async def test_cache_hits_and_misses_are_the_caches_own_counts(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        body = {"function": "x^3 + y", "at": [2, 0]}
        before = await scrape(client)
        await client.post("/v1/gradient", json=body)
        await client.post("/v1/gradient", json=body)
        after = await scrape(client)
        cache = app.state.services.calculus.cache
        assert after["nabla_compiled_cache_hits_total", ()] == cache.hits
        assert after["nabla_compiled_cache_misses_total", ()] == cache.misses
        assert after["nabla_compiled_cache_hits_total", ()] - before["nabla_compiled_cache_hits_total", ()] == 1
        assert after["nabla_compiled_cache_misses_total", ()] - before["nabla_compiled_cache_misses_total", ()] == 1

    async def test_documented_in_openapi_as_text(self, client: httpx.AsyncClient) -> None:
        operation = (await client.get("/openapi.json")).json()["paths"]["/metrics"]["get"]
        assert "text/plain" in operation["responses"]["200"]["content"]

    async def test_each_app_has_its_own_registry(self) -> None:
        first, second = create_app(Settings(workers=1)), create_app(Settings(workers=1))
        assert first.state.metrics is not second.state.metrics


class TestRequestIds:
    async def test_a_valid_id_is_kept_and_returned(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x"}, headers={"X-Request-ID": "client-7.a:b_c"})
        assert response.headers["x-request-id"] == "client-7.a:b_c"

    @pytest.mark.parametrize("given", ["a" * 129, "has space", "semi;colon", "ünïcode".encode(), "-leading-dash"])
    async def test_an_unsafe_id_is_replaced(self, client: httpx.AsyncClient, given: str | bytes) -> None:
        response = await client.post("/v1/gradient", json={"function": "x^"}, headers={"X-Request-ID": given})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
        assert response.json()["request_id"] == response.headers["x-request-id"]

    async def test_an_id_is_generated_when_none_is_given(self, client: httpx.AsyncClient) -> None:
        first, second = await client.get("/healthz"), await client.get("/healthz")
        assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])
        assert first.headers["x-request-id"] != second.headers["x-request-id"]

    @pytest.mark.parametrize(
        ("method", "path", "content", "status"),
        [
            ("GET", "/nowhere", None, 404),
            ("GET", "/v1/gradient", None, 405),
            ("POST", "/v1/gradient", b"{", 400),
            ("POST", "/v1/gradient", b'{"function": 1}', 422),
            ("POST", "/v1/gradient", b"[" * 70_000, 413),
        ],
    )
    async def test_every_problem_names_its_request(
        self, small_body_client: httpx.AsyncClient, method: str, path: str, content: bytes | None, status: int
    ) -> None:
        headers = {"X-Request-ID": f"problem-{status}", "content-type": "application/json"}
        response = await small_body_client.request(method, path, content=content, headers=headers)
        assert response.status_code == status
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["request_id"] == f"problem-{status}"
        assert response.headers["x-request-id"] == f"problem-{status}"

    async def test_a_bug_is_a_500_problem_with_the_id_in_body_header_and_log(self) -> None:
        app = create_app(Settings(workers=1))

        @app.get("/bug")
        async def bug() -> None:
            raise RuntimeError("a bug")

        handler = Collecting()
        handler.addFilter(logs.RequestIdFilter())  # as in log_config()
        errors = logging.getLogger("nabla.errors")
        errors.addHandler(handler)
        try:
            async with http_client(app) as client:
                response = await client.get("/bug", headers={"X-Request-ID": "bug-1"})
        finally:
            errors.removeHandler(handler)
        assert response.status_code == 500
        assert response.headers["x-request-id"] == "bug-1"
        assert response.json()["request_id"] == "bug-1"
        assert response.json()["detail"] == "an unexpected error occurred"
        [record] = handler.records
        assert record.exc_info is not None
        assert record.request_id == "bug-1"


class Collecting(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
async def small_body_client() -> AsyncIterator[httpx.AsyncClient]:
    async with started(Settings(workers=1, max_body_bytes=65_536)) as app, http_client(app) as client:
        yield client


class TestAccessLog:
    async def test_one_record_per_request_with_its_fields(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO, logger="nabla.access"):
            await client.post("/v1/gradient", json={"function": "x"}, headers={"X-Request-ID": "logged-1"})
        [record] = [r for r in caplog.records if r.name == "nabla.access"]
        assert (record.method, record.path, record.status, record.request_id) == (
            "POST",
            "/v1/gradient",
            200,
            "logged-1",
        )
        assert record.client == "127.0.0.1:123"  # httpx's ASGI transport
        assert record.duration_ms > 0
        assert record.getMessage().startswith("POST /v1/gradient 200 ")


class TestAdmission:
    async def test_a_full_queue_is_a_503_while_cached_requests_are_served(self) -> None:
        settings = Settings(workers=1, max_queue=0, compute_timeout=2.0)
        async with started(settings) as app, http_client(app) as client:
            cached = {"function": "x^2 + y^2", "at": [3, 4]}
            assert (await client.post("/v1/gradient", json=cached)).json()["value"] == [6, 8]
            slow = asyncio.create_task(client.post("/v1/derivative", json=SLOW))
            await until_in_flight(app.state.services.pool, 1)
            refused = await client.post("/v1/gradient", json={"function": "x^2 + y^3", "at": [3, 4]})
            unavailable(
                refused,
                "the service is at capacity: 1 symbolic task running or waiting for 1 worker (the limit is "
                "NABLA_WORKERS + NABLA_MAX_QUEUE = 1); retry after 1 s",
            )
            assert (await client.post("/v1/gradient", json=cached)).json()["value"] == [6, 8]
            assert (await slow).json()["type"] == "/problems/too_complex"
            found = await scrape(client)
            assert found["nabla_admission_rejections_total", ()] == 1
            assert found["nabla_worker_timeouts_total", ()] == 1
            assert found["nabla_worker_pool_restarts_total", ()] == 1
            later = await client.post("/v1/gradient", json={"function": "x^2 + y^3", "at": [3, 4]})
            assert later.json()["value"] == [6, 48]


POINTS = np.random.default_rng(4).normal(size=(5_000, 2))
BATCH = {"function": "x^2 + 3*y", "points": POINTS.tolist()}  # about 200 kB of JSON back: above NABLA_GZIP_MIN_BYTES


class TestGzip:
    async def test_a_large_response_is_gzipped_for_a_client_that_accepts_it(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json=BATCH, headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        assert int(response.headers["content-length"]) < len(response.content)  # httpx has decoded it
        expected = np.column_stack([2 * POINTS[:, 0], np.full(len(POINTS), 3.0)])
        np.testing.assert_allclose(response.json()["values"], expected, rtol=1e-15)

    async def test_not_gzipped_without_accept_encoding(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json=BATCH, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in response.headers
        assert int(response.headers["content-length"]) == len(response.content)

    async def test_a_small_response_is_not_gzipped(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/gradient", json={"function": "x", "at": [1]}, headers={"Accept-Encoding": "gzip"}
        )
        assert "content-encoding" not in response.headers

    async def test_the_body_is_real_gzip(self, client: httpx.AsyncClient) -> None:
        async with client.stream("POST", "/v1/gradient", json=BATCH, headers={"Accept-Encoding": "gzip"}) as response:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        assert gzip.decompress(raw).startswith(b'{"variables":["x","y"]')


class TestLogConfig:
    def record(self) -> logging.LogRecord:
        record = logging.LogRecord("nabla.access", logging.INFO, __file__, 1, "GET /healthz 200 %.1f ms", (1.25,), None)
        record.status = 200
        logs.RequestIdFilter().filter(record)  # outside a request: "-"
        return record

    def formatter(self, log_format: str) -> logging.Formatter:
        config = logs.log_config(Settings(log_format=log_format, log_level="warning"))
        assert config["root"]["level"] == "WARNING"
        options = dict(config["formatters"][log_format])
        factory = options.pop("()", None)
        if factory is None:
            return logging.Formatter(options["format"])
        module, _, name = factory.rpartition(".")
        formatter: logging.Formatter = getattr(__import__(module, fromlist=[name]), name)(**options)
        return formatter

    def test_json_lines_carry_level_logger_message_request_id_and_extras(self) -> None:
        line = json.loads(self.formatter("json").format(self.record()))
        assert line["level"] == "INFO"
        assert line["logger"] == "nabla.access"
        assert line["message"] == "GET /healthz 200 1.2 ms"
        assert (line["request_id"], line["status"]) == ("-", 200)
        assert "time" in line

    def test_an_access_line_written_directly_is_the_formatter_s_line(self) -> None:
        fields = {"method": "GET", "path": "/healthz", "status": 200, "duration_ms": 1.25, "client": None,
                  "request_id": "r-1"}  # fmt: skip
        handler = logs.AccessHandler(io.StringIO())
        handler.setFormatter(self.formatter("json"))
        handler.addFilter(logs.RequestIdFilter())
        assert handler.direct(logging.INFO)
        handler.write(logging.INFO, "GET /healthz 200 1.2 ms", fields)
        direct = json.loads(handler.stream.getvalue())
        record = logging.makeLogRecord({"name": "nabla.access", "levelno": logging.INFO, "levelname": "INFO",
                                        "msg": "GET /healthz 200 1.2 ms", **fields})  # fmt: skip
        through_logging = json.loads(self.formatter("json").format(record))
        assert list(direct) == list(through_logging)  # the same fields in the same order
        assert {k: v for k, v in direct.items() if k != "time"} == {
            k: v for k, v in through_logging.items() if k != "time"
        }
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", direct["time"])

    async def test_on_the_event_loop_access_lines_go_out_together_and_a_warning_at_once(self) -> None:
        stream = io.StringIO()
        handler = logs.AccessHandler(stream)
        handler.setFormatter(self.formatter("json"))
        fields = {"status": 200}
        for _ in range(3):
            handler.write(logging.INFO, "GET /healthz 200 0.1 ms", fields)
        assert stream.getvalue() == ""  # held for one write
        await asyncio.sleep(logs.FLUSH_SECONDS * 2)
        assert len(stream.getvalue().splitlines()) == 3
        handler.write(logging.INFO, "GET /healthz 200 0.1 ms", fields)
        handler.write(logging.WARNING, "GET /x 500 0.1 ms", {"status": 500})
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert [line["level"] for line in lines] == ["INFO"] * 4 + ["WARNING"]  # in order, the warning at once

    def test_off_the_event_loop_and_at_shutdown_nothing_waits(self) -> None:
        stream = io.StringIO()
        handler = logs.AccessHandler(stream)
        handler.setFormatter(self.formatter("json"))
        handler.write(logging.INFO, "GET /healthz 200 0.1 ms", {"status": 200})
        assert len(stream.getvalue().splitlines()) == 1

    def test_a_plain_access_line_goes_through_logging(self) -> None:
        handler = logs.AccessHandler(io.StringIO())
        handler.setFormatter(self.formatter("plain"))
        assert not handler.direct(logging.INFO)

    def test_plain_lines(self) -> None:
        line = self.formatter("plain").format(self.record())
        assert line.endswith(" INFO nabla.access [-] GET /healthz 200 1.2 ms")
