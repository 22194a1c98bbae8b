"""The compiled numeric evaluator: a typed tree becomes a straight list of NumPy steps (no text is executed).

Equal subtrees are computed once (the tree is hash-consed, so a common subexpression is one step). Products use
BLAS through ``@``; a diagonal matrix is never built inside a product: ``diag(v)*X`` is ``v[:, None] * X`` and
``X*diag(v)`` is ``X * v``, so the logistic Hessian ``X'*diag(d)*X`` costs what the hand-written formula costs.

``M'*diag(d)*M`` with d >= 0 is computed as ``B'*B`` for ``B = sqrt(d) .* M``: one symmetric (syrk) product.

Arrays are in NumPy's natural layout: a scalar is a 0-d value, a vector (column or row) is 1-d, a matrix 2-d.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import special

from service.compute.errors import TooLarge, located
from service.compute.limits import MATRIX_MAX_WORK
from service.compute.matrix.expr import Dim, Expr, Shape
from service.compute.status import Status

__all__ = ["MAX_WORK_ENTRIES", "MatrixEvaluator", "MatrixValue", "Step", "compile_evaluator", "layout", "plan"]

MAX_WORK_ENTRIES = MATRIX_MAX_WORK

Array = np.ndarray
Kernel = Callable[..., Array]


@dataclass(frozen=True)
class Step:
    """One operation: ``op`` of the argument steps ``args`` (indices into the plan), for the node ``node``."""

    node: Expr
    kind: str  # the kernel's name (see _KERNELS), or 'var'
    args: tuple[int, ...]


def layout(shape: Shape) -> tuple[Dim, ...]:
    """The NumPy shape of a value of ``shape``: () for a scalar, (n,) for a vector, (m, n) for a matrix."""
    rows, cols = shape
    if shape == (1, 1):
        return ()
    if cols == 1:
        return (rows,)
    if rows == 1:
        return (cols,)
    return (rows, cols)


def _kind(node: Expr) -> str:
    op = node.op
    if op == "matmul":
        a, b = node.args
        if _is_gram(node):
            return "gram"
        if a.op == "diagm":
            return "diag_left" if b.is_matrix else "diag_vector"
        if b.op == "diagm":
            return "diag_right"
        if a.shape[1] == 1 and b.shape[0] == 1:
            return "outer"
        return "matmul"
    if op == "fn":
        return node.name
    if op == "epow" and node.args[1].op == "num" and node.args[1].value == 2:
        return "square"
    return op


def _is_gram(node: Expr) -> bool:
    """M'*diag(d)*M (as M'*(diag(d)*M)): the logistic Hessian's form."""
    a, b = node.args
    return a.op == "T" and b.op == "matmul" and b.args[0].op == "diagm" and b.args[1] == a.args[0]


def _effective_args(node: Expr, kind: str) -> tuple[Expr, ...]:
    if kind == "gram":
        return (node.args[1].args[1], node.args[1].args[0].args[0])  # M, d
    if kind in ("diag_left", "diag_vector"):
        return (node.args[0].args[0], node.args[1])
    if kind == "diag_right":
        return (node.args[0], node.args[1].args[0])
    if kind == "square":
        return node.args[:1]
    return node.args


def plan(expr: Expr, *others: Expr) -> list[Step]:
    """The steps computing ``expr`` (the last step) and ``others`` (before it), each distinct subtree once,
    arguments first. A diagonal matrix that only appears inside products is never a step of its own."""
    index: dict[Expr, int] = {}
    steps: list[Step] = []
    stack: list[tuple[Expr, bool]] = [(expr, False), *((other, False) for other in others)]
    while stack:
        node, ready = stack.pop()
        if node in index:
            continue
        kind = _kind(node)
        args = _effective_args(node, kind)
        if ready:
            index[node] = len(steps)
            steps.append(Step(node, kind, tuple(index[a] for a in args)))
            continue
        stack.append((node, True))
        stack.extend((arg, False) for arg in reversed(args) if arg not in index)
    return steps


def _logdet(a: Array) -> Array:
    sign, value = np.linalg.slogdet(a)
    return np.asarray(value if sign > 0 else np.nan)


def _inv(a: Array) -> Array:
    try:
        return np.asarray(np.linalg.inv(a))
    except np.linalg.LinAlgError:
        return np.full(a.shape, np.nan)


def _gram(m: Array, d: Array) -> Array:
    """M'*diag(d)*M; with d >= 0 as B'*B for B = sqrt(d) .* M, which BLAS computes as one symmetric product."""
    if np.all(d >= 0):
        b = np.sqrt(d)[:, None] * m
        return np.asarray(np.dot(b.T, b))
    return np.asarray(m.T @ (d[:, None] * m))


def _add(*values: Array) -> Array:
    total: Array = np.add(values[0], values[1])
    for value in values[2:]:
        total = total + value
    return total


_KERNELS: dict[str, Kernel] = {
    "add": _add,
    "neg": np.negative,
    "times": np.multiply,
    "hadamard": np.multiply,
    "ediv": np.divide,
    "epow": np.power,
    "square": np.square,
    "matmul": np.matmul,
    "outer": np.outer,
    "gram": _gram,
    "diag_left": lambda v, m: v[:, None] * m,
    "diag_vector": np.multiply,
    "diag_right": lambda m, v: m * v,
    "T": lambda a: a.T,
    "exp": np.exp,
    "log": np.log,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "tanh": np.tanh,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "sigmoid": special.expit,
    "softplus": lambda a: np.logaddexp(0.0, a),
    "abs": np.abs,
    "sqrt": np.sqrt,
    "sign": np.sign,
    "sum": np.sum,
    "tr": np.trace,
    "det": np.linalg.det,
    "logdet": _logdet,
    "norm1": lambda a: np.sum(np.abs(a)),
    "norm2": np.linalg.norm,
    "inv": _inv,
    "diagm": np.diag,
    "diagv": np.diag,
}


@dataclass(frozen=True)
class MatrixValue:
    """A derivative's value at arrays, with its status: ok, domain_error (NaN) or non_finite (an infinity)."""

    value: Array
    status: Status


class MatrixEvaluator:
    """Computes one derivative (or function) at arrays; built once per task and reused for every request."""

    def __init__(self, expr: Expr, shapes: Mapping[str, Shape], function: Expr | None = None) -> None:
        self.expr = expr
        self.shapes = dict(shapes)
        if function is not None and not _partial(function):
            function = None  # defined everywhere: its value cannot mark a domain error, so it is not computed
        self.function = function
        self.steps = plan(expr, function) if function is not None else plan(expr)
        self.function_step = next((i for i, s in enumerate(self.steps) if s.node == function), None)
        self.result_step = next(i for i, s in enumerate(self.steps) if s.node == expr)
        self.output = layout(expr.shape)

    def dims(self, arrays: Mapping[str, Array]) -> dict[Dim, int]:
        """Each dimension's size, read from the arrays (integers map to themselves unless the arrays say else)."""
        sizes: dict[Dim, int] = {}
        for name, shape in self.shapes.items():
            if name in arrays:
                for dim, size in zip(layout(shape), np.shape(arrays[name]), strict=True):
                    sizes[dim] = int(size)
        return sizes

    def work(self, sizes: Mapping[Dim, int]) -> int:
        """Entries of every intermediate array, together."""
        total = 0
        for step in self.steps:
            count = 1
            for dim in layout(step.node.shape):
                count *= sizes.get(dim, dim) if isinstance(dim, int) else sizes.get(dim, 1)
            total += count
        return total

    def evaluate(self, arrays: Mapping[str, Array], max_work: int = MAX_WORK_ENTRIES) -> MatrixValue:
        """The value at ``arrays`` and its status; refuses (413) work above ``max_work`` entries."""
        work = self.work(self.dims(arrays))
        if work > max_work:
            raise located(
                TooLarge,
                f"evaluating this derivative at these arrays needs {work} intermediate entries; the limit is "
                f"{max_work} (NABLA_MATRIX_MAX_WORK): use smaller arrays",
                ("body", "at"),
            )
        values = self.run(arrays)
        value = np.asarray(values[self.result_step], dtype=np.float64)
        function = values[self.function_step] if self.function_step is not None else np.zeros(())
        with np.errstate(all="ignore"):
            if np.isfinite(np.sum(value)) and np.isfinite(np.sum(function)):  # a finite sum: every entry finite
                return MatrixValue(value, Status.OK)
        if np.any(np.isnan(function)) or np.any(np.isnan(value)):
            return MatrixValue(value, Status.DOMAIN_ERROR)
        if not (np.all(np.isfinite(function)) and np.all(np.isfinite(value))):
            return MatrixValue(value, Status.NON_FINITE)
        return MatrixValue(value, Status.OK)

    def __call__(self, arrays: Mapping[str, Array]) -> Array:
        """The value at ``arrays`` (NumPy layout of the derivative's shape)."""
        return np.asarray(self.run(arrays)[self.result_step], dtype=np.float64)

    def run(self, arrays: Mapping[str, Array]) -> list[Array]:
        """Every step's value."""
        sizes = self.dims(arrays)

        def size(dim: Dim) -> int:
            return sizes.get(dim, dim) if isinstance(dim, int) else sizes[dim]

        values: list[Array] = []
        with np.errstate(all="ignore"):
            for step in self.steps:
                node = step.node
                if step.kind == "var":
                    values.append(np.asarray(arrays[node.name], dtype=np.float64))
                elif step.kind == "num":
                    values.append(np.asarray(float(node.value)))
                elif step.kind in ("ones", "zero"):
                    fill = np.ones if step.kind == "ones" else np.zeros
                    values.append(fill(tuple(size(d) for d in layout(node.shape))))
                elif step.kind == "eye":
                    values.append(np.eye(size(node.shape[0])))
                elif step.kind == "T" and not node.is_matrix:
                    values.append(values[step.args[0]])
                else:
                    values.append(_KERNELS[step.kind](*(values[i] for i in step.args)))
        return values


_PARTIAL_FUNCTIONS = {"log", "sqrt", "tan"}


def _partial(function: Expr) -> bool:
    """Whether ``function`` may be undefined somewhere (a logarithm, a root, a division, an inverse, ...)."""
    for node in function.walk():
        if node.op in ("ediv", "inv", "logdet") or (node.op == "fn" and node.name in _PARTIAL_FUNCTIONS):
            return True
        if node.op == "epow":
            p = node.args[1]
            if p.op != "num" or p.value.denominator != 1 or p.value < 0:
                return True
    return False


def compile_evaluator(expr: Expr, shapes: Mapping[str, Shape], function: Expr | None = None) -> MatrixEvaluator:
    """The evaluator of ``expr``; with ``function``, also the function, whose NaN marks a domain error."""
    return MatrixEvaluator(expr, shapes, function)
