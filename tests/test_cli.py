"""The command line, in-process: options over UVICORN_* variables over defaults, help, and one-line errors.

uvicorn.run is replaced by a recorder (tests/e2e/test_cli.py starts the real server with these commands).
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from service import __version__, cli
from service.config import ServerSettings
from service.observability.logs import log_config
from service.protocol import BoundedHttpTools

Runs = list[dict[str, Any]]


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Runs:
    """The keyword arguments of every uvicorn.run call (none starts a server)."""
    calls: Runs = []

    def record(app: str, **options: Any) -> None:
        calls.append({"app": app, **options})

    monkeypatch.setattr(cli.uvicorn, "run", record)
    for name in ServerSettings.model_fields:
        monkeypatch.delenv(f"UVICORN_{name.upper()}", raising=False)
    return calls


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def expected_run(**server: Any) -> dict[str, Any]:
    """What ``serve`` passes to uvicorn.run for these server settings (the others at their defaults)."""
    settings = ServerSettings(**server)
    return {
        "app": "service.main:app",
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers,
        "loop": "uvloop",
        "http": BoundedHttpTools,  # httptools with a bound on the header section (service/protocol.py)
        "log_config": log_config(cli.Settings()),
        "access_log": False,
        "timeout_keep_alive": settings.timeout_keep_alive,
        "timeout_graceful_shutdown": settings.timeout_graceful_shutdown,
        "limit_concurrency": settings.limit_concurrency,
    }


def last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


class TestServe:
    def test_the_defaults_without_options_or_variables(self, runs: Runs) -> None:
        # The default port 8000 may be taken on this machine: the listen check is not what this test is about.
        port = free_port()
        assert cli.main(["serve", "--port", str(port)]) == 0
        assert runs == [expected_run(port=port)]
        assert (runs[0]["host"], runs[0]["workers"], runs[0]["timeout_keep_alive"]) == ("127.0.0.1", 1, 5)

    def test_options_override_the_uvicorn_variables(self, runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
        env_port, port = free_port(), free_port()
        monkeypatch.setenv("UVICORN_PORT", str(env_port))
        monkeypatch.setenv("UVICORN_WORKERS", "3")
        monkeypatch.setenv("UVICORN_TIMEOUT_KEEP_ALIVE", "7")
        assert cli.main(["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]) == 0
        assert runs == [expected_run(host="127.0.0.1", port=port, workers=2, timeout_keep_alive=7)]

    def test_the_uvicorn_variables_apply_without_options(self, runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
        port = free_port()
        monkeypatch.setenv("UVICORN_PORT", str(port))
        monkeypatch.setenv("UVICORN_LIMIT_CONCURRENCY", "50")
        monkeypatch.setenv("UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN", "9")
        assert cli.main(["serve"]) == 0
        assert runs == [expected_run(port=port, limit_concurrency=50, timeout_graceful_shutdown=9)]

    def test_every_server_setting_is_an_option(self, runs: Runs) -> None:
        port = free_port()
        values = {"host": "127.0.0.1", "port": port, "workers": 2, "timeout_keep_alive": 3}
        values |= {"timeout_graceful_shutdown": 4, "limit_concurrency": 8}
        assert set(values) == set(ServerSettings.model_fields)
        options = [item for name, value in values.items() for item in (f"--{name.replace('_', '-')}", str(value))]
        assert cli.main(["serve", *options]) == 0
        assert runs == [expected_run(**values)]

    def test_python_dash_m_service_is_the_same_command(self, runs: Runs) -> None:
        port = free_port()
        assert cli.serve_main(["--port", str(port), "--workers", "2"]) == 0
        assert runs == [expected_run(port=port, workers=2)]


class TestErrors:
    def test_a_busy_port_is_one_line_and_exit_status_1(
        self, runs: Runs, busy_port: int, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert cli.main(["serve", "--host", "127.0.0.1", "--port", str(busy_port)]) == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert err == (
            f"nabla serve: error: port {busy_port} on 127.0.0.1 is already in use (another server?); stop it, or "
            "choose another port with --port or UVICORN_PORT\n"
        )
        assert runs == []  # found before uvicorn (and the app's workers) start

    def test_a_busy_port_from_the_variable(
        self, runs: Runs, busy_port: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("UVICORN_PORT", str(busy_port))
        assert cli.serve_main([]) == 1
        assert capsys.readouterr().err == (
            f"python -m service: error: port {busy_port} on 127.0.0.1 is already in use (another server?); stop it, "
            "or choose another port with --port or UVICORN_PORT\n"
        )
        assert runs == []

    def test_a_host_that_does_not_resolve(self, runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
        assert cli.main(["serve", "--host", "no-such-host.invalid", "--port", "0"]) == 1
        err = capsys.readouterr().err
        assert err.startswith(
            "nabla serve: error: cannot listen on no-such-host.invalid:0: the host does not resolve ("
        )
        assert err.endswith("); give another --host\n")
        assert err.count("\n") == 1
        assert runs == []

    def test_an_address_of_another_machine(self, runs: Runs, capsys: pytest.CaptureFixture[str]) -> None:
        # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never an address of this machine.
        assert cli.main(["serve", "--host", "192.0.2.1", "--port", "8000"]) == 1
        assert capsys.readouterr().err == (
            "nabla serve: error: cannot listen on 192.0.2.1:8000: Cannot assign requested address; choose another "
            "--host or --port\n"
        )
        assert runs == []

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            (["--port", "70000"], "--port: Input should be less than or equal to 65535 (got '70000')"),
            (["--workers", "0"], "--workers: Input should be greater than or equal to 1 (got '0')"),
            (
                ["--port", "http"],
                "--port: Input should be a valid integer, unable to parse string as an integer (got 'http')",
            ),
        ],
    )
    def test_a_wrong_option(
        self, runs: Runs, capsys: pytest.CaptureFixture[str], options: list[str], message: str
    ) -> None:
        with pytest.raises(SystemExit) as exit_:
            cli.main(["serve", *options])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("usage: nabla serve ")
        assert last_line(err) == f"nabla serve: error: {message}"
        assert runs == []

    @pytest.mark.parametrize(
        ("variable", "value", "message"),
        [
            ("UVICORN_PORT", "-1", "UVICORN_PORT: Input should be greater than or equal to 0 (got '-1')"),
            ("NABLA_WORKERS", "0", "NABLA_WORKERS: Input should be greater than or equal to 1 (got '0')"),
        ],
    )
    def test_a_wrong_variable(
        self,
        runs: Runs,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        variable: str,
        value: str,
        message: str,
    ) -> None:
        monkeypatch.setenv(variable, value)
        with pytest.raises(SystemExit) as exit_:
            cli.serve_main([])
        assert exit_.value.code == 2
        assert last_line(capsys.readouterr().err) == f"python -m service: error: {message}"
        assert runs == []

    def test_no_command(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_:
            cli.main([])
        assert exit_.value.code == 2
        assert last_line(capsys.readouterr().err) == "nabla: error: the following arguments are required: COMMAND"

    def test_an_unknown_command(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_:
            cli.main(["derive"])
        assert exit_.value.code == 2
        # The quoting of the choices differs between Python versions.
        assert last_line(capsys.readouterr().err).startswith("nabla: error: argument COMMAND: invalid choice: 'derive'")


class TestHelp:
    def help_of(self, argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
        monkeypatch.setenv("COLUMNS", "200")  # one line per option
        with pytest.raises(SystemExit) as exit_:
            cli.main(argv)
        assert exit_.value.code == 0
        return capsys.readouterr().out

    def test_nabla_lists_its_commands(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        text = self.help_of(["--help"], capsys, monkeypatch)
        assert text.startswith("usage: nabla [-h] [--version] COMMAND ...\n")
        assert "Nabla: derivatives as a service." in text
        assert "    serve      serve the HTTP API\n" in text
        assert "    gradient   the gradient from the server\n" in text
        assert "    stats      a distribution's statistics from the server\n" in text

    def test_serve_documents_every_option(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        text = self.help_of(["serve", "--help"], capsys, monkeypatch)
        assert text.startswith("usage: nabla serve [-h] [--host HOST] [--port PORT] [--workers N] ")
        assert "  --host HOST  " in text
        assert "Address to listen on (0.0.0.0 in a container). Default: 127.0.0.1, or $UVICORN_HOST.\n" in text
        assert "  --port PORT  " in text
        assert "TCP port. Default: 8000, or $UVICORN_PORT.\n" in text
        assert "  --workers N  " in text
        assert "symbolic workers. Default: 1, or $UVICORN_WORKERS.\n" in text
        for name, field in ServerSettings.model_fields.items():
            assert f"--{name.replace('_', '-')} " in text
            assert f"{field.description} Default: " in text
            assert f", or $UVICORN_{name.upper()}.\n" in text
        epilog = "Exit status: 1 when the address cannot be listened on, 2 for a wrong option or variable."
        assert epilog in " ".join(text.split())

    def test_the_version(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        assert self.help_of(["--version"], capsys, monkeypatch) == f"nabla {__version__}\n"


class TestCannotListen:
    def test_a_free_port(self) -> None:
        assert cli.cannot_listen("127.0.0.1", free_port()) is None

    def test_any_port(self) -> None:
        assert cli.cannot_listen("127.0.0.1", 0) is None

    def test_a_port_in_use_on_one_of_the_addresses(self, busy_port: int) -> None:
        # localhost is 127.0.0.1 and, where IPv6 is on, ::1; uvicorn listens on both, so one busy is a refusal.
        assert cli.cannot_listen("localhost", busy_port) == (
            f"port {busy_port} on localhost is already in use (another server?); stop it, or choose another port "
            "with --port or UVICORN_PORT"
        )
