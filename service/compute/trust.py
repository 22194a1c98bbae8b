"""How far to trust a calculus answer: its values to many digits (MPFR through mpmath, from the symbolic result),
and how it was computed (provenance). Symbolic work here runs in a worker, within the deadline."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import mpmath
import numpy as np
import symengine as se
import sympy as sp

from service.compute.engine import EngineExpr, is_symengine, to_sympy
from service.compute.exact import _derivative_value

__all__ = ["Check", "Provenance", "decimal_rows", "decimal_values", "numeric_check", "provenance"]

_GUARD_DIGITS = 15


@dataclass(frozen=True)
class Provenance:
    """How an answer was computed: the method, the engine that differentiated, and whether it came from the cache."""

    method: str  # symbolic | exact
    engine: str  # "symengine X.Y" | "sympy X.Y"
    cached: bool


def provenance(derivatives: Sequence[EngineExpr], exact: bool, cached: bool) -> Provenance:
    """A lookup, no work: SymEngine when it differentiated every entry, else SymPy."""
    engine = f"symengine {se.__version__}" if all(is_symengine(d) for d in derivatives) else f"sympy {sp.__version__}"
    return Provenance("exact" if exact else "symbolic", engine, cached)


def _decimal(value: sp.Expr, digits: int) -> str | None:
    approx = value.evalf(digits + _GUARD_DIGITS)
    if not approx.is_real or not approx.is_finite or not approx.is_number:
        return None
    with mpmath.workdps(digits + _GUARD_DIGITS):
        return str(mpmath.nstr(mpmath.mpf(sp.Float(approx, digits + _GUARD_DIGITS)._mpf_), digits))


def decimal_values(
    derivatives: Sequence[EngineExpr], inputs: Sequence[str], point: Sequence[sp.Expr], digits: int
) -> tuple[str | None, ...]:
    """Each derivative at the exact ``point`` (a float coordinate is its exact binary value) as a decimal string
    correct to ``digits`` significant digits; None where the value is not a finite real number."""
    mapping = {sp.Symbol(n, real=True): v for n, v in zip(inputs, point, strict=True)}
    out: dict[EngineExpr, str | None] = {}
    for expr in derivatives:
        if expr not in out:
            try:
                out[expr] = _decimal(_derivative_value(to_sympy(expr), mapping), digits)
            except (TypeError, ValueError, ZeroDivisionError):
                out[expr] = None
    return tuple(out[e] for e in derivatives)


def decimal_rows(
    derivatives: Sequence[EngineExpr], inputs: Sequence[str], rows: Sequence[Sequence[sp.Expr]], digits: int
) -> tuple[tuple[str | None, ...], ...]:
    """``decimal_values`` at every point of a batch: one worker task, within its deadline."""
    return tuple(decimal_values(derivatives, inputs, row, digits) for row in rows)


@dataclass(frozen=True)
class Check:
    """An independent numeric derivative (Richardson-extrapolated central differences of f itself) per flat entry,
    its error estimate, and whether it agrees with the symbolic value (None where either is missing)."""

    values: tuple[float | None, ...]
    errors: tuple[float | None, ...]
    agrees: tuple[bool | None, ...]


_LEVELS = 6
_MAX_CHECK_ORDER = 4


def _entries(operation: str, wrt: Sequence[int], functions: int, n: int) -> list[tuple[int, tuple[int, ...]]]:
    """For each flat derivative entry: the function it differentiates and the variables (indices) in turn."""
    if operation == "derivative":
        return [(0, tuple(wrt))]
    if operation == "hessian":
        return [(0, (i, j)) for i in range(n) for j in range(n)]
    return [(f, (j,)) for f in range(functions) for j in range(n)]


def _richardson(estimates: np.ndarray) -> tuple[float | None, float | None]:
    """The best diagonal entry of the Richardson table of O(h^2) estimates at h, h/2, ..., and its error estimate."""
    table = [list(estimates)]
    for j in range(1, len(estimates)):
        prev = table[-1]
        table.append([prev[m] + (prev[m] - prev[m - 1]) / (4**j - 1) for m in range(1, len(prev))])
    diagonal = [row[0] for row in table]
    best: tuple[float | None, float | None] = (None, None)
    for m in range(1, len(diagonal)):
        value, error = diagonal[m], abs(diagonal[m] - diagonal[m - 1])
        if np.isfinite(value) and np.isfinite(error) and (best[1] is None or error < best[1]):
            best = (float(value), float(error))
    return best


def numeric_check(
    evaluate: Callable[[np.ndarray], np.ndarray], point: np.ndarray, operation: str, wrt: Sequence[int],
    functions: int, n: int, values: np.ndarray,
) -> Check:  # fmt: skip
    """Central differences of f (``evaluate``: points -> function values) at ``point``, extrapolated; compared with
    the symbolic ``values`` (flat). Entries of order above 4 are not checked (None)."""
    entries = _entries(operation, wrt, functions, n)
    scale = max(1.0, float(np.max(np.abs(point[:n])))) if n else 1.0
    steps = 0.05 * scale / 2.0 ** np.arange(_LEVELS)
    rows: list[np.ndarray] = []
    plan: list[tuple[int, tuple[int, ...], int] | None] = []
    for f, chain in entries:
        if len(chain) > _MAX_CHECK_ORDER:
            plan.append(None)
            continue
        start = len(rows)
        for h in steps:
            for signs in itertools.product((1, -1), repeat=len(chain)):
                row = point.astype(float).copy()
                for s, v in zip(signs, chain, strict=True):
                    row[v] += s * h
                rows.append(row)
        plan.append((f, chain, start))
    evaluated = evaluate(np.array(rows)) if rows else np.empty((0, functions))
    out_values: list[float | None] = []
    out_errors: list[float | None] = []
    agrees: list[bool | None] = []
    for k, item in enumerate(plan):
        if item is None:
            out_values.append(None)
            out_errors.append(None)
            agrees.append(None)
            continue
        f, chain, start = item
        width = 2 ** len(chain)
        weights = np.array([math.prod(signs) for signs in itertools.product((1, -1), repeat=len(chain))])
        block = evaluated[start : start + width * _LEVELS, f].reshape(_LEVELS, width)
        estimates = block @ weights / (2 * steps) ** len(chain)
        value, error = _richardson(estimates)
        out_values.append(value)
        out_errors.append(error)
        symbolic = float(values[k])
        if value is None or error is None or not np.isfinite(symbolic):
            agrees.append(None)
        else:
            agrees.append(abs(value - symbolic) <= max(10 * error, 1e-6 * max(1.0, abs(symbolic))))
    return Check(tuple(out_values), tuple(out_errors), tuple(agrees))


def one_sided(
    evaluate: Callable[[np.ndarray], np.ndarray], point: np.ndarray, entries: Sequence[tuple[int, int]]
) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The left and right first derivatives of f_i along x_j for each entry (i, j): one-sided difference quotients
    of f, Richardson-extrapolated; None unless every one converges (both exist)."""
    steps = 1e-3 * max(1.0, float(np.max(np.abs(point)))) / 2.0 ** np.arange(_LEVELS)
    rows = [point.astype(float)]
    for _, j in entries:
        for side in (-1, 1):
            for h in steps:
                row = point.astype(float).copy()
                row[j] += side * h
                rows.append(row)
    with np.errstate(all="ignore"):  # a side where f is infinite (0^x left of 0) has no derivative: None below
        return _one_sided(evaluate(np.array(rows)), steps, entries)


def _one_sided(
    values: np.ndarray, steps: np.ndarray, entries: Sequence[tuple[int, int]]
) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    sides: list[list[float]] = [[], []]
    for k, (i, _) in enumerate(entries):
        for s in range(2):
            start = 1 + (2 * k + s) * _LEVELS
            quotients = (values[start : start + _LEVELS, i] - values[0, i]) / (steps * (2 * s - 1))
            table = list(quotients)
            for level in range(1, _LEVELS):  # O(h) error: factors 2^level - 1
                table = [table[m] + (table[m] - table[m - 1]) / (2**level - 1) for m in range(1, len(table))]
            best, spread = float(table[0]), float(abs(quotients[-1] - quotients[-2]))
            if not np.isfinite(best) or spread > 1e-6 * max(1.0, abs(best)):
                return None
            sides[s].append(round(best, 12) + 0.0)
    return tuple(sides[0]), tuple(sides[1])
