"""The matrix-derivative service: limits, the cache of compiled evaluators, one worker task per new function.

A repeated request (same function, variable, order, shapes, and the same small `at` when it is part of the check)
touches no worker: the cached result's evaluator runs on the `at` arrays, off the event loop when they are large.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from service.compute import matrix
from service.compute.errors import TooComplex, located
from service.compute.matrix import MatrixAnswer, MatrixEvaluator, MatrixQuery, MatrixResult, MatrixTask
from service.config import Settings
from service.runtime.base import Service
from service.runtime.cache import LRUCache
from service.runtime.calculus import SingleFlight
from service.runtime.workers import WorkerPool


@dataclass(frozen=True)
class CompiledMatrix:
    result: MatrixResult
    evaluator: MatrixEvaluator | None  # None when only component values exist (a withheld form)


class MatrixService(Service):
    """Matrix-derivative queries over the worker pool and a cache of compiled evaluators."""

    def __init__(self, settings: Settings, pool: WorkerPool) -> None:
        super().__init__(settings, pool)
        self.cache: LRUCache[CompiledMatrix] = LRUCache(settings.cache_size)
        self._symbolic = SingleFlight()

    def task(self, query: MatrixQuery, arrays: dict[str, np.ndarray]) -> MatrixTask:
        """The cache key and worker task: shapes merged with the arrays' (and checked against them)."""
        shapes = matrix.shapes_from_request(dict(query.shapes), arrays)
        return MatrixTask(
            function=query.function,
            wrt=query.wrt,
            order=query.order,
            shapes=shapes,
            check_at=matrix.check_at_from(arrays),
            limits=self.settings.limits(),
        )

    async def compiled(self, task: MatrixTask) -> CompiledMatrix:
        hit = self.cache.get(task)
        if hit is not None:
            return hit
        return await self._symbolic.run(task, lambda: self._compute(task))

    async def _compute(self, task: MatrixTask) -> CompiledMatrix:
        result = await self.pool.run(matrix.run, task)
        try:
            compiled = CompiledMatrix(result, matrix.evaluator(result))
        except RecursionError as error:
            raise located(TooComplex, "the derivative is too deep to compile for numeric evaluation") from error
        self.cache.put(task, compiled)
        return compiled

    async def answer(self, query: MatrixQuery) -> MatrixAnswer:
        size = _numbers(query.at)
        arrays = await self.offload(size, lambda: matrix.read_arrays(query.at))
        task = self.task(query, arrays)
        cached = self.cache.peek(task) is not None
        compiled = await self.compiled(task)
        result, evaluated = compiled.result, None
        if query.at is not None:
            matrix.validate_at(result, arrays)
            if compiled.evaluator is not None:
                evaluator = compiled.evaluator
                work = evaluator.work(evaluator.dims(arrays))
                evaluated = await self.offload(work, lambda: evaluator.evaluate(arrays, self.settings.matrix_max_work))
        return matrix.matrix_answer(result, arrays, evaluated, self.settings.max_warnings, cached)


def _numbers(at: tuple[tuple[str, Any], ...] | None) -> int:
    """About how many numbers `at` holds (rows times the first row's length)."""
    total = 0
    for _, value in at or ():
        if isinstance(value, list) and value and isinstance(value[0], list):
            total += len(value) * len(value[0])
        elif isinstance(value, list):
            total += len(value)
        else:
            total += 1
    return total
