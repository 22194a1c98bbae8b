"""The calculus operations end to end, between a validated query and a JSON-ready answer.

The fast path is a cache hit: no parsing, no differentiation, no compilation, no process boundary, just the
compiled kernel over the points. A miss pays one round trip to a worker, then one compilation. Batches larger than
``inline_batch_values`` numbers are read, evaluated and encoded in a thread, so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from service.compute import calculus
from service.compute.calculus import CalculusResult, CalculusTask
from service.compute.errors import LimitExceeded, TooComplex, located
from service.compute.exact import ExactValues, exact_values
from service.compute.numeric import Evaluation, Evaluator, compile_evaluator, refine
from service.compute.points import (
    Constants,
    Points,
    RawJSON,
    decode_batch,
    exact_constants,
    read_points,
    strings_in,
)
from service.config import Settings
from service.runtime.cache import LRUCache
from service.runtime.present import encode, merge_exact, present
from service.runtime.workers import WorkerPool

T = TypeVar("T")


@dataclass(frozen=True)
class CalculusQuery:
    """A validated calculus request, in plain values."""

    operation: str  # derivative | gradient | jacobian | hessian | directional
    functions: tuple[str, ...]
    variables: tuple[str, ...] | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    wrt: tuple[str, ...] = ()
    order: int = 1
    at: Any = None
    points: Any = None
    direction: Any = None
    normalize: bool = True
    classify: bool = False  # hessian only: eigenvalues and definiteness


@dataclass(frozen=True)
class Compiled:
    result: CalculusResult
    evaluator: Evaluator


class Calculus:
    """Calculus requests over a worker pool and a compiled-function cache."""

    def __init__(self, settings: Settings, pool: WorkerPool) -> None:
        self.settings = settings
        self.pool = pool
        self.cache: LRUCache[Compiled] = LRUCache(settings.cache_size)
        self._pending: dict[CalculusTask, asyncio.Future[Compiled]] = {}

    def task(self, query: CalculusQuery) -> CalculusTask:
        """The cache key and worker task of ``query``, once its sizes are within the limits."""
        self._validate(query)
        operation = "gradient" if query.operation == "directional" else query.operation
        return CalculusTask(
            operation=operation,
            functions=query.functions,
            variables=query.variables,
            parameters=tuple(query.parameters),
            wrt=query.wrt,
            order=query.order,
            limits=self.settings.limits(),
            max_nodes=self.settings.max_result_nodes,
            max_variables=self.settings.max_variables,
        )

    def _validate(self, query: CalculusQuery) -> None:
        settings = self.settings
        order = len(query.wrt) or query.order
        if order > settings.max_order:
            raise located(
                LimitExceeded,
                f"order {order} is above the limit of {settings.max_order} (NABLA_MAX_ORDER)",
                ("body", "wrt" if len(query.wrt) > 1 and query.wrt[0] != query.wrt[-1] else "order"),
            )
        if len(query.functions) > settings.max_functions:
            raise located(
                LimitExceeded,
                f"{len(query.functions)} functions is above the limit of {settings.max_functions}",
                ("body", "functions"),
            )
        names = len(query.variables or ()) + len(query.parameters)
        if names > settings.max_variables:
            raise located(
                LimitExceeded,
                f"{names} variables and parameters is above the limit of {settings.max_variables}",
                ("body", "variables"),
            )

    async def compiled(self, task: CalculusTask) -> Compiled:
        """The compiled result of ``task``: from the cache, from a request already computing it, or computed."""
        hit = self.cache.get(task)
        if hit is not None:
            return hit
        pending = self._pending.get(task)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Compiled] = asyncio.get_running_loop().create_future()
        self._pending[task] = future
        try:
            result = await self.pool.run(calculus.run, task)
            inputs = result.variables + result.parameters
            evaluator = await asyncio.to_thread(_compile, inputs, result)
            compiled = Compiled(result, evaluator)
            self.cache.put(task, compiled)
            future.set_result(compiled)
            return compiled
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters (if any) re-raise it
            raise
        finally:
            del self._pending[task]

    async def offload(self, size: int, work: Callable[[], T]) -> T:
        """Run ``work`` inline when small, in a thread when it handles more than the inline limit."""
        if size <= self.settings.inline_batch_values:
            return work()
        return await asyncio.to_thread(work)

    async def answer(self, query: CalculusQuery) -> bytes:
        """The JSON body answering ``query``: evaluate, check an exact point exactly, present, encode."""
        compiled = await self.compiled(self.task(query))
        size = _batch_size(query) * max(1, len(compiled.result.derivatives))
        width = len(compiled.result.variables)
        batch, strings = await self.offload(size, lambda: self.decode(query, width))
        constants = await self.constants(strings)
        points, evaluation = await self.offload(size, lambda: self.evaluate(query, compiled, batch, constants))
        exact, timed_out = None, None
        if evaluation is not None and points is not None and points.exact is not None:
            exact = await self.exact(compiled, points.exact)
            if exact is None:
                timed_out = self.exact_timeout
            else:
                evaluation = merge_exact(evaluation, exact)
        limit = self.settings.max_warnings
        return await self.offload(
            size, lambda: encode(present(query, compiled.result, evaluation, exact, limit, timed_out, constants))
        )

    def decode(self, query: CalculusQuery, width: int) -> tuple[Any, list[str]]:
        """The batch (a matrix when it is plain numbers) and every exact string of the request."""
        batch = None if query.points is None else decode_batch(query.points, width, self.settings.max_points)
        found = strings_in(
            query.at, query.parameters, query.direction, None if isinstance(batch, np.ndarray) else batch
        )
        return batch, sorted(found)

    async def constants(self, strings: list[str]) -> Constants:
        """The values of exact strings, computed in a worker within ``exact_timeout``: they are symbolic work."""
        if not strings:
            return {}
        if len(strings) > self.settings.max_exact_strings:
            raise located(
                LimitExceeded,
                f"the request has {len(strings)} different exact strings; the limit is "
                f"{self.settings.max_exact_strings} (NABLA_MAX_EXACT_STRINGS)",
                ("body",),
            )
        return await self.pool.run(exact_constants, strings, timeout=self.exact_timeout)

    def evaluate(
        self, query: CalculusQuery, compiled: Compiled, batch: Any, constants: Constants
    ) -> tuple[Points | None, Evaluation | None]:
        result = compiled.result
        points = read_points(
            variables=result.variables,
            parameters=query.parameters,
            at=query.at,
            points=batch,
            max_points=self.settings.max_points,
            constants=constants,
        )
        if points is None:
            return None, None
        evaluation = compiled.evaluator.evaluate(points.matrix)
        return points, refine(compiled.evaluator, points.matrix, evaluation, self.settings.refine_points)

    @property
    def exact_timeout(self) -> float:
        return min(self.settings.exact_timeout, self.settings.compute_timeout)

    async def exact(self, compiled: Compiled, point: tuple[Any, ...]) -> ExactValues | None:
        """Exact values at an exact point: best effort, within ``exact_timeout`` (None when it runs out)."""
        result = compiled.result
        derivatives = tuple(d.expr for d in result.derivatives)
        inputs = result.variables + result.parameters
        try:
            return await self.pool.run(
                exact_values, result.functions, derivatives, inputs, point, timeout=self.exact_timeout
            )
        except TooComplex:
            return None


def _compile(inputs: tuple[str, ...], result: CalculusResult) -> Evaluator:
    try:
        return compile_evaluator(inputs, result.functions, [d.expr for d in result.derivatives])
    except (RecursionError, MemoryError, SyntaxError) as error:
        raise located(TooComplex, "the derivatives are too large to compile for numeric evaluation") from error


def _batch_size(query: CalculusQuery) -> int:
    points = query.points
    if isinstance(points, RawJSON):
        return len(points.text) // 8  # a number takes at least 2 bytes; rows at least 4 more: an upper estimate
    if isinstance(points, list):
        return len(points)
    if isinstance(points, dict):
        return max((len(c) for c in points.values() if isinstance(c, list)), default=0)
    return 1
