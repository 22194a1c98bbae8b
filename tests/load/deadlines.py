"""New derivatives for one client while others loop on a request that always overruns its deadline.

    python -m tests.load.deadlines --workers 4 --slow-clients 2 --seconds 15

Starts the server as ``tests.load.run`` does (NABLA_COMPUTE_TIMEOUT is 2 s unless set, so that deadlines fall
often), then runs ``--slow-clients`` closed loops on a derivative that always takes longer than the deadline (one each;
each answer a 422 ``too_complex``) and one closed loop on new derivatives (``workload.new_derivative``: each needs a
worker). Prints the new derivatives answered per second and every other answer by status, the slow answers by
status, and the server's worker counters. A deadline that stopped every worker (the pool replaced at each one)
shows here as a collapse of the new derivatives' throughput.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from tests.load import workload
from tests.load.run import command_line, serving

EXACT = json.dumps({"function": "gamma(x)", "order": 20, "at": ["1/3"]}).encode()  # its exact value never finishes


def exact(client: int) -> bytes:
    """A cached derivative whose exact value runs out of NABLA_EXACT_TIMEOUT at every request (a 200 with a warning):
    the same for every client, since exact values are not shared between requests."""
    return EXACT


def slow(client: int) -> bytes:
    """A derivative far past any deadline here, a different one per client (identical requests in flight share one
    worker task)."""
    return json.dumps({"function": "gamma(x)", "order": 200 - client, "at": ["1/3"]}).encode()


DEADLINE = "2"
COUNTERS = ("nabla_worker_timeouts_total", "nabla_worker_pool_restarts_total", "nabla_worker_crashes_total")


def _loop(url: str, stop: threading.Event, body: Callable[[], bytes], path: str, statuses: Counter[int]) -> None:
    with httpx.Client(base_url=url, timeout=120, headers={"content-type": "application/json"}) as client:
        while not stop.is_set():
            try:
                statuses[client.post(path, content=body()).status_code] += 1
            except httpx.TransportError:
                statuses[0] += 1


def _counters(url: str) -> dict[str, float]:
    lines = httpx.get(f"{url}/metrics", timeout=30).text.splitlines()
    return {line.split()[0]: float(line.split()[1]) for line in lines if line.split(" ")[0] in COUNTERS}


def measure(url: str, slow_clients: int, seconds: float, body: Callable[[int], bytes] = slow) -> str:
    """Run the loops against ``url`` for ``seconds``; the report."""
    stop = threading.Event()
    slowed: Counter[int] = Counter()
    fresh: Counter[int] = Counter()
    threads = [
        threading.Thread(target=_loop, args=(url, stop, functools.partial(body, client), "/v1/derivative", slowed))
        for client in range(slow_clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the slow requests reach their workers first
    before = _counters(url)
    start = time.monotonic()
    fast = threading.Thread(
        target=_loop, args=(url, stop, lambda: workload.new_derivative().body, "/v1/derivative", fresh)
    )
    fast.start()
    time.sleep(seconds)
    stop.set()
    fast.join(120)
    elapsed = time.monotonic() - start
    after = _counters(url)
    for thread in threads:
        thread.join(120)
    changes = ", ".join(f"{name} +{after[name] - before[name]:g}" for name in COUNTERS)
    return (
        f"new derivatives: {fresh[200] / elapsed:.1f} answered/s ({fresh[200]} in {elapsed:.1f} s); statuses "
        f"{dict(sorted(fresh.items()))}\nslow requests ({slow_clients} clients): statuses "
        f"{dict(sorted(slowed.items()))}\nduring the run: {changes}"
    )


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_line("tests.load.deadlines", __doc__, workers=4, seconds=15)
    parser.add_argument("--slow-clients", type=int, default=2, help="clients looping on the slow request (2)")
    parser.add_argument("--exact", action="store_true", help="slow requests stopped at NABLA_EXACT_TIMEOUT instead")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    os.environ.setdefault("NABLA_COMPUTE_TIMEOUT", DEADLINE)
    with (
        tempfile.TemporaryDirectory(prefix="nabla-deadlines-") as work,
        serving(args.workers, Path(work) / "server.log") as (url, _),
    ):
        httpx.post(f"{url}/v1/derivative", json={"function": "x^2", "at": [1]}, timeout=60)  # warm the web side
        if args.exact:
            httpx.post(f"{url}/v1/derivative", content=EXACT, headers={"content-type": "application/json"}, timeout=60)
        print(  # noqa: T201 (a command-line report)
            f"{args.workers} workers, {args.slow_clients} {'exact' if args.exact else 'slow'} clients, "
            f"{args.seconds:g} s, deadline "
            f"{os.environ['NABLA_COMPUTE_TIMEOUT']} s, load average {os.getloadavg()[0]:.2f}\n"
            f"{measure(url, args.slow_clients, args.seconds, exact if args.exact else slow)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
