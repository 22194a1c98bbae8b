"""End to end: the real server started by ``python -m service --host --port --workers`` and by ``nabla serve``, on
loopback and a free port; their help; a busy port refused in one line with exit status 1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_server import ROOT, STARTUP, assert_real_gradient, free_port, gradient_request, wait_until_healthy

pytestmark = pytest.mark.e2e

NABLA = Path(sys.executable).with_name("nabla")  # the console script pip installed beside this interpreter
COMMANDS = {"python -m service": [sys.executable, "-m", "service"], "nabla serve": [str(NABLA), "serve"]}
ENV = {**os.environ, "NABLA_WORKERS": "1", "NABLA_LOG_FORMAT": "plain"}


def start(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


CLEAN_STOP = (0, -signal.SIGTERM)  # one process raises SIGTERM again after its graceful shutdown; a supervisor exits 0


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then the exit status (killed only if it hangs)."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def wait_for(log: Path, text: str, count: int) -> None:
    limit = time.monotonic() + STARTUP
    while log.read_text().count(text) < count:
        assert time.monotonic() < limit, f"{text!r} not {count} times in the log:\n{log.read_text()}"
        time.sleep(0.1)


class TestServe:
    def test_python_dash_m_service_with_host_port_and_workers(self, tmp_path: Path, busy_port: int) -> None:
        # UVICORN_PORT names a busy port and UVICORN_WORKERS 1: the options win over both.
        port = free_port()
        log = tmp_path / "server.log"
        env = {**ENV, "UVICORN_PORT": str(busy_port), "UVICORN_WORKERS": "1"}
        options = ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
        process = start([*COMMANDS["python -m service"], *options], log, env)
        try:
            wait_until_healthy(process, f"http://127.0.0.1:{port}", log)
            wait_for(log, "Started server process", 2)  # two web processes
            assert "Started parent process" in log.read_text()
            assert_real_gradient(httpx.post(f"http://127.0.0.1:{port}/v1/gradient", json=gradient_request()))
        finally:
            assert stop(process) in CLEAN_STOP, log.read_text()
        text = log.read_text()
        assert f"Uvicorn running on http://127.0.0.1:{port}" in text
        assert text.count("Application shutdown complete.") == 2

    def test_nabla_serve(self, tmp_path: Path) -> None:
        port = free_port()
        log = tmp_path / "server.log"
        process = start([*COMMANDS["nabla serve"], "--host", "127.0.0.1", "--port", str(port)], log, ENV)
        try:
            wait_until_healthy(process, f"http://127.0.0.1:{port}", log)
            assert_real_gradient(httpx.post(f"http://127.0.0.1:{port}/v1/gradient", json=gradient_request()))
        finally:
            assert stop(process) in CLEAN_STOP, log.read_text()
        text = log.read_text()
        assert f"Uvicorn running on http://127.0.0.1:{port}" in text
        assert text.count("Started server process") == 1  # --workers defaults to UVICORN_WORKERS's default, 1
        assert "Application shutdown complete." in text


class TestRefusals:
    @pytest.mark.parametrize("name", COMMANDS)
    def test_a_busy_port_is_one_line_and_exit_status_1(self, name: str, busy_port: int) -> None:
        command = [*COMMANDS[name], "--host", "127.0.0.1", "--port", str(busy_port)]
        result = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=STARTUP)
        assert result.returncode == 1
        assert result.stdout == ""  # no log line: neither uvicorn nor the app started
        assert result.stderr == (
            f"{name}: error: port {busy_port} on 127.0.0.1 is already in use (another server?); stop it, or choose "
            "another port with --port or UVICORN_PORT\n"
        )

    def test_help(self) -> None:
        # Each command's help is checked in full in tests/test_cli.py; here, the module's, as a shell runs it.
        env = {**ENV, "COLUMNS": "200"}
        result = subprocess.run(
            [*COMMANDS["python -m service"], "--help"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0
        assert result.stderr == ""
        text = result.stdout
        assert text.startswith("usage: python -m service [-h] [--host HOST] [--port PORT] [--workers N] ")
        assert "TCP port. Default: 8000, or $UVICORN_PORT.\n" in text
        assert "Address to listen on (0.0.0.0 in a container). Default: 127.0.0.1, or $UVICORN_HOST.\n" in text
        assert "symbolic workers. Default: 1, or $UVICORN_WORKERS.\n" in text
