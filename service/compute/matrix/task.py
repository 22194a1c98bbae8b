"""The matrix area's entry point for a worker: ``run(MatrixTask) -> MatrixResult``, both plain frozen values.

``run`` parses, types, differentiates, simplifies, prints, generates ``code.numpy`` and checks the result against
the component-by-component derivative (``check``). A result that fails its check is never returned in matrix form:
the disagreement is logged as a bug and the answer is either the component values at the given arrays (with a
warning) or a ``CheckFailed`` problem.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

import service.compute.matrix.expr as E
from service.compute.errors import (
    CheckFailed,
    InvalidInput,
    InvalidPoint,
    LimitExceeded,
    NablaError,
    NoMatrixForm,
    TooComplex,
    TooLarge,
    located,
)
from service.compute.limits import DEFAULT_LIMITS, Limits
from service.compute.matrix.build import build, names_of
from service.compute.matrix.check import check_derivative, component_values
from service.compute.matrix.codegen import numpy_source
from service.compute.matrix.derive import derivative
from service.compute.matrix.evaluate import MatrixEvaluator, compile_evaluator, layout
from service.compute.matrix.printer import to_latex, to_text
from service.compute.matrix.syntax import parse
from service.compute.notes import Note

__all__ = [
    "MAX_CHECK_AT_ENTRIES",
    "MAX_DERIVATIVE_NODES",
    "MAX_MATRIX_VARIABLES",
    "MAX_PRINTED_NODES",
    "MAX_VALUE_ENTRIES",
    "ContractShape",
    "MatrixResult",
    "MatrixTask",
    "bind_shape",
    "check_at_from",
    "evaluator",
    "run",
    "shapes_from_request",
    "validate_at",
]

LOG = logging.getLogger("nabla.matrix")

MAX_DERIVATIVE_NODES = 20_000  # distinct nodes of a derivative's tree (shared subtrees counted once)
MAX_PRINTED_NODES = 20_000  # nodes of a derivative's printed form (shared subtrees counted each time)
MAX_MATRIX_VARIABLES = 32  # names in one function
MAX_VALUE_ENTRIES = 4_000_000  # entries of one derivative value (a 2000 x 2000 Hessian)
MAX_CHECK_AT_ENTRIES = 16  # `at` arrays this small (in total) are also used for the check, at their own sizes
MAX_DIMENSION_NAME = 32

_UNCHECKED = "the matrix form could not be checked: the function is not finite at the random test arrays"
_WITHHELD = (
    "the matrix form of this derivative disagreed with its component-by-component check and is withheld (logged as "
    "a bug); the value is the component-by-component derivative at 'at'"
)

ContractShape = tuple[E.Dim, ...]  # () scalar, (n,) vector, (m, n) matrix: the contract's `shapes` entries
_DIMENSION = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class MatrixTask:
    """What to differentiate. Hashable: it is the key of the compiled-evaluator cache."""

    function: str
    wrt: str
    order: int = 1
    shapes: tuple[tuple[str, ContractShape], ...] = ()  # every name of the function, sorted by name
    check_at: tuple[tuple[str, tuple[int, ...], tuple[float, ...]], ...] = ()  # small `at` arrays (name, shape, flat)
    limits: Limits = DEFAULT_LIMITS
    max_nodes: int = MAX_DERIVATIVE_NODES


@dataclass(frozen=True)
class MatrixResult:
    """A derivative in matrix notation (or, when its check failed, only component values), plus what the web
    process needs to evaluate it. ``shape`` is in the contract's layout, with dimension names where not bound."""

    variables: tuple[tuple[str, E.Shape], ...]
    function: E.Expr
    derivative: E.Expr | None
    expression: str | None
    latex: str | None
    shape: ContractShape
    code_numpy: str | None
    warnings: tuple[Note, ...] = ()
    component_value: tuple[float, ...] | None = None  # only when the check failed and `at` was small


def _contract_shape(name: str, dims: Sequence[object]) -> E.Shape:
    if len(dims) > 2:
        raise located(
            InvalidInput,
            f"the shape of '{name}' has {len(dims)} dimensions; a name is a scalar [], a vector [\"n\"] or a matrix "
            '["m", "n"]',
            ("body", "shapes", name),
        )
    checked: list[E.Dim] = []
    for dim in dims:
        if isinstance(dim, bool) or not (
            (isinstance(dim, int) and dim >= 1)
            or (isinstance(dim, str) and _DIMENSION.match(dim) and len(dim) <= MAX_DIMENSION_NAME)
        ):
            raise located(
                InvalidInput,
                f"the shape of '{name}' has the dimension {dim!r}; a dimension is a positive integer or a name "
                'such as "n"',
                ("body", "shapes", name),
            )
        checked.append(dim)
    if len(checked) == 0:
        return E.SCALAR
    if len(checked) == 1:
        return (checked[0], 1)
    return (checked[0], checked[1])


def internal_shapes(task: MatrixTask) -> dict[str, E.Shape]:
    return {name: _contract_shape(name, dims) for name, dims in task.shapes}


def shapes_from_request(
    shapes: Mapping[str, Sequence[E.Dim]], at: Mapping[str, np.ndarray]
) -> tuple[tuple[str, ContractShape], ...]:
    """The task's shapes: `shapes` as given, names only in `at` from their arrays; a declared shape must agree
    with its array, and a dimension name must have one size across all arrays."""
    merged: dict[str, ContractShape] = {name: tuple(dims) for name, dims in shapes.items()}
    bound: dict[str, tuple[int, str]] = {}
    for name, array in at.items():
        actual = tuple(int(n) for n in np.shape(array))
        if len(actual) > 2:
            raise located(
                InvalidInput,
                f"'{name}' in 'at' has {len(actual)} dimensions; give a number, a list or a list of rows",
                ("body", "at", name),
            )
        declared = merged.setdefault(name, actual)
        if len(declared) != len(actual):
            raise located(
                InvalidInput,
                f"'{name}' has the shape {list(declared)} in 'shapes' but its value in 'at' has the shape "
                f"{list(actual)}; make them agree",
                ("body", "at", name),
            )
        for dim, size in zip(declared, actual, strict=True):
            if isinstance(dim, int) and dim != size:
                raise located(
                    InvalidInput,
                    f"'{name}' has the shape {list(declared)} in 'shapes' but its value in 'at' has the shape "
                    f"{list(actual)}; make them agree",
                    ("body", "at", name),
                )
            if isinstance(dim, str):
                previous = bound.setdefault(dim, (size, name))
                if previous[0] != size:
                    raise located(
                        InvalidInput,
                        f"the dimension '{dim}' is {previous[0]} in the value of '{previous[1]}' but {size} in the "
                        f"value of '{name}' (in 'at'); a dimension name has one size",
                        ("body", "at", name),
                    )
    return tuple(sorted(merged.items()))


def bind_shape(shape: ContractShape, dims: Mapping[E.Dim, int]) -> ContractShape:
    """``shape`` with every dimension the arrays fix replaced by its size."""
    return tuple(dims.get(d, d) for d in shape)


def _validate(task: MatrixTask, names: list[str], shapes: Mapping[str, E.Shape]) -> None:
    if task.order not in (1, 2):
        raise located(
            InvalidInput,
            f"'order' is {task.order}; it must be 1 (gradient or Jacobian) or 2 (Hessian)",
            ("body", "order"),
        )
    if len(names) > MAX_MATRIX_VARIABLES:
        raise located(
            LimitExceeded,
            f"the function has {len(names)} names; the limit is {MAX_MATRIX_VARIABLES}",
            ("body", "function"),
        )
    if task.wrt not in shapes:
        raise located(
            InvalidInput,
            f"'wrt' is '{task.wrt}', which has no shape; give it in 'shapes' or its value in 'at'",
            ("body", "wrt"),
        )


def _differentiate(f: E.Expr, variable: E.Expr, order: int, max_nodes: int) -> E.Expr:
    result = derivative(f, variable)
    if order == 2:
        if not (variable.is_scalar or (f.is_scalar and variable.shape[1] == 1)):
            raise located(
                NoMatrixForm,
                "a second derivative has a matrix form only for a scalar function by a vector (its Hessian) or for "
                f"any function by a scalar; this one, of {to_text(f)} by {variable.name}, would have more than two "
                "indices",
                ("body", "order"),
            )
        result = derivative(result, variable)
    if E.node_count(result) > max_nodes or E.printed_size(result) > MAX_PRINTED_NODES:
        limit = min(max_nodes, MAX_PRINTED_NODES)
        raise located(
            TooComplex,
            f"the derivative grew past {limit} expression nodes; ask for a lower order or a simpler function",
        )
    return result


def _given_arrays(task: MatrixTask, shapes: Mapping[str, E.Shape]) -> dict[str, np.ndarray] | None:
    arrays = {name: np.asarray(flat, dtype=float).reshape(shape) for name, shape, flat in task.check_at}
    return arrays if arrays and set(arrays) == set(shapes) else None


def run(task: MatrixTask) -> MatrixResult:
    """The symbolic answer to ``task`` (in a worker: may take time with the size of the function)."""
    try:
        tree = parse(task.function, task.limits)
    except NablaError as error:
        raise error.at("body", "function") from None
    names = names_of(tree)
    shapes = internal_shapes(task)
    used = {n: s for n, s in shapes.items() if n in names or n == task.wrt}
    _validate(task, names, used)
    try:
        f = build(tree, used)
    except NablaError as error:
        raise error.at("body", "function") from None
    variable = E.var(task.wrt, used[task.wrt])
    result = _differentiate(f, variable, task.order, task.max_nodes)
    variables = tuple(sorted(used.items()))
    contract = layout(result.shape)
    warnings: list[Note] = []
    if f.depends_on(task.wrt):
        outcome = check_derivative(f, variable, task.order, result, used)
        given = _given_arrays(task, used)
        if outcome.agreed is not False and given is not None:
            at_given = check_derivative(f, variable, task.order, result, used, given=given)
            outcome = at_given if at_given.agreed is not None else outcome
        if outcome.agreed is None:
            warnings.append(Note("unchecked", _UNCHECKED))
        elif not outcome.agreed:
            return _withheld(task, f, variable, used, variables, contract, given, outcome.worst)
    title = f"The {'second ' if task.order == 2 else ''}derivative of {to_text(f)} by {task.wrt}: {to_text(result)}"
    return MatrixResult(
        variables=variables,
        function=f,
        derivative=result,
        expression=to_text(result),
        latex=to_latex(result),
        shape=contract,
        code_numpy=numpy_source(result, variables, title),
        warnings=tuple(warnings),
    )


def _withheld(
    task: MatrixTask,
    f: E.Expr,
    variable: E.Expr,
    shapes: Mapping[str, E.Shape],
    variables: tuple[tuple[str, E.Shape], ...],
    contract: ContractShape,
    given: Mapping[str, np.ndarray] | None,
    worst: float,
) -> MatrixResult:
    LOG.error(
        "matrix derivative failed its component check (a bug): function=%r wrt=%r order=%d relative error=%.3g",
        task.function,
        task.wrt,
        task.order,
        worst,
    )
    if given is None:
        raise located(
            CheckFailed,
            "the matrix form of this derivative disagreed with its component-by-component check, so it is withheld "
            "(the disagreement was logged as a bug); give small arrays in 'at' to get the component values",
        )
    values = component_values(f, variable, task.order, shapes, given)
    return MatrixResult(
        variables=variables,
        function=f,
        derivative=None,
        expression=None,
        latex=None,
        shape=contract,
        code_numpy=None,
        warnings=(Note("withheld", _WITHHELD),),
        component_value=tuple(values),
    )


def check_at_from(at: Mapping[str, np.ndarray]) -> tuple[tuple[str, tuple[int, ...], tuple[float, ...]], ...]:
    """The `at` arrays as a task's ``check_at`` when they are small enough to check the result at; else ()."""
    if sum(int(np.size(v)) for v in at.values()) > MAX_CHECK_AT_ENTRIES:
        return ()
    return tuple(
        sorted(
            (name, tuple(int(n) for n in np.shape(v)), tuple(float(x) for x in np.ravel(v))) for name, v in at.items()
        )
    )


def validate_at(result: MatrixResult, at: Mapping[str, np.ndarray]) -> None:
    """Every name of the function has a value in `at`, no other name does, and the value is not too large."""
    names = [name for name, _ in result.variables]
    missing = [name for name in names if name not in at]
    if missing:
        raise located(
            InvalidPoint,
            f"'at' has no value for {', '.join(repr(m) for m in missing)}; give a value for every name of the "
            f"function ({', '.join(names)})",
            ("body", "at"),
        )
    extra = sorted(set(at) - set(names))
    if extra:
        raise located(
            InvalidPoint,
            f"'at' gives {', '.join(repr(e) for e in extra)}, which the function does not use (its names: "
            f"{', '.join(names)}); remove it or check its spelling",
            ("body", "at", extra[0]),
        )
    sizes: dict[E.Dim, int] = {}
    for name, shape in result.variables:
        for dim, n in zip(layout(shape), np.shape(at[name]), strict=False):
            sizes[dim] = int(n)
    entries = 1
    for dim in bind_shape(result.shape, sizes):
        entries *= dim if isinstance(dim, int) else 1
    if entries > MAX_VALUE_ENTRIES:
        raise located(
            TooLarge,
            f"the derivative's value would have {entries} entries; the limit is {MAX_VALUE_ENTRIES}",
            ("body", "at"),
        )


def evaluator(result: MatrixResult) -> MatrixEvaluator | None:
    """The compiled evaluator of a result (None when only component values exist)."""
    if result.derivative is None:
        return None
    return compile_evaluator(result.derivative, dict(result.variables), result.function)
