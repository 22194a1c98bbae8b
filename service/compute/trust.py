"""How far to trust an answer: a calculus answer's values to many digits (MPFR through mpmath, from the symbolic
result), and how any answer was computed (provenance: every area's one record of it). Symbolic work here runs in a
worker, within the deadline."""

from __future__ import annotations

import importlib
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import TypeVar

import mpmath
import numpy as np
import sympy as sp

from service import __version__
from service.compute.engine import EngineExpr, is_symengine, to_sympy
from service.compute.exact import _derivative_value
from service.compute.notes import Note
from service.compute.status import Status

__all__ = [
    "Check",
    "Frechet",
    "Provenance",
    "check_evaluations",
    "decimal_rows",
    "decimal_values",
    "differentiated_by",
    "frechet",
    "frechet_note",
    "numeric_check",
    "partials_exist",
    "provenance",
    "versions",
]

_GUARD_DIGITS = 15
T = TypeVar("T")


@dataclass(frozen=True)
class Provenance:
    """How an answer was computed: the method, the engine (libraries with their versions) that computed it, and
    whether it came from a cache (the compiled function, the compiled model, or the answer itself)."""

    method: str  # symbolic | exact | monte_carlo | numeric
    engine: str  # "symengine X.Y" | "sympy X.Y" | "numpy X.Y" | "scipy X.Y" | "nabla X.Y", or several, comma-separated
    cached: bool = False

    def seen(self, cached: bool) -> Provenance:
        """The same provenance, saying whether this answer came from the cache."""
        return replace(self, cached=cached)


@cache
def _version(library: str) -> str:
    if library == "nabla":  # the service's own rules (matrix calculus)
        return f"nabla {__version__}"
    return f"{library} {importlib.import_module(library).__version__}"


def versions(*libraries: str) -> str:
    """The libraries that computed an answer, with their versions: "numpy 2.3.1", "scipy 1.16.1, sympy 1.14.0"."""
    return ", ".join(_version(name) for name in libraries)


def differentiated_by(derivatives: Sequence[EngineExpr]) -> str:
    """SymEngine when it differentiated every entry, else SymPy, with its version."""
    return versions("symengine" if all(is_symengine(d) for d in derivatives) else "sympy")


def provenance(derivatives: Sequence[EngineExpr], exact: bool, cached: bool) -> Provenance:
    """A lookup, no work: ``symbolic`` (``exact`` at an exact point) by the engine that differentiated."""
    return Provenance("exact" if exact else "symbolic", differentiated_by(derivatives), cached)


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
    """An independent numeric derivative (Richardson-extrapolated central differences of f itself) per point and
    flat entry, its error estimate, and whether it agrees with the symbolic value (None where either is missing)."""

    values: tuple[tuple[float | None, ...], ...]
    errors: tuple[tuple[float | None, ...], ...]
    agrees: tuple[tuple[bool | None, ...], ...]

    @property
    def disagreeing(self) -> list[int]:
        """The points where some entry disagrees."""
        return [i for i, row in enumerate(self.agrees) if False in row]


_LEVELS = 6
_MAX_CHECK_ORDER = 4


def _entries(operation: str, wrt: Sequence[int], functions: int, n: int) -> list[tuple[int, tuple[int, ...]]]:
    """For each flat derivative entry: the function it differentiates and the variables (indices) in turn."""
    if operation == "derivative":
        return [(0, tuple(wrt))]
    if operation == "hessian":
        return [(0, (i, j)) for i in range(n) for j in range(n)]
    return [(f, (j,)) for f in range(functions) for j in range(n)]


def check_evaluations(operation: str, order: int, functions: int, n: int) -> int:
    """How many times ``numeric_check`` evaluates f per point: 6 step sizes x 2^k sign patterns per entry of order k
    (entries above order 4 are not checked). ``order`` is the derivative's (the length of its ``wrt``)."""
    entries = _entries(operation, [0] * order, functions, n)
    return sum(_LEVELS * 2 ** len(chain) for _, chain in entries if len(chain) <= _MAX_CHECK_ORDER)


def _richardson(estimates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of O(h^2) estimates at h, h/2, ...: the diagonal entry of its Richardson table with the smallest error
    estimate (the change from the entry before), and that estimate; NaN where none is finite."""
    column = estimates
    diagonal = [column[:, 0]]
    for j in range(1, estimates.shape[1]):
        column = column[:, 1:] + (column[:, 1:] - column[:, :-1]) / (4**j - 1)
        diagonal.append(column[:, 0])
    table = np.stack(diagonal, axis=1)
    values, errors = table[:, 1:], np.abs(table[:, 1:] - table[:, :-1])
    usable = np.isfinite(values) & np.isfinite(errors)
    best = np.argmin(np.where(usable, errors, np.inf), axis=1)
    rows = np.arange(len(table))
    found = usable[rows, best]
    return np.where(found, values[rows, best], np.nan), np.where(found, errors[rows, best], np.nan)


def _column(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in values]


def numeric_check(
    evaluate: Callable[[np.ndarray], np.ndarray], points: np.ndarray, operation: str, wrt: Sequence[int],
    functions: int, n: int, values: np.ndarray,
) -> Check:  # fmt: skip
    """Central differences of f (``evaluate``: points -> function values) at every row of ``points``, extrapolated,
    in one evaluation of the whole batch; compared with the symbolic ``values`` (points x flat entries). Entries of
    order above 4 are not checked (None)."""
    points = np.asarray(points, dtype=float)
    entries = _entries(operation, wrt, functions, n)
    scale = np.maximum(1.0, np.max(np.abs(points[:, :n]), axis=1)) if n else np.ones(len(points))
    steps = 0.05 * scale[:, None] / 2.0 ** np.arange(_LEVELS)  # (N, levels)
    blocks: list[np.ndarray] = []
    plan: list[tuple[int, tuple[int, ...], int] | None] = []
    start = 0
    for f, chain in entries:
        if len(chain) > _MAX_CHECK_ORDER:
            plan.append(None)
            continue
        signs = np.array(list(itertools.product((1, -1), repeat=len(chain))), dtype=float)  # (2^k, k)
        shift = np.zeros((len(signs), points.shape[1]))
        for position, v in enumerate(chain):
            shift[:, v] += signs[:, position]
        # rows ordered (level, signs, point): shape (levels, 2^k, N, inputs)
        block = points[None, None] + steps.T[:, None, :, None] * shift[None, :, None, :]
        blocks.append(block.reshape(-1, points.shape[1]))
        plan.append((f, chain, start))
        start += block.shape[0] * block.shape[1] * block.shape[2]
    with np.errstate(all="ignore"):
        evaluated = evaluate(np.concatenate(blocks)) if blocks else np.empty((0, functions))
        out_values: list[list[float | None]] = []
        out_errors: list[list[float | None]] = []
        agrees: list[list[bool | None]] = []
        for k, item in enumerate(plan):
            if item is None:
                out_values.append([None] * len(points))
                out_errors.append([None] * len(points))
                agrees.append([None] * len(points))
                continue
            f, chain, begin = item
            width = 2 ** len(chain)
            weights = np.array([math.prod(s) for s in itertools.product((1, -1), repeat=len(chain))], dtype=float)
            block = evaluated[begin : begin + _LEVELS * width * len(points), f].reshape(_LEVELS, width, len(points))
            estimates = np.einsum("lwp,w->pl", block, weights) / (2 * steps) ** len(chain)
            value, error = _richardson(estimates)
            symbolic = values[:, k].astype(float)
            known = np.isfinite(value) & np.isfinite(error) & np.isfinite(symbolic)
            close = np.abs(value - symbolic) <= np.maximum(10 * error, 1e-6 * np.maximum(1.0, np.abs(symbolic)))
            out_values.append(_column(value))
            out_errors.append(_column(error))
            agrees.append([bool(c) if ok else None for c, ok in zip(close, known, strict=True)])
    count = len(points)
    return Check(_by_point(out_values, count), _by_point(out_errors, count), _by_point(agrees, count))


def _by_point(columns: list[list[T]], count: int) -> tuple[tuple[T, ...], ...]:
    """Per-entry columns (one value per point) as per-point rows."""
    return tuple(zip(*columns, strict=True)) if columns else ((),) * count


def _sided_limit(quotients: np.ndarray) -> float | None:
    """The limit of one-sided difference quotients at h, h/2, ... (error O(h)), Richardson-extrapolated; None when
    the extrapolations do not settle (the quotients diverge, as 1/sqrt(h) or c/h do, or oscillate)."""
    table = list(quotients)
    diagonal = [table[0]]
    for level in range(1, len(quotients)):  # O(h) error: factors 2^level - 1
        table = [table[m] + (table[m] - table[m - 1]) / (2**level - 1) for m in range(1, len(table))]
        diagonal.append(table[0])
    best, change = float(diagonal[-1]), float(abs(diagonal[-1] - diagonal[-2]))
    if not np.isfinite(best) or not change <= 1e-6 * max(1.0, abs(best)):
        return None
    return round(best, 12) + 0.0


def _steps(point: np.ndarray) -> np.ndarray:
    return 1e-3 * max(1.0, float(np.max(np.abs(point)))) / 2.0 ** np.arange(_LEVELS)


def one_sided(
    evaluate: Callable[[np.ndarray], np.ndarray], point: np.ndarray, entries: Sequence[tuple[int, int]]
) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The left and right first derivatives of f_i along x_j for each entry (i, j): one-sided difference quotients
    of f, Richardson-extrapolated; None unless every one converges (both exist)."""
    n = len(point)
    found = [
        tuple(_sided_limit(q) for q in pair)
        for pair in _quotients(evaluate, point, [(i, np.eye(n)[j]) for i, j in entries])
    ]
    left = tuple(v for v, _ in found if v is not None)
    right = tuple(v for _, v in found if v is not None)
    return (left, right) if len(left) == len(right) == len(found) else None


def _quotients(
    evaluate: Callable[[np.ndarray], np.ndarray], point: np.ndarray, lines: Sequence[tuple[int, np.ndarray]]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each (function i, direction d): the one-sided difference quotients (f_i(p + s*h*d) - f_i(p)) / (s*h)
    at h, h/2, ... for s = -1 (from behind) and s = 1 (from ahead), whose limits are the one-sided derivatives
    along d. One evaluation of f for all of them."""
    steps = _steps(point)
    rows = [point.astype(float)]
    for _, d in lines:
        for side in (-1, 1):
            rows.extend(point + side * h * d for h in steps)
    with np.errstate(all="ignore"):  # a side where f is infinite (0^x left of 0) has no derivative
        values = evaluate(np.array(rows))
        out = []
        for k, (i, _) in enumerate(lines):
            pair = []
            for s in range(2):
                start = 1 + (2 * k + s) * _LEVELS
                pair.append((values[start : start + _LEVELS, i] - values[0, i]) / (steps * (2 * s - 1)))
            out.append((pair[0], pair[1]))
    return out


Side = float | str  # a one-sided derivative, or why there is none: "undefined", "unbounded", "unsettled"


def _side(quotients: np.ndarray) -> Side:
    """What the quotients of one side say: their limit; "undefined" where f is not a finite real number on that side;
    "unbounded" where they grow (x*y/(x^2 + y^2) on the diagonal: 1/(2h)); else "unsettled" (they may approach a
    limit too slowly to tell: h*log(h))."""
    limit = _sided_limit(quotients)
    if limit is not None:
        return limit
    if not np.isfinite(quotients).all():
        return "undefined"
    first, last = abs(float(quotients[0])), abs(float(quotients[-1]))
    return "unbounded" if last > 8 * max(1.0, first) else "unsettled"


def _contradicts(side: Side, expected: float) -> bool:
    """Whether one side proves that the directional derivative is not ``expected`` (the gradient along d)."""
    if isinstance(side, str):
        return side in ("undefined", "unbounded")
    return abs(side - expected) > 1e-6 * max(1.0, abs(expected))


_MAX_DIRECTIONS = 32


def partials_exist(left: Sequence[float], right: Sequence[float]) -> bool:
    """Whether one-sided partials agree from both sides (to the accuracy of their differences): then they exist."""
    return bool(np.allclose(left, right, rtol=1e-6, atol=1e-9))


def _directions(n: int) -> list[np.ndarray]:
    """Diagonal directions of pairs of variables, (e_i + e_j)/sqrt(2) and (e_i - e_j)/sqrt(2), then the all-ones
    diagonal: where a function that is not differentiable shows it most often (x*y/(x^2 + y^2), sqrt(abs(x*y)))."""
    eye = np.eye(n)
    found = [(eye[i] + sign * eye[j]) / np.sqrt(2) for i in range(n) for j in range(i + 1, n) for sign in (1, -1)]
    if n > 2:
        found.append(np.ones(n) / np.sqrt(n))
    return found[:_MAX_DIRECTIONS]


@dataclass(frozen=True)
class Frechet:
    """What the directional test found at a point whose partial derivatives exist but whose derivative formula
    failed: a direction where f is not differentiable (its one-sided derivative along it, None when it does not
    exist), or none among those tried."""

    function: int
    direction: tuple[float, ...] | None
    found: tuple[Side, Side] | None  # from behind and from ahead (along -d and along d), as derivatives along d
    expected: float | None  # the gradient's value along d


def frechet(evaluate: Callable[[np.ndarray], np.ndarray], point: np.ndarray, n: int, partials: np.ndarray) -> Frechet:
    """Where the partials of every function exist (``partials``: functions x n, equal from both sides), test the
    directional derivatives along the diagonals: if f were differentiable, each would exist and equal the gradient
    along it. The first direction where one does not is a proof (to the accuracy of the differences) that f is
    not differentiable; none found proves nothing (x^3*y/(x^6 + y^2), extended by 0, is not even continuous at 0
    yet passes every straight line)."""
    tried = [(i, d) for i in range(len(partials)) for d in _directions(n)]
    padded = [(i, np.concatenate([d, np.zeros(len(point) - n)])) for i, d in tried]
    for (i, d), pair in zip(tried, _quotients(evaluate, point, padded), strict=True):
        expected = round(float(partials[i] @ d), 12) + 0.0
        sides = (_side(pair[0]), _side(pair[1]))
        if any(_contradicts(side, expected) for side in sides):
            return Frechet(i, tuple(round(float(c), 12) for c in d), sides, expected)
    return Frechet(0, None, None, None)


def _vector(values: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in values) + ")"


_WORDS = {
    "undefined": "undefined (f is not a finite real number on that side)",
    "unbounded": "unbounded (the difference quotients grow)",
    "unsettled": "unsettled",
}


def frechet_note(found: Frechet, variables: Sequence[str], functions: int) -> Note:
    """The warning of a directional test: ``partials_not_differentiable`` with the direction that shows it, or
    ``differentiability_undecided``."""
    if found.direction is None or found.found is None or found.expected is None:
        detail = (
            "the partial derivatives exist here (equal from both sides: see left and right) and the directional "
            "derivatives along the diagonals agree with them, but the derivative formula is undefined here: f may "
            "be differentiable, with these partials as its derivative; not decided"
        )
        return Note("differentiability_undecided", detail, 0, Status.NON_DIFFERENTIABLE.label)
    sides = " and ".join(_WORDS[v] if isinstance(v, str) else f"{v:.6g}" for v in found.found)
    which = f"of functions[{found.function}] " if functions > 1 else ""
    detail = (
        f"the partial derivatives {which}exist here (equal from both sides: see left and right), but f is not "
        f"differentiable: along the direction {_vector(found.direction)} in ({', '.join(variables)}) its one-sided "
        f"derivatives (from behind, from ahead) are {sides}, where the partials give {found.expected:.6g}"
    )
    return Note("partials_not_differentiable", detail, 0, Status.NON_DIFFERENTIABLE.label)
