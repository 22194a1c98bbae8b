"""How fast a function may grow on a discrete support: ``|e(k)| <= C * prod_i (1 + k_i)^d_i`` at every point of
the support (the counts k_i at integers from their lowest value, all >= 0), read off the expression by rules that are
sound for each node (``envelope``): sums and products of bounds, powers, logarithms of what is bounded away from 0,
and functions bounded whatever their argument (sin, tanh, erf, ...). What the rules cannot bound (``exp(X)``,
``gamma(X)``, ``1/(X - 3)``) is None: a sum over such a function has no tail bound here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

__all__ = ["Envelope", "envelope"]


@dataclass(frozen=True)
class Envelope:
    constant: float
    degrees: Mapping[str, float]

    def plus(self, other: Envelope) -> Envelope:
        names = {*self.degrees, *other.degrees}
        return Envelope(
            self.constant + other.constant,
            {n: max(self.degrees.get(n, 0.0), other.degrees.get(n, 0.0)) for n in names},
        )

    def times(self, other: Envelope) -> Envelope:
        names = {*self.degrees, *other.degrees}
        return Envelope(
            self.constant * other.constant,
            {n: self.degrees.get(n, 0.0) + other.degrees.get(n, 0.0) for n in names},
        )

    def power(self, exponent: float) -> Envelope:
        return Envelope(self.constant**exponent, {n: d * exponent for n, d in self.degrees.items()})


_BOUNDED: Mapping[type, float] = {
    sp.sin: 1.0, sp.cos: 1.0, sp.tanh: 1.0, sp.erf: 1.0, sp.erfc: 2.0, sp.atan: math.pi / 2, sp.sign: 1.0,
    sp.Heaviside: 1.0,
}  # fmt: skip


def _number(expr: sp.Expr) -> float | None:
    if not expr.is_number:
        return None
    value = complex(expr.evalf(20))
    return value.real if value.imag == 0 and math.isfinite(value.real) else None


def _floor(expr: sp.Expr, lowest: Mapping[str, int]) -> float | None:
    """A number the expression is at least on the support (None when unknown)."""
    number = _number(expr)
    if number is not None:
        return number
    if isinstance(expr, sp.Symbol):
        return float(lowest[expr.name]) if expr.name in lowest else None
    if isinstance(expr, sp.Add):
        parts = [_floor(a, lowest) for a in expr.args]
        return None if None in parts else math.fsum(p for p in parts if p is not None)
    if isinstance(expr, sp.Mul | sp.Pow | sp.exp | sp.cosh):
        return _positive_floor(expr, lowest)
    return None


def _positive_floor(expr: sp.Expr, lowest: Mapping[str, int]) -> float | None:
    if isinstance(expr, sp.exp):
        return 0.0
    if isinstance(expr, sp.cosh):
        return 1.0
    if isinstance(expr, sp.Mul):
        floors = [_floor(a, lowest) for a in expr.args]
        known = [p for p in floors if p is not None and p >= 0]
        return math.prod(known) if len(known) == len(floors) else None
    exponent = _number(expr.exp)
    base = _floor(expr.base, lowest)
    if exponent is None or base is None or base < 0:
        return None
    if exponent >= 0:
        return float(base**exponent)
    return None  # a negative power of a non-negative base: no lower bound without an upper one


def _ceiling(expr: sp.Expr, lowest: Mapping[str, int]) -> float | None:
    floor = _floor(-expr, lowest)
    return None if floor is None else -floor


def envelope(expr: sp.Expr, lowest: Mapping[str, int]) -> Envelope | None:
    """A bound ``|expr| <= C * prod (1 + k_i)^d_i`` for every point of the support (the random names of ``lowest``
    at integers >= their lowest value, >= 0), or None when these rules cannot bound the expression."""
    number = _number(expr)
    if number is not None:
        return Envelope(abs(number), {})
    if isinstance(expr, sp.Symbol):
        return Envelope(1.0, {expr.name: 1.0}) if expr.name in lowest else None
    if isinstance(expr, sp.Add | sp.Mul | sp.Max | sp.Min):
        parts = [envelope(a, lowest) for a in expr.args]
        if any(p is None for p in parts):
            return None
        combine = Envelope.times if isinstance(expr, sp.Mul) else Envelope.plus
        result = parts[0]
        for part in parts[1:]:
            result = combine(result, part)  # type: ignore[arg-type]
        return result
    if isinstance(expr, sp.Pow):
        return _power(expr, lowest)
    if isinstance(expr, sp.Abs):
        return envelope(expr.args[0], lowest)
    if isinstance(expr, sp.exp):
        top = _ceiling(expr.args[0], lowest)
        return None if top is None else Envelope(math.exp(top), {})
    if isinstance(expr, sp.log):
        return _log(expr.args[0], lowest)
    bound = _BOUNDED.get(type(expr))
    if bound is not None and all(envelope(a, lowest) is not None for a in expr.args):
        return Envelope(bound, {})
    return None


def _power(expr: sp.Pow, lowest: Mapping[str, int]) -> Envelope | None:
    exponent = _number(expr.exp)
    if exponent is None:
        return None
    if exponent >= 0:
        base = envelope(expr.base, lowest)
        return None if base is None else base.power(exponent)
    floor = _floor(expr.base, lowest)
    return Envelope(floor**exponent, {}) if floor is not None and floor > 0 else None


def _log(argument: sp.Expr, lowest: Mapping[str, int]) -> Envelope | None:
    """|log a| <= |log c| + |log C| + sum d_i log(1 + k_i) when c <= a <= C prod (1 + k_i)^d_i, and
    log(1 + k) <= 1 + k."""
    floor, bound = _floor(argument, lowest), envelope(argument, lowest)
    if floor is None or floor <= 0 or bound is None:
        return None
    degrees = {n: 1.0 for n, d in bound.degrees.items() if d > 0}
    return Envelope(abs(math.log(floor)) + abs(math.log(bound.constant)) + sum(bound.degrees.values()), degrees)
