"""Admission control and dispatch: a full pool refuses at once; a deadline replaces only the worker it stopped."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from service.compute.errors import ServiceUnavailable, TooComplex
from service.runtime.workers import WorkerPool

pytestmark = pytest.mark.anyio

AT_CAPACITY = (
    "the service is at capacity: 2 symbolic tasks running or waiting for 1 worker (the limit is NABLA_WORKERS + "
    "NABLA_MAX_QUEUE = 2); retry after 3 s"
)


def _sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "slept"


def _pid(pause: float) -> int:
    time.sleep(pause)
    return os.getpid()


def _hold(started: Path, release: Path) -> int:
    """Say (in ``started``) which process runs this, then wait until ``release`` exists; that process's id."""
    started.write_text(str(os.getpid()))
    while not release.exists():
        time.sleep(0.01)
    return os.getpid()


async def _pids(pool: WorkerPool, folder: Path) -> set[int]:
    """The process ids of a pool's two workers: one task holds a worker while another runs on the other one."""
    started, release = folder / "pids-started", folder / "pids-release"
    started.unlink(missing_ok=True)
    release.unlink(missing_ok=True)
    held = asyncio.create_task(pool.run(_hold, started, release, timeout=60))
    await _until(started.exists)
    other = await pool.run(_pid, 0, timeout=60)
    release.touch()
    return {await held, other}


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(60):  # "nothing hangs"
        while not condition():
            await asyncio.sleep(0.01)


async def _admitted(pool: WorkerPool, count: int) -> None:
    """Wait until ``count`` tasks are admitted (admission happens before the first await of ``run``)."""
    while pool.in_flight < count:
        await asyncio.sleep(0)


@pytest.fixture
async def small() -> AsyncIterator[WorkerPool]:
    """One worker and room for one waiting task."""
    pool = WorkerPool(workers=1, timeout=5.0, memory_mb=1024, max_queue=1, retry_after=3)
    await pool.warm()
    yield pool
    pool.close()


class TestAdmission:
    async def test_a_task_beyond_capacity_is_refused_before_any_await(self, small: WorkerPool) -> None:
        running = [asyncio.create_task(small.run(_sleep, 0.5)) for _ in range(2)]
        await _admitted(small, 2)
        assert (small.busy, small.queued) == (1, 1)
        refused = asyncio.create_task(small.run(_sleep, 0.01))
        await asyncio.sleep(0)  # one step of the event loop: the refusal needs no more
        assert refused.done()
        with pytest.raises(ServiceUnavailable) as caught:
            refused.result()
        assert caught.value.detail == AT_CAPACITY
        assert caught.value.headers == {"Retry-After": "3"}
        assert small.rejections == 1
        assert await asyncio.gather(*running) == ["slept", "slept"]

    async def test_admitted_tasks_finish_and_room_comes_back(self, small: WorkerPool) -> None:
        first = asyncio.gather(small.run(_sleep, 0.2), small.run(_sleep, 0.2))
        await _admitted(small, 2)
        with pytest.raises(ServiceUnavailable):
            await small.run(_sleep, 0.01)
        assert await first == ["slept", "slept"]
        assert small.in_flight == 0
        assert await small.run(_sleep, 0.01) == "slept"

    def test_the_queue_defaults_to_four_tasks_per_worker(self) -> None:
        pool = WorkerPool(workers=2, timeout=1.0, memory_mb=1024)
        assert pool.capacity == 2 + 8
        pool.close()


class TestReadiness:
    async def test_ready_once_warm_and_not_after_close(self) -> None:
        pool = WorkerPool(workers=2, timeout=1.0, memory_mb=1024)
        assert not pool.ready
        await pool.warm()
        assert pool.ready
        pool.close()
        assert not pool.ready
        assert pool.closing


class TestDispatch:
    async def test_a_cancelled_caller_leaves_its_task_the_worker_until_it_ends(
        self, small: WorkerPool, tmp_path: Path
    ) -> None:
        started, release = tmp_path / "started", tmp_path / "release"
        caller = asyncio.create_task(small.run(_hold, started, release))
        await _until(started.exists)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        assert (small.in_flight, small.busy) == (0, 1)  # the task runs on: its worker is not handed to another
        waiting = asyncio.create_task(small.run(_pid, 0))
        await _until(lambda: small.queued == 1)
        release.touch()
        assert await waiting == int(started.read_text())  # the same worker, once the task ended
        assert (small.busy, small.queued, small.replacements) == (0, 0, 0)

    async def test_at_close_running_waiting_and_later_tasks_get_a_503(self, tmp_path: Path) -> None:
        pool = WorkerPool(workers=1, timeout=5.0, memory_mb=1024)
        await pool.warm()
        started, release = tmp_path / "started", tmp_path / "release"
        held = asyncio.create_task(pool.run(_hold, started, release))
        await _until(started.exists)
        waiting = asyncio.create_task(pool.run(_pid, 0))
        await _until(lambda: pool.queued == 1)
        pool.close()
        for refused in (held, waiting, pool.run(_pid, 0)):  # the first one's worker was stopped under it
            with pytest.raises(ServiceUnavailable) as caught:
                await refused
            assert caught.value.detail == "the service is shutting down; retry the request"
            assert caught.value.headers == {"Retry-After": "1"}
        assert (pool.in_flight, pool.crashes, pool.replacements) == (0, 0, 0)


class TestReplacement:
    async def test_a_deadline_replaces_only_its_worker_and_the_other_task_runs_on(self, tmp_path: Path) -> None:
        pool = WorkerPool(workers=2, timeout=1.0, memory_mb=1024)
        await pool.warm()
        try:
            workers = await _pids(pool, tmp_path)
            assert len(workers) == 2
            started, release = tmp_path / "started", tmp_path / "release"
            held = asyncio.create_task(pool.run(_hold, started, release, timeout=60))
            await _until(started.exists)
            with pytest.raises(TooComplex, match=r"longer than 1 s"):
                await pool.run(_sleep, 30)  # on the other worker, stopped at its deadline
            assert (pool.timeouts, pool.replacements, pool.busy) == (1, 1, 1)
            release.touch()  # only now may the held task end: it ran through the kill, on its own worker
            survivor = int(started.read_text())
            assert await held == survivor
            assert survivor in workers
            now = await _pids(pool, tmp_path)
            assert survivor in now
            assert len(now - workers) == 1  # the stopped worker's replacement
        finally:
            pool.close()

    async def test_tasks_running_or_waiting_when_a_worker_is_replaced_still_finish(self) -> None:
        # One task overruns its deadline and its worker is replaced. The task running on the second worker finishes
        # there; the waiting one runs on the first worker to be free.
        pool = WorkerPool(workers=2, timeout=1.0, memory_mb=1024)
        await pool.warm()
        try:
            overrun = pool.run(_sleep, 30)
            running = pool.run(_sleep, 1.5, timeout=20)
            waiting = pool.run(_sleep, 0.1, timeout=20)
            gathered = asyncio.gather(overrun, running, waiting, return_exceptions=True)
            results = await asyncio.wait_for(gathered, timeout=60)  # they once waited forever
            assert isinstance(results[0], TooComplex)
            assert results[1:] == ["slept", "slept"]
            assert (pool.timeouts, pool.replacements) == (1, 1)
        finally:
            pool.close()
