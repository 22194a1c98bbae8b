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
import orjson

from service.compute import calculus
from service.compute.calculus import CalculusResult, CalculusTask
from service.compute.errors import LimitExceeded, TooComplex, located
from service.compute.exact import exact_values
from service.compute.geometry import classify_hessians, directional
from service.compute.numeric import STATUS_DETAIL, Evaluation, Evaluator, compile_evaluator, refine
from service.compute.points import read_points
from service.config import Settings
from service.runtime.cache import LRUCache
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
    may_hold_booleans: bool = True  # False when the body has no true/false token: points skip a type check


@dataclass(frozen=True)
class Compiled:
    result: CalculusResult
    evaluator: Evaluator


def _matrix(items: list[Any], shape: tuple[int, ...]) -> Any:
    if len(shape) < 2:
        return items
    rows, width = shape[0], shape[-1]
    return [items[i * width : (i + 1) * width] for i in range(rows)]


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
        """The JSON body answering ``query``."""
        compiled = await self.compiled(self.task(query))
        size = _batch_size(query) * max(1, len(compiled.result.derivatives))
        answer = await self.offload(size, lambda: self.present(query, compiled))
        if answer.pop("_exact_pending", False):
            await self.add_exact(answer, compiled, query)
        return await self.offload(size, lambda: encode(answer))

    def present(self, query: CalculusQuery, compiled: Compiled) -> dict[str, Any]:
        result = compiled.result
        answer: dict[str, Any] = {"variables": list(result.variables)}
        if result.parameters:
            answer["parameters"] = list(result.parameters)
        answer |= _symbolic_part(query, result)
        points = read_points(
            variables=result.variables,
            parameters=query.parameters,
            at=query.at,
            points=query.points,
            max_points=self.settings.max_points,
            may_hold_booleans=query.may_hold_booleans,
        )
        if points is None:
            return answer
        evaluation = compiled.evaluator.evaluate(points.matrix)
        evaluation = refine(compiled.evaluator, points.matrix, evaluation, self.settings.refine_points)
        single = query.at is not None
        answer |= self.numeric_part(query, result, evaluation, single)
        if single and points.exact is not None and evaluation.status_of(0) == "ok" and query.operation != "directional":
            answer["_exact_pending"] = True
            answer["_exact_point"] = points.exact
        return answer

    def numeric_part(
        self, query: CalculusQuery, result: CalculusResult, evaluation: Evaluation, single: bool
    ) -> dict[str, Any]:
        values = evaluation.values.reshape(len(evaluation.values), *result.shape)
        part: dict[str, Any] = {}
        derived: list[np.ndarray] = []
        if query.operation == "directional":
            part |= directional(values, query.direction, query.normalize, result.variables, single)
            ascent = part["steepest_ascent"]
            derived = [
                np.atleast_1d(part["value" if single else "values"]),
                np.atleast_1d(ascent["rate" if single else "rates"]),
            ]
        elif single:
            part["value"] = values[0]
        else:
            part["values"] = values
        if query.operation == "hessian" and query.classify:
            part |= classify_hessians(values, single)
            derived = [np.atleast_2d(part["eigenvalues"]).min(axis=1)] if result.shape[0] else []
        if derived:
            ok = evaluation.status == 0
            overflow = np.zeros(len(ok), dtype=bool)
            for quantity in derived:
                overflow |= ok & ~np.isfinite(quantity)
            evaluation = evaluation.flag_non_finite(overflow)
        warnings, counts = evaluation.problems(self.settings.max_warnings)
        if single:
            part["status"] = evaluation.status_of(0)
        else:
            part["status_counts"] = counts
        hidden = sum(counts.get(s, 0) for s in STATUS_DETAIL) - len(warnings)
        if hidden > 0:
            warnings.append({"point": None, "status": None, "detail": f"{hidden} more points are not ok"})
        part["warnings"] = warnings
        return part

    async def add_exact(self, answer: dict[str, Any], compiled: Compiled, query: CalculusQuery) -> None:
        point = answer.pop("_exact_point")
        result = compiled.result
        exprs = tuple(d.expr for d in result.derivatives)
        texts, latex = await self.pool.run(exact_values, exprs, result.variables + result.parameters, point)
        key = "exact"
        answer[key] = {"expressions": _matrix(list(texts), result.shape), "latex": _matrix(list(latex), result.shape)}
        if query.operation == "derivative":
            answer[key] = {"expression": texts[0], "latex": latex[0]}


def _compile(inputs: tuple[str, ...], result: CalculusResult) -> Evaluator:
    try:
        return compile_evaluator(inputs, result.functions, [d.expr for d in result.derivatives])
    except (RecursionError, MemoryError, SyntaxError) as error:
        raise located(TooComplex, "the derivatives are too large to compile for numeric evaluation") from error


def _contiguous(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode(answer: Mapping[str, Any]) -> bytes:
    """JSON bytes of an answer; NumPy arrays are written directly, NaN as null."""
    return orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY, default=_contiguous)


def _batch_size(query: CalculusQuery) -> int:
    points = query.points
    if isinstance(points, list):
        return len(points)
    if isinstance(points, dict):
        return max((len(c) for c in points.values() if isinstance(c, list)), default=0)
    return 1


def _symbolic_part(query: CalculusQuery, result: CalculusResult) -> dict[str, Any]:
    texts = [d.text for d in result.derivatives]
    latex = [d.latex for d in result.derivatives]
    if query.operation == "derivative":
        wrt = result.wrt
        return {
            "variable": wrt[0] if len(set(wrt)) == 1 else None,
            "order": len(wrt),
            "wrt": list(wrt),
            "derivative": {"expression": texts[0], "latex": latex[0]},
        }
    if query.operation == "hessian":
        return {
            "hessian": {"expressions": _matrix(texts, result.shape), "latex": _matrix(latex, result.shape)},
            "symmetric": True,
        }
    key = "gradient" if query.operation == "directional" else query.operation
    name = "gradient_expressions" if query.operation == "directional" else key
    return {name: {"expressions": _matrix(texts, result.shape), "latex": _matrix(latex, result.shape)}}
