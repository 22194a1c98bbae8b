"""Worker processes for symbolic work: a hard deadline and a memory limit per task, replaced when they die.

Differentiation, parsing of new functions and exact arithmetic can swell with the input, so they run here, never in
the web process. A task over its deadline is killed with its process and becomes a 422 ``too_complex``; a process
that dies any other way becomes a 503 with ``Retry-After``.

Each worker is a pebble pool of one process, and a dispatcher hands every task to an idle worker (tasks wait, first
come first served, while every worker is busy). A kill replaces only the killed worker's pool: the tasks running on
the other workers finish where they are, and a task waiting for a worker takes the next one to be free, the
replacement included once it is warm.

Admission control: at most ``workers + max_queue`` tasks are running or waiting; one more is refused at once with a
503 and ``Retry-After``, before any worker is touched, so that the tasks already admitted keep their latency.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import logging
import multiprocessing
import os
import resource
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import pebble

from service.compute.errors import NablaError, ServiceUnavailable, TooComplex, count, located

T = TypeVar("T")
log = logging.getLogger("nabla.workers")

_STARTUP = 120.0  # seconds a replacement worker may take to start and import the engine
_SHUTTING_DOWN = "the service is shutting down; retry the request"


def _initialise(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # pebble's SIGTERM handler runs Python cleanup, which waits for the next bytecode: a worker deep in SymPy or
    # mpmath would outlive its deadline. The default action ends it at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Derivatives may print integers longer than Python's default 4300 digits (2000! has 5736); the deadline, not
    # this limit, bounds the time their conversion takes here.
    sys.set_int_max_str_digits(1_000_000)
    # Warm: the first task must not pay for imports (the fork server has them already; this makes sure).
    for module in _ENGINE:
        importlib.import_module(module)


_ENGINE = (
    "service.compute.calculus",
    "service.compute.distributions.answers",
    "service.compute.optimize",
    "service.compute.plots",
    "service.compute.stochastic",
)


def _context() -> multiprocessing.context.BaseContext:
    """Workers are forked from a fork server that has imported the engine once (SymPy, SciPy, sympy.stats): a
    replacement after a kill starts in milliseconds instead of paying a second or more of imports, which on a small
    machine would take the CPU from the workers still serving. The fork server is a fresh single-threaded process,
    not a fork of the web process (whose threads and event loop must not be copied)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(_ENGINE))
    return context


def _ping() -> int:
    return os.getpid()


class WorkerPool:
    """Symbolic workers behind a dispatcher; ``run`` awaits one task with the configured deadline.

    The counters (``timeouts``, ``crashes``, ``replacements``, ``rejections``), ``in_flight``, ``busy`` and
    ``queued`` are read live by the ``/metrics`` collector."""

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
        self.busy = 0  # workers running a task
        self.memory_mb = memory_mb
        self.replacements = 0
        self.warmed = False
        self.closing = False
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        self._workers = {self._new_worker() for _ in range(workers)}  # each a pool of one process
        self._idle = deque(self._workers)
        self._waiters: deque[asyncio.Future[pebble.ProcessPool]] = deque()
        self._running: set[asyncio.Future[Any]] = set()  # the outcomes of tasks on a worker, until they end

    @property
    def ready(self) -> bool:
        """Every worker started and warm, and the pool not shutting down."""
        return self.warmed and not self.closing

    @property
    def queued(self) -> int:
        """Admitted tasks waiting for a worker."""
        return len(self._waiters)

    def _new_worker(self) -> pebble.ProcessPool:
        return pebble.ProcessPool(
            max_workers=1, context=_context(), initializer=_initialise, initargs=(self.memory_mb,)
        )

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
            worker = await self._acquire()
            return await self._start(worker, function, args, deadline)
        finally:
            self.in_flight -= 1

    async def _acquire(self) -> pebble.ProcessPool:
        """An idle worker, now or when one is released."""
        if self.closing:
            raise self._unavailable(_SHUTTING_DOWN)
        if self._idle:
            return self._idle.popleft()
        waiter: asyncio.Future[pebble.ProcessPool] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a worker, then cancelled before it could start
                self._release(waiter.result())
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _release(self, worker: pebble.ProcessPool) -> None:
        """Hand ``worker`` to the task that has waited longest, or make it idle."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    def _start(
        self, worker: pebble.ProcessPool, function: Callable[..., T], args: tuple[Any, ...], deadline: float
    ) -> asyncio.Future[T]:
        """The outcome of ``function(*args)`` on ``worker``. The worker is released (or replaced) when the task ends,
        whether or not its caller still waits: a cancelled caller does not cancel the task."""
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[T] = loop.create_future()
        try:
            future = worker.schedule(function, args=args, timeout=deadline)
        except RuntimeError as error:  # the pool of one broke between tasks (pebble: "the pool is not running")
            self._replace(worker)
            raise self._crashed(error) from None
        self.busy += 1
        self._running.add(outcome)
        outcome.add_done_callback(self._running.discard)

        def ended(done: concurrent.futures.Future[T]) -> None:  # in one of pebble's threads
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._ended, worker, done, outcome, deadline)

        future.add_done_callback(ended)
        return outcome

    def _ended(
        self,
        worker: pebble.ProcessPool,
        done: concurrent.futures.Future[T],
        outcome: asyncio.Future[T],
        deadline: float,
    ) -> None:
        self.busy -= 1
        error, broken = self._failure(done, deadline)
        if broken:
            self._replace(worker)
        else:
            self._release(worker)
        if outcome.done():
            return
        if error is None:
            outcome.set_result(done.result())
        else:
            outcome.set_exception(error)

    def _failure(self, done: concurrent.futures.Future[Any], deadline: float) -> tuple[BaseException | None, bool]:
        """What the caller of a task that ended gets instead of its value (None: the value), and whether the task's
        worker must be replaced. Deadlines and crashes are counted here."""
        if done.cancelled():  # only close() cancels a task, stopping its worker
            return self._unavailable(_SHUTTING_DOWN), True
        error = done.exception()
        if error is None or isinstance(error, NablaError):
            return error, False
        if self.closing:
            return self._unavailable(_SHUTTING_DOWN), True
        if isinstance(error, concurrent.futures.TimeoutError):
            self.timeouts += 1
            return located(
                TooComplex,
                f"the symbolic work took longer than {deadline:g} s and was stopped; ask for a lower order, fewer "
                "variables or a simpler function",
            ), True
        if isinstance(error, MemoryError | RecursionError):
            return located(
                TooComplex, "the symbolic work needed more memory than a worker may use and was stopped"
            ), True
        if isinstance(error, pebble.ProcessExpired | BrokenProcessPool):
            return self._crashed(error), True
        return error, False  # a bug in the task (a 500): the worker is sound

    def _crashed(self, error: BaseException) -> ServiceUnavailable:
        self.crashes += 1
        log.warning("worker process died: %s", error)
        return self._unavailable("a worker process stopped unexpectedly; it has been replaced, retry the request")

    def _replace(self, worker: pebble.ProcessPool) -> None:
        """A new worker in place of ``worker``, released once it has started and imported the engine (or failed to:
        the task it is handed then fails and replaces it again); the old one is stopped in the background.

        A fresh pool after every kill: pebble kills a worker that overruns its deadline, and a worker killed while it
        holds its pool's channel lock (sending a result, say) would leave the next process of that pool waiting for
        the lock forever (measured here after a timed-out polygamma). Each worker has a pool of its own, so the
        other workers, and the tasks they run, are not touched."""
        if self.closing:  # close() stops every worker
            return
        self._workers.discard(worker)
        threading.Thread(target=_stop, args=(worker,), name="nabla-worker-stop", daemon=True).start()
        self.replacements += 1
        fresh = self._new_worker()
        self._workers.add(fresh)
        loop = asyncio.get_running_loop()

        def started(_: concurrent.futures.Future[int]) -> None:  # in one of pebble's threads
            if not loop.is_closed():
                loop.call_soon_threadsafe(self._release, fresh)

        fresh.schedule(_ping, timeout=_STARTUP).add_done_callback(started)

    async def warm(self, limit: float = _STARTUP) -> None:
        """Start every worker and wait until each has imported the engine: one ping per worker, all at once, so that
        each holds a worker of its own."""
        async with asyncio.timeout(limit):
            await asyncio.gather(*(self.run(_ping, timeout=limit) for _ in range(self.size)))
        self.warmed = True

    def close(self) -> None:
        """Stop the workers; ``ready`` is False from now on, and the tasks still running or waiting get a 503."""
        self.closing = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(self._unavailable(_SHUTTING_DOWN))
        for worker in self._workers:
            worker.stop()  # type: ignore[no-untyped-call, unused-ignore]
        for worker in self._workers:
            worker.join(timeout=5)
        # A task stopped with its worker is answered here, whether or not pebble ever ends its future (once in a
        # full test run a task held at close waited forever).
        for outcome in list(self._running):
            if not outcome.done():
                outcome.set_exception(self._unavailable(_SHUTTING_DOWN))
        log.info("worker pool closed")


def _stop(pool: pebble.ProcessPool) -> None:
    pool.stop()  # type: ignore[no-untyped-call, unused-ignore]
    pool.join(timeout=5)
