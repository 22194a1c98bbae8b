"""The geometry services: Taylor polynomials, level sets and critical points, each one worker task under the deadline.

The symbolic part (parsing, differentiating, exact values at the exact point, solving) runs in a worker. A Taylor
comparison at points compiles the polynomial and f once (cached by task) and evaluates them here, off the event loop
when large, as the calculus service does with its batches.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import numpy as np

from service.compute import critical, level_set, taylor
from service.compute.anchor import FunctionQuery, FunctionSpec
from service.compute.critical import CriticalAnswer, CriticalQuery, CriticalTask
from service.compute.errors import LimitExceeded, TooComplex, located
from service.compute.level_set import LevelSetAnswer, LevelSetQuery, LevelSetTask
from service.compute.limits import check_variable_count
from service.compute.numeric import Evaluator
from service.compute.points import Constants, RawJSON, decode_batch, exact_constants, read_points, strings_in
from service.compute.taylor import Comparison, TaylorAnswer, TaylorQuery, TaylorResult, TaylorTask
from service.config import Settings
from service.runtime.base import Service
from service.runtime.cache import LRUCache
from service.runtime.workers import WorkerPool

_SOLVE_SHARE = 0.4  # of compute_timeout: the symbolic solve, then the numeric search, each get at most this much


class GeometryService(Service):
    """What the three geometry services share: the function's limits, and exact strings evaluated in a worker."""

    def spec(self, query: FunctionQuery) -> FunctionSpec:
        settings = self.settings
        if query.variables is not None:
            check_variable_count(len(query.variables), len(query.parameters), settings.max_variables)
        return query.spec(settings.limits(), settings.max_result_nodes, settings.max_variables)

    async def constants(self, strings: list[str]) -> Constants:
        """The values of exact strings, computed in a worker within ``exact_timeout``: they are symbolic work."""
        if not strings:
            return {}
        settings = self.settings
        if len(strings) > settings.max_exact_strings:
            raise located(
                LimitExceeded,
                f"the request has {len(strings)} different exact strings; the limit is {settings.max_exact_strings} "
                "(NABLA_MAX_EXACT_STRINGS)",
                ("body",),
            )
        timeout = min(settings.exact_timeout, settings.compute_timeout)
        return await self.pool.run(exact_constants, strings, timeout=timeout)


class TaylorService(GeometryService):
    def __init__(self, settings: Settings, pool: WorkerPool) -> None:
        super().__init__(settings, pool)
        self.comparisons: LRUCache[Evaluator] = LRUCache(settings.cache_size)

    def task(self, query: TaylorQuery) -> TaylorTask:
        settings = self.settings
        if query.order > settings.max_order:
            raise located(
                LimitExceeded,
                f"order {query.order} is above the limit of {settings.max_order} (NABLA_MAX_ORDER)",
                ("body", "order"),
            )
        return TaylorTask(self.spec(query), query.at, query.at_names, query.order, settings.max_taylor_terms)

    async def answer(self, query: TaylorQuery) -> TaylorAnswer:
        task = self.task(query)
        result = await self.pool.run(taylor.expand, task)
        if query.points is None:
            return TaylorAnswer(query, result)
        size = 3 * _batch_size(query.points)
        width = len(result.variables)
        batch = await self.offload(size, lambda: decode_batch(query.points, width, self.settings.max_points))
        constants = await self.constants([] if isinstance(batch, np.ndarray) else sorted(strings_in(batch)))
        cached = self.comparisons.peek(task) is not None
        evaluator = await self.comparison(task, result)
        if result.provenance is not None:
            result = replace(result, provenance=result.provenance.seen(cached))
        return TaylorAnswer(
            query, result, await self.offload(size, lambda: self.compare(result, evaluator, batch, constants))
        )

    def compare(self, result: TaylorResult, evaluator: Evaluator, batch: Any, constants: Constants) -> Comparison:
        points = read_points(
            variables=result.variables, parameters={}, points=batch, max_points=self.settings.max_points,
            constants=constants,
        )  # fmt: skip
        assert points is not None
        return taylor.compare(evaluator, points.matrix)

    async def comparison(self, task: TaylorTask, result: TaylorResult) -> Evaluator:
        """The compiled polynomial and f of ``task``: from the cache, or compiled in a thread."""
        hit = self.comparisons.get(task)
        if hit is not None:
            return hit
        try:
            evaluator = await asyncio.to_thread(taylor.compile_comparison, result)
        except (RecursionError, MemoryError, SyntaxError) as error:
            raise located(TooComplex, "the Taylor polynomial is too large to compile for numeric evaluation") from error
        self.comparisons.put(task, evaluator)
        return evaluator


class LevelSetService(GeometryService):
    async def answer(self, query: LevelSetQuery) -> LevelSetAnswer:
        task = LevelSetTask(self.spec(query), query.at, query.at_names)
        return LevelSetAnswer(query, await self.pool.run(level_set.level_set, task))


class CriticalPointsService(GeometryService):
    def task(self, query: CriticalQuery) -> CriticalTask:
        settings = self.settings
        share = _SOLVE_SHARE * settings.compute_timeout
        return CriticalTask(
            self.spec(query),
            query.bounds,
            solve_seconds=share,
            search_seconds=share,
            starts=settings.critical_starts,
            max_points=settings.max_critical_points,
        )

    async def answer(self, query: CriticalQuery) -> CriticalAnswer:
        return CriticalAnswer(query, await self.pool.run(critical.critical_points, self.task(query)))


def _batch_size(points: Any) -> int:
    if isinstance(points, RawJSON):
        return len(points.text) // 8  # an upper estimate, as the calculus service makes it
    if isinstance(points, list):
        return len(points)
    if isinstance(points, dict):
        return max((len(c) for c in points.values() if isinstance(c, list)), default=0)
    return 1
