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
import sys
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
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        self._pool = pebble.ProcessPool(
            max_workers=workers,
            context=multiprocessing.get_context("spawn"),
            initializer=_initialise,
            initargs=(memory_mb,),
        )

    async def run(self, function: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        deadline = self.timeout if timeout is None else timeout
        future = self._pool.schedule(function, args=args, timeout=deadline)
        try:
            return await asyncio.wrap_future(future)
        except NablaError:
            raise
        except concurrent.futures.TimeoutError:
            self.timeouts += 1
            raise located(
                TooComplex,
                f"the symbolic work took longer than {deadline:g} s and was stopped; ask for a lower order, fewer "
                "variables or a simpler function",
            ) from None
        except (MemoryError, RecursionError):
            raise located(
                TooComplex, "the symbolic work needed more memory than a worker may use and was stopped"
            ) from None
        except (pebble.ProcessExpired, BrokenProcessPool) as error:
            self.crashes += 1
            log.warning("worker process died: %s", error)
            raise ServiceUnavailable(
                "a worker process stopped unexpectedly; it has been replaced, retry the request",
                headers={"Retry-After": "1"},
            ) from None

    async def warm(self) -> None:
        """Start every worker and wait until each has imported the engine."""
        await asyncio.gather(*(self.run(_ping, timeout=120) for _ in range(self.size)))

    def close(self) -> None:
        self._pool.stop()  # type: ignore[no-untyped-call]
        self._pool.join(timeout=5)
