"""Exact values at a point given exactly (``"pi/4"``, ``"1/3"``, integers), and what they say about the point.

Float rounding can hide a pole: ``tan(x)`` at the float nearest pi/2 is 1.6e16, a finite number. The exact values
do not lie: when the function is infinite or not real at the exact point, or a derivative is undefined there, the
point's status says so, whatever the float evaluation said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from service.compute.engine import EngineExpr, to_sympy
from service.compute.language.printer import UnprintableExpression, to_latex, to_text
from service.compute.status import Status

OK, DOMAIN_ERROR, NON_FINITE, NON_DIFFERENTIABLE = Status
_INFINITE = (sp.zoo, sp.oo, -sp.oo)


@dataclass(frozen=True)
class ExactValues:
    """Exact derivative values (text and LaTeX, None where undefined) and the status of the point."""

    texts: tuple[str | None, ...]
    latex: tuple[str | None, ...]
    status: Status
    undefined: tuple[bool, ...]  # per derivative entry


def _kind(value: sp.Expr) -> Status:
    """OK for a finite real number, NON_FINITE for an infinity, DOMAIN_ERROR for NaN or a non-real number."""
    if value.has(sp.nan):
        return DOMAIN_ERROR
    if value.has(*_INFINITE):
        return NON_FINITE
    approx = value.evalf(30)
    if approx.has(sp.nan):
        return DOMAIN_ERROR
    if approx.has(*_INFINITE):
        return NON_FINITE
    real, imaginary = approx.as_real_imag()
    return OK if imaginary == 0 and real.is_number else DOMAIN_ERROR


def _is_zero(value: sp.Expr) -> bool:
    known = value.is_zero
    if known is not None:
        return bool(known)
    return bool(abs(value.evalf(60)) < sp.Float("1e-50"))  # undecided symbolically: zero to 50 digits


def _sides(expr: sp.Expr, mapping: dict[sp.Symbol, sp.Expr]) -> tuple[sp.Expr, sp.Expr] | None:
    """The derivative's two one-sided values where a step (sign, heaviside) or a delta sits exactly at the point,
    or None when none does. SymPy's own values there (sign(0) = 0, heaviside(0) = 1/2) are no derivative."""
    steps = [n for n in sp.preorder_traversal(expr) if isinstance(n, sp.sign | sp.Heaviside | sp.DiracDelta)]
    at_point = [n for n in steps if _is_zero(n.args[0].xreplace(mapping))]
    if not at_point:
        return None
    if any(isinstance(n, sp.DiracDelta) for n in at_point):
        return sp.nan, sp.nan
    sides = []
    for side in (1, -1):
        replaced = {n: (sp.Integer(side) if isinstance(n, sp.sign) else sp.Integer(side > 0)) for n in at_point}
        sides.append(expr.xreplace(replaced).xreplace(mapping))
    return sides[0], sides[1]


def _derivative_value(expr: sp.Expr, mapping: dict[sp.Symbol, sp.Expr]) -> sp.Expr:
    sides = _sides(expr, mapping)
    if sides is None:
        return expr.xreplace(mapping)
    left, right = sides
    if left.has(sp.nan) or not _is_zero(left - right):
        return sp.nan
    return left


def _printed(value: sp.Expr) -> tuple[str | None, str | None, bool]:
    try:
        return to_text(value), to_latex(value), False
    except UnprintableExpression:  # a constant the language has no name for: the value stands, without text
        return None, None, False


def exact_values(
    functions: Sequence[EngineExpr], derivatives: Sequence[EngineExpr], inputs: Sequence[str], point: Sequence[sp.Expr]
) -> ExactValues:
    """Each derivative with ``inputs`` replaced by the exact ``point``, and the point's status.

    Only SymPy's automatic evaluation simplifies (``sin(pi/4)`` is ``sqrt(2)/2``): cheap and deterministic.
    """
    mapping = {sp.Symbol(n, real=True): v for n, v in zip(inputs, point, strict=True)}
    kinds = [_kind(to_sympy(f).xreplace(mapping)) for f in functions]
    status = DOMAIN_ERROR if DOMAIN_ERROR in kinds else NON_FINITE if NON_FINITE in kinds else OK
    texts: list[str | None] = []
    latex: list[str | None] = []
    undefined: list[bool] = []
    printed: dict[EngineExpr, tuple[str | None, str | None, bool]] = {}
    for expr in derivatives:
        if expr not in printed:
            value = _derivative_value(to_sympy(expr), mapping)
            bad = status != OK or _kind(value) != OK
            printed[expr] = (None, None, True) if bad else _printed(value)
        text, tex, bad = printed[expr]
        texts.append(text)
        latex.append(tex)
        undefined.append(bad)
    if status == OK and any(undefined):
        status = NON_DIFFERENTIABLE
    return ExactValues(tuple(texts), tuple(latex), status, tuple(undefined))
