"""The level set through a point: its level, the gradient normal to it, its tangent space and tangent plane.

The lesson's fact, computed: the gradient is perpendicular to the level set {f = f(a)}, so the unit normal is
grad f / |grad f| and the tangent space is its orthogonal complement. With two variables the level set is a curve
whose slope is dy/dx = -f_x / f_y (implicit differentiation), vertical where f_y = 0. Where the gradient is zero the
level set need not be a smooth curve or surface at all: there is no normal and no tangent plane. The gradient and
the tangent plane are exact at the exact point; symbolic work, run in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from service.compute.anchor import Coordinate, FunctionQuery, FunctionSpec, exact_coordinates, prepare, values_at
from service.compute.errors import InvalidInput, located
from service.compute.language.printer import to_text
from service.compute.taylor import displacement, joined
from service.compute.trust import Provenance, provenance

__all__ = ["LevelSet", "LevelSetAnswer", "LevelSetQuery", "LevelSetTask", "level_set", "orthonormal_complement"]


@dataclass(frozen=True)
class LevelSetQuery(FunctionQuery):
    """A validated level-set request: the point the level set passes through."""

    at: tuple[Coordinate, ...] = ()
    at_names: tuple[str, ...] | None = None  # None: ``at`` is in the variables' order


@dataclass(frozen=True)
class LevelSetTask:
    spec: FunctionSpec
    at: tuple[Coordinate, ...]
    at_names: tuple[str, ...] | None = None  # None: ``at`` is in the variables' order


@dataclass(frozen=True)
class LevelSet:
    variables: tuple[str, ...]
    at: tuple[float, ...]
    level: float
    level_text: str
    gradient: tuple[float, ...]
    normal: tuple[float, ...] | None  # None at a critical point
    tangent: tuple[tuple[float, ...], ...] | None  # rows: an orthonormal basis of the tangent space
    tangent_plane: tuple[str, str] | None  # (text, LaTeX) of grad f(a) . (x - a), zero exactly on the plane
    slope: float | None  # two variables only: dy/dx; None where the tangent is vertical (or there is none)
    slope_text: str | None
    critical: bool  # the gradient is zero at the point
    provenance: Provenance | None = None  # symbolic, by the engine that differentiated


def _is_zero(value: sp.Expr) -> bool:
    known = value.is_zero
    if known is not None:
        return bool(known)
    return bool(abs(value.evalf(60)) < sp.Float("1e-50"))  # undecided symbolically: zero to 50 digits


def orthonormal_complement(normal: np.ndarray) -> np.ndarray:
    """Rows forming an orthonormal basis of the vectors perpendicular to the unit vector ``normal``. In the plane it
    is the normal turned a quarter left, (-n_y, n_x); above, the last columns of a QR factorisation of [n | I]."""
    n = len(normal)
    if n == 1:
        return np.empty((0, 1))
    if n == 2:
        return np.array([[-normal[1], normal[0]]]) + 0.0
    q, _ = np.linalg.qr(np.column_stack([normal, np.eye(n)]))
    basis: np.ndarray = q[:, 1:].T + 0.0
    return basis


def _unit(vector: np.ndarray) -> np.ndarray:
    scaled = vector / np.abs(vector).max()  # components in [-1, 1]: neither overflow nor underflow
    unit: np.ndarray = scaled / np.linalg.norm(scaled)
    return unit


def level_set(task: LevelSetTask) -> LevelSet:
    """The level set of ``task``'s function through ``task.at``. ``InvalidPoint`` where f or its gradient is not
    defined there."""
    prepared = prepare(task.spec, "gradient")
    if prepared.parameters:
        raise located(
            InvalidInput,
            f"a level set needs numbers for every parameter ({', '.join(prepared.parameters)}); give their values "
            "in 'parameters' as an object",
            ("body", "parameters"),
        )
    variables = prepared.variables
    if not variables:
        raise located(
            InvalidInput,
            "the function has no variables, so it has no level sets in them; name them in 'variables'",
            ("body", "variables"),
        )
    point, floats = exact_coordinates(task.at, task.at_names, variables)
    value, gradient = values_at(prepared, prepared.derivatives, point, floats)
    numbers = np.array([float(g) for g in gradient])
    zero = [_is_zero(g) for g in gradient]
    critical = all(zero)
    normal = None if critical else _unit(numbers)
    basis = None if normal is None else orthonormal_complement(normal)
    plane = None
    if not critical:
        entries = zip(gradient, variables, point, zero, strict=True)
        plane = joined([(g, [displacement(n, c)]) for g, n, c, z in entries if not z])
    slope = slope_text = None
    if len(variables) == 2 and not zero[1]:
        exact_slope = -gradient[0] / gradient[1]
        slope, slope_text = float(exact_slope), to_text(exact_slope)
    return LevelSet(
        variables=variables,
        at=tuple(float(v) for v in floats),
        level=float(value),
        level_text=to_text(value),
        gradient=tuple(float(g) + 0.0 for g in numbers),
        normal=None if normal is None else tuple(float(v) + 0.0 for v in normal),
        tangent=None if basis is None else tuple(tuple(float(v) for v in row) for row in basis),
        tangent_plane=plane,
        slope=slope,
        slope_text=slope_text,
        critical=critical,
        provenance=provenance(prepared.derivatives, exact=False, cached=False),
    )


@dataclass(frozen=True)
class LevelSetAnswer:
    query: LevelSetQuery
    result: LevelSet

    @property
    def size(self) -> int:
        return 0
