"""Peak memory of the web process for one answer at the output-values limit: what sizes NABLA_MAX_OUTPUT_VALUES.

    python -m tests.bench.memory

Each case runs on a fresh `python -m service` (1 worker) and reads the web process's peak resident set (VmHWM in
/proc) before and after one request; the request is made twice (the first compiles). Linux only. Not a test: the
figures go to deploy/README.md, "Memory".
"""

from __future__ import annotations

import http.client
import sys
from pathlib import Path

import msgspec
import numpy as np
import orjson

from tests.bench.benchmark import NABLA, Served

MiB = 1024 * 1024


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def _wire(values: np.ndarray) -> dict[str, object]:
    return {"dtype": "<f8", "shape": list(values.shape), "data": values.tobytes()}


def measure(label: str, path: str, function: str, points: np.ndarray, kind: str, gzip: bool = False) -> None:
    served = Served(NABLA, env={"NABLA_LOG_LEVEL": "warning", "NABLA_MAX_BODY_BYTES": str(256 * MiB)})
    try:
        if kind == "msgpack":
            body = msgspec.msgpack.encode({"function": function, "points": _wire(points)})
            headers = {"content-type": "application/msgpack", "accept": "application/msgpack"}
        else:
            body = orjson.dumps({"function": function, "points": points.tolist()})
            headers = {"content-type": "application/json"}
        if gzip:
            headers["accept-encoding"] = "gzip"
        before = peak_rss(served.process.pid)
        received = 0
        for _ in range(2):
            connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=600)
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            while chunk := response.read(1 << 20):  # read as it streams: the client holds no copy either
                received += len(chunk)
            assert response.status == 200, response.status
            connection.close()
        after = peak_rss(served.process.pid)
        print(  # noqa: T201 (a command-line report)
            f"{label}: body {len(body) / MiB:.0f} MiB, answer {received / 2 / MiB:.0f} MiB; web process peak RSS "
            f"{before / MiB:.0f} MiB at start, {after / MiB:.0f} MiB after (+{(after - before) / MiB:.0f})",
            flush=True,
        )
    finally:
        served.stop()


def main() -> None:
    rng = np.random.default_rng(0)
    eight = rng.uniform(-2, 2, (312_500, 8))  # a Hessian of 8 variables: 64 entries x 312 500 points = 2e7 values
    function = " + ".join(f"x{i}^2*x{i + 1}" for i in range(1, 8))
    cases = sys.argv[1:] or ["msgpack", "json", "gzip"]
    for kind in cases:
        label = f"Hessian, 8 variables, 312 500 points (2e7 values), {kind}"
        measure(label, "/v1/hessian", function, eight, "json" if kind == "gzip" else kind, gzip=kind == "gzip")


if __name__ == "__main__":
    main()
