"""Taylor polynomials: f near a point as a polynomial in the displacement, of any order; order 1 is the tangent.

T(x) = sum over multi-indices |alpha| <= k of D^alpha f(a) / alpha! * (x - a)^alpha, with exact coefficients at the
exact point (``0.1`` is 1/10). Every partial derivative comes from one parent by one differentiation, so the
(n + k choose k) coefficients cost as many differentiations. The polynomial is printed in powers of the displacement
(``5 + 2*(x - 1) + 4*(y - 2)``), terms by degree. Symbolic work: ``expand`` runs in a worker; ``compare`` evaluates the
polynomial and the error f - T at points with a compiled kernel, in the web process.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations_with_replacement
from typing import Any

import numpy as np
import sympy as sp

from service.compute.anchor import Coordinate, FunctionQuery, FunctionSpec, exact_coordinates, prepare, values_at
from service.compute.engine import EngineExpr, NodeBudget, differentiate, to_engine
from service.compute.errors import InvalidInput, LimitExceeded, located
from service.compute.language.build import symbol
from service.compute.language.printer import to_latex, to_text
from service.compute.limits import MAX_TAYLOR_TERMS
from service.compute.numeric import Evaluator, compile_evaluator
from service.compute.status import Status
from service.compute.trust import Provenance, provenance

__all__ = [
    "Comparison",
    "TaylorAnswer",
    "TaylorQuery",
    "TaylorResult",
    "TaylorTask",
    "compare",
    "compile_comparison",
    "displacement",
    "expand",
    "joined",
]

MultiIndex = tuple[int, ...]


@dataclass(frozen=True)
class TaylorQuery(FunctionQuery):
    """A validated Taylor request: the point to expand about (``at``), the order, and points to compare at."""

    at: tuple[Coordinate, ...] = ()
    at_names: tuple[str, ...] | None = None  # None: ``at`` is in the variables' order
    order: int = 1
    points: Any = None  # a batch as ``points.read_points`` takes it


@dataclass(frozen=True)
class TaylorTask:
    """The Taylor polynomial of ``spec``'s function of order ``order`` about ``at``."""

    spec: FunctionSpec
    at: tuple[Coordinate, ...]
    at_names: tuple[str, ...] | None = None  # None: ``at`` is in the variables' order
    order: int = 1
    max_terms: int = MAX_TAYLOR_TERMS


@dataclass(frozen=True)
class TaylorResult:
    variables: tuple[str, ...]
    parameters: tuple[str, ...]  # symbolic parameters left in the polynomial (then there are no numbers)
    at: tuple[float, ...]
    order: int
    function: EngineExpr  # f, numeric parameters substituted: for the errors at points
    polynomial: EngineExpr
    text: str
    latex: str
    function_value: float | None  # None when symbolic parameters remain
    function_value_text: str
    terms: int  # non-zero terms of the polynomial
    coefficients: tuple[tuple[MultiIndex, str], ...] = field(default=())  # D^alpha f(a) / alpha!, non-zero only
    provenance: Provenance | None = None  # symbolic; cached: the compiled comparison at points came from the cache


def _indices(n: int, order: int) -> list[MultiIndex]:
    """Every multi-index of total degree at most ``order``, by degree, then in lexicographic order of the variables
    differentiated by (x before y: x^2, x*y, y^2)."""
    out: list[MultiIndex] = []
    for degree in range(order + 1):
        for combo in combinations_with_replacement(range(n), degree):
            alpha = [0] * n
            for i in combo:
                alpha[i] += 1
            out.append(tuple(alpha))
    return out


def _validate(task: TaylorTask, n: int) -> None:
    terms = math.comb(n + task.order, task.order)
    if terms > task.max_terms:
        raise located(
            LimitExceeded,
            f"a Taylor polynomial of order {task.order} in {n} variables has {terms} coefficients; the limit is "
            f"{task.max_terms} (NABLA_MAX_TAYLOR_TERMS); ask for a lower order or fewer variables",
            ("body", "order"),
        )
    if n == 0:
        raise located(
            InvalidInput,
            "the function has no variables, so it has no Taylor polynomial in them; name them in 'variables'",
            ("body", "variables"),
        )


def _partials(
    function: EngineExpr, variables: Sequence[str], indices: Sequence[MultiIndex], budget: NodeBudget
) -> dict[MultiIndex, EngineExpr]:
    partials: dict[MultiIndex, EngineExpr] = {}
    for alpha in indices:
        if not any(alpha):
            partials[alpha] = function
            continue
        last = max(i for i, a in enumerate(alpha) if a)
        parent = (*alpha[:last], alpha[last] - 1, *alpha[last + 1 :])
        partials[alpha] = differentiate(partials[parent], variables[last])
        budget.charge([partials[alpha]])
    return partials


def displacement(name: str, centre: sp.Expr, power: int = 1) -> sp.Expr:
    """``(name - centre)^power``, unexpanded (``x`` itself when the centre is 0)."""
    base = symbol(name) if centre == 0 else sp.Add(symbol(name), -centre, evaluate=False)
    return base if power == 1 else sp.Pow(base, power, evaluate=False)


def _negative(value: sp.Expr) -> bool:
    """Whether the printed coefficient starts with a minus sign (``6*cos(2)`` does not, though it is negative)."""
    return bool(value.could_extract_minus_sign())


def joined(terms: Sequence[tuple[sp.Expr, Sequence[sp.Expr]]]) -> tuple[str, str]:
    """Text and LaTeX of a sum of ``coefficient * factors`` terms, in the given order, factors left unexpanded
    (``2*(x - 1) - 3*(y + 2)``). An empty sum is 0."""
    texts: list[str] = []
    latex: list[str] = []
    for coefficient, factors in terms:
        negative = _negative(coefficient)
        magnitude = -coefficient if negative else coefficient
        if not factors:
            term = magnitude
        elif magnitude == 1:
            term = factors[0] if len(factors) == 1 else sp.Mul(*factors, evaluate=False)
        else:
            term = sp.Mul(*sp.Mul.make_args(magnitude), *factors, evaluate=False)
        text, tex = to_text(term), to_latex(term)
        if not texts:
            texts.append(f"-{_grouped(text)}" if negative else text)
            latex.append(f"-{_grouped(tex, latex=True)}" if negative else tex)
        else:
            texts.append(f" - {_grouped(text)}" if negative else f" + {_grouped(text)}")
            latex.append(f" - {_grouped(tex, latex=True)}" if negative else f" + {_grouped(tex, latex=True)}")
    return ("".join(texts), "".join(latex)) if texts else ("0", "0")


def _grouped(text: str, latex: bool = False) -> str:
    """A term that is itself a sum (a symbolic coefficient ``a + 1``) is bracketed after a sign."""
    depth, top_level_sum = 0, False
    for i, char in enumerate(text):
        depth += char in "({"
        depth -= char in ")}"
        if depth == 0 and char in "+-" and i > 0 and text[i - 1] == " ":
            top_level_sum = True
    if not top_level_sum:
        return text
    return rf"\left({text}\right)" if latex else f"({text})"


def expand(task: TaylorTask) -> TaylorResult:
    """The Taylor polynomial of ``task``. ``InvalidPoint`` where f or a derivative it needs is not defined."""
    prepared = prepare(task.spec, "gradient")
    variables = prepared.variables
    _validate(task, len(variables))
    point, floats = exact_coordinates(task.at, task.at_names, variables)
    indices = _indices(len(variables), task.order)
    partials = _partials(prepared.function, variables, indices, NodeBudget(task.spec.max_nodes))
    value, derivatives = values_at(prepared, [partials[a] for a in indices], point, floats)
    terms: list[tuple[sp.Expr, list[sp.Expr]]] = []
    coefficients: list[tuple[MultiIndex, str]] = []
    for alpha, derivative in zip(indices, derivatives, strict=True):
        coefficient = derivative / math.prod(math.factorial(a) for a in alpha)
        if coefficient.is_zero:
            continue
        factors = [displacement(n, c, a) for n, c, a in zip(variables, point, alpha, strict=True) if a]
        terms.append((coefficient, factors))
        coefficients.append((alpha, to_text(coefficient)))
    text, latex = joined(terms)
    polynomial = sp.Add(*(c * sp.Mul(*f) for c, f in terms))
    numeric = None if prepared.parameters else float(value)
    return TaylorResult(
        variables=variables,
        parameters=prepared.parameters,
        at=tuple(float(v) for v in floats),
        order=task.order,
        function=prepared.function,
        polynomial=to_engine(polynomial),
        text=text,
        latex=latex,
        function_value=numeric,
        function_value_text=to_text(value),
        terms=len(terms),
        coefficients=tuple(coefficients),
        provenance=provenance([partials[a] for a in indices], exact=False, cached=False),
    )


@dataclass(frozen=True)
class Comparison:
    """The polynomial and the error f - T at each point, NaN where f is not a finite real number there."""

    values: np.ndarray
    errors: np.ndarray
    function_values: np.ndarray
    status: np.ndarray  # Status codes: ok, domain_error, non_finite


def compile_comparison(result: TaylorResult) -> Evaluator:
    """One kernel computing the polynomial and f at points over the variables."""
    return compile_evaluator(result.variables, [result.polynomial, result.function], [])


def compare(evaluator: Evaluator, points: np.ndarray) -> Comparison:
    """T and f - T at each row of ``points`` (N x variables)."""
    with np.errstate(all="ignore"):
        raw = evaluator.kernel(points)
        values, function = raw[:, 0].copy(), raw[:, 1].copy()
        status = np.zeros(len(points), dtype=np.int8)
        status[np.isinf(function) | np.isinf(values)] = Status.NON_FINITE
        status[np.isnan(function)] = Status.DOMAIN_ERROR
        broken = status != Status.OK
        errors = np.where(broken, np.nan, function - values)
        function[broken] = np.nan
        values[np.isinf(values)] = np.nan
    return Comparison(values + 0.0, errors + 0.0, function + 0.0, status)


@dataclass(frozen=True)
class TaylorAnswer:
    """The polynomial, and with points its values and errors there."""

    query: TaylorQuery
    result: TaylorResult
    comparison: Comparison | None = None

    @property
    def size(self) -> int:
        """How many numbers the answer holds: what presenting it costs."""
        return 0 if self.comparison is None else 3 * len(self.comparison.values)
