"""What every area's service has: its settings, the worker pool, and a way to keep large work off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from service.config import Settings
from service.runtime.workers import WorkerPool

T = TypeVar("T")


class Service:
    """Base of the services of the areas (calculus, stochastic derivatives, distributions, ...)."""

    def __init__(self, settings: Settings, pool: WorkerPool) -> None:
        self.settings = settings
        self.pool = pool

    async def offload(self, size: int, work: Callable[[], T]) -> T:
        """Run ``work`` inline when it handles at most ``inline_batch_values`` numbers, else in a thread."""
        if size <= self.settings.inline_batch_values:
            return work()
        return await asyncio.to_thread(work)
