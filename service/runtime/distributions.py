"""The distribution service: every statistic and fit runs in the worker pool (SciPy's cost grows with some
parameters: a deadline and a memory limit bound it there). The answers are deterministic, so a small query seen
before is answered from an LRU of answers, without a worker."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any, TypeVar

from service.compute.distributions import answers
from service.compute.distributions.answers import FitAnswer, FitQuery, StatisticsAnswer, StatisticsQuery
from service.compute.distributions.statistics import bounded
from service.compute.errors import NablaError
from service.compute.trust import Provenance
from service.config import Settings
from service.runtime.base import Service
from service.runtime.cache import LRUCache
from service.runtime.workers import WorkerPool

A = TypeVar("A")
_CACHED_VALUES = 2_048  # larger queries (long x, q or data) are computed each time: rarely repeated


class DistributionService(Service):
    def __init__(self, settings: Settings, pool: WorkerPool) -> None:
        super().__init__(settings, pool)
        self.cache: LRUCache[Any] = LRUCache(settings.cache_size)

    async def _remembered(self, key: Hashable, size: int, function: Callable[..., A], *args: Any) -> tuple[A, bool]:
        """The answer, and whether it came from the LRU of answers."""
        cached = size <= _CACHED_VALUES
        hit: A | None = self.cache.get(key) if cached else None
        if hit is not None:
            return hit, True
        answer = await self.pool.run(function, *args)
        if cached:
            self.cache.put(key, answer)
        return answer, False

    def _check_sizes(self, **values: tuple[float, ...] | None) -> None:
        """Too many values are refused (413) before any worker is asked."""
        try:
            limit = self.settings.max_distribution_values
            for name, value in values.items():
                if value is not None and len(value) > limit:
                    bounded(value, name, limit)  # raises its 413, with its message
        except NablaError as error:
            raise error.at("body") from None

    async def statistics(self, query: StatisticsQuery) -> StatisticsAnswer:
        self._check_sizes(x=query.x, q=query.q, data=query.data)
        settings = self.settings
        limits = (settings.max_distribution_values, settings.max_warnings)
        answer, hit = await self._remembered(query, query.size, answers.statistics, query, *limits)
        return replace(answer, provenance=_seen(answer.provenance, hit))

    async def fit(self, query: FitQuery) -> FitAnswer:
        self._check_sizes(data=query.data)
        limit = self.settings.max_distribution_values
        answer, hit = await self._remembered(query, query.size, answers.maximum_likelihood, query, limit)
        return replace(answer, provenance=_seen(answer.provenance, hit))


def _seen(made: Provenance | None, hit: bool) -> Provenance | None:
    return None if made is None else made.seen(hit)
