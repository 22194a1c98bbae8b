"""Load test: start the real server, drive it with locust on loopback for a bounded time, print a report.

    python -m tests.load.run --workers 1 --seconds 30 --users 16

Starts ``python -m service`` (UVICORN_HOST=127.0.0.1, a free port, NABLA_WORKERS=--workers; other NABLA_* variables
pass through), sends each kind of request once to warm the caches, runs locust headless (tests/load/locustfile.py)
and prints a Markdown table, per request kind: throughput (all requests, and those answered as they should be: 200
for valid requests, the expected 4xx for hostile ones), p50/p90/p99 latency of the latter, and every other answer by
class. Also printed: the machine's load average before and after, the cores the server and the client used, and the
server's memory. Exit status 1 when any request got a 5xx other than 503, a connection error or an unexpected status.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from tests.load import workload

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
STARTUP_SECONDS = 120.0
ANSWERED = (workload.OK, workload.EXPECTED_4XX)
FAILURES = (workload.OTHER_5XX, workload.CONNECTION, workload.UNEXPECTED)
COLUMNS = ("expected 4xx", "503", "other 5xx", "connection", "unexpected")  # workload.OUTCOMES after OK
Record = tuple[str, str, float, float]  # kind, outcome, end time (epoch s), response time (ms)


@dataclass(frozen=True)
class Summary:
    """The outcomes of one request kind (or of all: kind "all")."""

    kind: str
    requests: int
    rate: float  # requests per second over the measured window
    answered_rate: float  # of which answered as they should be (not refused, not failed)
    percentiles: tuple[float, float, float] | None  # p50, p90, p99 in ms of answered requests; None if none
    outcomes: Counter[str]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _summary(kind: str, records: Sequence[Record], window: float) -> Summary:
    times = [ms for _, outcome, _, ms in records if outcome in ANSWERED]
    percentiles = tuple(float(p) for p in np.percentile(times, [50, 90, 99])) if times else None
    outcomes = Counter(outcome for _, outcome, _, _ in records)
    rates = (len(records) / window, len(times) / window)
    return Summary(kind, len(records), *rates, percentiles, outcomes)  # type: ignore[arg-type]


def summarise(records: Sequence[Record]) -> list[Summary]:
    """One summary per request kind, in workload order, then the total ("all")."""
    if not records:
        return []
    window = max(end for _, _, end, _ in records) - min(end - ms / 1000 for _, _, end, ms in records)
    window = max(window, 1e-9)
    kinds = [kind for kind in workload.WORKLOAD if any(record[0] == kind for record in records)]
    rows = [_summary(kind, [record for record in records if record[0] == kind], window) for kind in kinds]
    return [*rows, _summary("all", records, window)]


def render(summaries: Sequence[Summary]) -> str:
    """A Markdown table of the summaries."""
    header = "| kind | requests | req/s | answered/s | p50 ms | p90 ms | p99 ms | " + " | ".join(COLUMNS) + " |"
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for row in summaries:
        latency = [f"{p:.1f}" for p in row.percentiles] if row.percentiles else ["-"] * 3
        counts = [str(row.outcomes[outcome]) for outcome in workload.OUTCOMES[1:]]
        rates = [f"{row.rate:.1f}", f"{row.answered_rate:.1f}"]
        lines.append("| " + " | ".join([row.kind, str(row.requests), *rates, *latency, *counts]) + " |")
    return "\n".join(lines)


def _process_tree(pid: int) -> list[int]:
    tree = [pid]
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for task in os.listdir(f"/proc/{pid}/task"):
            children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
            tree += [descendant for child in children for descendant in _process_tree(int(child))]
    return tree


def _proc_field(path: str, key: str) -> int:
    for line in Path(path).read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def _role(member: int, pid: int) -> str:
    if member == pid:
        return "web"
    command = Path(f"/proc/{member}/cmdline").read_text()
    return "tracker" if "resource_tracker" in command else "worker"


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system) so far of the web process, and of its children (workers, reaped ones included)."""
    web = children = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for member in _process_tree(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            utime, stime, cutime, cstime = (int(value) / tick for value in fields[11:15])
            web, children = (web + utime + stime, children) if member == pid else (web, children + utime + stime)
            children += cutime + cstime
    return web, children


def memory_report(pid: int) -> str:
    """Proportional set size of the tree, and each process's current and peak resident set, in MiB."""
    lines, pss = [], 0
    for member in _process_tree(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            pss += _proc_field(f"/proc/{member}/smaps_rollup", "Pss:")
            rss, peak = (_proc_field(f"/proc/{member}/status", key) // 1024 for key in ("VmRSS:", "VmHWM:"))
            lines.append(f"  {_role(member, pid):8} pid {member}: RSS {rss} MiB (peak {peak} MiB)")
    return "\n".join([f"server memory: PSS of the process tree {pss // 1024} MiB", *lines])


def client_cpu_seconds() -> float:
    """CPU time of this process's reaped children so far (locust, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def serving(workers: int, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python -m service`` on 127.0.0.1 and a free port, until its /healthz answers; SIGTERM on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "UVICORN_HOST": "127.0.0.1", "UVICORN_PORT": str(port), "NABLA_WORKERS": str(workers)}
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        _wait_until_healthy(process, url, log)
        yield url, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    limit = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < limit:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer /healthz within {STARTUP_SECONDS:g} s:\n{log.read_text()}")


def warm(url: str) -> None:
    """Send every kind of request once (every hostile variant too) so that the measured requests find warm caches."""
    calls = [factory() for _, factory in workload.WORKLOAD.values()] + list(workload.HOSTILE)
    with httpx.Client(base_url=url, timeout=60, headers={"content-type": "application/json"}) as client:
        for call in calls:
            status = client.post(call.path, content=call.body).status_code
            if workload.classify(call.expected_status, status) not in ANSWERED:
                sys.stderr.write(f"warning: {call.kind} {call.path} answered {status}, not {call.expected_status}\n")


def run_locust(url: str, users: int, seconds: int, results: Path) -> list[Record]:
    """Locust headless against ``url`` for ``seconds``; the classified records its locustfile saved."""
    command = [
        *(sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url),
        *("--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s", "--stop-timeout", "10"),
        *("--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"),
    ]
    env = {**os.environ, "NABLA_LOAD_RESULTS": str(results)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode != 0 or not results.exists():
        raise SystemExit(f"locust failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return [(kind, outcome, end, ms) for kind, outcome, end, ms in json.loads(results.read_text())]


def command_line(module: str, doc: str, workers: int, seconds: int) -> argparse.ArgumentParser:
    """The options every load command takes (``--workers``, ``--seconds``); its description is the first paragraph
    of ``doc``."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=workers, help=f"NABLA_WORKERS of the server (default {workers})")
    parser.add_argument(
        "--seconds", type=int, default=seconds, help=f"duration of the measured run (default {seconds})"
    )
    return parser


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_line("tests.load.run", __doc__, workers=1, seconds=30)
    parser.add_argument("--users", type=int, default=16, help="concurrent locust users, each a closed loop (16)")
    return parser.parse_args(argv)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


@dataclass(frozen=True)
class Run:
    """What one load run measured."""

    records: list[Record]
    cores: tuple[float, float, float]  # average cores used by the web process, the workers, the locust client
    load: tuple[str, str]  # load average before and after
    memory: str
    startup: float  # seconds from starting the server to its first 200 from /healthz (workers warm)


def measure(args: argparse.Namespace) -> Run:
    """Start the server, warm it, run locust against it; the records and the machine's figures."""
    with tempfile.TemporaryDirectory(prefix="nabla-load-") as work:
        launched = time.monotonic()
        with serving(args.workers, Path(work) / "server.log") as (url, process):
            startup = time.monotonic() - launched
            warm(url)
            load, server, client, start = _load(), cpu_seconds(process.pid), client_cpu_seconds(), time.monotonic()
            records = run_locust(url, args.users, args.seconds, Path(work) / "results.json")
            elapsed = time.monotonic() - start
            web, workers = (after - before for after, before in zip(cpu_seconds(process.pid), server, strict=True))
            cores = (web / elapsed, workers / elapsed, (client_cpu_seconds() - client) / elapsed)
            return Run(records, cores, (load, _load()), memory_report(process.pid), startup)


def report(args: argparse.Namespace, run: Run) -> str:
    web, workers, client = run.cores
    return (
        f"{args.workers} worker(s), {args.users} users, {args.seconds} s on {os.cpu_count()} cores, {time.ctime()}\n"
        f"load average (1/5/15 min) before: {run.load[0]}; after: {run.load[1]}\n"
        f"server ready (/healthz) {run.startup:.1f} s after start\n"
        f"cores used on average: web process {web:.2f}, workers {workers:.2f}, locust client {client:.2f}\n"
        f"{run.memory}\n\n{render(summarise(run.records))}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    run = measure(args)
    print(report(args, run))  # noqa: T201 (a command-line report)
    failed = sum(1 for _, outcome, _, _ in run.records if outcome in FAILURES)
    return 1 if failed or not run.records else 0


if __name__ == "__main__":
    sys.exit(main())
