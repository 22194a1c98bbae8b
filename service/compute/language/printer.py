"""SymPy to text in the service's own syntax, and to LaTeX.

The text printer covers exactly the node types the builder and differentiation produce, and what it writes parses
back to the same expression (``build(parse(to_text(e))) == e``, a tested property). Output is deterministic: terms
and factors follow SymPy's canonical order.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy.printing.latex import LatexPrinter

ADD, MUL, NEG, POW, ATOM = 10, 20, 30, 40, 50

_NAMES: dict[type, str] = {
    sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.sec: "sec", sp.csc: "csc", sp.cot: "cot",
    sp.asin: "asin", sp.acos: "acos", sp.atan: "atan", sp.atan2: "atan2",
    sp.sinh: "sinh", sp.cosh: "cosh", sp.tanh: "tanh", sp.asinh: "asinh", sp.acosh: "acosh", sp.atanh: "atanh",
    sp.exp: "exp", sp.log: "log", sp.Abs: "abs", sp.sign: "sign", sp.erf: "erf", sp.erfc: "erfc",
    sp.gamma: "gamma", sp.loggamma: "loggamma", sp.Min: "min", sp.Max: "max", sp.re: "re", sp.im: "im",
}  # fmt: skip


class UnprintableExpression(Exception):
    """An expression holds a node the language cannot write (SymPy's ``arg`` of a possibly complex value)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no text form for {name}")
        self.name = name


class _TextPrinter:
    def __init__(self, euler: str, pi: str) -> None:
        self.euler = euler
        self.pi = pi

    def text(self, expr: sp.Expr, context: int = 0) -> str:
        body, precedence = self.node(expr)
        return f"({body})" if precedence < context else body

    def node(self, expr: sp.Expr) -> tuple[str, int]:
        if isinstance(expr, sp.Symbol):
            return expr.name, ATOM
        if isinstance(expr, sp.Integer):
            return str(expr.p), ATOM if expr.p >= 0 else NEG
        if isinstance(expr, sp.Rational):
            text = f"{abs(expr.p)}/{expr.q}"
            return (f"-{text}", NEG) if expr.p < 0 else (text, MUL)
        if expr is sp.pi:
            return self.pi, ATOM
        if expr is sp.E:
            return self.euler, ATOM
        if expr is sp.EulerGamma:  # appears in exact values of digamma: digamma(1) = -EulerGamma
            return "-digamma(1)", NEG
        if isinstance(expr, sp.Add):
            return self.add(expr), ADD
        if isinstance(expr, sp.Mul):
            return self.mul(expr)
        if isinstance(expr, sp.Pow):
            return self.pow(expr)
        return self.call(expr), ATOM

    def add(self, expr: sp.Add) -> str:
        terms = ordered_terms(expr)
        out = [self.text(terms[0], ADD)]
        for term in terms[1:]:
            if term.could_extract_minus_sign():
                out.append(f" - {self.text(-term, ADD + 1)}")
            else:
                out.append(f" + {self.text(term, ADD + 1)}")
        return "".join(out)

    def mul(self, expr: sp.Mul) -> tuple[str, int]:
        if expr.could_extract_minus_sign():
            body = self.text(-expr, MUL)
            return (f"-({body})" if body.startswith("(") else f"-{body}"), NEG
        numerator: list[sp.Expr] = []
        denominator: list[sp.Expr] = []
        for factor in expr.as_ordered_factors():
            if isinstance(factor, sp.Rational) and not isinstance(factor, sp.Integer):
                if factor.p != 1:
                    numerator.append(sp.Integer(factor.p))
                denominator.append(sp.Integer(factor.q))
            elif isinstance(factor, sp.Pow) and factor.exp.is_Rational and factor.exp.is_negative:
                denominator.append(sp.Pow(factor.base, -factor.exp))
            else:
                numerator.append(factor)
        top = "*".join(self.text(f, MUL) for f in numerator) if numerator else "1"
        # One '/' per factor: '/(x*y)' would read back as the different tree (x*y)^-1.
        return top + "".join(f"/{self.text(f, POW)}" for f in denominator), MUL

    def pow(self, expr: sp.Pow) -> tuple[str, int]:
        base, exponent = expr.base, expr.exp
        if exponent == sp.S.Half:
            return f"sqrt({self.text(base)})", ATOM
        if exponent.is_Rational and exponent.is_negative:
            return f"1/{self.text(sp.Pow(base, -exponent), POW)}", MUL
        power = self.text(exponent, ATOM)
        return f"{self.text(base, ATOM)}^{power}", POW

    def call(self, expr: sp.Expr) -> str:
        if isinstance(expr, sp.polygamma):
            order, argument = expr.args
            if order == 0:
                return f"digamma({self.text(argument)})"
            return f"polygamma({self.text(order)}, {self.text(argument)})"
        if isinstance(expr, sp.Heaviside):
            return f"heaviside({self.text(expr.args[0])})"
        if isinstance(expr, sp.DiracDelta):
            return "dirac(" + ", ".join(self.text(a) for a in expr.args) + ")"
        name = _NAMES.get(type(expr))
        if name is None:
            raise UnprintableExpression(type(expr).__name__)
        return f"{name}(" + ", ".join(self.text(a) for a in expr.args) + ")"


def to_text(expr: sp.Expr) -> str:
    """``expr`` in the service's syntax. Euler's number is ``e`` and pi is ``pi``, or ``exp(1)`` and ``acos(-1)``
    when a variable has that name."""
    names = {s.name for s in expr.free_symbols}
    return _TextPrinter("exp(1)" if "e" in names else "e", "acos(-1)" if "pi" in names else "pi").text(expr)


@lru_cache(maxsize=8192)
def ordered_terms(expr: sp.Add) -> list[sp.Expr]:
    """The terms of a sum in SymPy's conventional order (costly: shared by both printers, and remembered)."""
    terms: list[sp.Expr] = expr.as_ordered_terms()
    return terms


class _LatexPrinter(LatexPrinter):  # type: ignore[misc]
    def _as_ordered_terms(self, expr: sp.Expr, order: str | None = None) -> list[sp.Expr]:
        if order is None and isinstance(expr, sp.Add):
            return ordered_terms(expr)
        terms: list[sp.Expr] = super()._as_ordered_terms(expr, order)
        return terms


_LATEX = _LatexPrinter({"ln_notation": False})


def to_latex(expr: sp.Expr) -> str:
    """``expr`` as LaTeX, by SymPy's printer with ``log`` for the natural logarithm."""
    return str(_LATEX.doprint(expr))
