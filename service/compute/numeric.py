"""Compiled, vectorised evaluation of functions and their derivatives, with a status for every point.

An ``Evaluator`` computes the functions and every distinct derivative entry in one compiled kernel: SymEngine's
LLVM backend when every expression is SymEngine's, else ``sympy.lambdify`` over NumPy and SciPy (only trees built by
the service's parser reach it). Functions with kinks (``abs``, ``sign``, ``min``, ``max``) get a second kernel that
takes the other one-sided limit of every step: where the two sides differ, the derivative does not exist.

Statuses, worst first: ``domain_error`` (a function is undefined or not real at the point, so no derivative there is
an answer), ``non_finite`` (a function value is infinite or beyond float64), ``non_differentiable`` (a derivative
is infinite, undefined, or differs from the two sides: a kink, cusp, jump or branch point). Entries that are not
``ok`` are NaN here and ``null`` in JSON. Kernels compute the stable forms of ``compute.stable`` (sigmoid and
softplus far in their tails are 1 or 0, not an overflow).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

import numpy as np
import scipy.special
import symengine as se
import sympy as sp

from service.compute.engine import EngineExpr, is_symengine, node_count, to_sympy
from service.compute.errors import TooComplex, located
from service.compute.stable import stable
from service.compute.status import STATUS_DETAIL, Status

Kernel = Callable[[np.ndarray], np.ndarray]

_KINKS = (sp.sign, sp.Heaviside, sp.DiracDelta, sp.Abs, sp.Min, sp.Max)


def _step(inclusive: bool) -> Callable[..., np.ndarray]:
    def heaviside(u: np.ndarray, *_: Any) -> np.ndarray:
        step: np.ndarray = (u >= 0 if inclusive else u > 0).astype(float)
        return step

    return heaviside


def _sign(inclusive: bool) -> Callable[[np.ndarray], np.ndarray]:
    def sign(u: np.ndarray) -> np.ndarray:
        return np.where(u > 0, 1.0, np.where(u < 0, -1.0, 1.0 if inclusive else -1.0))

    return sign


def _dirac(u: np.ndarray, *_: Any) -> np.ndarray:
    return np.where(u == 0, np.nan, 0.0)


def _loggamma(u: np.ndarray) -> np.ndarray:
    # Real only for u > 0; SciPy's gammaln would return log|gamma(u)| for negative u.
    return np.where(u > 0, scipy.special.gammaln(np.where(u > 0, u, 1.0)), np.nan)


def _gamma(u: np.ndarray) -> np.ndarray:
    # Poles at 0, -1, -2, ...: infinite everywhere, as SciPy already says at 0 (it says NaN at the others).
    pole = (u <= 0) & (u == np.floor(u))
    values: np.ndarray = np.where(pole, np.inf, scipy.special.gamma(np.where(pole, 1.0, u)))
    return values


def _neutral_step(u: np.ndarray, *_: Any) -> np.ndarray:
    step: np.ndarray = np.heaviside(u, 0.5)
    return step


# Functions whose NumPy/SciPy translation is wrong for us (sided limits, real domain) are renamed to names that
# lambdify looks up in our own table instead of printing its built-in translation.
_RENAMED = {
    sp.sign: "nabla_sign",
    sp.Heaviside: "nabla_step",
    sp.DiracDelta: "nabla_dirac",
    sp.loggamma: "nabla_loggamma",
    sp.gamma: "nabla_gamma",
}


def _renamed(expr: sp.Expr) -> sp.Expr:
    for cls, name in _RENAMED.items():
        expr = expr.replace(cls, sp.Function(name))
    return expr


def _modules(side: bool | None) -> list[Any]:
    names: dict[str, Any] = {"nabla_loggamma": _loggamma, "nabla_dirac": _dirac, "nabla_gamma": _gamma}
    if side is None:
        names |= {"nabla_step": _neutral_step, "nabla_sign": np.sign}
    else:
        names |= {"nabla_step": _step(side), "nabla_sign": _sign(side)}
    return [names, "scipy", "numpy"]


_LLVM_FROM_POINTS = 256
_BLOCK_ROWS = 65_536
_LAMBDIFY_MAX_NODES = 20_000  # sympy.lambdify generates and compiles Python source: seconds beyond this
_LLVM_MAX_NODES = 20_000  # beyond this, LLVM's compile time outweighs its speed; the interpreter is used


class _SymEngineKernel:
    """SymEngine's interpreter (built in about a millisecond) for small batches; for large ones, its LLVM backend,
    compiled on first use (milliseconds to tens of them) and then 10-40x faster per point."""

    def __init__(self, inputs: Sequence[str], outputs: Sequence[EngineExpr]) -> None:
        # SymEngine names its common subexpressions x0, x1, ...: a variable called x0 would be taken for one (and
        # silently give wrong values), so inputs are renamed to names the language cannot spell.
        internal = [se.Symbol(f"_nabla_{i}") for i in range(len(inputs))]
        renaming = dict(zip((se.Symbol(n) for n in inputs), internal, strict=True))
        # SymEngine cannot compile a function of no arguments: constants get one unused input.
        self.padded = not inputs
        self.args = (internal or [se.Symbol("_nabla_unused")], [stable(e).xreplace(renaming) for e in outputs])
        self.width = len(outputs)
        self.small = se.Lambdify(*self.args, real=True, cse=True, backend="lambda")
        self.large: Any = None
        size = sum(node_count(e, _LLVM_MAX_NODES) for e in outputs)
        self.use_llvm = se.have_llvm and size <= _LLVM_MAX_NODES
        self.lock = threading.Lock()

    def compiled_for(self, count: int) -> Any:
        if count < _LLVM_FROM_POINTS or not self.use_llvm:
            return self.small
        with self.lock:
            if self.large is None:
                self.large = se.Lambdify(*self.args, real=True, cse=True, backend="llvm")
        return self.large

    def __call__(self, points: np.ndarray) -> np.ndarray:
        if self.padded:
            points = np.zeros((len(points), 1))
        compiled = self.compiled_for(len(points))
        if len(points) <= _BLOCK_ROWS:
            return np.asarray(compiled(points), dtype=float).reshape(len(points), self.width)
        # In blocks, so that a large batch lets other threads (the event loop) in between.
        out = np.empty((len(points), self.width))
        for start in range(0, len(points), _BLOCK_ROWS):
            block = np.ascontiguousarray(points[start : start + _BLOCK_ROWS])
            out[start : start + len(block)] = np.asarray(compiled(block), dtype=float).reshape(len(block), self.width)
        return out


def _symengine_kernel(inputs: Sequence[str], outputs: Sequence[EngineExpr]) -> Kernel:
    return _SymEngineKernel(inputs, outputs)


def _sympy_kernel(inputs: Sequence[str], outputs: Sequence[sp.Expr], side: bool | None) -> Kernel:
    symbols = [sp.Symbol(n, real=True) for n in inputs]
    renamed = [_renamed(stable(e)) for e in outputs]
    compiled = sp.lambdify(symbols, renamed, modules=_modules(side), cse=True, dummify=True)

    def kernel(points: np.ndarray) -> np.ndarray:
        columns = compiled(*points.T)
        out = np.empty((len(points), len(outputs)))
        for j, column in enumerate(columns):
            out[:, j] = column
        return out

    return kernel


def _no_negative_zero(values: np.ndarray) -> np.ndarray:
    """-0.0 + 0.0 is 0.0: a legitimate float, but a surprise in JSON. In place: kernels return fresh arrays."""
    np.add(values, 0.0, out=values)
    return values


@dataclass(frozen=True)
class Evaluator:
    """Compiled functions and derivative entries of one calculus result."""

    inputs: tuple[str, ...]  # variables, then parameters: the columns of a point matrix
    functions: int
    index: np.ndarray  # for each flat derivative entry, its column among the distinct outputs
    kernel: Kernel
    sides: tuple[Kernel, Kernel] | None = field(default=None)
    exprs: tuple[se.Basic, ...] | None = field(default=None)  # the SymEngine outputs, for refine()
    cuts: Kernel | None = field(default=None)  # (y, x) of every atan2(y, x) of the functions, side by side

    def _split(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The kernel's columns as the functions and the flat derivative entries."""
        functions = raw[:, : self.functions]
        values = raw[:, self.functions :] if self.identity else raw[:, self.functions :][:, self.index]
        return functions, values

    def plain(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The functions and derivative entries at ``points`` when every value is finite and nothing else needs a
        look (no one-sided kernels, no atan2 cut): what ``evaluate`` gives with every status ok. None otherwise."""
        if self.sides is not None or self.cuts is not None:
            return None
        with np.errstate(all="ignore"):
            raw = self.kernel(points)
        if not np.isfinite(raw).all():
            return None
        functions, values = self._split(raw)
        return functions, _no_negative_zero(values)

    def evaluate(self, points: np.ndarray) -> Evaluation:
        """Functions and derivatives at each row of ``points`` (shape N x len(inputs))."""
        with np.errstate(all="ignore"):
            raw = self.kernel(points)
            functions, values = self._split(raw)
            status = np.zeros(len(points), dtype=np.int8)
            on_cut = self.on_cut(points)
            if self.sides is None and on_cut is None and np.isfinite(raw).all():
                return Evaluation(_no_negative_zero(values), functions, status)
            values = np.array(values)
            broken = ~np.isfinite(values)
            if self.sides is not None:
                left, right = (side(points)[:, self.functions :][:, self.index] for side in self.sides)
                broken |= ~np.isclose(left, right, rtol=1e-13, atol=0.0, equal_nan=True) | ~np.isfinite(left)
                values = left
            if on_cut is not None:
                broken[on_cut] = True  # the function jumps there: no derivative is an answer
            status[broken.any(axis=1)] = Status.NON_DIFFERENTIABLE
            status[np.isinf(functions).any(axis=1)] = Status.NON_FINITE
            status[np.isnan(functions).any(axis=1)] = Status.DOMAIN_ERROR
            values[broken] = np.nan
            values[(status == Status.DOMAIN_ERROR) | (status == Status.NON_FINITE)] = np.nan
        return Evaluation(_no_negative_zero(values), functions, status)

    def on_cut(self, points: np.ndarray) -> np.ndarray | None:
        """Points on the branch cut of an atan2 (y = 0, x < 0), where it jumps by 2*pi; None when there are none."""
        if self.cuts is None:
            return None
        args = self.cuts(points)
        on: np.ndarray = ((args[:, 0::2] == 0) & (args[:, 1::2] < 0)).any(axis=1)
        return on if on.any() else None

    @cached_property
    def identity(self) -> bool:
        return len(self.index) == 0 or bool(np.array_equal(self.index, np.arange(len(self.index))))


@dataclass(frozen=True)
class Evaluation:
    values: np.ndarray  # N x entries; NaN where not ok
    functions: np.ndarray  # N x functions
    status: np.ndarray  # N codes into STATUSES

    def flag_non_finite(self, rows: np.ndarray) -> Evaluation:
        """The same evaluation with ``rows`` (a mask) that are still ok marked non_finite: a quantity derived from
        finite derivatives (a norm, an eigenvalue) overflowed float64."""
        status = self.status.copy()
        status[rows & (status == Status.OK)] = Status.NON_FINITE
        return Evaluation(self.values, self.functions, status)

    def status_of(self, row: int) -> str:
        return Status(int(self.status[row])).label

    def problems(self, limit: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The first ``limit`` points that are not ok, and how many points have each status."""
        bad = np.flatnonzero(self.status)
        listed = [
            {
                "point": int(i),
                "status": Status(int(self.status[i])).label,
                "detail": STATUS_DETAIL[Status(int(self.status[i])).label],
            }
            for i in bad[:limit]
        ]
        counts = np.bincount(self.status, minlength=len(Status))
        return listed, {status.label: int(n) for status, n in zip(Status, counts, strict=True) if n}


def _has_kinks(exprs: Sequence[sp.Expr]) -> bool:
    return any(e.has(*_KINKS) for e in exprs)


def compile_kernel(inputs: Sequence[str], outputs: Sequence[EngineExpr]) -> Kernel:
    """One kernel from an (n, len(inputs)) matrix to the (n, len(outputs)) values: SymEngine's when every output is
    SymEngine's, else ``sympy.lambdify``'s (with the NumPy/SciPy functions the language needs)."""
    if all(is_symengine(e) for e in outputs):
        return _symengine_kernel(inputs, outputs)
    if sum(node_count(e, _LAMBDIFY_MAX_NODES) for e in outputs) > _LAMBDIFY_MAX_NODES:
        raise located(
            TooComplex,
            f"the derivatives have more than {_LAMBDIFY_MAX_NODES} nodes and use functions only SymPy compiles "
            "(abs, sign, min, max, gamma, ...); ask for a lower order or a simpler function",
        )
    return _sympy_kernel(inputs, [to_sympy(e) for e in outputs], None)


def compile_evaluator(
    inputs: Sequence[str], functions: Sequence[EngineExpr], derivatives: Sequence[EngineExpr]
) -> Evaluator:
    """Compile the functions and the distinct derivative entries into one kernel over ``inputs``."""
    distinct: dict[EngineExpr, int] = {}
    index = np.array([distinct.setdefault(d, len(distinct)) for d in derivatives], dtype=np.intp)
    outputs = [*functions, *distinct]
    kernel = compile_kernel(inputs, outputs)
    cuts = _cut_kernel(inputs, functions)
    if all(is_symengine(e) for e in outputs):
        return Evaluator(tuple(inputs), len(functions), index, kernel, exprs=tuple(outputs), cuts=cuts)
    as_sympy = [to_sympy(e) for e in outputs]
    if not _has_kinks(as_sympy):
        return Evaluator(tuple(inputs), len(functions), index, kernel, cuts=cuts)
    sides = (_sympy_kernel(inputs, as_sympy, True), _sympy_kernel(inputs, as_sympy, False))
    return Evaluator(tuple(inputs), len(functions), index, kernel, sides, cuts=cuts)


def _cut_kernel(inputs: Sequence[str], functions: Sequence[EngineExpr]) -> Kernel | None:
    """A kernel of the arguments (y, x) of every atan2(y, x) in ``functions`` whose y depends on the inputs, or
    None when there is none. The derivatives of atan2 are continuous across its cut; the function is not."""
    names = {*inputs}
    found: dict[EngineExpr, None] = {}
    for function in functions:
        cls = sp.atan2 if isinstance(function, sp.Basic) else se.atan2
        for node in function.atoms(cls):
            if {str(s) for s in node.args[0].free_symbols} & names:
                found[node] = None
    if not found:
        return None
    return compile_kernel(inputs, [a for node in found for a in node.args])


def _overflows(expr: se.Basic, mapping: dict[se.Basic, se.Basic]) -> bool:
    """Whether ``expr`` at the point is a finite real number that float64 cannot hold (checked with MPFR)."""
    try:
        value = expr.subs(mapping).n(64, real=True)
    except (RuntimeError, ValueError, TypeError):  # not a real number there
        return False
    return isinstance(value, se.RealMPFR) and "@" not in str(value)


_PRECISIONS = (128, 256, 512, 1024)  # bits: a value stands when two precisions in a row agree to float64
_TINY = 1e-300  # agreement below this is agreement on an underflow to (about) zero


def _at(inputs: Sequence[str], row: np.ndarray, bits: int) -> dict[se.Basic, se.Basic]:
    """The point as MPFR numbers of ``bits`` bits, each exactly its binary value (``Decimal(0.1)`` is that value
    written out; ``repr`` would give the decimal 0.1): SymEngine computes in the precision of the numbers given."""
    return {se.Symbol(n): se.RealMPFR(str(Decimal(float(v))), bits) for n, v in zip(inputs, row, strict=True)}


def _mpfr(expr: se.Basic, inputs: Sequence[str], row: np.ndarray, bits: int) -> float | None:
    """``expr`` at the point with MPFR of ``bits`` bits, as a float (inf beyond float64); None when it is not a real
    number there."""
    try:
        value = expr.subs(_at(inputs, row, bits)).n(bits, real=True)
    except (RuntimeError, ValueError, TypeError):  # not a real number there
        return None
    if not isinstance(value, se.RealMPFR) or "@" in str(value):  # @NaN@, @Inf@: a pole or an undefined form
        return None
    return float(value)


def _settled(previous: float, value: float, bits: int) -> float | None:
    """The value when two successive precisions agree to float64 (inf beyond it), 0 when both are at the rounding
    noise of their precision (a cancellation of terms of order one: ``1 - cosh(x)^2/sinh(x)^2`` at 1000), else None."""
    if value == previous or abs(value - previous) <= 1e-15 * abs(value) or max(abs(value), abs(previous)) < _TINY:
        return value
    if abs(previous) < 2.0 ** (-0.75 * bits / 2) and abs(value) < 2.0 ** (-0.75 * bits):
        return 0.0
    return None


def _recovered(exprs: Sequence[se.Basic], inputs: Sequence[str], row: np.ndarray) -> np.ndarray | None:
    """Every output at the point correct to float64 (inf where a real value exceeds it), computed with MPFR at rising
    precision until two precisions agree; None when some output is not a real number or does not settle."""
    out = np.empty(len(exprs))
    for k, expr in enumerate(exprs):
        previous = _mpfr(expr, inputs, row, _PRECISIONS[0])
        for bits in _PRECISIONS[1:]:
            value = None if previous is None else _mpfr(expr, inputs, row, bits)
            if previous is None or value is None:
                return None
            settled = _settled(previous, value, bits)
            if settled is not None:
                out[k] = settled
                break
            previous = value
        else:
            return None
    return out


def refine(evaluator: Evaluator, points: np.ndarray, evaluation: Evaluation, limit: int) -> Evaluation:
    """Re-check up to ``limit`` points that are not ok with MPFR arithmetic, whose exponent range is unbounded
    (SymEngine results only). Where every function and derivative there is a real number within float64, a float64
    intermediate overflowed (``log(cosh(x))`` at 800 is 799.3; its derivative ``sinh(x)/cosh(x)`` is 1): the point
    is ok, with the MPFR values. Where the functions are finite and some value is beyond float64 (``exp(1000)``), or
    every non-finite value is a finite number beyond float64, it is ``non_finite`` rather than undefined or
    non-differentiable."""
    if evaluator.exprs is None or limit <= 0 or not evaluation.status.any():
        return evaluation
    status = evaluation.status.copy()
    values, functions = evaluation.values.copy(), evaluation.functions.copy()
    m = evaluator.functions
    on_cut = evaluator.on_cut(points)
    for row in np.flatnonzero(status)[:limit]:
        if on_cut is not None and on_cut[row]:
            continue  # a jump, not an overflow
        exact = _recovered(evaluator.exprs, evaluator.inputs, points[row])
        if exact is not None and np.isfinite(exact[:m]).all():
            functions[row] = exact[:m]
            row_values = exact[m:][evaluator.index]
            finite = np.isfinite(row_values)
            values[row] = np.where(finite, row_values, np.nan)
            status[row] = Status.OK if finite.all() else Status.NON_FINITE
            continue
        status[row] = _overflow_status(evaluator, evaluation, row, _at(evaluator.inputs, points[row], 64))
    return Evaluation(_no_negative_zero(values), functions, status)


def _overflow_status(evaluator: Evaluator, evaluation: Evaluation, row: int, mapping: dict[se.Basic, se.Basic]) -> int:
    """``non_finite`` where every non-finite value of the row is a finite real number beyond float64, else the
    row's status as it was."""
    assert evaluator.exprs is not None
    status = int(evaluation.status[row])
    m = evaluator.functions
    if status == Status.DOMAIN_ERROR:
        broken = np.flatnonzero(np.isnan(evaluation.functions[row]))
        suspects = [evaluator.exprs[int(j)] for j in broken]
    elif status == Status.NON_DIFFERENTIABLE:
        broken = np.flatnonzero(~np.isfinite(evaluation.values[row]))
        suspects = [evaluator.exprs[m + int(evaluator.index[k])] for k in broken]
    else:
        suspects = []
    if suspects and all(_overflows(e, mapping) for e in suspects):
        return int(Status.NON_FINITE)
    return status
