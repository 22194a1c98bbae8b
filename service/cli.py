"""The ``nabla`` command line. ``nabla serve`` runs the HTTP service; ``python -m service`` is the same command.

Each ``serve`` option is a field of ``ServerSettings``: an option given on the command line overrides its
``UVICORN_*`` variable, which overrides the default. A wrong option or variable, or an address that cannot be listened
on, is one line on stderr and a non-zero exit, found before the application and its workers start. A new sub-command
is a function that adds its parser in ``_SUB_COMMANDS``.
"""

from __future__ import annotations

import argparse
import errno
import os
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


EXIT_PROBLEM, EXIT_USAGE, EXIT_CANNOT_CONNECT = 1, 2, 3
_CALLS = {  # sub-command: (client method, the positional argument's field, its help, the command's help)
    "derivative": ("derivative", "function", "the function, e.g. 'sin(x)*y'", "a derivative of any order"),
    "gradient": ("gradient", "function", "the function", "the gradient"),
    "hessian": ("hessian", "function", "the function", "the Hessian"),
    "jacobian": ("jacobian", "functions", "the functions (one argument each)", "the Jacobian"),
    "directional": ("directional_derivative", "function", "the function", "the directional derivative"),
    "stats": ("statistics", "family", "the family, e.g. normal", "a distribution's statistics"),
}
_CALL_EPILOG = (
    "The server is --url, else $NABLA_URL, else http://127.0.0.1:8000. Exit status: 0 ok, 1 the server answered with "
    "a problem (its message on stderr), 2 a usage error, 3 the server cannot be reached."
)


def _add_calls(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, (method, field, text, what) in _CALLS.items():
        parser = commands.add_parser(name, help=f"{what} from the server", epilog=_CALL_EPILOG)
        parser.add_argument(field, nargs="+" if field == "functions" else None, help=text)
        parser.add_argument("--url", default=None, help="the server (default: $NABLA_URL or http://127.0.0.1:8000)")
        parser.add_argument("--at", type=_point, help="a point: x=1,y=2 or 1,2 (exact strings such as pi/2 too)")
        parser.add_argument("--points", help="a batch from a .npy file or a .csv file (a header row names columns)")
        parser.add_argument("--chunk", type=int, default=10_000, help="points per request (default 10000)")
        parser.add_argument("--progress", action="store_true", help="show progress on stderr even if not a tty")
        parser.add_argument("--variables", type=lambda text: text.split(","), help="variable order: x,y")
        parser.add_argument("--param", type=_point, dest="parameters", help="parameters: a=1,b=2")
        parser.add_argument("--json", action="store_true", help="print the server's JSON answer")
        if name == "derivative":
            parser.add_argument("--variable", help="the variable")
            parser.add_argument("--order", type=int, help="the order (default 1)")
        if name == "directional":
            parser.add_argument("--direction", type=_point, required=True, help="the direction: 3,4 or x=3,y=4")
        if name == "stats":
            parser.add_argument("--x", type=_numbers, help="where the pdf/pmf, cdf, sf are wanted: 0,1")
            parser.add_argument("--q", type=_numbers, help="probabilities whose quantiles are wanted: 0.5,0.9")
        parser.set_defaults(run=_call, parser=parser, method=method, field=field)


_SUB_COMMANDS: tuple[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None], ...] = (
    _add_serve,
    _add_calls,
)


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text.strip()  # an exact string: the server reads pi/2, 1/3, sqrt(2)


def _numbers(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None


def _point(text: str) -> dict[str, float | str] | list[float | str]:
    """``x=1,y=2`` by name or ``1,2`` in order."""
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("expected x=1,y=2 or 1,2")
    if all("=" in part for part in parts):
        return {name.strip(): _number(value) for name, value in (part.split("=", 1) for part in parts)}
    if any("=" in part for part in parts):
        raise argparse.ArgumentTypeError(f"give every value by name or none: {text!r}")
    return [_number(part) for part in parts]


def _call(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """One sub-command's request (in chunks for --points), its answer printed; the exit status for scripts."""
    import httpx  # here, not at the top: ``nabla serve`` does not need the client

    from service.client import ProblemError

    url = args.url or os.environ.get("NABLA_URL") or "http://127.0.0.1:8000"
    fields = _fields(args)
    positional = fields.pop(args.field)
    try:
        points = _read_points(args.points) if args.points else None
    except (OSError, ValueError) as error:
        parser.error(f"--points {args.points}: {error}")
    try:
        answers = list(_answers(url, args, positional, fields, points))
    except ProblemError as problem:
        print(f"{parser.prog}: {problem}", file=sys.stderr)  # noqa: T201 (the server's message)
        return EXIT_PROBLEM
    except httpx.TransportError as error:
        print(f"{parser.prog}: cannot reach {url}: {error}", file=sys.stderr)  # noqa: T201 (the command's error line)
        return EXIT_CANNOT_CONNECT
    _print(args, answers)
    return 0


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    names = ("at", "variables", "parameters", "variable", "order", "direction", "x", "q", args.field)
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def _read_points(path: str) -> Any:
    """A .npy array, or a .csv of numbers (its first row names the columns when it is not numbers)."""
    import numpy as np

    if path.endswith(".npy"):
        return np.atleast_2d(np.load(path, allow_pickle=False))
    with open(path) as lines:
        head = lines.readline()
    try:
        [float(cell) for cell in head.split(",")]
    except ValueError:
        names = [cell.strip() for cell in head.split(",")]
        table = np.atleast_2d(np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2))
        return {name: table[:, i] for i, name in enumerate(names)}
    return np.loadtxt(path, delimiter=",", ndmin=2)


def _answers(url: str, args: argparse.Namespace, positional: Any, fields: dict[str, Any], points: Any) -> Any:
    from service.client import Client

    with Client(url) as client:
        call = getattr(client, args.method)
        if points is None:
            yield call(positional, **fields)
            return
        count = len(next(iter(points.values()))) if isinstance(points, dict) else len(points)
        show = args.progress or sys.stderr.isatty()
        for start in range(0, count, max(args.chunk, 1)):
            end = min(start + max(args.chunk, 1), count)
            chunk = {k: v[start:end] for k, v in points.items()} if isinstance(points, dict) else points[start:end]
            yield call(positional, points=chunk, **fields)
            if show:
                done = end * 40 // count
                print(f"\r[{'#' * done}{'.' * (40 - done)}] {end}/{count} points", end="", file=sys.stderr)  # noqa: T201 (progress)
        if show:
            print(file=sys.stderr)  # noqa: T201 (the progress line ends)


def _print(args: argparse.Namespace, answers: list[Any]) -> None:
    import orjson

    from service.client.codec import plain

    if args.json:
        merged = _merge([plain(answer) for answer in answers])
        sys.stdout.write(orjson.dumps(merged).decode() + "\n")
        return
    for answer in answers:
        for line in _readable(plain(answer)):
            print(line)  # noqa: T201 (the command's output)


def _merge(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """The chunks' answers as one: per-point lists joined, counts added, warnings renumbered; the rest the first's."""
    merged, offset = dict(answers[0]), 0
    for answer in answers[1:]:
        offset += len(merged.get("values") or merged.get("function_values") or [])
        for key, value in answer.items():
            if key == "status_counts":
                merged[key] = {s: merged[key].get(s, 0) + value.get(s, 0) for s in {*merged[key], *value}}
            elif key == "warnings":
                merged[key] = merged[key] + [{**w, "point": (w.get("point") or 0) + offset} for w in value]
            elif key == "warnings_omitted":
                merged[key] += value
            elif isinstance(value, list) and key not in ("variables", "parameters", "wrt", "direction"):
                merged[key] = merged[key] + value
    return merged


def _readable(answer: dict[str, Any]) -> list[str]:
    """The answer's fields, one per line: ``name: value``."""
    lines = []
    for key, value in answer.items():
        if key in ("warnings_omitted",) or value in ([], {}, None):
            continue
        if isinstance(value, dict) and "expression" in value:
            value = value["expression"]
        elif isinstance(value, dict) and "expressions" in value:
            value = value["expressions"]
        lines.append(f"{key}: {_text(value)}")
    return lines


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    return "null" if value is None else str(value)


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
