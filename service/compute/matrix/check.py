"""The independent check of every symbolic matrix result: the same derivative computed entry by entry.

At small concrete sizes (each dimension name or large integer becomes 2, 3, 4, ... in order), every variable
becomes a matrix of scalar symbols, the function is expanded into scalar expressions with the scalar language's
own function definitions (``compute.language.functions``), and each entry of the derivative is differentiated by
the scalar engine (``compute.engine.differentiate``). The matrix-form result, evaluated by the compiled evaluator
at the same random arrays, must agree entry by entry. This shares no derivative rule with ``derive``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import symengine as se
import sympy as sp

import service.compute.matrix.expr as E
from service.compute.engine import NodeBudget, differentiate, is_symengine, to_engine
from service.compute.errors import TooComplex, located
from service.compute.language.functions import CATALOGUE
from service.compute.matrix.evaluate import compile_evaluator, layout

__all__ = ["MAX_CHECK_NODES", "CheckOutcome", "check_derivative", "check_sizes", "component_values"]

_SMALL_SIZES = (2, 3, 4, 5, 6, 7)
_KEEP_INTEGERS_UP_TO = 4
_POINTS = 4  # random points tried; two finite ones are needed
_RELATIVE = 1e-7
MAX_CHECK_NODES = 200_000  # nodes of the entry-by-entry derivatives of one check


@dataclass(frozen=True)
class CheckOutcome:
    agreed: bool | None  # None: no point where both sides are finite
    worst: float  # the largest relative difference seen
    points: int


def check_sizes(shapes: Mapping[str, E.Shape]) -> dict[E.Dim, int]:
    """Small stand-in sizes for every dimension: integers up to 4 kept, everything else 2, 3, 4, ..."""
    sizes: dict[E.Dim, int] = {}
    pool = iter(_SMALL_SIZES)
    for shape in shapes.values():
        for dim in shape:
            if dim in sizes:
                continue
            sizes[dim] = dim if isinstance(dim, int) and dim <= _KEEP_INTEGERS_UP_TO else next(pool, 2)
    return sizes


def _symbols(name: str, rows: int, cols: int) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}__{i}__{j}", real=True))


class _Expand:
    """A typed tree as a SymPy matrix of scalar expressions, at concrete sizes."""

    def __init__(self, sizes: Mapping[E.Dim, int], shapes: Mapping[str, E.Shape]) -> None:
        self.sizes = sizes
        self.variables = {n: _symbols(n, self.size(s[0]), self.size(s[1])) for n, s in shapes.items()}

    def size(self, dim: E.Dim) -> int:
        return self.sizes.get(dim, dim if isinstance(dim, int) else 0)

    def __call__(self, e: E.Expr) -> sp.Matrix:
        memo: dict[E.Expr, sp.Matrix] = {}
        for node in e.walk():
            memo[node] = self.node(node, [memo[a] for a in node.args])
        return memo[e]

    def node(self, e: E.Expr, a: list[sp.Matrix]) -> sp.Matrix:
        rows, cols = self.size(e.shape[0]), self.size(e.shape[1])
        op = e.op
        if op == "var":
            return self.variables[e.name]
        if op == "num":
            return sp.Matrix([[sp.Rational(e.value.numerator, e.value.denominator)]])
        if op == "ones":
            return sp.ones(rows, cols)
        if op == "eye":
            return sp.eye(rows)
        if op == "zero":
            return sp.zeros(rows, cols)
        if op == "add":
            total = a[0]
            for m in a[1:]:
                total = total + m
            return total
        if op == "neg":
            return -a[0]
        if op == "times":
            s, m = (a[0], a[1]) if a[0].shape == (1, 1) else (a[1], a[0])
            return m * s[0, 0]
        if op == "matmul":
            return a[0] * a[1]
        if op == "hadamard":
            return a[0].multiply_elementwise(a[1])
        if op == "ediv":
            if a[1].shape == (1, 1):
                return a[0] / a[1][0, 0]
            return a[0].applyfunc(lambda v: v).multiply_elementwise(a[1].applyfunc(lambda v: 1 / v))
        if op == "epow":
            p = a[1][0, 0]
            return a[0].applyfunc(lambda v: v**p)
        if op == "fn":
            build = CATALOGUE[e.name].build
            return a[0].applyfunc(build)
        if op == "T":
            return a[0].T
        if op == "sum":
            return sp.Matrix([[sum(a[0])]])
        if op == "tr":
            return sp.Matrix([[a[0].trace()]])
        if op == "det":
            return sp.Matrix([[a[0].det(method="berkowitz")]])
        if op == "logdet":
            return sp.Matrix([[sp.log(a[0].det(method="berkowitz"))]])
        if op == "norm1":
            return sp.Matrix([[sum(sp.Abs(v) for v in a[0])]])
        if op == "norm2":
            return sp.Matrix([[sp.sqrt(sum(v**2 for v in a[0]))]])
        if op == "inv":
            return a[0].adjugate(method="berkowitz") / a[0].det(method="berkowitz")
        if op == "diagm":
            return sp.diag(*list(a[0]))
        if op == "diagv":
            return sp.Matrix([a[0][i, i] for i in range(a[0].rows)])
        raise AssertionError(op)


def _entries(f: E.Expr, variable: E.Expr, order: int, expand: _Expand) -> list[object]:
    """Each entry of the derivative, in the row-major order of its NumPy layout."""
    entries = _differentiated(f, variable, order, expand)
    budget = NodeBudget(MAX_CHECK_NODES)
    try:
        budget.charge(entries)
    except TooComplex:
        raise located(
            TooComplex,
            f"checking this derivative entry by entry grew past {MAX_CHECK_NODES} expression nodes; ask for a "
            "simpler function (every matrix result is checked before it is returned)",
        ) from None
    return entries


def _differentiated(f: E.Expr, variable: E.Expr, order: int, expand: _Expand) -> list[object]:
    values = [to_engine(v) for v in expand(f)]  # f's entries, row-major
    symbols = [s.name for s in expand.variables[variable.name]]
    if variable.is_scalar:
        for _ in range(order):
            values = [differentiate(v, symbols[0]) for v in values]
        return values
    if order == 1:  # f scalar: the gradient in the variable's layout; f vector: the Jacobian, rows = entries of f
        return [differentiate(v, s) for v in values for s in symbols]
    gradient = [differentiate(values[0], s) for s in symbols]
    return [differentiate(g, s) for g in gradient for s in symbols]


def _point(
    shapes: Mapping[str, E.Shape], sizes: Mapping[E.Dim, int], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    arrays = {}
    for name, shape in shapes.items():
        rows, cols = (_size(sizes, d) for d in shape)
        value = rng.uniform(0.5, 1.5, size=(rows, cols))
        if rows == cols and rows != 1:
            value += rows * np.eye(rows)  # diagonally dominant: det > 0, inverse well conditioned
        arrays[name] = value.reshape(tuple(_size(sizes, d) for d in layout(shape)))
    return arrays


def _size(sizes: Mapping[E.Dim, int], dim: E.Dim) -> int:
    return sizes.get(dim, dim if isinstance(dim, int) else 0)


def _numeric(value: object, mapping: Mapping[object, float]) -> float:
    try:
        return float(value.subs(mapping))  # type: ignore[attr-defined]
    except (TypeError, ValueError, RuntimeError, ZeroDivisionError):
        return float("nan")


def _sizes_of(shapes: Mapping[str, E.Shape], given: Mapping[str, np.ndarray]) -> dict[E.Dim, int]:
    sizes: dict[E.Dim, int] = {}
    for name, shape in shapes.items():
        for dim, n in zip(layout(shape), np.shape(given[name]), strict=True):
            sizes[dim] = int(n)
    return sizes


def _values_at(entries: list[object], expand: _Expand, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    """Each entry at the arrays; an entry lives in SymEngine or SymPy (the engine chooses per expression)."""
    mapping: dict[sp.Symbol, float] = {}
    for name, symbols in expand.variables.items():
        flat = np.asarray(arrays[name], dtype=float).reshape(-1)
        for sym, value in zip(symbols, flat, strict=True):
            mapping[sym] = float(value)
    in_symengine = {se.Symbol(s.name): v for s, v in mapping.items()}
    return np.array([_numeric(v, in_symengine if is_symengine(v) else mapping) for v in entries])


def component_values(
    f: E.Expr, variable: E.Expr, order: int, shapes: Mapping[str, E.Shape], given: Mapping[str, np.ndarray]
) -> list[float]:
    """The derivative at ``given``, entry by entry with the scalar engine (row-major in the contract layout)."""
    expand = _Expand(_sizes_of(shapes, given), shapes)
    return [float(v) for v in _values_at(_entries(f, variable, order, expand), expand, given)]


def check_derivative(
    f: E.Expr,
    variable: E.Expr,
    order: int,
    result: E.Expr,
    shapes: Mapping[str, E.Shape],
    given: Mapping[str, np.ndarray] | None = None,
    seed: int = 0,
) -> CheckOutcome:
    """Compare ``result`` (a derivative in matrix form) with the entry-by-entry derivative of ``f``: at random
    arrays of small sizes, or at the ``given`` arrays (their own sizes) when they are passed."""
    if given is not None:
        sizes = _sizes_of(shapes, given)
        points = [dict(given)]
    else:
        sizes = check_sizes(shapes)
        rng = np.random.default_rng(seed)
        points = [_point(shapes, sizes, rng) for _ in range(_POINTS)]
    expand = _Expand(sizes, shapes)
    entries = _entries(f, variable, order, expand)
    evaluator = compile_evaluator(result, shapes)
    worst, used = 0.0, 0
    for arrays in points:
        expected = _values_at(entries, expand, arrays)
        actual = np.asarray(evaluator(arrays), dtype=float).reshape(-1)
        if expected.shape != actual.shape:
            return CheckOutcome(False, float("inf"), used + 1)
        if not (np.all(np.isfinite(expected)) and np.all(np.isfinite(actual))):
            continue
        used += 1
        scale = np.maximum(1.0, np.abs(expected))
        worst = max(worst, float(np.max(np.abs(actual - expected) / scale)) if expected.size else 0.0)
        if worst > _RELATIVE or used >= 2:
            break
    if used == 0:
        return CheckOutcome(None, worst, 0)
    return CheckOutcome(worst <= _RELATIVE, worst, used)
