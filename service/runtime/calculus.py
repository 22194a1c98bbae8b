"""The calculus service: a validated query in, an answer out, over the worker pool and the compiled-function cache.

The fast path is a cache hit: no parsing, no differentiation, no compilation, no process boundary, just the
compiled kernel over the points. A miss pays one round trip to a worker, then one compilation. Everything a query can
get wrong without symbolic work (limits, the sizes of a point and a direction when the variables are given) is
refused before any worker call; the rest as soon as the worker has said what the variables are, before compiling.
Batches larger than ``inline_batch_values`` numbers are read and evaluated in a thread, so the event loop keeps
serving.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np
import sympy as sp

from service.compute import calculus
from service.compute.answer import CalculusAnswer, answer, name_notes
from service.compute.calculus import CalculusQuery, CalculusResult, CalculusTask
from service.compute.errors import LimitExceeded, TooComplex, TooLarge, located
from service.compute.exact import ExactValues, exact_values
from service.compute.geometry import unit_direction
from service.compute.grid import expand_grid, grid_shape
from service.compute.limits import check_variable_count
from service.compute.notes import Note, Notes
from service.compute.numeric import Evaluation, Evaluator, compile_evaluator, refine
from service.compute.points import (
    Constants,
    Points,
    RawJSON,
    check_shapes,
    decode_batch,
    exact_constants,
    plain_point,
    read_points,
    read_vector,
    strings_in,
)
from service.compute.status import Status
from service.compute.trust import (
    check_evaluations,
    decimal_rows,
    frechet,
    frechet_note,
    numeric_check,
    one_sided,
    partials_exist,
    provenance,
)
from service.config import Settings
from service.runtime.base import Service
from service.runtime.cache import LRUCache
from service.runtime.workers import WorkerPool

T = TypeVar("T")
PLANNED = frozenset({"derivative", "gradient", "jacobian", "hessian"})  # whose answer at a point is its values


@dataclass(frozen=True)
class PointPlan:
    """How to answer queries that differ from one seen only in their point: the compiled function's cache key, the
    names of the point's coordinates, and the parameter values that follow them in each row."""

    task: CalculusTask
    variables: tuple[str, ...]
    parameters: tuple[float, ...]


@dataclass(frozen=True)
class Compiled:
    result: CalculusResult
    evaluator: Evaluator
    task: CalculusTask  # its cache key, the very object: a plan's lookups then compare by identity


class SingleFlight:
    """Concurrent requests for the same key share one computation."""

    def __init__(self) -> None:
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}

    async def run(self, key: Hashable, make: Callable[[], Awaitable[T]]) -> T:
        pending = self._pending.get(key)
        if pending is not None:
            result: T = await asyncio.shield(pending)
            return result
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await make()
            future.set_result(value)
            return value
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters (if any) re-raise it
            raise
        finally:
            del self._pending[key]


class CalculusService(Service):
    """Calculus queries over a worker pool and a compiled-function cache."""

    def __init__(self, settings: Settings, pool: WorkerPool) -> None:
        super().__init__(settings, pool)
        self.cache: LRUCache[Compiled] = LRUCache(settings.cache_size)
        self._symbolic = SingleFlight()
        self._compiling = SingleFlight()
        self._mpfr = ThreadPoolExecutor(1, thread_name_prefix="nabla-mpfr")
        self.plans: LRUCache[Any] = LRUCache(settings.cache_size)  # the API's point plans, by request

    def task(self, query: CalculusQuery) -> CalculusTask:
        """The cache key and worker task of ``query``, once it is within the limits."""
        self._validate(query)
        operation = "gradient" if query.operation == "directional" else query.operation
        settings = self.settings
        return CalculusTask(
            operation=operation,
            functions=query.functions,
            variables=query.variables,
            parameters=tuple(query.parameters),
            wrt=query.wrt,
            order=query.order,
            limits=settings.limits(),
            max_nodes=settings.max_result_nodes,
            max_variables=settings.max_variables,
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
                f"{len(query.functions)} functions is above the limit of {settings.max_functions} "
                "(NABLA_MAX_FUNCTIONS)",
                ("body", "functions"),
            )
        if query.variables is not None:
            check_variable_count(len(query.variables), len(query.parameters), settings.max_variables)
            check_shapes(query.variables, query.at, query.points, query.direction)

    async def compiled(self, task: CalculusTask, query: CalculusQuery) -> Compiled:
        """The compiled result of ``task``: from the cache, from a request already computing it, or computed; the
        query's shapes are checked against the variables before anything is compiled."""
        hit = self.cache.get(task)
        if hit is not None:
            check_shapes(hit.result.variables, query.at, query.points, query.direction)
            return hit
        result = await self._symbolic.run(task, lambda: self.pool.run(calculus.run, task))
        check_shapes(result.variables, query.at, query.points, query.direction)
        return await self._compiling.run(task, lambda: self._compile(task, result))

    async def _compile(self, task: CalculusTask, result: CalculusResult) -> Compiled:
        hit = self.cache.peek(task)  # compiled meanwhile by another request
        if hit is not None:
            return hit
        evaluator = await asyncio.to_thread(_compile, result.variables + result.parameters, result)
        compiled = Compiled(result, evaluator, task)
        self.cache.put(task, compiled)
        return compiled

    def cached(self, query: CalculusQuery) -> bool:
        """Whether the compiled derivatives of ``query`` are in the cache (nothing counted, nothing moved)."""
        return self.cache.peek(self.task(query)) is not None

    async def answer(self, query: CalculusQuery) -> CalculusAnswer:
        """Evaluate ``query``, check an exact point exactly, and say what the numbers mean."""
        task = self.task(query)
        cached = self.cache.peek(task) is not None
        compiled = await self.compiled(task, query)
        result = compiled.result
        if query.grid is not None:
            query = replace(query, points=await self.grid(query.grid, result.variables), grid=None)
        size = _batch_size(query) * max(1, len(result.derivatives))
        batch, strings = await self.offload(size, lambda: self.decode(query, len(result.variables)))
        if batch is not None:
            self.check_output(_count(batch), len(result.derivatives))
        if query.check:
            self.check_size(
                _count(batch), self.check_evaluations(query, result), len(result.variables + result.parameters)
            )
        constants = await self.constants(strings)
        unit = None
        if query.operation == "directional":
            direction = read_vector(query.direction, result.variables, ("direction",), constants)
            unit = unit_direction(direction, query.normalize)
        points, evaluation = await self.offload(size, lambda: self.evaluate(query, compiled, batch, constants))
        if points is not None and evaluation is not None:
            evaluation = await self.refine(compiled, points, evaluation)
        exact, timed_out = None, None
        if evaluation is not None and points is not None and points.exact is not None:
            exact = await self.exact(compiled, points.exact)
            timed_out = self.exact_timeout if exact is None else None
        gradients = None
        if query.operation == "hessian" and query.single and query.classify and points is not None:
            gradients = await self.gradients(query, points)
        limit = self.settings.max_warnings
        answered = await self.offload(
            size, lambda: answer(query, result, evaluation, exact, unit, limit, timed_out, points, gradients)
        )
        decimal = None
        if query.digits is not None and points is not None:
            decimal = await self.decimal(query.digits, compiled, points)
            if answered.values is not None:  # null where the float value is null: the point's status stands
                missing = np.isnan(answered.values.reshape(len(answered.values), -1))
                decimal = tuple(
                    tuple(None if gone else text for text, gone in zip(row, holes, strict=True))
                    for row, holes in zip(decimal, missing, strict=True)
                )
        made = provenance([d.expr for d in result.derivatives], exact is not None, cached)
        answered = replace(answered, decimal=decimal, provenance=made)
        if query.check and points is not None and answered.values is not None:
            work = len(points.matrix) * self.check_evaluations(query, result)
            checked = answered
            answered = await self.offload(work, lambda: self.check(checked, compiled, points))
        if query.single and points is not None and answered.status_label == "non_differentiable":
            answered = replace(answered, sides=_sides(answered, compiled, points))
            answered = _frechet(answered, compiled, points)
        return answered

    @staticmethod
    def check_evaluations(query: CalculusQuery, result: CalculusResult) -> int:
        """Evaluations of f per point that ``check: true`` makes."""
        return check_evaluations(query.operation, len(result.wrt), len(result.functions), len(result.variables))

    def check_size(self, points: int, evaluations: int, inputs: int) -> None:
        """``TooLarge`` when ``check: true`` would evaluate f at more than ``max_check_values`` coordinates."""
        total, limit = points * evaluations * max(1, inputs), self.settings.max_check_values
        if total > limit:
            raise located(
                TooLarge,
                f"check: true would evaluate f at {points} points x {evaluations} steps x {inputs} coordinates = "
                f"{total} values; the limit is {limit} (NABLA_MAX_CHECK_VALUES); check fewer points at a time",
                ("body", "check"),
            )

    def plan(self, query: CalculusQuery, answered: CalculusAnswer) -> PointPlan | None:
        """A plan for queries like ``query`` at other points, from its answer; None when such an answer can say more
        than its values: a status or a warning, exact values or decimals, a check, definiteness, a direction."""
        plain = (
            query.operation in PLANNED
            and not query.classify
            and query.digits is None
            and not query.check
            and answered.status_label == Status.OK.label
            and not answered.notes.listed
            and answered.exact is None
            and answered.provenance is not None
            and answered.provenance.cached
        )
        task = self.task(query)
        compiled = self.cache.peek(task) if plain else None
        if compiled is None or name_notes(compiled.result).listed:
            return None
        variables = compiled.result.variables
        row = plain_point(query.at, variables)
        values = query.parameter_values
        parameters = plain_point(dict(values), task.parameters) if values else []
        if row is None or parameters is None:
            return None
        return PointPlan(compiled.task, variables, tuple(parameters))

    def planned(self, plan: PointPlan, point: list[float]) -> tuple[np.ndarray, np.ndarray] | None:
        """The functions and derivative entries at ``point`` by ``plan``, counted as a cache hit; None when a value
        is not finite (statuses and warnings are the checked way's) or the compiled function left the cache."""
        compiled = self.cache.peek(plan.task)
        found = None if compiled is None else compiled.evaluator.plain(np.array([[*point, *plan.parameters]]))
        if found is not None:
            self.cache.get(plan.task)  # counted and kept fresh, as the checked way does
        return found

    def check(self, answered: CalculusAnswer, compiled: Compiled, points: Points) -> CalculusAnswer:
        """The independent numeric derivative at every point (f by central differences, a few dozen evaluations per
        point, all in one evaluation of the batch), and a warning for each point where it disagrees."""
        result = compiled.result
        assert answered.values is not None
        assert answered.status is not None
        wrt = [result.variables.index(name) for name in result.wrt]
        found = numeric_check(
            lambda matrix: compiled.evaluator.evaluate(matrix).functions,
            points.matrix,
            answered.query.operation,
            wrt,
            len(result.functions),
            len(result.variables),
            answered.values.reshape(len(answered.values), -1),
        )
        bad = found.disagreeing
        if not bad:
            return replace(answered, check=found)
        detail = "the numeric check disagrees with the symbolic value beyond its error estimate"
        status = answered.status
        notes = (Note("check_disagrees", detail, i, Status(int(status[i])).label) for i in bad)
        return replace(answered, check=found, notes=answered.notes + Notes.of(notes, self.settings.max_warnings))

    async def decimal(self, digits: int, compiled: Compiled, points: Points) -> tuple[tuple[str | None, ...], ...]:
        """The values to ``digits`` significant digits, computed with MPFR from the symbolic result in a worker."""
        if digits > self.settings.max_digits:
            raise located(
                LimitExceeded,
                f"digits {digits} is above the limit of {self.settings.max_digits} (NABLA_MAX_DIGITS)",
                ("body", "digits"),
            )
        result = compiled.result
        inputs = result.variables + result.parameters
        rows = (
            [points.exact]
            if points.exact is not None
            else [tuple(sp.Rational(float(v)) for v in row) for row in points.matrix]
        )
        derivatives = tuple(d.expr for d in result.derivatives)
        return await self.pool.run(decimal_rows, derivatives, inputs, rows, digits)

    async def grid(self, grid: Any, variables: tuple[str, ...]) -> np.ndarray:
        """The points of a grid (its exact bounds evaluated in a worker), refused before any work when too large."""
        shape = grid_shape(grid, variables, self.settings.max_points)
        constants = await self.constants(sorted(strings_in(grid)))
        size = math.prod(shape) * len(variables)
        return await self.offload(size, lambda: expand_grid(grid, variables, self.settings.max_points, constants))

    async def gradients(self, query: CalculusQuery, points: Points) -> np.ndarray:
        """The gradient at the points of a Hessian query (from the compiled gradient, cached like any other): whether
        the point is critical is the first half of the second derivative test."""
        gradient = replace(query, operation="gradient", classify=False)
        compiled = await self.compiled(self.task(gradient), gradient)
        values: np.ndarray = compiled.evaluator.evaluate(points.matrix).values
        return values

    def check_output(self, points: int, entries: int) -> None:
        """``TooLarge`` when the answer would hold more than ``max_output_values`` numbers, before any evaluation:
        memory for the values, then for their encoding, grows with that product, not with the body."""
        total, limit = points * max(1, entries), self.settings.max_output_values
        if total > limit:
            raise located(
                TooLarge,
                f"the answer would hold {points} points x {entries} values = {total} values; the limit is {limit} "
                "(NABLA_MAX_OUTPUT_VALUES); send the points in smaller batches",
                ("body", "points"),
            )

    def decode(self, query: CalculusQuery, width: int) -> tuple[Any, list[str]]:
        """The batch (a matrix when it is plain numbers) and every exact string of the request."""
        batch = None if query.points is None else decode_batch(query.points, width, self.settings.max_points)
        found = strings_in(
            query.at, query.parameter_values, query.direction, None if isinstance(batch, np.ndarray) else batch
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
        if query.at is None and query.points is None:
            return None, None  # symbolic only (and parameters given as names have no values to read)
        points = read_points(
            variables=result.variables,
            parameters=query.parameter_values,
            at=query.at,
            points=batch,
            max_points=self.settings.max_points,
            constants=constants,
        )
        if points is None:
            return None, None
        return points, compiled.evaluator.evaluate(points.matrix)

    async def refine(self, compiled: Compiled, points: Points, evaluation: Evaluation) -> Evaluation:
        """Non-finite values re-checked with MPFR, whose cost the request controls: in the service's one MPFR
        thread, within ``exact_timeout`` (past it, the statuses stay those of float64 and the answer is dropped), so
        the event loop never waits for it. One thread, not a pool: each SymEngine call holds the GIL until it
        returns, and the loop waits longer for it the more threads compete (8 concurrent re-checks in the default
        pool held /healthz 204 ms)."""
        if compiled.evaluator.exprs is None or not evaluation.status.any() or self.settings.refine_points <= 0:
            return evaluation
        limit = self.settings.refine_points
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self._mpfr, refine, compiled.evaluator, points.matrix, evaluation, limit)
        try:
            return await asyncio.wait_for(work, self.exact_timeout)
        except TimeoutError:
            return evaluation

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


def _sides(
    answered: CalculusAnswer, compiled: Compiled, points: Points
) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The one-sided first derivatives at a non-differentiable point (first-order answers only)."""
    result = compiled.result
    if len(result.wrt) > 1 or answered.query.operation == "hessian":
        return None
    n = len(result.variables)
    if answered.query.operation == "derivative":
        entries = [(0, result.variables.index(result.wrt[0]))] if result.wrt else []
    else:
        entries = [(i, j) for i in range(len(result.functions)) for j in range(n)]
    if not entries:
        return None
    return one_sided(lambda m: compiled.evaluator.evaluate(m).functions, points.matrix[0], entries)


def _frechet(answered: CalculusAnswer, compiled: Compiled, points: Points) -> CalculusAnswer:
    """At a non-differentiable point whose partials all exist (left = right): whether f is differentiable there,
    by its directional derivatives (``trust.frechet``), said in a warning either way."""
    result = compiled.result
    if answered.sides is None or answered.query.operation == "derivative" or len(result.variables) < 2:
        return answered
    left, right = answered.sides
    if not partials_exist(left, right):
        return answered  # a partial itself has two sides: the kink is the answer
    n = len(result.variables)
    partials = (np.array(left) + np.array(right)).reshape(len(result.functions), n) / 2
    found = frechet(lambda m: compiled.evaluator.evaluate(m).functions, points.matrix[0], n, partials)
    note = frechet_note(found, result.variables, len(result.functions))
    return replace(answered, notes=answered.notes + Notes((note,)))


def _compile(inputs: tuple[str, ...], result: CalculusResult) -> Evaluator:
    try:
        return compile_evaluator(inputs, result.functions, [d.expr for d in result.derivatives])
    except (RecursionError, MemoryError, SyntaxError) as error:
        raise located(TooComplex, "the derivatives are too large to compile for numeric evaluation") from error


def _batch_size(query: CalculusQuery) -> int:
    return _count(query.points)


def _count(points: Any) -> int:
    """The number of points of a batch (an upper estimate while it is JSON text)."""
    if isinstance(points, np.ndarray):
        return len(points)
    if isinstance(points, RawJSON):
        return len(points.text) // 8  # a number takes at least 2 bytes; rows at least 4 more: an upper estimate
    if isinstance(points, list):
        return len(points)
    if isinstance(points, dict):
        return max((len(c) for c in points.values() if isinstance(c, list)), default=0)
    return 1
