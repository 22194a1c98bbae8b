"""Worker processes for symbolic work: a hard deadline and a memory limit per task, replaced when they die.

Differentiation, parsing of new functions and exact arithmetic can swell with the input, so they run here, never in
the web process. A task over its deadline is killed with its process (pebble replaces it) and becomes a 422
``too_complex``; a process that dies any other way becomes a 503 with ``Retry-After``.

Admission control: at most ``workers + max_queue`` tasks are running or waiting; one more is refused at once with a
503 and ``Retry-After``, before the pool is touched, so that the tasks already admitted keep their latency. A pool
replaced after a kill takes every other task with it: those tasks are scheduled again on the new pool (they are pure
functions), so a deadline hit by one request is invisible to the others.
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
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import pebble

from service.compute.errors import NablaError, ServiceUnavailable, TooComplex, count, located

T = TypeVar("T")
log = logging.getLogger("nabla.workers")

_ATTEMPTS = 3  # a task whose pool is replaced under it this often gets a 503 instead of a fourth try


class _Retired(Exception):
    """The pool a task was waiting on was replaced (and its workers stopped) before the task finished."""


def _initialise(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # pebble's SIGTERM handler runs Python cleanup, which waits for the next bytecode: a worker deep in SymPy or
    # mpmath would outlive its deadline. The default action ends it at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Derivatives may print integers longer than Python's default 4300 digits (2000! has 5736); the deadline, not
    # this limit, bounds the time their conversion takes here.
    sys.set_int_max_str_digits(1_000_000)
    # Warm: the first task must not pay for imports (SymPy, SciPy's distributions, sympy.stats).
    import service.compute.calculus
    import service.compute.distributions.answers
    import service.compute.optimize
    import service.compute.plots
    import service.compute.stochastic  # noqa: F401


def _ping(pause: float) -> int:
    time.sleep(pause)
    return os.getpid()


class WorkerPool:
    """A pool of symbolic workers; ``run`` awaits one task with the configured deadline.

    The counters (``timeouts``, ``crashes``, ``replacements``, ``rejections``) and ``in_flight`` are read live by
    the ``/metrics`` collector."""

    def __init__(
        self, workers: int, timeout: float, memory_mb: int, max_queue: int | None = None, retry_after: int = 1
    ) -> None:
        self.timeout = timeout
        self.size = workers
        self.capacity = workers + (4 * workers if max_queue is None else max_queue)
        self.retry_after = retry_after
        self.timeouts = 0
        self.crashes = 0
        self.rejections = 0
        self.in_flight = 0
        self.memory_mb = memory_mb
        self.replacements = 0
        self.warmed = False
        self.closing = False
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        self._pool = self._new_pool()
        self._waiting: set[asyncio.Future[Any]] = set()

    @property
    def ready(self) -> bool:
        """Every worker started and warm, and the pool not shutting down."""
        return self.warmed and not self.closing

    @property
    def busy(self) -> int:
        """Workers running a task (as far as the admitted tasks tell)."""
        return min(self.in_flight, self.size)

    @property
    def queued(self) -> int:
        """Admitted tasks waiting for a worker."""
        return self.in_flight - self.busy

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
        self._pool.schedule(_ping, args=(0,))  # start its workers now, not with the next task
        retired, self._waiting = self._waiting, set()
        self.replacements += 1
        for waiting in retired:
            if not waiting.done():
                waiting.set_exception(_Retired())
        threading.Thread(target=_stop, args=(old,), name="nabla-pool-stop", daemon=True).start()

    def _unavailable(self, detail: str) -> ServiceUnavailable:
        return ServiceUnavailable(detail, headers={"Retry-After": str(self.retry_after)})

    def _admit(self) -> None:
        """Refuse a task when ``capacity`` tasks are already running or waiting."""
        if self.in_flight < self.capacity:
            return
        self.rejections += 1
        raise self._unavailable(
            f"the service is at capacity: {count(self.in_flight, 'symbolic task')} running or waiting for "
            f"{count(self.size, 'worker')} (the limit is NABLA_WORKERS + NABLA_MAX_QUEUE = {self.capacity}); retry "
            f"after {self.retry_after} s"
        )

    async def run(self, function: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """The value of ``function(*args)`` computed in a worker within ``timeout`` (default: the pool's)."""
        self._admit()
        deadline = self.timeout if timeout is None else timeout
        self.in_flight += 1
        try:
            for _ in range(_ATTEMPTS):
                try:
                    return await self._attempt(function, args, deadline)
                except _Retired:
                    continue
            raise self._unavailable(
                f"the worker pool was replaced {_ATTEMPTS} times while this task waited; retry the request"
            )
        finally:
            self.in_flight -= 1

    def _watch(self, future: concurrent.futures.Future[T]) -> asyncio.Future[T]:
        """An asyncio future settled by ``future``, or by ``_replace`` with ``_Retired`` if that comes first."""
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[T] = loop.create_future()
        self._waiting.add(outcome)
        outcome.add_done_callback(self._waiting.discard)

        def settle(done: concurrent.futures.Future[T]) -> None:  # in one of pebble's threads
            if not loop.is_closed():
                loop.call_soon_threadsafe(_settle, outcome, done)

        future.add_done_callback(settle)
        return outcome

    async def _attempt(self, function: Callable[..., T], args: tuple[Any, ...], deadline: float) -> T:
        future = self._pool.schedule(function, args=args, timeout=deadline)
        try:
            return await self._watch(future)
        except (NablaError, _Retired):
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
            raise self._unavailable(
                "a worker process stopped unexpectedly; it has been replaced, retry the request"
            ) from None

    async def warm(self, limit: float = 120) -> None:
        """Start every worker and wait until each has imported the engine: until each has answered a ping (pings
        pause a little, so that one fast worker cannot answer them all)."""
        answered: set[int] = set()
        async with asyncio.timeout(limit):
            while len(answered) < self.size:
                pings = (self.run(_ping, 0.05, timeout=limit) for _ in range(self.size))
                answered.update(await asyncio.gather(*pings))
        self.warmed = True

    def close(self) -> None:
        """Stop the workers; ``ready`` is False from now on."""
        self.closing = True
        _stop(self._pool)
        log.info("worker pool closed")


def _settle(outcome: asyncio.Future[T], done: concurrent.futures.Future[T]) -> None:
    if outcome.done():
        return
    if done.cancelled():
        outcome.cancel()
    elif (error := done.exception()) is not None:
        outcome.set_exception(error)
    else:
        outcome.set_result(done.result())


def _stop(pool: pebble.ProcessPool) -> None:
    pool.stop()  # type: ignore[no-untyped-call, unused-ignore]
    pool.join(timeout=5)
