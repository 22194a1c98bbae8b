"""The point a geometric question is asked at, exactly: a function, its variables and parameters, and one point.

A Taylor polynomial, a tangent plane and a critical point are statements about exact numbers: ``0.1`` is ``1/10``,
``"pi/4"`` is pi/4. So the point (and every numeric parameter) is kept exact here, beside its float, and the function
is substituted with the exact parameter values before anything is derived from it. Symbolic work: runs in a worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import symengine as se
import sympy as sp

from service.compute.calculus import CalculusResult, CalculusTask, run
from service.compute.engine import EngineExpr, is_symengine, symengine_supports, to_engine, to_sympy
from service.compute.errors import InvalidPoint, located
from service.compute.exact import exact_values
from service.compute.language.build import symbol
from service.compute.limits import DEFAULT_LIMITS, MAX_RESULT_NODES, MAX_VARIABLES, Limits
from service.compute.points import exact_constants, exact_value, read_points, strings_in
from service.compute.status import Status

__all__ = ["Coordinate", "FunctionQuery", "FunctionSpec", "Prepared", "exact_coordinates", "prepare", "values_at"]

Coordinate = int | float | str  # a JSON number or an exact string ("pi/4")


@dataclass(frozen=True)
class FunctionSpec:
    """One scalar function of named variables, with numeric parameters (substituted exactly) or symbolic ones."""

    function: str
    variables: tuple[str, ...] | None = None  # None: the free names that are not parameters, in natural order
    parameters: tuple[str, ...] = ()
    parameter_values: tuple[Coordinate, ...] | None = None  # None: the parameters stay symbols
    limits: Limits = DEFAULT_LIMITS
    max_nodes: int = MAX_RESULT_NODES
    max_variables: int = MAX_VARIABLES

    def task(self, operation: str) -> CalculusTask:
        return CalculusTask(
            operation,
            (self.function,),
            self.variables,
            self.parameters,
            limits=self.limits,
            max_nodes=self.max_nodes,
            max_variables=self.max_variables,
        )


@dataclass(frozen=True)
class FunctionQuery:
    """What every geometric query names: the function, its variables, and its parameters (with their values, or
    left as symbols), in plain values as the request gave them."""

    function: str
    variables: tuple[str, ...] | None = None
    parameters: tuple[str, ...] = ()
    parameter_values: tuple[Coordinate, ...] | None = None  # None: the parameters stay symbols

    def spec(self, limits: Limits, max_nodes: int, max_variables: int) -> FunctionSpec:
        """The function as the workers take it, with the server's limits."""
        return FunctionSpec(
            self.function, self.variables, self.parameters, self.parameter_values, limits, max_nodes, max_variables
        )


@dataclass(frozen=True)
class Prepared:
    """A calculus result with the parameters' exact values substituted into the function and its derivatives."""

    variables: tuple[str, ...]
    parameters: tuple[str, ...]  # the symbolic ones (empty when values were given)
    function: EngineExpr
    derivatives: tuple[EngineExpr, ...]
    shape: tuple[int, ...]


def exact_coordinates(
    values: Sequence[Coordinate], names: Sequence[str] | None, variables: Sequence[str]
) -> tuple[tuple[sp.Expr, ...], np.ndarray]:
    """The exact coordinates of ``at`` (in ``variables`` order) and their floats. ``names`` None: the values are in
    ``variables`` order; else they are the coordinates of those names (every variable exactly once)."""
    named = None if names is None else dict(zip(names, values, strict=True))
    raw = list(values) if named is None else named
    constants = exact_constants(sorted(strings_in(raw)))  # symbolic work, as everything here: in a worker
    read = read_points(variables=variables, parameters={}, at=raw, max_points=1, constants=constants)
    assert read is not None  # checked: sizes, names, numbers
    ordered = list(values) if named is None else [named[n] for n in variables]
    return tuple(_exact(v) for v in ordered), read.matrix[0]


def _exact(value: Coordinate) -> sp.Expr:
    if isinstance(value, str):
        return exact_value(value)
    if isinstance(value, int):
        return sp.Integer(value)
    return sp.Rational(repr(value))  # the decimal the client wrote (0.1 is 1/10), not its binary approximation


def _parameter_values(spec: FunctionSpec) -> dict[sp.Symbol, sp.Expr]:
    if spec.parameter_values is None:
        return {}
    given = dict(zip(spec.parameters, spec.parameter_values, strict=True))
    constants = exact_constants(sorted(strings_in(given)))
    read_points(variables=(), parameters=given, max_points=1, constants=constants)  # located at parameters.<name>
    return {symbol(n): _exact(v) for n, v in given.items()}


def prepare(spec: FunctionSpec, operation: str) -> Prepared:
    """The function and its derivatives (``operation``: gradient or hessian) with numeric parameters substituted."""
    result: CalculusResult = run(spec.task(operation))
    mapping = _parameter_values(spec)
    derivatives = tuple(d.expr for d in result.derivatives)
    if not mapping:
        return Prepared(result.variables, result.parameters, result.functions[0], derivatives, result.shape)

    def substituted(expr: EngineExpr) -> EngineExpr:
        return to_engine(to_sympy(expr).xreplace(mapping))

    return Prepared(
        result.variables, (), substituted(result.functions[0]), tuple(substituted(d) for d in derivatives), result.shape
    )


_UNDEFINED = {
    sp.nan: Status.DOMAIN_ERROR,
    sp.zoo: Status.NON_FINITE,
    sp.oo: Status.NON_FINITE,
    -sp.oo: Status.NON_FINITE,
}


def _fast_values(exprs: Sequence[EngineExpr], names: Sequence[str], point: Sequence[sp.Expr]) -> list[sp.Expr] | None:
    """The values at the exact point by SymEngine's substitution (tens of microseconds each, against milliseconds
    for SymPy's), when every expression and coordinate is SymEngine's and every value is a finite real number
    (checked with 64-bit MPFR); None otherwise, and the careful way decides."""
    if not all(is_symengine(e) for e in exprs) or not all(symengine_supports(v) for v in point):
        return None
    mapping = {se.Symbol(n): to_engine(v) for n, v in zip(names, point, strict=True)}
    values = []
    for expr in exprs:
        value = expr.subs(mapping)
        try:
            number = value.n(64, real=False)
        except RuntimeError:  # an infinity or NaN has no numeric value
            return None
        if not isinstance(number, se.RealMPFR | se.ComplexMPC | se.Integer | se.Rational | se.RealDouble):
            return None
        if isinstance(number, se.ComplexMPC) and number.imag != 0:
            return None
        values.append(to_sympy(value))
    return values


def values_at(
    prepared: Prepared, derivatives: Sequence[EngineExpr], point: Sequence[sp.Expr], floats: np.ndarray
) -> tuple[sp.Expr, tuple[sp.Expr, ...]]:
    """f and ``derivatives`` at the exact ``point``; ``InvalidPoint`` at ``at`` unless all are finite real numbers
    (one-sided derivatives that differ, at a kink, are no value). With symbolic parameters only what is undefined
    whatever their values (``1/0``) is refused."""
    if not prepared.parameters:
        fast = _fast_values([prepared.function, *derivatives], prepared.variables, point)
        if fast is not None:
            return fast[0], tuple(fast[1:])
    mapping = {symbol(n): v for n, v in zip(prepared.variables, point, strict=True)}
    values = to_sympy(prepared.function).xreplace(mapping), tuple(to_sympy(d).xreplace(mapping) for d in derivatives)
    if prepared.parameters:
        status = next((_UNDEFINED[u] for v in (values[0], *values[1]) for u in _UNDEFINED if v.has(u)), Status.OK)
    else:
        status = exact_values([prepared.function], derivatives, prepared.variables, point).status
    if status != Status.OK:
        where = ", ".join(f"{n} = {v:.17g}" for n, v in zip(prepared.variables, floats, strict=True))
        reason = {
            Status.DOMAIN_ERROR: "the function is undefined or not real",
            Status.NON_FINITE: "the function is infinite",
            Status.NON_DIFFERENTIABLE: "a derivative it needs does not exist (a kink, cusp, jump or pole)",
        }[status]
        raise located(
            InvalidPoint,
            f"{reason} at ({where}); choose a point where the function is defined and smooth",
            ("body", "at"),
        )
    return values
