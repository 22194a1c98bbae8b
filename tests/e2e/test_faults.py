"""Faults against a real server (``python -m service`` on loopback) with one worker and room for one waiting task:
a worker killed mid-request, a deadline hit while other requests flow, a burst above capacity, slow clients and a
graceful shutdown. Every wait is bounded; the only timings asserted are generous "nothing hangs" bounds.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_server import ROOT, free_port, wait_until_healthy

pytestmark = pytest.mark.e2e

DEADLINE = 6  # NABLA_COMPUTE_TIMEOUT of the servers under test: the burst must fit in it, with room to spare
BOUND = 60.0  # "nothing hangs": every request of these tests is answered well within this
SLOW = {"function": "gamma(x)", "order": 200, "at": ["1/3"]}  # symbolic work past any deadline here (> 40 s)
CACHED = {"function": "x^2 * y + sin(z)", "at": [1.5, -2, 0.5]}
CACHED_VALUE = [2 * 1.5 * -2, 1.5**2, math.cos(0.5)]
SERVER_ENV = {
    "NABLA_WORKERS": "1",
    "NABLA_MAX_QUEUE": "1",
    "NABLA_COMPUTE_TIMEOUT": str(DEADLINE),
    "NABLA_LOG_FORMAT": "json",
    "UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN": "30",
}


class Server:
    """``python -m service`` on a free loopback port, its output in ``log``."""

    def __init__(self, log: Path, settings: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {
            **os.environ,
            **SERVER_ENV,
            **(settings or {}),
            "UVICORN_HOST": "127.0.0.1",
            "UVICORN_PORT": str(self.port),
        }
        with log.open("wb") as output:
            command = [sys.executable, "-m", "service"]
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        wait_until_healthy(self.process, self.url, log)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=BOUND)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def records(self) -> list[dict[str, Any]]:
        """The JSON log records written so far (every line must be one)."""
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("faults") / "server.log")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=BOUND) as client:
        assert client.post("/v1/gradient", json=CACHED).status_code == 200  # cached from now on
        yield client


def metric(http: httpx.Client, name: str) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not in /metrics")


def until(condition: Callable[[], bool], what: str) -> None:
    limit = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < limit, f"waited {BOUND} s for {what}"
        time.sleep(0.02)


def in_background(server: Server, method: str, path: str, body: dict[str, Any]) -> Callable[[], httpx.Response]:
    """Send a request from a thread; the returned function waits for its response."""
    answer: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(base_url=server.url, timeout=BOUND) as client:
            answer.append(client.request(method, path, json=body))

    thread = threading.Thread(target=send)
    thread.start()

    def wait() -> httpx.Response:
        thread.join(BOUND)
        assert answer, "the request did not complete"
        return answer[0]

    return wait


def _children(pid: int) -> list[tuple[int, bytes]]:
    """The live child processes of ``pid``, with their command lines."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append((int(entry.name), command))
    return found


def workers_of(pid: int) -> list[int]:
    """The live worker processes of ``pid``: the children of its multiprocessing fork server."""
    servers = [child for child, command in _children(pid) if b"forkserver" in command]
    return [worker for server in servers for worker, _ in _children(server)]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def assert_cached_answer(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["value"] == pytest.approx(CACHED_VALUE, rel=1e-14)


def assert_busy_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["type"] == "/problems/service_unavailable"
    assert body["request_id"] == response.headers["x-request-id"]


class TestWorkerKilled:
    def test_the_request_gets_503_and_service_resumes(self, server: Server, http: httpx.Client) -> None:
        crashes = metric(http, "nabla_worker_crashes_total")
        # After a replacement the new pool's worker may still be starting and the old one stopping: use the pool,
        # then wait for the one worker.
        assert http.post("/v1/derivative", json={"function": "x^9 + 1", "at": [1]}).json()["value"] == 9
        until(lambda: len(workers_of(server.process.pid)) == 1, "one worker process")
        [worker] = workers_of(server.process.pid)
        idle = cpu_seconds(worker)
        slow = in_background(server, "POST", "/v1/derivative", SLOW)
        until(lambda: cpu_seconds(worker) > idle + 0.3, "the worker to start computing")
        os.kill(worker, signal.SIGKILL)
        response = slow()
        assert_busy_503(response)
        assert response.json()["detail"] == (
            "a worker process stopped unexpectedly; it has been replaced, retry the request"
        )
        assert_cached_answer(http.post("/v1/gradient", json=CACHED))
        fresh = http.post("/v1/derivative", json={"function": "x^5", "order": 2, "at": [2]})  # needs a new worker
        assert fresh.status_code == 200
        assert fresh.json()["value"] == 20 * 2**3
        assert metric(http, "nabla_worker_crashes_total") == crashes + 1


class TestDeadline:
    def test_other_requests_succeed_while_one_hits_its_deadline(self, server: Server, http: httpx.Client) -> None:
        timeouts = metric(http, "nabla_worker_timeouts_total")
        slow = in_background(server, "POST", "/v1/derivative", SLOW)
        until(lambda: metric(http, "nabla_workers_busy") == 1, "the slow request to reach the worker")
        waiting = in_background(server, "POST", "/v1/gradient", {"function": "x^4 + x*y", "at": [2, 3]})
        until(lambda: metric(http, "nabla_queue_depth") == 1, "the second request to wait for the worker")
        served = [http.post("/v1/gradient", json=CACHED) for _ in range(20)]
        assert slow().json()["type"] == "/problems/too_complex"
        second = waiting()  # it waited for the one worker, replaced at the deadline: it ran on the replacement
        assert second.status_code == 200, second.text
        assert second.json()["value"] == [4 * 2**3 + 3, 2]
        for response in served:
            assert_cached_answer(response)
        assert metric(http, "nabla_worker_timeouts_total") == timeouts + 1


class TestDeadlineWithTwoWorkers:
    def test_a_deadline_replaces_one_worker_while_the_other_serves_new_derivatives(self, tmp_path: Path) -> None:
        server = Server(tmp_path / "server.log", {"NABLA_WORKERS": "2", "NABLA_MAX_QUEUE": "4"})
        try:
            with httpx.Client(base_url=server.url, timeout=BOUND) as http:
                until(lambda: len(workers_of(server.process.pid)) == 2, "two worker processes")
                before = set(workers_of(server.process.pid))
                slow = in_background(server, "POST", "/v1/derivative", SLOW)
                until(lambda: metric(http, "nabla_workers_busy") == 1, "the slow request to reach a worker")
                answered = []
                while metric(http, "nabla_worker_timeouts_total") == 0:  # new functions, each needs a worker
                    number = len(answered) + 2
                    body = {"function": f"x^{number} + {number}*x", "order": 2, "at": [1]}
                    answered.append((number, http.post("/v1/derivative", json=body)))
                response = slow()
                assert response.status_code == 422, response.text
                assert response.json()["type"] == "/problems/too_complex"
                assert answered  # served on the other worker while the slow request held one
                for number, answer in answered:
                    assert answer.status_code == 200, answer.text
                    assert answer.json()["value"] == number * (number - 1)
                until(lambda: len(workers_of(server.process.pid)) == 2, "the replacement to start, the old to stop")
                after = set(workers_of(server.process.pid))
                assert len(before & after) == 1  # the other worker was never stopped
                assert metric(http, "nabla_worker_pool_restarts_total") == 1
                fresh = http.post("/v1/derivative", json={"function": "x^7", "order": 3, "at": [1]})
                assert fresh.json()["value"] == 210
        finally:
            server.stop()


class TestBurst:
    def test_above_capacity_the_excess_gets_fast_503s_and_nothing_else(
        self, server: Server, http: httpx.Client, capsys: pytest.CaptureFixture[str]
    ) -> None:
        rejections = metric(http, "nabla_admission_rejections_total")
        logged = sum(r.get("status") == 503 for r in server.records())
        slow = in_background(server, "POST", "/v1/derivative", SLOW)  # holds the one worker until the deadline
        until(lambda: metric(http, "nabla_workers_busy") == 1, "the worker to be busy")
        queued = in_background(server, "POST", "/v1/gradient", {"function": "x^6", "at": [1]})
        until(lambda: metric(http, "nabla_queue_depth") == 1, "the queue to be full")

        def call(number: int) -> tuple[httpx.Response, float]:
            body = CACHED if number % 5 == 0 else {"function": f"x^{number} + {number}*y", "at": [1, 1]}
            start = time.perf_counter()
            response = burst.post("/v1/gradient", json=body)
            return response, time.perf_counter() - start

        limits = httpx.Limits(max_connections=16)
        with httpx.Client(base_url=server.url, timeout=BOUND, limits=limits) as burst:
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=16) as pool:
                results = list(pool.map(call, range(1, 61)))
            elapsed = time.perf_counter() - start
        refused = [seconds for response, seconds in results if response.status_code == 503]
        for number, (response, _) in enumerate(results, start=1):
            if number % 5 == 0:
                assert_cached_answer(response)  # no worker needed: never refused
            else:
                assert_busy_503(response)
        assert slow().status_code == 422
        assert queued().status_code == 200
        assert metric(http, "nabla_admission_rejections_total") == rejections + len(refused)
        until(  # access lines go out in one write a few times a second
            lambda: sum(r.get("status") == 503 for r in server.records()) >= logged + len(refused), "the 503 records"
        )
        inside = sorted([r["duration_ms"] for r in server.records() if r.get("status") == 503][-len(refused) :])
        refused.sort()
        with capsys.disabled():
            print(  # noqa: T201 (the figures the README quotes)
                f"\nburst: {len(results)} requests, 16 at a time, in {elapsed:.2f} s; {len(refused)} refused; 503 "
                f"latency at the client median {refused[len(refused) // 2] * 1e3:.1f} ms, max {refused[-1] * 1e3:.1f} "
                f"ms; in the server median {inside[len(inside) // 2]:.1f} ms, max {inside[-1]:.1f} ms"
            )


def partial_post(server: Server, body: bytes, sent: int) -> socket.socket:
    """A connection that has sent the headers and ``sent`` bytes of ``body``, and then stalls."""
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=BOUND)
    head = (
        f"POST /v1/gradient HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    connection.sendall(head.encode() + body[:sent])
    return connection


def response_of(connection: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
        chunk = connection.recv(65_536)
        if not chunk:
            break
        received += chunk
    return received


class TestSlowClients:
    def test_stalled_connections_do_not_block_other_requests(self, server: Server, http: httpx.Client) -> None:
        body = json.dumps(CACHED).encode()
        silent = socket.create_connection(("127.0.0.1", server.port), timeout=BOUND)  # sends nothing at all
        half_headers = socket.create_connection(("127.0.0.1", server.port), timeout=BOUND)
        half_headers.sendall(b"POST /v1/gradient HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        stalled = [partial_post(server, body, sent) for sent in (0, 5, len(body) - 1)]
        try:
            for _ in range(10):
                assert_cached_answer(http.post("/v1/gradient", json=CACHED))
            assert http.get("/readyz").status_code == 200
            stalled[-1].sendall(body[-1:])  # the slow body, finished at last, is answered normally
            answer = response_of(stalled[-1])
            assert answer.startswith(b"HTTP/1.1 200")
            assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["value"] == pytest.approx(CACHED_VALUE, rel=1e-14)
        finally:
            for connection in (silent, half_headers, *stalled):
                connection.close()


class TestHeaderLimit:
    def head(self, server: Server, header: bytes) -> socket.socket:
        connection = socket.create_connection(("127.0.0.1", server.port), timeout=BOUND)
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header)
        return connection

    def test_a_header_section_over_the_limit_is_a_431_problem_without_reading_the_rest(
        self, server: Server, http: httpx.Client
    ) -> None:
        connection = self.head(server, b"X-Big: " + b"a" * 100_000)  # headers not finished: the rest never comes
        try:
            answer = response_of(connection)
        finally:
            connection.close()
        head, body = answer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 431 ")
        assert b"content-type: application/problem+json" in head
        problem = json.loads(body)
        assert (problem["status"], problem["type"]) == (431, "/problems/headers_too_large")
        assert problem["detail"] == (
            "the request line and headers are larger than 65536 bytes (NABLA_MAX_HEADER_BYTES); "
            "send large data in the body"
        )
        assert_cached_answer(http.post("/v1/gradient", json=CACHED))

    def test_a_header_section_under_the_limit_is_served(self, server: Server) -> None:
        connection = self.head(server, b"X-Big: " + b"a" * 60_000 + b"\r\n\r\n")
        try:
            assert response_of(connection).startswith(b"HTTP/1.1 200 ")
        finally:
            connection.close()


class TestEventLoop:
    def test_healthz_answers_in_under_100_ms_while_cached_requests_recheck_overflows(
        self, server: Server, http: httpx.Client
    ) -> None:
        terms = " + ".join(f"exp({k}*x + y^2)*sin({k}*y)" for k in range(1, 150))
        hostile = {"function": terms, "points": [[800.0 + i, 30.0] for i in range(32)]}  # every value overflows
        assert http.post("/v1/gradient", json=hostile).json()["warnings"][0]["status"] == "non_finite"  # compiled
        with ThreadPoolExecutor(8) as pool:
            answers = [pool.submit(http.post, "/v1/gradient", json=hostile) for _ in range(8)]
            worst = 0.0
            while not all(a.done() for a in answers):
                start = time.perf_counter()
                assert http.get("/healthz").status_code == 200
                worst = max(worst, time.perf_counter() - start)
                time.sleep(0.01)
        assert all(a.result().status_code == 200 for a in answers)
        assert worst < 0.1, f"/healthz took {worst * 1000:.0f} ms"


def _peak_rss_mib(pid: int) -> float:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


class TestOutputLimit:
    """An answer larger than NABLA_MAX_OUTPUT_VALUES is refused before any evaluation: the web process's peak memory
    does not grow with the answer it would have been."""

    def test_a_batch_whose_answer_is_over_the_limit_is_a_413_before_any_work(self, tmp_path: Path) -> None:
        server = Server(tmp_path / "limit.log", {"NABLA_MAX_OUTPUT_VALUES": "1000000"})
        try:
            names = [f"x{i}" for i in range(20)]
            function = " + ".join(f"{a}*{b}" for a, b in itertools.pairwise(names))
            points = [[0.5] * 20] * 20_000  # a Hessian of 400 entries at each: 8e6 values, 8 times the limit
            with httpx.Client(base_url=server.url, timeout=BOUND) as http:
                small = http.post("/v1/hessian", json={"function": function, "points": points[:2000]})
                assert small.status_code == 200  # 8e5 values: under the limit (and the function compiled)
                before = _peak_rss_mib(server.process.pid)
                refused = http.post("/v1/hessian", json={"function": function, "points": points})
                after = _peak_rss_mib(server.process.pid)
            assert refused.status_code == 413
            assert refused.json()["detail"] == (
                "the answer would hold 20000 points x 400 values = 8000000 values; the limit is 1000000 "
                "(NABLA_MAX_OUTPUT_VALUES); send the points in smaller batches"
            )
            assert after - before < 64, f"the web process grew by {after - before:.0f} MiB for a refused answer"
        finally:
            server.stop()


class TestLogs:
    def test_every_line_is_json_and_requests_are_logged_with_their_id(self, server: Server, http: httpx.Client) -> None:
        http.post("/v1/gradient", json=CACHED, headers={"X-Request-ID": "faults-log-1"})
        until(lambda: any(r.get("request_id") == "faults-log-1" for r in server.records()), "the access record")
        [record] = [r for r in server.records() if r.get("request_id") == "faults-log-1"]
        assert record["logger"] == "nabla.access"
        assert (record["method"], record["path"], record["status"]) == ("POST", "/v1/gradient", 200)
        assert record["duration_ms"] > 0
        assert record["client"].startswith("127.0.0.1:")
        assert {"time", "level", "message"} <= set(record)


class TestGracefulShutdown:
    def test_sigterm_finishes_the_request_in_flight_then_closes_the_pool(self, tmp_path: Path) -> None:
        server = Server(tmp_path / "server.log")
        body = json.dumps({**CACHED, "function": "x^3 * y + sin(z)"}).encode()
        try:
            with httpx.Client(base_url=server.url, timeout=BOUND) as http:
                in_flight = partial_post(server, body, len(body) // 2)
                until(lambda: metric(http, "http_requests_inprogress") == 2, "the request to be in flight")
            server.process.send_signal(signal.SIGTERM)
            until(lambda: "Shutting down" in server.log.read_text(), "uvicorn to begin its shutdown")
            in_flight.sendall(body[len(body) // 2 :])
            answer = response_of(in_flight)
            in_flight.close()
            assert answer.startswith(b"HTTP/1.1 200"), answer
            assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["value"] == pytest.approx(
                [3 * 1.5**2 * -2, 1.5**3, math.cos(0.5)], rel=1e-14
            )
            server.process.wait(timeout=BOUND)
        finally:
            server.stop()
        assert server.process.returncode in (0, -signal.SIGTERM)
        messages = [r["message"] for r in server.records()]
        served = messages.index(next(m for m in messages if m.startswith("POST /v1/gradient 200")))
        assert served < messages.index("worker pool closed") < messages.index("Application shutdown complete.")
