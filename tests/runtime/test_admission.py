"""Admission control and pool replacement: a full pool refuses at once; tasks on a replaced pool run again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

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


class TestReplacement:
    async def test_tasks_running_or_waiting_when_the_pool_is_replaced_still_finish(self) -> None:
        # The pool is replaced when a task overruns its deadline; the old pool's workers are stopped with it. The
        # other tasks, one running on the second worker and one waiting, are run again on the new pool.
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
