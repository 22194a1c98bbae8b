"""The allowlist: every function the language accepts, its arity and the SymPy object it builds.

A call to any other name is refused. The catalogue also names the functions that only appear in derivatives
(``heaviside``, ``dirac``, ``digamma``, ``polygamma``), so that every derivative the service prints parses back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

Builder = Callable[..., sp.Expr]


@dataclass(frozen=True)
class FunctionSpec:
    """One allowlisted function: the arities it takes and how it becomes a SymPy expression."""

    name: str
    arities: tuple[int, ...]  # an empty tuple means "two or more"
    build: Builder
    summary: str

    def accepts(self, count: int) -> bool:
        return count >= 2 if not self.arities else count in self.arities

    def arity_text(self) -> str:
        if not self.arities:
            return "two or more arguments"
        words = " or ".join(str(a) for a in self.arities)
        return f"{words} argument{'s' if self.arities != (1,) else ''}"


def _log(x: sp.Expr, base: sp.Expr | None = None) -> sp.Expr:
    return sp.log(x) if base is None else sp.log(x) / sp.log(base)


def _cbrt(x: sp.Expr) -> sp.Expr:
    # The real cube root, defined for negative x too (x^(1/3) is the principal, complex, root there).
    return sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3)


def _polygamma(n: sp.Expr, x: sp.Expr) -> sp.Expr:
    return sp.polygamma(n, x)


def _dirac(x: sp.Expr, k: sp.Expr | None = None) -> sp.Expr:
    return sp.DiracDelta(x) if k is None else sp.DiracDelta(x, k)


def _unary(name: str, build: Builder, summary: str) -> FunctionSpec:
    return FunctionSpec(name, (1,), build, summary)


CATALOGUE: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        _unary("sin", sp.sin, "sine"),
        _unary("cos", sp.cos, "cosine"),
        _unary("tan", sp.tan, "tangent"),
        _unary("sec", sp.sec, "secant"),
        _unary("csc", sp.csc, "cosecant"),
        _unary("cot", sp.cot, "cotangent"),
        _unary("asin", sp.asin, "inverse sine"),
        _unary("acos", sp.acos, "inverse cosine"),
        _unary("atan", sp.atan, "inverse tangent"),
        FunctionSpec("atan2", (2,), sp.atan2, "atan2(y, x), the angle of the point (x, y)"),
        _unary("sinh", sp.sinh, "hyperbolic sine"),
        _unary("cosh", sp.cosh, "hyperbolic cosine"),
        _unary("tanh", sp.tanh, "hyperbolic tangent"),
        _unary("asinh", sp.asinh, "inverse hyperbolic sine"),
        _unary("acosh", sp.acosh, "inverse hyperbolic cosine"),
        _unary("atanh", sp.atanh, "inverse hyperbolic tangent"),
        _unary("exp", sp.exp, "exponential"),
        FunctionSpec("log", (1, 2), _log, "natural logarithm; log(x, b) has base b"),
        _unary("ln", sp.log, "natural logarithm"),
        _unary("log2", lambda x: _log(x, sp.Integer(2)), "base-2 logarithm"),
        _unary("log10", lambda x: _log(x, sp.Integer(10)), "base-10 logarithm"),
        _unary("sqrt", sp.sqrt, "square root"),
        _unary("cbrt", _cbrt, "real cube root"),
        _unary("abs", sp.Abs, "absolute value"),
        _unary("sign", sp.sign, "sign: -1, 0 or 1"),
        _unary("erf", sp.erf, "error function"),
        _unary("erfc", sp.erfc, "complementary error function"),
        _unary("gamma", sp.gamma, "gamma function"),
        _unary("loggamma", sp.loggamma, "logarithm of the gamma function"),
        _unary("digamma", lambda x: sp.polygamma(0, x), "digamma function, the derivative of loggamma"),
        FunctionSpec("polygamma", (2,), _polygamma, "polygamma(n, x), the n-th derivative of digamma"),
        _unary("sigmoid", lambda x: 1 / (1 + sp.exp(-x)), "logistic sigmoid 1/(1 + exp(-x))"),
        _unary("softplus", lambda x: sp.log(1 + sp.exp(x)), "softplus log(1 + exp(x))"),
        FunctionSpec("min", (), sp.Min, "smallest argument"),
        FunctionSpec("max", (), sp.Max, "largest argument"),
        _unary("heaviside", sp.Heaviside, "unit step (appears in derivatives of min and max)"),
        _unary("re", sp.re, "real part (appears in derivatives of abs of a power that may not be real)"),
        _unary("im", sp.im, "imaginary part (appears with re)"),
        FunctionSpec("dirac", (1, 2), _dirac, "Dirac delta dirac(x) and its k-th derivative dirac(x, k)"),
    )
}

CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "e": sp.E}
