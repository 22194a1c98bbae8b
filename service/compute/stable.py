"""Stable forms for the numeric kernels: ``1 + exp(v)`` and ``log(1 + exp(v))``, which sigmoid and softplus and
all their derivatives are made of, and ``cosh``, ``sinh`` and the logarithm of a product with an exponential factor,
rewritten so that no intermediate exponential overflows.

Exact identities for real v: ``(1 + e^v)^p = e^(p*max(v, 0)) * (1 + e^-|v|)^p`` (the exponential factor then merges
with the other exponentials of its product, so ``e^v/(1 + e^v)`` at v = 800 is ``e^0/(1 + e^-800)`` = 1), and
``log(1 + e^v) = max(v, 0) + 2*atanh(t/(2 + t))`` with ``t = e^-|v|`` (log1p without a branch). Symbolic results
are untouched: only what is compiled changes.

Likewise ``cosh(v) = e^|v| * c`` and ``sinh(v) = e^|v| * c * tanh(v)`` with ``c = (1 + e^(-2|v|))/2`` in [1/2, 1]
(no cancellation, so no precision is lost near 0): the growing factor e^|v| then cancels in quotients
(``sinh(x)/cosh(x)`` is ``tanh(x)`` at 800), and ``log(e^a * r) = a + log(r)`` keeps it out of a logarithm
(``log(cosh(800))`` is 799.3).
"""

from __future__ import annotations

from typing import Any

import symengine as se
import sympy as sp

from service.compute.engine import EngineExpr, is_symengine

__all__ = ["stable"]


class _Engine:
    def __init__(self, symengine: bool) -> None:
        self.lib: Any = se if symengine else sp
        self.symengine = symengine

    def exponent(self, node: EngineExpr) -> EngineExpr | None:
        """v when ``node`` is exp(v), else None."""
        if self.symengine:
            if isinstance(node, se.Pow) and node.args[0] == se.E:
                return node.args[1]
            return None
        return node.args[0] if isinstance(node, sp.exp) else None

    def one_plus_exp(self, node: EngineExpr) -> EngineExpr | None:
        """v when ``node`` is 1 + exp(v), else None."""
        if not isinstance(node, self.lib.Add) or len(node.args) != 2:
            return None
        a, b = node.args
        if b == 1:
            a, b = b, a
        return self.exponent(b) if a == 1 else None

    def hyperbolic(self, node: EngineExpr, v: EngineExpr) -> EngineExpr | None:
        """The stable form of ``node`` when it is cosh(v) or sinh(v), else None."""
        lib = self.lib
        if not isinstance(node, lib.cosh | lib.sinh):
            return None
        size = lib.Abs(v)
        cosh = lib.exp(size) * (1 + lib.exp(-2 * size)) / 2
        return cosh if isinstance(node, lib.cosh) else cosh * lib.tanh(v)

    def log_of_product(self, argument: EngineExpr) -> EngineExpr | None:
        """``a + log(r)`` when ``argument`` is a product ``e^a * r``, else None."""
        if not isinstance(argument, self.lib.Mul):
            return None
        exponents = [v for f in argument.args if (v := self.exponent(f)) is not None]
        if not exponents:
            return None
        rest = [f for f in argument.args if self.exponent(f) is None]
        return self.lib.Add(*exponents) + self.lib.log(self.lib.Mul(*rest))

    def parts(self, v: EngineExpr) -> tuple[EngineExpr, EngineExpr]:
        lib = self.lib
        return lib.Max(v, 0), 1 + lib.exp(-lib.Abs(v))


def _rewrite(node: EngineExpr, engine: _Engine, memo: dict[Any, EngineExpr]) -> EngineExpr:
    if node in memo:
        return memo[node]
    args = node.args
    out = node
    if args:
        new = [_rewrite(a, engine, memo) for a in args]
        lib = engine.lib
        if isinstance(node, lib.Pow) and (v := engine.one_plus_exp(args[0])) is not None:
            p = new[1]
            top, rest = engine.parts(_rewrite(v, engine, memo))
            out = lib.exp(p * top) * rest**p
        elif isinstance(node, lib.log) and (v := engine.one_plus_exp(args[0])) is not None:
            top, _ = engine.parts(_rewrite(v, engine, memo))
            t = lib.exp(-lib.Abs(_rewrite(v, engine, memo)))
            out = top + 2 * lib.atanh(t / (2 + t))
        elif (form := engine.hyperbolic(node, new[0])) is not None:
            out = form
        elif isinstance(node, lib.log) and len(new) == 1 and (form := engine.log_of_product(new[0])) is not None:
            out = form
        elif any(a is not b for a, b in zip(args, new, strict=True)):
            out = node.func(*new)
        if not engine.symengine and isinstance(out, sp.Mul):
            out = _merge_exponentials(out)  # SymEngine merges them itself
    memo[node] = out
    return out


def _merge_exponentials(product: sp.Mul) -> sp.Expr:
    exponents = [f.args[0] for f in product.args if isinstance(f, sp.exp)]
    if len(exponents) < 2:
        return product
    rest = [f for f in product.args if not isinstance(f, sp.exp)]
    return sp.Mul(*rest, sp.exp(sp.Add(*exponents)))


def stable(expr: EngineExpr) -> EngineExpr:
    """``expr`` with every ``1 + exp(v)`` in a power or a logarithm in its stable form (same engine)."""
    return _rewrite(expr, _Engine(is_symengine(expr)), {})
