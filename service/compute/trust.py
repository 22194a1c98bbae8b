"""How far to trust a calculus answer: its values to many digits (MPFR through mpmath, from the symbolic result),
and how it was computed (provenance). Symbolic work here runs in a worker, within the deadline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import mpmath
import symengine as se
import sympy as sp

from service.compute.engine import EngineExpr, is_symengine, to_sympy
from service.compute.exact import _derivative_value

__all__ = ["Provenance", "decimal_rows", "decimal_values", "provenance"]

_GUARD_DIGITS = 15


@dataclass(frozen=True)
class Provenance:
    """How an answer was computed: the method, the engine that differentiated, and whether it came from the cache."""

    method: str  # symbolic | exact
    engine: str  # "symengine X.Y" | "sympy X.Y"
    cached: bool


def provenance(derivatives: Sequence[EngineExpr], exact: bool, cached: bool) -> Provenance:
    """A lookup, no work: SymEngine when it differentiated every entry, else SymPy."""
    engine = f"symengine {se.__version__}" if all(is_symengine(d) for d in derivatives) else f"sympy {sp.__version__}"
    return Provenance("exact" if exact else "symbolic", engine, cached)


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
