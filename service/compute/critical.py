"""Critical points: where the gradient vanishes, and what the Hessian's eigenvalues say each one is.

Symbolically first, within a deadline: when every component of the gradient is a polynomial (or a ratio of
polynomials) in the variables, the solutions of grad f = 0 are computed from a lex Groebner basis per variable. Its
eliminant, a polynomial in that variable alone, has every solution's coordinate among its real roots (isolated
exactly), so the critical points are among the combinations of those roots, each checked at 50 digits. That is a
proof that none was missed: ``complete``. Otherwise (other functions, infinitely many solutions, out of time) Newton's
method on grad f = 0 runs from many quasi-random starts inside ``bounds`` at once, the points it converges to are
deduplicated, and the answer says ``complete: false``.

Each point is classified by its Hessian's eigenvalues: all positive a minimum, all negative a maximum, both signs a
saddle, and ``degenerate`` when a zero eigenvalue leaves the second derivative test undecided. Exact points are
classified at 50 digits; numeric ones treat an eigenvalue within sqrt(eps) of the largest (or of 1) as zero.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from service.compute.anchor import FunctionQuery, FunctionSpec, Prepared, prepare
from service.compute.deadline import OutOfTime, deadline
from service.compute.engine import to_sympy
from service.compute.errors import InvalidInput, located
from service.compute.language.build import symbol
from service.compute.limits import CRITICAL_STARTS, MAX_CRITICAL_POINTS
from service.compute.numeric import Evaluator, compile_evaluator
from service.compute.trust import Provenance, differentiated_by, versions

__all__ = [
    "CRITICAL_POINT_KINDS",
    "DEFAULT_BOUND",
    "KINDS",
    "CriticalAnswer",
    "CriticalPoint",
    "CriticalPoints",
    "CriticalQuery",
    "CriticalTask",
    "critical_point",
    "critical_points",
    "is_critical",
    "kinds",
]

KINDS = ("minimum", "maximum", "saddle", "degenerate")
CRITICAL_POINT_KINDS = ("minimum", "maximum", "saddle", "inconclusive")  # the Hessian answer's words
DEFAULT_BOUND = 10.0  # the numeric search box is [-10, 10] in every variable without bounds
_DIGITS = 50
_NEWTON_STEPS = 200
_HALVINGS = 30
_MEMORY = 8  # the line search compares with the largest |grad f| of the last 8 steps


@dataclass(frozen=True)
class CriticalQuery(FunctionQuery):
    """A validated critical-points request: the box to search numerically (or to keep exact solutions in)."""

    bounds: tuple[tuple[str, float, float], ...] = ()


@dataclass(frozen=True)
class CriticalTask:
    spec: FunctionSpec
    bounds: tuple[tuple[str, float, float], ...] = ()  # (variable, lo, hi); the others get [-10, 10]
    solve: bool = True  # False: the numeric search only (tests compare the two ways)
    solve_seconds: float = 4.0
    search_seconds: float = 4.0
    starts: int = CRITICAL_STARTS
    max_points: int = MAX_CRITICAL_POINTS
    max_candidates: int = 5_000


@dataclass(frozen=True)
class CriticalPoint:
    at: tuple[float, ...]
    function_value: float
    gradient_norm: float
    eigenvalues: tuple[float, ...]  # ascending
    kind: str  # one of KINDS


@dataclass(frozen=True)
class CriticalPoints:
    variables: tuple[str, ...]
    points: tuple[CriticalPoint, ...]
    method: str  # symbolic | numeric
    complete: bool
    bounds: tuple[tuple[float, float], ...]  # the box searched (or filtered to), per variable
    warnings: tuple[tuple[str, str], ...] = ()  # (code, detail)
    provenance: Provenance | None = None  # the method, the engine that differentiated (and NumPy for a search)


# -- classification -------------------------------------------------------------------------------------------------


def kinds(eigenvalues: np.ndarray, tolerance: np.ndarray) -> list[str | None]:
    """The kind of each row of eigenvalues (N x n) of a Hessian at a critical point; an eigenvalue within
    ``tolerance`` (one per row) of zero counts as zero. None where a row is not finite."""
    out: list[str | None] = []
    for row, tol in zip(eigenvalues, tolerance, strict=True):
        if not np.isfinite(row).all():
            out.append(None)
        elif (row > tol).all():
            out.append("minimum")
        elif (row < -tol).all():
            out.append("maximum")
        elif (row > tol).any() and (row < -tol).any():
            out.append("saddle")
        else:
            out.append("degenerate")
    return out


_BY_CLASSIFICATION = {
    "positive definite": "minimum",
    "negative definite": "maximum",
    "indefinite": "saddle",
    "positive semidefinite": "inconclusive",
    "negative semidefinite": "inconclusive",
}


def is_critical(points: np.ndarray, gradients: np.ndarray, hessians: np.ndarray) -> np.ndarray:
    """Whether each point (N x n) is critical: its gradient is zero up to the rounding of the point itself, i.e.
    |grad f|_max <= 16 eps |H|_max (1 + |a|_max) (cos at the float nearest pi has gradient 1.2e-16, not 0)."""
    with np.errstate(all="ignore"):
        size = np.abs(gradients).max(axis=1, initial=0.0)
        curvature = np.abs(hessians.reshape(len(points), -1)).max(axis=1, initial=0.0)
        reach = 1.0 + np.abs(points).max(axis=1, initial=0.0)
        tolerance = 16 * np.finfo(float).eps * curvature * reach
        critical: np.ndarray = np.isfinite(gradients).all(axis=1) & (size <= tolerance)
    return critical


def critical_point(critical: bool, classification: str | None) -> dict[str, bool | str | None]:
    """The Hessian answer's ``critical_point`` at one point: the second derivative test, read from the Hessian's
    ``classification``, so the two never disagree; ``inconclusive`` where a zero eigenvalue (or an undefined
    Hessian) leaves it undecided, and no kind at a point that is not critical."""
    if not critical:
        return {"is_critical": False, "kind": None}
    return {"is_critical": True, "kind": _BY_CLASSIFICATION.get(classification or "", "inconclusive")}


# -- the task -------------------------------------------------------------------------------------------------------


def _box(task: CriticalTask, variables: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    given: dict[str, tuple[float, float]] = {}
    for name, lo, hi in task.bounds:
        if name not in variables:
            raise located(
                InvalidInput,
                f"bounds names '{name}', which is not one of the variables ({', '.join(variables)}); give bounds "
                "for the variables only",
                ("body", "bounds", name),
            )
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise located(
                InvalidInput,
                f"bounds for {name} are [{lo:g}, {hi:g}]; give two finite numbers [lo, hi] with lo < hi",
                ("body", "bounds", name),
            )
        given[name] = (lo, hi)
    box = [given.get(n, (-DEFAULT_BOUND, DEFAULT_BOUND)) for n in variables]
    return np.array([b[0] for b in box]), np.array([b[1] for b in box])


def _validated(task: CriticalTask) -> tuple[Prepared, Prepared]:
    gradient = prepare(task.spec, "gradient")
    if gradient.parameters:
        raise located(
            InvalidInput,
            f"critical points need numbers for every parameter ({', '.join(gradient.parameters)}); give their "
            "values in 'parameters' as an object",
            ("body", "parameters"),
        )
    if not gradient.variables:
        raise located(
            InvalidInput,
            "the function has no variables, so it has no critical points in them; name them in 'variables'",
            ("body", "variables"),
        )
    return gradient, prepare(task.spec, "hessian")


def critical_points(task: CriticalTask) -> CriticalPoints:
    """The critical points of ``task``'s function: all of them when they can be found symbolically, else those a
    numeric search finds inside the bounds."""
    gradient, hessian = _validated(task)
    variables = gradient.variables
    lo, hi = _box(task, variables)
    box = tuple((float(a), float(b)) for a, b in zip(lo, hi, strict=True))
    warnings: list[tuple[str, str]] = []
    solved = _solve(gradient, task, warnings) if task.solve else None
    if solved is not None:
        inside = [p for p in solved if not task.bounds or _within(p, lo, hi)]
        points = _classified_exact(gradient, hessian, inside)
        made = Provenance("symbolic", differentiated_by([*gradient.derivatives, *hessian.derivatives]))
        return _answer(variables, points, made, True, box, warnings, task.max_points)
    if not task.bounds:
        warnings.append(
            (
                "default_bounds",
                f"searched numerically within [-{DEFAULT_BOUND:g}, {DEFAULT_BOUND:g}] in every variable; give "
                "bounds to search elsewhere",
            )
        )
    evaluator = compile_evaluator(variables, [gradient.function], [*gradient.derivatives, *hessian.derivatives])
    found = _search(evaluator, len(variables), lo, hi, task)
    engine = differentiated_by([*gradient.derivatives, *hessian.derivatives])
    made = Provenance("numeric", f"{engine}, {versions('numpy')}")
    return _answer(variables, found, made, False, box, warnings, task.max_points)


def _answer(
    variables: tuple[str, ...],
    points: list[CriticalPoint],
    made: Provenance,
    complete: bool,
    box: tuple[tuple[float, float], ...],
    warnings: list[tuple[str, str]],
    limit: int,
) -> CriticalPoints:
    points.sort(key=lambda p: tuple(round(v, 9) for v in p.at))  # -1e-29 and 1e-31 are both 0 to the eye
    if len(points) > limit:
        warnings.append(
            ("truncated", f"{len(points)} critical points were found; the first {limit} (by coordinates) are listed")
        )
        points, complete = points[:limit], False
    return CriticalPoints(variables, tuple(points), made.method, complete, box, tuple(warnings), made)


def _within(point: Sequence[mpmath.mpf], lo: np.ndarray, hi: np.ndarray) -> bool:
    return all(a <= float(v) <= b for v, a, b in zip(point, lo, hi, strict=True))


# -- symbolic -------------------------------------------------------------------------------------------------------


def _solve(
    gradient: Prepared, task: CriticalTask, warnings: list[tuple[str, str]]
) -> list[tuple[mpmath.mpf, ...]] | None:
    """Every real solution of grad f = 0 (at 50 digits), or None when that cannot be shown within the deadline."""
    symbols = [symbol(n) for n in gradient.variables]
    components = [to_sympy(g) for g in gradient.derivatives]
    fractions = [sp.fraction(sp.together(g)) for g in components]
    if not all(p.is_polynomial(*symbols) and q.is_polynomial(*symbols) for p, q in fractions):
        return None
    try:
        with deadline(task.solve_seconds):
            return _solve_polynomial(components, [p for p, _ in fractions], symbols, task.max_candidates, warnings)
    except (OutOfTime, RecursionError, MemoryError):
        warnings.append(
            (
                "solve_timed_out",
                f"the symbolic solution took longer than {task.solve_seconds:g} s; searched numerically",
            )
        )
        return None


def _solve_polynomial(
    components: list[sp.Expr],
    numerators: list[sp.Expr],
    symbols: list[sp.Symbol],
    max_candidates: int,
    warnings: list[tuple[str, str]],
) -> list[tuple[mpmath.mpf, ...]] | None:
    roots: list[list[mpmath.mpf]] = []
    for variable in symbols:
        order = [s for s in symbols if s != variable] + [variable]
        basis = sp.groebner(numerators, *order, order="lex")
        if basis.exprs == [1]:
            return []  # the equations contradict each other: no critical point at all
        if not basis.is_zero_dimensional:
            warnings.append(
                (
                    "not_isolated",
                    "grad f = 0 has infinitely many (complex) solutions; the points were searched numerically",
                )
            )
            return None
        eliminant = sp.Poly(basis.exprs[-1], variable)
        with mpmath.workdps(_DIGITS + 10):
            roots.append(sorted({mpmath.mpf(str(r.evalf(_DIGITS + 10))) for r in eliminant.real_roots()}))
    if math.prod(len(r) for r in roots) > max_candidates:
        warnings.append(
            (
                "too_many_candidates",
                "grad f = 0 has too many candidate solutions to check symbolically; searched numerically",
            )
        )
        return None
    checks = [sp.lambdify(symbols, c, modules="mpmath") for c in components]
    solutions = []
    with mpmath.workdps(_DIGITS + 10):
        for candidate in itertools.product(*roots):
            try:
                residual = max(abs(check(*candidate)) for check in checks)
            except (ZeroDivisionError, ValueError):  # a pole of the gradient: no critical point there
                continue
            if residual < mpmath.mpf(10) ** (-_DIGITS // 2):
                solutions.append(tuple(candidate))
    return solutions


def _classified_exact(
    gradient: Prepared, hessian: Prepared, points: list[tuple[mpmath.mpf, ...]]
) -> list[CriticalPoint]:
    symbols = [symbol(n) for n in gradient.variables]
    f = sp.lambdify(symbols, to_sympy(gradient.function), modules="mpmath")
    entries = [sp.lambdify(symbols, to_sympy(h), modules="mpmath") for h in hessian.derivatives]
    n = len(symbols)
    out = []
    with mpmath.workdps(_DIGITS):
        for point in points:
            try:
                value = f(*point)
                matrix = mpmath.matrix(n, n)
                for k, entry in enumerate(entries):
                    matrix[k // n, k % n] = entry(*point)
            except (ZeroDivisionError, ValueError):
                continue  # f is not defined there (a root of the numerator that is a pole of f)
            if not isinstance(value, mpmath.mpf) or not mpmath.isfinite(value):
                continue
            eigenvalues = sorted(mpmath.eigsy(matrix, eigvals_only=True))
            scale = max([mpmath.mpf(1), *(abs(v) for v in eigenvalues)])
            tolerance = scale * mpmath.mpf(10) ** (-(_DIGITS * 3) // 5)
            floats = np.array([[float(v) for v in eigenvalues]])
            kind = kinds(np.where(np.abs(floats) <= float(tolerance), 0.0, floats), np.zeros(1))[0]
            at = tuple(float(c) + 0.0 for c in point)
            out.append(
                CriticalPoint(at, float(value), 0.0, tuple(float(v) + 0.0 for v in floats[0]), kind or "degenerate")
            )
    return out


# -- numeric --------------------------------------------------------------------------------------------------------


def _evaluate(evaluator: Evaluator, points: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    evaluation = evaluator.evaluate(points)
    values = evaluation.values
    return evaluation.functions[:, 0], values[:, :n], values[:, n:].reshape(len(points), n, n)


def _norm(rows: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        norms: np.ndarray = np.linalg.norm(rows, axis=1)
    return np.where(np.isfinite(norms), norms, np.inf)


def _newton_steps(hessians: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """-H^+ g per row (the pseudo-inverse: a singular Hessian still gives the least-squares step); no step where
    the Hessian is not finite (an SVD of NaNs fails)."""
    finite = np.isfinite(hessians).all(axis=(1, 2)) & np.isfinite(gradients).all(axis=1)
    steps = np.zeros_like(gradients)
    if finite.any():
        with np.errstate(all="ignore"):
            inverse = np.linalg.pinv(hessians[finite], rcond=1e-13, hermitian=True)
        steps[finite] = -np.einsum("kij,kj->ki", inverse, gradients[finite])
    return steps


def _search(evaluator: Evaluator, n: int, lo: np.ndarray, hi: np.ndarray, task: CriticalTask) -> list[CriticalPoint]:
    """Newton's method on grad f = 0 from ``task.starts`` Sobol points in the box, all at once.

    A step is halved until |grad f| falls below the largest of its last few values (a non-monotone line search:
    demanding a decrease at every step crawls along curved valleys such as Rosenbrock's)."""
    from scipy.stats import qmc  # here: the web process imports this module for is_critical, and scipy.stats is slow

    stop = time.monotonic() + task.search_seconds
    sampler = qmc.Sobol(d=n, scramble=True, rng=np.random.default_rng(0))
    points = qmc.scale(sampler.random(1 << max(1, (task.starts - 1).bit_length())), lo, hi)
    width = hi - lo
    _, gradients, hessians = _evaluate(evaluator, points, n)
    norms = _norm(gradients)
    history = np.repeat(norms[:, None], _MEMORY, axis=1)
    active = np.isfinite(norms)
    for iteration in range(_NEWTON_STEPS):
        if not active.any() or time.monotonic() > stop:
            break
        rows = np.flatnonzero(active)
        steps = _newton_steps(hessians[rows], gradients[rows])
        reference = history[rows].max(axis=1)
        accepted = np.zeros(len(rows), dtype=bool)
        scale = np.ones(len(rows))
        for _ in range(_HALVINGS):
            pending = np.flatnonzero(~accepted)
            if not len(pending):
                break
            trial = points[rows[pending]] + scale[pending, None] * steps[pending]
            _, g, h = _evaluate(evaluator, trial, n)
            trial_norms = _norm(g)
            better = (trial_norms < reference[pending] * (1 - 1e-4 * scale[pending])) | (trial_norms == 0)
            done = pending[better]
            points[rows[done]], gradients[rows[done]], hessians[rows[done]] = trial[better], g[better], h[better]
            accepted[done] = True
            scale[pending[~better]] /= 2
        moved = np.abs(scale[:, None] * steps).max(axis=1, initial=0.0)
        norms[rows] = _norm(gradients[rows])
        history[rows, iteration % _MEMORY] = norms[rows]
        settled = ~accepted | (moved <= 1e-15 * (1 + np.abs(points[rows]).max(axis=1))) | (norms[rows] == 0)
        outside = ((points[rows] < lo - width) | (points[rows] > hi + width)).any(axis=1)
        active[rows[settled | outside]] = False
    return _collected(evaluator, points, n, lo, hi, width)


def _collected(
    evaluator: Evaluator, points: np.ndarray, n: int, lo: np.ndarray, hi: np.ndarray, width: np.ndarray
) -> list[CriticalPoint]:
    values, gradients, hessians = _evaluate(evaluator, points, n)
    inside = ((points >= lo - 1e-9 * width) & (points <= hi + 1e-9 * width)).all(axis=1)
    finite = np.isfinite(values) & np.isfinite(hessians).all(axis=(1, 2))
    norms = _norm(gradients)
    with np.errstate(all="ignore"):
        curvature = np.maximum(1.0, np.abs(hessians).max(axis=(1, 2)))
        converged = inside & finite & (norms <= 1e-8 * curvature * (1 + np.abs(points).max(axis=1)))
    kept: list[int] = []
    for i in np.argsort(norms):
        if not converged[i]:
            continue
        close = [j for j in kept if np.abs(points[i] - points[j]).max() <= 1e-6 * (1 + np.abs(points[j]).max())]
        if not close:
            kept.append(int(i))
    out = []
    for k in kept:
        eigenvalues = np.linalg.eigvalsh(hessians[k])
        tolerance = math.sqrt(np.finfo(float).eps) * max(1.0, float(np.abs(eigenvalues).max(initial=0.0)))
        kind = kinds(eigenvalues[None, :], np.array([tolerance]))[0]
        at = tuple(float(v) + 0.0 for v in points[k])
        spectrum = tuple(float(v) + 0.0 for v in eigenvalues)
        out.append(CriticalPoint(at, float(values[k]), float(norms[k]), spectrum, kind or "degenerate"))
    return out


@dataclass(frozen=True)
class CriticalAnswer:
    query: CriticalQuery
    result: CriticalPoints

    @property
    def size(self) -> int:
        return 0
