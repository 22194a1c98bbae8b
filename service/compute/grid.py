"""A full grid of points from one range per variable: the third way to give points, beside ``at`` and ``points``.

``{"x": [lo, hi, count], "y": [lo, hi, count]}`` is every combination of ``count`` evenly spaced values from lo to hi
(both included; one value is lo), in ``meshgrid``'s ``ij`` order flattened row-major: the last variable varies
fastest, so the values reshape to ``(count_x, count_y)``. A bound is a JSON number or an exact string (``"2*pi"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from service.compute.errors import InvalidPoint, NablaError, TooLarge, located
from service.compute.points import Constants

__all__ = ["expand_grid", "grid_shape"]


def _error(detail: str, *loc: str | int) -> NablaError:
    return located(InvalidPoint, detail, ("body", "grid", *loc))


def _received(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)}"
    if isinstance(value, Mapping):
        return "an object"
    return "null" if value is None else repr(value)


def _bound(value: Any, name: str, index: int, constants: Constants) -> float:
    which = "lo" if index == 0 else "hi"
    if isinstance(value, str):
        constant = constants.get(value, f"{value!r} was not evaluated")
        if isinstance(constant, str):
            raise _error(f"{constant} (at grid.{name}[{index}], the {which} end)", name, index)
        return constant[1]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error(
            f"grid.{name}[{index}] (the {which} end) must be a number or an exact string, got {_received(value)}",
            name,
            index,
        )
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float64
        number = math.inf
    if not math.isfinite(number):
        raise _error(f"grid.{name}[{index}] (the {which} end) is outside the float64 range", name, index)
    return number


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _error(
            f"grid.{name}[2] (the number of values) must be a whole number of at least 1, got {_received(value)}",
            name,
            2,
        )
    return int(value)


def _ranges(grid: Mapping[str, Any], variables: Sequence[str]) -> list[Sequence[Any]]:
    if not isinstance(grid, Mapping):
        raise _error(f"grid must be an object giving [lo, hi, count] for each variable, got {_received(grid)}")
    if not variables:
        raise _error("grid needs variables to range over, and the function has none")
    missing = [n for n in variables if n not in grid]
    extra = [k for k in grid if k not in variables]
    if missing or extra:
        parts = [f"missing {', '.join(missing)}" if missing else "", f"unknown {', '.join(extra)}" if extra else ""]
        raise _error(
            f"grid must give a range [lo, hi, count] for exactly the variables ({', '.join(variables)}): "
            + "; ".join(p for p in parts if p)
        )
    ranges: list[Sequence[Any]] = []
    for name in variables:
        entry = grid[name]
        if not isinstance(entry, list | tuple) or len(entry) != 3:
            raise _error(f"grid.{name} must be [lo, hi, count], e.g. [-1, 1, 21]; got {_received(entry)}", name)
        ranges.append(entry)
    return ranges


def grid_shape(grid: Mapping[str, Any], variables: Sequence[str], max_points: int) -> tuple[int, ...]:
    """The number of values per variable; ``TooLarge`` when the grid has more than ``max_points`` points."""
    shape = tuple(_count(entry[2], name) for name, entry in zip(variables, _ranges(grid, variables), strict=True))
    total = math.prod(shape)
    if total > max_points:
        sizes = " x ".join(str(c) for c in shape)
        raise located(
            TooLarge,
            f"the grid has {sizes} = {total} points; the limit is {max_points}; ask for fewer values per variable",
            ("body", "grid"),
        )
    return shape


def expand_grid(grid: Mapping[str, Any], variables: Sequence[str], max_points: int, constants: Constants) -> np.ndarray:
    """The grid's points as an (N, len(variables)) matrix, ``ij`` order, flattened row-major.

    ``constants`` holds the value of every exact string of the grid (``exact_constants`` of ``strings_in(grid)``,
    run in a worker: it is symbolic work)."""
    shape = grid_shape(grid, variables, max_points)
    axes = []
    for name, count in zip(variables, shape, strict=True):
        lo, hi = (_bound(grid[name][i], name, i, constants) for i in (0, 1))
        axes.append(np.linspace(lo, hi, count))
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([m.ravel() for m in mesh]).astype(np.float64, copy=False)
