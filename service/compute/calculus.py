"""Symbolic calculus: derivatives of any order, Jacobians, gradients and Hessians, as plain frozen results.

One implementation per concept: the gradient is the one-row Jacobian of a scalar function, and the Hessian is the
Jacobian of the gradient, computed on the upper triangle and mirrored. Everything here may swell with the input, so
it runs in a worker process with a deadline; results are plain values that pickle cheaply.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import symengine as se
import sympy as sp

from service.compute.engine import EngineExpr, NodeBudget, differentiate, is_symengine, to_engine, to_sympy
from service.compute.errors import InvalidExpression, InvalidInput, LimitExceeded, NablaError, located
from service.compute.language.build import INDEXED, MAX_INDEX, build, free_names
from service.compute.language.functions import CONSTANTS
from service.compute.language.printer import UnprintableExpression, to_latex, to_text
from service.compute.language.syntax import parse
from service.compute.limits import DEFAULT_LIMITS, MAX_RESULT_NODES, MAX_VARIABLES, Limits, check_variable_count

__all__ = ["CalculusQuery", "CalculusResult", "CalculusTask", "Symbolic", "natural_key", "parse_functions", "run"]


@dataclass(frozen=True)
class CalculusQuery:
    """A validated calculus request in plain values: what the client asked, before any symbolic work."""

    operation: str  # derivative | gradient | jacobian | hessian | directional
    functions: tuple[str, ...]
    variables: tuple[str, ...] | None = None
    parameters: Mapping[str, Any] | tuple[str, ...] = field(default_factory=dict)  # names alone: symbols, no point
    wrt: tuple[str, ...] = ()
    order: int = 1
    at: Any = None
    points: Any = None
    grid: Any = None  # {name: [lo, hi, count]}: a third way to give points (``grid.expand_grid``)
    direction: Any = None
    normalize: bool = True
    classify: bool = False  # hessian only: eigenvalues and definiteness
    digits: int | None = None  # values also as decimal strings to this many significant digits
    check: bool = False  # an independent numeric derivative beside the symbolic value (``at`` only)

    @property
    def single(self) -> bool:
        """One point (``at``) rather than a batch."""
        return self.at is not None

    @property
    def parameter_values(self) -> Mapping[str, Any]:
        """The parameters' values by name (none when only their names were given)."""
        return self.parameters if isinstance(self.parameters, Mapping) else {}


@dataclass(frozen=True)
class CalculusTask:
    """What to differentiate. Hashable: it is also the key of the compiled-function cache."""

    operation: str  # derivative | jacobian | gradient | hessian
    functions: tuple[str, ...]
    variables: tuple[str, ...] | None  # None: the free names that are not parameters, in natural order
    parameters: tuple[str, ...]
    wrt: tuple[str, ...] = ()  # derivative only: differentiate by these names in turn
    order: int = 1  # derivative only, without wrt: the order in the function's one variable
    limits: Limits = DEFAULT_LIMITS
    max_nodes: int = MAX_RESULT_NODES
    max_variables: int = MAX_VARIABLES  # variables and parameters together


@dataclass(frozen=True)
class Symbolic:
    """One symbolic result: the expression in the engine that computed it, as text, and as LaTeX."""

    expr: EngineExpr
    text: str
    latex: str


@dataclass(frozen=True)
class CalculusResult:
    """Derivatives of a task, flat in row-major order of ``shape``, beside the functions they came from."""

    variables: tuple[str, ...]
    parameters: tuple[str, ...]
    functions: tuple[EngineExpr, ...]
    derivatives: tuple[Symbolic, ...]
    shape: tuple[int, ...]
    wrt: tuple[str, ...] = ()  # derivative only: the names differentiated by, in turn


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting x2 before x10."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part)


def _location(task: CalculusTask, index: int) -> tuple[str | int, ...]:
    return ("functions", index) if task.operation == "jacobian" else ("function",)


def parse_functions(task: CalculusTask) -> tuple[list[sp.Expr], tuple[str, ...]]:
    """The SymPy expressions of the task's functions and the variables they are functions of."""
    known = None if task.variables is None else {*task.variables, *task.parameters}
    trees = []
    for index, text in enumerate(task.functions):
        try:
            trees.append(parse(text, task.limits))
        except NablaError as error:
            raise error.at("body", *_location(task, index)) from None
    variables = task.variables
    if variables is None:
        names = set().union(*(free_names(t) for t in trees)) - set(CONSTANTS) - set(task.parameters)
        variables = tuple(sorted(names | (set(task.wrt) - set(task.parameters)), key=natural_key))
    check_variable_count(len(variables), len(task.parameters), task.max_variables)
    exprs = []
    for index, tree in enumerate(trees):
        try:
            exprs.append(build(tree, known, task.limits, declared={*task.wrt, *task.parameters}))
        except NablaError as error:
            raise error.at("body", *_location(task, index)) from None
    return exprs, variables


def _symbolic(exprs: Sequence[EngineExpr]) -> tuple[Symbolic, ...]:
    printed: dict[EngineExpr, Symbolic] = {}
    out = []
    for expr in exprs:
        if expr not in printed:
            as_sympy = to_sympy(expr)
            try:
                printed[expr] = Symbolic(expr, to_text(as_sympy), to_latex(as_sympy))
            except UnprintableExpression as error:
                raise located(
                    InvalidExpression,
                    f"the derivative needs a function the language does not have ({error.name}): SymPy treats the "
                    "function as possibly complex-valued here; rewrite it so that it is real for real variables",
                    ("body",),
                ) from None
        out.append(printed[expr])
    return tuple(out)


def _highest_index(expr: EngineExpr) -> tuple[str, int]:
    """The highest order argument of a polygamma or dirac in ``expr`` (SymEngine has neither), with its name."""
    best = ("", 0)
    if not is_symengine(expr):
        for cls, position in INDEXED.items():
            for node in expr.atoms(cls):
                if len(node.args) > position and int(node.args[position]) > best[1]:
                    best = ("dirac" if cls is sp.DiracDelta else "polygamma", int(node.args[position]))
    return best


def _widest_number(expr: EngineExpr) -> tuple[int, int]:
    """The most bits and the most decimal digits of a numerator or denominator among the numbers of ``expr``."""
    if is_symengine(expr):
        parts = (int(part) for n in expr.atoms(se.Integer, se.Rational) for part in n.get_num_den())
    else:
        parts = (int(part) for n in expr.atoms(sp.Rational) for part in (n.p, n.q))
    widest = max(map(abs, parts), default=0)
    bits = widest.bit_length()
    # str() of an int beyond 4300 digits is refused by Python itself; such a number is far beyond any limit
    digits = len(str(widest)) if bits <= 14_000 else math.floor(bits * math.log10(2)) + 1
    return bits, digits


def _check_readable(task: CalculusTask, exprs: Sequence[EngineExpr]) -> None:
    """Every printed derivative parses back: an order argument or a number beyond what the language reads is
    refused here, not printed (``polygamma(1000, x)`` differentiated once would be ``polygamma(1001, x)``; the
    1000th derivative of x^2000 has a coefficient of 10 524 bits)."""
    where = ("body", "order" if task.operation == "derivative" else "function")
    limits = task.limits
    for expr in exprs:
        name, index = _highest_index(expr)
        if index > MAX_INDEX:
            raise located(
                LimitExceeded,
                f"the derivative holds {name} of order {index}, above {MAX_INDEX}, the highest the expression "
                "language reads, so it could not be read back; ask for a lower order",
                where,
            )
        bits, digits = _widest_number(expr)
        if bits > limits.max_power_bits or digits > limits.max_literal_digits:
            raise located(
                LimitExceeded,
                f"the derivative holds a number of {digits} digits ({bits} bits), above what the expression language "
                f"reads ({limits.max_literal_digits} digits, {limits.max_power_bits} bits: NABLA_MAX_LITERAL_DIGITS, "
                "NABLA_MAX_POWER_BITS), so it could not be read back; ask for a lower order",
                where,
            )


def _jacobian(
    functions: Sequence[EngineExpr], variables: Sequence[str], budget: NodeBudget, upper: bool = False
) -> list[list[EngineExpr]]:
    rows: list[list[EngineExpr]] = []
    for i, function in enumerate(functions):
        row = [rows[j][i] if upper and j < i else differentiate(function, v) for j, v in enumerate(variables)]
        budget.charge(row[i:] if upper else row)
        rows.append(row)
    return rows


def _derivative(function: EngineExpr, wrt: Sequence[str], budget: NodeBudget) -> EngineExpr:
    for name in wrt:
        function = differentiate(function, name)
        budget.charge([function])
    return function


def _validate_derivative(task: CalculusTask, variables: tuple[str, ...]) -> tuple[str, ...]:
    if task.order == 0 and not task.wrt:
        return ()  # order 0: f itself, whatever its variables
    if task.wrt:
        unknown = [name for name in task.wrt if name not in variables]
        if unknown:
            raise located(
                InvalidInput,
                f"'{unknown[0]}' is not one of the variables ({', '.join(variables)}); differentiate by one of them",
                ("body", "variable"),
            )
        return task.wrt
    if len(variables) == 1:
        return variables * task.order
    if variables:
        detail = (
            f"there are {len(variables)} variables ({', '.join(variables)}); name the one to differentiate by in "
            "'variable'"
        )
    elif task.parameters:
        detail = (
            f"the function has no variables (its names are all parameters: {', '.join(task.parameters)}); "
            "name the one to differentiate by in 'variable'"
        )
    else:
        detail = "the function has no variables; name the one to differentiate by in 'variable'"
    raise located(InvalidInput, detail, ("body", "variable"))


def run(task: CalculusTask) -> CalculusResult:
    """Differentiate as ``task`` asks. Raises ``NablaError`` subclasses for every client mistake or limit."""
    exprs, variables = parse_functions(task)
    functions = tuple(to_engine(e) for e in exprs)
    budget = NodeBudget(task.max_nodes)
    if task.operation == "derivative":
        wrt = _validate_derivative(task, variables)
        flat = [_derivative(functions[0], wrt, budget)]
        _check_readable(task, flat)
        return CalculusResult(variables, task.parameters, functions, _symbolic(flat), (), wrt)
    shape: tuple[int, ...]
    if task.operation == "hessian":
        (gradient,) = _jacobian(functions, variables, budget)
        flat = [d for row in _jacobian(gradient, variables, budget, upper=True) for d in row]
        shape = (len(variables), len(variables))
    else:
        flat = [d for row in _jacobian(functions, variables, budget) for d in row]
        shape = (len(variables),) if task.operation == "gradient" else (len(functions), len(variables))
    _check_readable(task, flat)
    return CalculusResult(variables, task.parameters, functions, _symbolic(flat), shape)
