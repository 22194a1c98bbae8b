"""Load from wrk (Debian's package), a compiled generator that is not the bottleneck: each run reports the
requests/s and latency wrk measured, the generator's own CPU use (its share of the cores its threads may use), and
the server's CPU time per request (from /proc)."""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{body}]==]
"""


@dataclass(frozen=True)
class Run:
    rps: float
    p50_ms: float
    generator_cpu: float  # the share of its threads' cores that wrk used (1.0: saturated)
    server_us: float  # server CPU time per request, microseconds


def available() -> bool:
    return shutil.which("wrk") is not None


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _p50_ms(output: str) -> float:
    found = re.search(r"^\s*50%\s+([\d.]+)(us|ms|s)\b", output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no latency distribution:\n{output}")
    value, unit = float(found[1]), found[2]
    return value * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def run(url: str, body: bytes, pid: int, seconds: float = 3, threads: int = 2, connections: int = 16) -> Run:
    """One bounded wrk run of POST ``body`` to ``url`` against the server process ``pid``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_LUA.format(body=body.decode()))
    try:
        before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_before = _cpu_seconds(pid)
        start = time.perf_counter()
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", script.name, url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True)
        wall = time.perf_counter() - start
        server = _cpu_seconds(pid) - server_before
        after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        os.unlink(script.name)
    generator = (after_children.ru_utime + after_children.ru_stime) - (
        before_children.ru_utime + before_children.ru_stime
    )
    output = done.stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if found is None or total is None:
        raise RuntimeError(f"wrk printed no rate:\n{output}")
    if errors is not None:
        raise RuntimeError(f"wrk saw {errors[1]} error answers from {url}")
    return Run(
        rps=float(found[1]),
        p50_ms=_p50_ms(output),
        generator_cpu=generator / (wall * min(threads, os.cpu_count() or 1)),
        server_us=server / int(total[1]) * 1e6,
    )
