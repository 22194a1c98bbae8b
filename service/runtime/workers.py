"""Worker processes for symbolic work: a hard deadline and a memory limit per task, replaced when they die.

Differentiation, parsing of new functions and exact arithmetic can swell with the input, so they run here, never in
the web process. A task over its deadline is killed with its process (pebble replaces it) and becomes a 422
``too_complex``; a process that dies any other way becomes a 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import resource
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import pebble

from service.compute.errors import NablaError, ServiceUnavailable, TooComplex, located

T = TypeVar("T")
log = logging.getLogger("nabla.workers")


def _initialise(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # pebble's SIGTERM handler runs Python cleanup, which waits for the next bytecode: a worker deep in SymPy or
    # mpmath would outlive its deadline. The default action ends it at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Derivatives may print integers longer than Python's default 4300 digits (2000! has 5736); the deadline, not
    # this limit, bounds the time their conversion takes here.
    sys.set_int_max_str_digits(1_000_000)
    import service.compute.calculus  # noqa: F401  (warm: the first task must not pay for imports)


def _ping() -> int:
    return os.getpid()


class WorkerPool:
    """A pool of symbolic workers; ``run`` awaits one task with the configured deadline."""

    def __init__(self, workers: int, timeout: float, memory_mb: int) -> None:
        self.timeout = timeout
        self.size = workers
        self.timeouts = 0
        self.crashes = 0
        self.memory_mb = memory_mb
        self.replacements = 0
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        self._pool = self._new_pool()

    def _new_pool(self) -> pebble.ProcessPool:
        return pebble.ProcessPool(
            max_workers=self.size,
            context=multiprocessing.get_context("spawn"),
            initializer=_initialise,
            initargs=(self.memory_mb,),
        )

    def _replace(self) -> None:
        """A new pool for the next tasks; the old one is stopped in the background.

        pebble kills a worker that overruns its deadline, and a worker killed while it holds the channel's lock
        (sending a result, say) leaves every other worker waiting for that lock forever: measured here after a
        timed-out polygamma. A fresh pool after every kill costs a second of start-up for new functions (cached
        ones need no worker) and cannot deadlock."""
        old, self._pool = self._pool, self._new_pool()
        self.replacements += 1
        threading.Thread(target=_stop, args=(old,), name="nabla-pool-stop", daemon=True).start()

    async def run(self, function: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        deadline = self.timeout if timeout is None else timeout
        future = self._pool.schedule(function, args=args, timeout=deadline)
        try:
            return await asyncio.wrap_future(future)
        except NablaError:
            raise
        except concurrent.futures.TimeoutError:
            self.timeouts += 1
            self._replace()
            raise located(
                TooComplex,
                f"the symbolic work took longer than {deadline:g} s and was stopped; ask for a lower order, fewer "
                "variables or a simpler function",
            ) from None
        except (MemoryError, RecursionError):
            self._replace()
            raise located(
                TooComplex, "the symbolic work needed more memory than a worker may use and was stopped"
            ) from None
        except (pebble.ProcessExpired, BrokenProcessPool) as error:
            self.crashes += 1
            log.warning("worker process died: %s", error)
            self._replace()
            raise ServiceUnavailable(
                "a worker process stopped unexpectedly; it has been replaced, retry the request",
                headers={"Retry-After": "1"},
            ) from None

    async def warm(self) -> None:
        """Start every worker and wait until each has imported the engine."""
        await asyncio.gather(*(self.run(_ping, timeout=120) for _ in range(self.size)))

    def close(self) -> None:
        _stop(self._pool)


def _stop(pool: pebble.ProcessPool) -> None:
    pool.stop()  # type: ignore[no-untyped-call]
    pool.join(timeout=5)
