"""End to end: a real uvicorn process on loopback, real HTTP, hostile inputs.

Every hostile request must get a 4xx problem document within the compute deadline plus a margin, and the server must
answer normally afterwards.
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 3  # NABLA_COMPUTE_TIMEOUT of the server under test
STARTUP = 90.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    limit = time.monotonic() + STARTUP
    while time.monotonic() < limit:
        if process.poll() is not None:
            pytest.fail(f"uvicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"uvicorn did not become healthy in {STARTUP} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a uvicorn serving service.main:app with a 3 s compute deadline."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    env = {**os.environ, "NABLA_COMPUTE_TIMEOUT": str(DEADLINE)}
    command = [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(process, url, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=DEADLINE + 30) as client:
        yield client


def post(http: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    """A request whose answer must come within the client's timeout (the deadline and a generous margin): a hang
    fails the test with a timeout error. Speed is measured by tests/bench, not here."""
    return http.post(path, json=body)


def assert_healthy(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def gradient_request() -> dict[str, Any]:
    return {"function": "2^(x*y) + z*cos(x)", "at": {"x": 1, "y": 2, "z": 3}}


def assert_real_gradient(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["variables"] == ["x", "y", "z"]
    x, y, z = 1, 2, 3
    expected = [y * math.log(2) * 2 ** (x * y) - z * math.sin(x), x * math.log(2) * 2 ** (x * y), math.cos(x)]
    assert body["value"] == pytest.approx(expected, rel=1e-12)


def test_a_real_gradient(http: httpx.Client) -> None:
    assert_real_gradient(http.post("/v1/gradient", json=gradient_request()))


def test_malformed_json_over_http(http: httpx.Client) -> None:
    response = http.post(
        "/v1/gradient", content=b'{"function": "x", "at": [NaN]}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/malformed_json"


HOSTILE = {
    "import": ("/v1/gradient", {"function": "__import__('os').system('echo hi')"}, 422, "syntax_error"),
    "dunder class": ("/v1/gradient", {"function": "().__class__"}, 422, "syntax_error"),
    "exec": ("/v1/gradient", {"function": "exec('1')"}, 422, "syntax_error"),
    "lambda": ("/v1/gradient", {"function": "lambda: 1"}, 422, "syntax_error"),
    "power tower": ("/v1/gradient", {"function": "9^9^9^9"}, 422, "limit_exceeded"),
    "power tower in a point": ("/v1/gradient", {"function": "x", "at": ["9^9^9^9"]}, 422, "invalid_point"),
    "5000-deep parentheses": ("/v1/gradient", {"function": "(" * 5000 + "x" + ")" * 5000}, 422, "limit_exceeded"),
    "4000-deep parentheses": ("/v1/gradient", {"function": "(" * 4000 + "x" + ")" * 4000}, 422, "limit_exceeded"),
    "9000 unary minuses": ("/v1/gradient", {"function": "-" * 9000 + "x"}, 422, "limit_exceeded"),
    "200000 terms": ("/v1/gradient", {"function": "+".join(["x"] * 200_000)}, 422, "limit_exceeded"),
    "order 10^6": ("/v1/derivative", {"function": "x", "order": 10**6}, 422, "validation_error"),
    "order 5000": ("/v1/derivative", {"function": "x", "order": 5000}, 422, "limit_exceeded"),
    "expression swell": ("/v1/derivative", {"function": "x^x^x^x^x", "order": 40}, 422, "too_complex"),
    "past the deadline": ("/v1/derivative", {"function": "gamma(x)", "order": 200, "at": ["1/3"]}, 422, "too_complex"),
}


@pytest.mark.parametrize(("path", "body", "status", "slug"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_is_refused_in_time(
    http: httpx.Client, path: str, body: dict[str, Any], status: int, slug: str
) -> None:
    response = post(http, path, body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == f"/problems/{slug}"
    assert problem["detail"]
    assert_healthy(http)


def test_the_deadline_names_itself(http: httpx.Client) -> None:
    response = post(http, "/v1/derivative", {"function": "gamma(x)", "order": 199, "at": ["1/5"]})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "the symbolic work took longer than 3 s and was stopped; ask for a lower order, fewer variables or a simpler "
        "function"
    )
    assert_healthy(http)


def test_injected_code_never_runs(http: httpx.Client, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    attempts = [
        f"__import__('os').system('touch {marker}')",
        f"open('{marker}', 'w')",
        "().__class__.__base__.__subclasses__()",
        "x.__class__",
        "getattr(x, 'real')",
    ]
    for attempt in attempts:
        response = post(http, "/v1/gradient", {"function": attempt})
        assert 400 <= response.status_code < 500, attempt
    assert not marker.exists()


def test_a_fast_request_is_served_while_a_slow_one_runs(http: httpx.Client, server: str) -> None:
    http.post("/v1/gradient", json=gradient_request())  # warm the cache: no worker needed from now on
    slow: list[httpx.Response] = []

    def run_slow() -> None:
        with httpx.Client(base_url=server, timeout=DEADLINE + 30) as other:
            slow.append(other.post("/v1/derivative", json={"function": "gamma(x)", "order": 198, "at": ["1/7"]}))

    thread = threading.Thread(target=run_slow)
    thread.start()
    time.sleep(0.5)
    response = post(http, "/v1/gradient", gradient_request())
    assert not slow, "the fast request waited for the slow one"  # answered while the slow one still ran
    thread.join()
    assert_real_gradient(response)
    assert slow[0].status_code == 422


def test_normal_requests_still_succeed_afterwards(http: httpx.Client) -> None:
    assert_healthy(http)
    assert_real_gradient(http.post("/v1/gradient", json=gradient_request()))
    response = http.post("/v1/hessian", json={"function": "x^2 - y^2", "at": [1, 1]})
    assert response.status_code == 200
    assert response.json()["classification"] == "indefinite"
