"""The ``nabla`` command line. ``nabla serve`` runs the HTTP service; ``python -m service`` is the same command.

Each ``serve`` option is a field of ``ServerSettings``: an option given on the command line overrides its
``UVICORN_*`` variable, which overrides the default. A wrong option or variable, or an address that cannot be listened
on, is one line on stderr and a non-zero exit, found before the application and its workers start. A new sub-command
is a function that adds its parser in ``_SUB_COMMANDS``.
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import uvicorn
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings

from service import __version__
from service.config import ServerSettings, Settings
from service.observability.logs import log_config

AnySettings = TypeVar("AnySettings", bound=BaseSettings)
EXIT_CANNOT_LISTEN = 1  # argparse's own exit status for a wrong option is 2
_METAVARS = {"host": "HOST", "port": "PORT"}
_EPILOG = (
    "Every option overrides its UVICORN_* variable; the NABLA_* variables set the limits (see the README's settings "
    "tables). SIGTERM or Ctrl-C stops it gracefully. Exit status: 1 when the address cannot be listened on, 2 for a "
    "wrong option or variable."
)


def main(argv: Sequence[str] | None = None) -> int:
    """``nabla``: the console script."""
    parser = argparse.ArgumentParser(prog="nabla", description="Nabla: derivatives as a service.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", required=True)
    for add in _SUB_COMMANDS:
        add(commands)
    args = parser.parse_args(argv)
    run: Callable[[argparse.ArgumentParser, argparse.Namespace], int] = args.run
    return run(args.parser, args)


def serve_main(argv: Sequence[str] | None = None) -> int:
    """``python -m service``: ``nabla serve`` under the module's name."""
    parser = argparse.ArgumentParser(prog="python -m service", description=_SERVE_DESCRIPTION, epilog=_EPILOG)
    _serve_options(parser)
    return serve(parser, parser.parse_args(argv))


_SERVE_DESCRIPTION = "Serve the Nabla HTTP API with uvicorn (JSON logs, graceful shutdown on SIGTERM)."


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("serve", help="serve the HTTP API", description=_SERVE_DESCRIPTION, epilog=_EPILOG)
    _serve_options(parser)
    parser.set_defaults(run=serve, parser=parser)


_SUB_COMMANDS: tuple[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None], ...] = (_add_serve,)


def _serve_options(parser: argparse.ArgumentParser) -> None:
    """One option per ``ServerSettings`` field, its help the field's description, its default ``None`` (not given)."""
    prefix = ServerSettings.model_config.get("env_prefix", "")
    for name, field in ServerSettings.model_fields.items():
        default = "none" if field.default is None else field.default
        description = (field.description or "").replace("%", "%%")
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            metavar=_METAVARS.get(name, "N"),
            help=f"{description} Default: {default}, or ${prefix}{name.upper()}.",
        )


def serve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Run uvicorn with the options over the ``UVICORN_*`` variables; 1 (and one line) if it cannot listen."""
    given = {name: value for name in ServerSettings.model_fields if (value := getattr(args, name)) is not None}
    server = _settings(parser, ServerSettings, given)
    settings = _settings(parser, Settings, {})
    refusal = cannot_listen(server.host, server.port)
    if refusal is not None:
        print(f"{parser.prog}: error: {refusal}", file=sys.stderr)  # noqa: T201 (the command's own error line)
        return EXIT_CANNOT_LISTEN
    from service.protocol import BoundedHttpTools  # the web stack, imported only to serve

    uvicorn.run(
        "service.main:app",
        host=server.host,
        port=server.port,
        workers=server.workers,
        loop="uvloop",
        http=BoundedHttpTools,
        log_config=log_config(settings),
        access_log=False,
        timeout_keep_alive=server.timeout_keep_alive,
        timeout_graceful_shutdown=server.timeout_graceful_shutdown,
        limit_concurrency=server.limit_concurrency,
    )
    return 0


def _settings(parser: argparse.ArgumentParser, kind: type[AnySettings], given: dict[str, Any]) -> AnySettings:
    """``kind(**given)`` over its environment variables; a wrong value is the parser's one-line error (exit 2)."""
    try:
        return kind(**given)
    except ValidationError as error:
        parser.error("; ".join(_wrong(kind, given, problem) for problem in error.errors()))


def _wrong(kind: type[BaseSettings], given: dict[str, Any], problem: ErrorDetails) -> str:
    """``--port: Input should be ... (got '70000')``, or ``UVICORN_PORT: ...`` when the variable was wrong."""
    name = str(problem["loc"][0]) if problem["loc"] else ""
    prefix = kind.model_config.get("env_prefix", "")
    where = f"--{name.replace('_', '-')}" if name in given else f"{prefix}{name}".upper()
    return f"{where}: {problem['msg']} (got {problem['input']!r})"


def cannot_listen(host: str, port: int) -> str | None:
    """Why uvicorn could not listen on ``host:port`` (a port in use, an address not on this machine, a privileged
    port), found by binding and closing each address the host resolves to, as uvicorn binds them; None if it can."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        return f"cannot listen on {host}:{port}: the host does not resolve ({error.strerror}); give another --host"
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn and asyncio do
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as error:
                return _refusal(host, port, error)
    return None


def _refusal(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another server?); stop it, or choose another port "
            "with --port or UVICORN_PORT"
        )
    if error.errno == errno.EACCES:
        return f"cannot listen on {host}:{port}: permission denied (ports below 1024 need privileges); choose another"
    return f"cannot listen on {host}:{port}: {error.strerror}; choose another --host or --port"
