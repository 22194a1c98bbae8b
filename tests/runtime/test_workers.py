"""The worker pool: deadlines become 422 too_complex, dead workers 503 with Retry-After, and the pool recovers."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

import pytest
from sympy import Rational, polygamma

from service.compute.errors import InvalidInput, ServiceUnavailable, TooComplex
from service.compute.points import exact_constants
from service.runtime.workers import WorkerPool

pytestmark = pytest.mark.anyio


def _sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "slept"


def _die() -> None:
    os._exit(3)


def _refuse() -> None:
    raise InvalidInput("no")


def _deep_in_sympy() -> object:
    return polygamma(1000, 1000)  # an exact evaluation that takes minutes


def _pid() -> int:
    return os.getpid()


@pytest.fixture(scope="module")
async def pool() -> AsyncIterator[WorkerPool]:
    workers = WorkerPool(workers=1, timeout=1.0, memory_mb=1024)
    await workers.warm()
    yield workers
    workers.close()


class TestWorkerPool:
    async def test_a_task_returns_its_value(self, pool: WorkerPool) -> None:
        assert await pool.run(_sleep, 0.01) == "slept"

    async def test_client_errors_cross_the_process_boundary_unchanged(self, pool: WorkerPool) -> None:
        with pytest.raises(InvalidInput, match="no"):
            await pool.run(_refuse)

    async def test_a_task_past_its_deadline_is_too_complex_and_the_worker_is_replaced(self, pool: WorkerPool) -> None:
        before = await pool.run(_pid)
        started = time.monotonic()
        with pytest.raises(TooComplex, match=r"longer than 1 s"):
            await pool.run(_sleep, 30)
        assert time.monotonic() - started < 5
        assert await pool.run(_pid) != before
        assert pool.timeouts == 1

    async def test_a_dead_worker_is_503_with_retry_after_then_service_goes_on(self, pool: WorkerPool) -> None:
        with pytest.raises(ServiceUnavailable) as caught:
            await pool.run(_die)
        assert caught.value.status == 503
        assert caught.value.headers == {"Retry-After": "1"}
        assert await pool.run(_sleep, 0.01) == "slept"

    async def test_the_pool_serves_again_after_a_kill_deep_in_sympy(self, pool: WorkerPool) -> None:
        # Once, a worker killed in the middle of an mpmath evaluation left pebble's channel locked: every later task
        # waited forever. A killed worker now gets a fresh pool of its own.
        with pytest.raises(TooComplex):
            await pool.run(_deep_in_sympy, timeout=1.0)
        assert await asyncio.wait_for(pool.run(_sleep, 0.01), timeout=60) == "slept"
        assert await asyncio.wait_for(pool.run(exact_constants, ["1/3"]), timeout=60) == {
            "1/3": (Rational(1, 3), 1 / 3)
        }
