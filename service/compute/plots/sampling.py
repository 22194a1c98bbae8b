"""The numbers behind a picture: the function compiled once, sampled on grids, its Taylor coefficients at a point,
the axes' ranges and the points given to mark (``at``, ``trajectory``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.compute import calculus
from service.compute.calculus import CalculusTask
from service.compute.engine import to_sympy
from service.compute.errors import InvalidInput, NablaError, TooLarge, located
from service.compute.language.printer import to_text
from service.compute.numeric import Evaluator, compile_evaluator
from service.compute.plots.task import DEFAULT_RANGE, MAX_TRAJECTORY, PlotTask, Point
from service.compute.points import exact_constants, read_parameters, read_vector, strings_in

__all__ = ["Sampled", "axes", "compile_function", "marked", "taylor_coefficients", "trajectory"]


@dataclass(frozen=True)
class Sampled:
    """A function of the variables with its gradient, compiled into one kernel."""

    variables: tuple[str, ...]
    text: str
    evaluator: Evaluator
    constants: np.ndarray

    def at(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """f (NaN where undefined or infinite) and the gradient (NaN where it does not exist) at each row."""
        rows = np.column_stack([points, np.broadcast_to(self.constants, (len(points), len(self.constants)))])
        evaluation = self.evaluator.evaluate(rows)
        f = np.array(evaluation.functions[:, 0])
        f[~np.isfinite(f)] = np.nan
        return f, evaluation.values


def compile_function(task: PlotTask) -> Sampled:
    assert task.function is not None
    parameters = read_parameters(task.parameters)
    names = tuple(name for name, _ in parameters)
    result = calculus.run(CalculusTask("gradient", (task.function,), task.variables, names, limits=task.limits))
    evaluator = compile_evaluator((*result.variables, *names), result.functions, [d.expr for d in result.derivatives])
    text = to_text(to_sympy(result.functions[0]))
    constants = np.array([value for _, value in parameters], dtype=float)
    return Sampled(result.variables, text, evaluator, constants)


def taylor_coefficients(task: PlotTask, sampled: Sampled, a: float, order: int) -> list[float]:
    """f(a), f'(a), ..., f^(order)(a): the derivatives by the one variable, each from ``calculus.run``."""
    assert task.function is not None
    names = tuple(name for name, _ in task.parameters)
    derivatives = [
        calculus.run(
            CalculusTask("derivative", (task.function,), sampled.variables, names, order=k, limits=task.limits)
        ).derivatives[0]
        for k in range(1, order + 1)
    ]
    evaluator = compile_evaluator((*sampled.variables, *names), [], [d.expr for d in derivatives])
    row = np.concatenate([[a], sampled.constants])[None, :]
    f, _ = sampled.at(np.array([[a]]))
    return [float(f[0]), *(float(v) for v in evaluator.evaluate(row).values[0])]


def _constants(raw: object) -> Mapping[str, tuple[object, float] | str]:
    return exact_constants(sorted(strings_in(raw)))


def _raw(point: Point) -> list[Any] | dict[str, Any]:
    """A point as JSON gave it: an object by name ((name, value) pairs here) or an array."""
    if point and all(isinstance(c, tuple) for c in point):
        return dict(point)  # type: ignore[arg-type]
    return list(point)


def marked(task: PlotTask, variables: Sequence[str]) -> np.ndarray | None:
    """``at`` as coordinates in ``variables`` order, or None."""
    if task.at is None:
        return None
    raw = _raw(task.at)
    return np.array(read_vector(raw, variables, ("at",), _constants(raw)), dtype=float)


def trajectory(task: PlotTask, variables: Sequence[str]) -> np.ndarray | None:
    """The trajectory's points, one row each, or None."""
    if not task.trajectory:
        return None
    if len(task.trajectory) > MAX_TRAJECTORY:
        detail = f"'trajectory' has {len(task.trajectory)} points; at most {MAX_TRAJECTORY} are drawn"
        raise located(TooLarge, detail, ("body", "trajectory"))
    raws = [_raw(p) for p in task.trajectory]
    constants = _constants(raws)
    rows = [read_vector(raw, variables, ("trajectory", i), constants) for i, raw in enumerate(raws)]
    return np.array(rows, dtype=float).reshape(len(rows), len(variables))


def axes(
    task: PlotTask, variables: Sequence[str], shown: Sequence[np.ndarray | None]
) -> dict[str, tuple[float, float]]:
    """Each axis's range: as given in ``ranges``, else DEFAULT_RANGE widened to hold the points to show (padded)."""
    given = {name: (lo, hi) for name, lo, hi in task.ranges}
    for name, (lo, hi) in given.items():
        if name not in variables:
            detail = f"'ranges' names '{name}', which is not a variable ({', '.join(variables)})"
            raise located(InvalidInput, detail, ("body", "ranges", name))
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            detail = f"the range of {name} must be [low, high] with low < high, got [{lo:g}, {hi:g}]"
            raise located(InvalidInput, detail, ("body", "ranges", name))
    points = [p.reshape(-1, len(variables)) for p in shown if p is not None]
    out = {}
    for j, name in enumerate(variables):
        if name in given:
            out[name] = given[name]
        elif points:
            column = np.concatenate([p[:, j] for p in points])
            pad = max(0.5, 0.1 * float(np.ptp(column)))
            low, high = DEFAULT_RANGE
            out[name] = (min(low, float(column.min()) - pad), max(high, float(column.max()) + pad))
        else:
            out[name] = DEFAULT_RANGE
    return out


def grid(ranges: Mapping[str, tuple[float, float]], variables: Sequence[str], count: int) -> list[np.ndarray]:
    """The ``ij`` meshgrid of ``count`` points per axis."""
    lines = [np.linspace(*ranges[name], count) for name in variables]
    return list(np.meshgrid(*lines, indexing="ij"))


def relocated(error: NablaError, *prefix: str | int) -> NablaError:
    return located(type(error), error.detail, ("body", *prefix))
