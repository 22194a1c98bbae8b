"""The symbolic backend behind one small interface: SymEngine where it is exact, SymPy everywhere else.

SymEngine differentiates 50-150x faster than SymPy, but it silently differentiates a function it does not know to 0
(a wrapped ``PyFunction``). So the choice is made per expression from an explicit allowlist of SymPy node types that
SymEngine handles exactly; one node outside it sends the whole expression to SymPy.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any, TypeAlias

import symengine as se
import sympy as sp
from symengine.lib.symengine_wrapper import sympy2symengine

from service.compute.errors import TooComplex, located

# A SymEngine or a SymPy expression. SymEngine ships no type information, so to the type checker this is Any.
EngineExpr: TypeAlias = Any

# SymPy node types whose SymEngine counterparts differentiate and compile exactly (checked by a cross-engine test).
SYMENGINE_NODES: tuple[type, ...] = (
    sp.Symbol, sp.Integer, sp.Rational, sp.Add, sp.Mul, sp.Pow,
    type(sp.pi), type(sp.E), type(sp.S.Half), type(sp.S.One), type(sp.S.Zero), type(sp.S.NegativeOne),
    sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.sec, sp.csc, sp.cot, sp.asin, sp.acos, sp.atan, sp.atan2,
    sp.sinh, sp.cosh, sp.tanh, sp.asinh, sp.acosh, sp.atanh, sp.erf, sp.erfc,
)  # fmt: skip


def symengine_supports(expr: sp.Expr) -> bool:
    """Whether every node of ``expr`` is one SymEngine handles exactly."""
    return all(isinstance(node, SYMENGINE_NODES) for node in sp.preorder_traversal(expr))


def to_engine(expr: sp.Expr) -> EngineExpr:
    """``expr`` in the fastest engine that is exact for it. Trees only: conversion node by node, never text."""
    return sympy2symengine(expr) if symengine_supports(expr) else expr


def to_sympy(expr: EngineExpr) -> sp.Expr:
    """``expr`` as a SymPy expression whose symbols are the language's real symbols."""
    if isinstance(expr, sp.Basic):
        return expr
    converted: sp.Expr = expr._sympy_()  # SymEngine's own tree-to-tree conversion
    return converted.xreplace({s: sp.Symbol(s.name, real=True) for s in converted.free_symbols})


def engine_symbol(expr: EngineExpr, name: str) -> EngineExpr:
    """The symbol called ``name`` in the engine ``expr`` lives in."""
    return sp.Symbol(name, real=True) if isinstance(expr, sp.Basic) else se.Symbol(name)


def is_symengine(expr: EngineExpr) -> bool:
    return not isinstance(expr, sp.Basic)


def node_count(expr: EngineExpr, budget: int) -> int:
    """Nodes in the tree of ``expr``, counting shared subtrees each time; stops counting past ``budget``."""
    count, stack = 0, [expr]
    while stack and count <= budget:
        node = stack.pop()
        count += 1
        stack.extend(node.args)
    return count


def differentiate(expr: EngineExpr, name: str) -> EngineExpr:
    """The partial derivative of ``expr`` with respect to the variable ``name``."""
    if _zero_powers(expr, name):
        return _differentiate_zero_powers(to_sympy(expr), sp.Symbol(name, real=True))
    derivative = expr.diff(engine_symbol(expr, name))
    return sift_deltas(derivative) if isinstance(derivative, sp.Basic) else derivative


def _zero_powers(expr: EngineExpr, name: str) -> list[EngineExpr]:
    """The powers ``0^u`` of ``expr`` whose exponent depends on ``name``."""
    return [p for p, names in _zero_bases(expr) if name in names]


@lru_cache(maxsize=4096)
def _zero_bases(expr: EngineExpr) -> tuple[tuple[EngineExpr, frozenset[str]], ...]:
    """Every power ``0^u`` of ``expr`` with the names in its exponent: found once per expression, as a gradient
    and then a Hessian differentiate the same expressions by every variable in turn."""
    cls = sp.Pow if isinstance(expr, sp.Basic) else se.Pow
    return tuple((p, frozenset(str(s) for s in p.args[1].free_symbols)) for p in expr.atoms(cls) if p.args[0] == 0)


def _differentiate_zero_powers(expr: sp.Expr, variable: sp.Symbol) -> sp.Expr:
    """The power rule writes d/dx 0^u as 0^u*log(0)*u', which is zoo*0^u: no derivative. For real u, 0^u is 0 for
    u > 0, 1 at u = 0 and infinite for u < 0; where it is finite it equals 1 - heaviside(u) (taking 1 at 0), so its
    derivative is -dirac(u)*u': 0 for u > 0, none at u = 0 (the jump), and u < 0 is a point where f is infinite.
    The function keeps its form (0^u, not the step) in the derivative: it is the function's own value."""
    steps = {p: 1 - sp.Heaviside(p.exp, 0) for p in _zero_powers(expr, variable.name)}
    derivative = expr.xreplace(steps).diff(variable)
    back = {h: 1 - sp.Pow(0, h.args[0], evaluate=False) for h in derivative.atoms(sp.Heaviside) if h.args[1:] == (0,)}
    exponents = {p.exp for p in steps}
    # A delta at u = 0 is not sifted away: 0^u is infinite on one side of that point, so no derivative exists there.
    return sp.Add(
        *(
            term if any(d.args[0] in exponents for d in term.atoms(sp.DiracDelta)) else sift_deltas(term)
            for term in sp.Add.make_args(derivative.xreplace(back))
        )
    )


def _sift(term: sp.Expr) -> sp.Expr:
    deltas = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.DiracDelta) and len(f.args) == 1]
    if len(deltas) != 1:
        return term
    delta = deltas[0]
    argument = delta.args[0]
    for variable in sorted(argument.free_symbols, key=lambda s: s.name):
        poly = argument.as_poly(variable)
        if poly is None or poly.degree() != 1:
            continue
        root = -poly.nth(0) / poly.nth(1)
        rest = term / delta
        steps = rest.atoms(sp.sign, sp.Heaviside, sp.DiracDelta)
        if any(variable in step.args[0].free_symbols for step in steps):  # a jump at the root: no sifting
            return term
        coefficient = rest.xreplace({variable: root})
        if coefficient.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            return term
        return coefficient * delta
    return term


def sift_deltas(expr: sp.Expr) -> sp.Expr:
    """``c(x)*dirac(u)`` is ``c(x0)*dirac(u)`` where ``u(x0) = 0`` (the sifting property, for u linear in one of its
    variables): a term whose coefficient vanishes there is zero. So ``d/dx x^2*sign(x) = 2*x*sign(x)``, with no delta
    term that would mark x = 0 as non-differentiable."""
    if not expr.has(sp.DiracDelta):
        return expr
    return sp.Add(*(_sift(term) for term in sp.Add.make_args(expr)))


class NodeBudget:
    """The node allowance shared by every derivative of one request."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def charge(self, exprs: Iterable[EngineExpr]) -> None:
        for expr in exprs:
            self.used += node_count(expr, self.limit - self.used)
            if self.used > self.limit:
                raise located(
                    TooComplex,
                    f"the derivatives grew past {self.limit} expression nodes; ask for a lower order, fewer "
                    "variables or a simpler function",
                )
