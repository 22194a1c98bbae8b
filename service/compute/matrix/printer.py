"""Typed tree to text in the matrix language (it parses back to the same tree) and to LaTeX.

Constant vectors print as ``1`` where a scalar broadcasts (``1 - s``, ``1 ./ x``) and as ``vector(1, n)``
elsewhere; the identity prints as ``eye(n)``; a matrix product chain prints without parentheses (it is
associative); ``A/s`` divides by a scalar.
"""

from __future__ import annotations

from fractions import Fraction

from service.compute.matrix.expr import Expr

__all__ = ["format_number", "to_latex", "to_text"]

_ADD, _MUL, _NEG, _POW, _POSTFIX, _ATOM = 10, 20, 30, 40, 50, 60
_PRODUCTS = ("times", "matmul")
_ELEMENTWISE_CONTEXT = ("add", "hadamard", "ediv")


def format_number(value: Fraction) -> str:
    """An exact decimal when there is one (0.5), else p/q."""
    if value.denominator == 1:
        return str(value.numerator)
    q = value.denominator
    for prime in (2, 5):
        while q % prime == 0:
            q //= prime
    if q == 1:
        text = f"{float(value):.15g}"
        if "e" not in text:
            return text
    return f"{value.numerator}/{value.denominator}"


def _precedence(e: Expr) -> int:
    if e.op == "add":
        return _ADD
    if e.op in ("times", "matmul", "hadamard", "ediv"):
        return _MUL
    if e.op == "neg":
        return _NEG
    if e.op == "num":
        text = format_number(e.value)
        return _NEG if e.value < 0 else (_MUL if "/" in text else _ATOM)
    if e.op == "epow":
        return _POW
    if e.op == "T":
        return _POSTFIX
    if e.op == "ones" and 1 not in e.shape:
        return _MUL
    return _ATOM


class _Text:
    def __init__(self, latex: bool) -> None:
        self.latex = latex

    def wrap(self, e: Expr, minimum: int, parent: str = "") -> str:
        text = self.show(e, parent)
        if _precedence(e) < minimum:
            return f"\\left({text}\\right)" if self.latex else f"({text})"
        return text

    def show(self, e: Expr, parent: str = "") -> str:
        if parent in _ELEMENTWISE_CONTEXT and e.op == "times" and e.args[1].op == "ones" and e.args[0].op == "num":
            return self.op_num(e.args[0], parent)  # c*vector(1) where a scalar broadcasts: just c
        method = getattr(self, f"op_{e.op}", None)
        if method is not None:
            return str(method(e, parent))
        return self.call(e)

    # leaves
    def op_var(self, e: Expr, parent: str) -> str:
        if not self.latex or len(e.name) == 1:
            return e.name
        head = e.name.rstrip("0123456789")
        if head and head != e.name and len(head) == 1:
            return f"{head}_{{{e.name[len(head) :]}}}"
        return f"\\mathit{{{e.name.replace('_', chr(92) + '_')}}}"

    def op_num(self, e: Expr, parent: str) -> str:
        text = format_number(e.value)
        if self.latex and "/" in text:
            sign = "-" if e.value < 0 else ""
            return f"{sign}\\frac{{{abs(e.value.numerator)}}}{{{e.value.denominator}}}"
        return text

    def op_ones(self, e: Expr, parent: str) -> str:
        if parent in _ELEMENTWISE_CONTEXT:
            return "1" if not self.latex else "\\mathbf{1}"
        rows, cols = e.shape
        if self.latex:
            return "\\mathbf{1}" if cols == 1 else "\\mathbf{1}\\mathbf{1}^\\top"
        if cols == 1:
            return f"vector(1, {rows})"
        return f"vector(1, {rows})*vector(1, {cols})'"

    def op_eye(self, e: Expr, parent: str) -> str:
        return "I" if self.latex else f"eye({e.shape[0]})"

    def op_zero(self, e: Expr, parent: str) -> str:
        return "0" if not self.latex else "\\mathbf{0}"

    # operators
    def op_add(self, e: Expr, parent: str) -> str:
        parts = [self.wrap(e.args[0], _ADD + 1, "add")]
        for term in e.args[1:]:
            if term.op == "neg":
                parts.append(f"- {self.wrap(term.args[0], _MUL, 'add')}")
            elif term.op == "num" and term.value < 0:
                parts.append(f"- {self.op_num(type(term)('num', (), term.shape, value=-term.value), 'add')}")
            else:
                parts.append(f"+ {self.wrap(term, _ADD + 1, 'add')}")
        return " ".join(parts)

    def op_neg(self, e: Expr, parent: str) -> str:
        return f"-{self.wrap(e.args[0], _MUL, 'neg')}"

    def product(self, e: Expr, symbol: str) -> str:
        left, right = e.args
        right_min = _MUL if e.op in _PRODUCTS and right.op in _PRODUCTS else _MUL + 1
        return f"{self.wrap(left, _MUL, e.op)}{symbol}{self.wrap(right, right_min, e.op)}"

    def op_times(self, e: Expr, parent: str) -> str:
        return self.product(e, " " if self.latex else "*")

    def op_matmul(self, e: Expr, parent: str) -> str:
        return self.product(e, " " if self.latex else "*")

    def op_hadamard(self, e: Expr, parent: str) -> str:
        return self.product(e, " \\odot " if self.latex else " .* ")

    def op_ediv(self, e: Expr, parent: str) -> str:
        a, b = e.args
        if b.is_scalar:
            if self.latex:
                return f"\\frac{{{self.show(a)}}}{{{self.show(b)}}}"
            return self.product(e, "/")
        return self.product(e, " \\oslash " if self.latex else " ./ ")

    def op_epow(self, e: Expr, parent: str) -> str:
        base, power = e.args
        if self.latex:
            circle = "" if base.is_scalar else "\\circ "
            return f"{{{self.wrap(base, _POSTFIX)}}}^{{{circle}{self.show(power)}}}"
        symbol = "^" if base.is_scalar else ".^"
        return f"{self.wrap(base, _POW + 1)}{symbol}{self.wrap(power, _POW)}"

    def op_T(self, e: Expr, parent: str) -> str:
        if self.latex and e.args[0].op == "inv":
            return f"{{{self.wrap(e.args[0].args[0], _POSTFIX)}}}^{{-\\top}}"
        if self.latex:
            return f"{{{self.wrap(e.args[0], _POSTFIX)}}}^\\top"
        return f"{self.wrap(e.args[0], _POSTFIX)}'"

    def op_inv(self, e: Expr, parent: str) -> str:
        if self.latex:
            return f"{{{self.wrap(e.args[0], _POSTFIX)}}}^{{-1}}"
        return f"inv({self.show(e.args[0])})"

    def call(self, e: Expr) -> str:
        name = {"fn": e.name, "diagm": "diag", "diagv": "diag"}.get(e.op, e.op)
        inner = self.show(e.args[0])
        if not self.latex:
            return f"{name}({inner})"
        special = {
            "abs": f"\\left|{inner}\\right|",
            "sqrt": f"\\sqrt{{{inner}}}",
            "norm1": f"\\left\\|{inner}\\right\\|_1",
            "norm2": f"\\left\\|{inner}\\right\\|_2",
        }
        if name in special:
            return special[name]
        command = {
            "exp": "\\exp", "log": "\\log", "sin": "\\sin", "cos": "\\cos", "tan": "\\tan", "tanh": "\\tanh",
            "sinh": "\\sinh", "cosh": "\\cosh", "sigmoid": "\\sigma", "det": "\\det", "logdet": "\\log\\det",
        }.get(name, f"\\operatorname{{{name}}}")  # fmt: skip
        return f"{command}\\left({inner}\\right)"


def to_text(e: Expr) -> str:
    """``e`` in the matrix language."""
    return _Text(latex=False).show(e)


def to_latex(e: Expr) -> str:
    """``e`` as LaTeX: ``A^\\top b``, ``x \\odot y``, ``X^{-1}``."""
    return _Text(latex=True).show(e)
