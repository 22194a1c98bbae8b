"""Syntax tree to SymPy: every node through an explicit constructor, every name checked.

Symbols are declared real. Decimal literals become exact rationals (``0.1`` is ``1/10``). Exact numeric powers are
refused before they are computed when they would exceed the bit budget (``9^9^9^9`` fails in microseconds), and a
constant sub-expression that evaluates to an infinity or NaN (``1/0``, ``log(0)``) is refused at its position.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection

import sympy as sp

from service.compute.errors import (
    InvalidExpression,
    LimitExceeded,
    UnknownName,
    UnsupportedFunction,
    located,
)
from service.compute.language.functions import CATALOGUE, CONSTANTS
from service.compute.language.syntax import Binary, Call, Name, Node, Number, Unary, parse
from service.compute.limits import DEFAULT_LIMITS, Limits

_UNDEFINED = (sp.zoo, sp.nan, sp.oo, -sp.oo)
_INDEX_ARGUMENT = {"polygamma": 0, "dirac": 1}  # arguments that must be small non-negative integers
_MAX_FACTORIAL_ARGUMENT = 1000  # gamma(1000) = 999! has 2565 digits
_FACTORIAL_LIKE = {"gamma", "loggamma", "digamma", "polygamma"}
_EXACT_POLYGAMMA = 20
MAX_INDEX = 1000  # the largest order argument of polygamma and dirac; calculus.run refuses derivatives beyond it
INDEXED = {sp.polygamma: 0, sp.DiracDelta: 1}  # the SymPy nodes of those arguments (a dirac of one argument: 0)


def symbol(name: str) -> sp.Symbol:
    """The one SymPy symbol a name of the language stands for."""
    return sp.Symbol(name, real=True)


def free_names(tree: Node) -> set[str]:
    """Names used as values (not as called functions) in ``tree``, constants included."""
    stack, names = [tree], set()
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            names.add(node.name)
        elif isinstance(node, Call):
            stack.extend(node.args)
        elif isinstance(node, Unary):
            stack.append(node.operand)
        elif isinstance(node, Binary):
            stack.extend((node.left, node.right))
    return names


def _suggestion(name: str) -> str:
    close = difflib.get_close_matches(name.lower(), CATALOGUE, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Builder:
    def __init__(self, known: Collection[str] | None, limits: Limits, declared: Collection[str]) -> None:
        self.known = known
        self.limits = limits
        self.declared = declared

    def build(self, node: Node) -> sp.Expr:
        if isinstance(node, Number):
            return sp.Rational(node.value.numerator, node.value.denominator)
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Unary):
            operand = self.build(node.operand)
            return -operand if node.op == "-" else operand
        if isinstance(node, Binary):
            return self.binary(node)
        return self.call(node)

    def name(self, node: Name) -> sp.Expr:
        if node.name in CATALOGUE:
            raise located(
                InvalidExpression,
                f"'{node.name}' at position {node.pos} is a function; call it as {node.name}(...)",
                (),
                node.pos,
            )
        if node.name in self.declared or (self.known is not None and node.name in self.known):
            return symbol(node.name)
        if node.name in CONSTANTS:
            return CONSTANTS[node.name]
        if self.known is None:
            return symbol(node.name)
        listed = ", ".join(sorted(self.known)) or "none"
        raise located(
            UnknownName,
            f"unknown name '{node.name}' at position {node.pos}: it is not a variable, a parameter or a "
            f"constant (known names: {listed}); add it to 'variables' or 'parameters'",
            (),
            node.pos,
        )

    def binary(self, node: Binary) -> sp.Expr:
        if node.op == "^":
            base, exponent = self.build(node.left), self.build(node.right)
            self.check_power(base, exponent, node.pos)
            return self.checked(sp.Pow(base, exponent), node.pos, "the power is undefined")
        # Sums and products are left-leaning chains of any length: walk them without recursion.
        additive = node.op in "+-"
        operands: list[tuple[str, Node, int]] = []
        current: Node = node
        while isinstance(current, Binary) and current.op in ("+-" if additive else "*/"):
            operands.append((current.op, current.right, current.pos))
            current = current.left
        parts = [self.build(current)]
        for op, operand, pos in reversed(operands):
            value = self.build(operand)
            if op == "-":
                value = -value
            elif op == "/":
                value = self.checked(sp.Pow(value, -1), pos, "division by zero")
            parts.append(value)
        result = sp.Add(*parts) if additive else sp.Mul(*parts)
        return self.checked(result, node.pos, "the operation is undefined")

    def check_power(self, base: sp.Expr, exponent: sp.Expr, pos: int) -> None:
        if not (base.is_number and isinstance(exponent, sp.Rational)):
            return
        if isinstance(base, sp.Rational):
            size = max(math.log2(abs(int(base.p)) or 1), math.log2(int(base.q)))
        else:  # sqrt(3)^N becomes 3^(N/2): bound it by the base's magnitude, whatever its form
            try:
                magnitude = abs(complex(base.evalf(15)))
            except (TypeError, ValueError, OverflowError):
                return
            size = abs(math.log2(magnitude)) if 0.0 < magnitude < math.inf else 0.0
        if size == 0:
            return
        ratio = abs(int(exponent.p)) // int(exponent.q)
        bits = math.ceil(size * abs(int(exponent.p)) / int(exponent.q)) if ratio < 10**12 else None
        if bits is None or bits > self.limits.max_power_bits:
            about = "more than 10^12" if bits is None else f"about {bits}"
            raise located(
                LimitExceeded,
                f"the power at position {pos} would have {about} bits; "
                f"exact powers may have at most {self.limits.max_power_bits}",
                (),
                pos,
            )

    def call(self, node: Call) -> sp.Expr:
        spec = CATALOGUE.get(node.name)
        if spec is None:
            raise located(
                UnsupportedFunction,
                f"unknown function '{node.name}' at position {node.pos}{_suggestion(node.name)}; supported "
                "functions: " + ", ".join(sorted(CATALOGUE)),
                (),
                node.pos,
            )
        if not spec.accepts(len(node.args)):
            raise located(
                InvalidExpression,
                f"{node.name} takes {spec.arity_text()}, got {len(node.args)} at position {node.pos}",
                (),
                node.pos,
            )
        args = [self.build(arg) for arg in node.args]
        index = _INDEX_ARGUMENT.get(node.name)
        if index is not None and index < len(args):
            self.check_index(node, args[index])
        if node.name in _FACTORIAL_LIKE:
            self.check_factorial(node, args[-1])
        if node.name == "polygamma" and args[1].is_number and (args[0] > _EXACT_POLYGAMMA or abs(args[1]) > 100):
            # SymPy evaluates polygamma at numbers exactly; polygamma(1000, 1000) would take minutes. An expression
            # left unevaluated is no way out: it evaluates again wherever it is unpickled.
            raise located(
                LimitExceeded,
                f"polygamma at position {node.pos} of an order above {_EXACT_POLYGAMMA} or a number above 100 is "
                "too costly to compute exactly",
                (),
                node.pos,
            )
        try:
            result = spec.build(*args)
        except (ValueError, TypeError):  # e.g. max of a non-real constant: SymPy cannot compare it
            raise located(
                InvalidExpression, f"{node.name} is undefined for these arguments at position {node.pos}", (), node.pos
            ) from None
        return self.checked(result, node.pos, f"{node.name} is undefined here")

    def check_factorial(self, node: Call, value: sp.Expr) -> None:
        # SymPy evaluates gamma(n) as (n-1)! exactly: gamma(10^6) would take seconds and megabytes.
        if isinstance(value, sp.Rational) and abs(value) > _MAX_FACTORIAL_ARGUMENT:
            raise located(
                LimitExceeded,
                f"{node.name} of a number above {_MAX_FACTORIAL_ARGUMENT} at position {node.pos} is too large to "
                "compute exactly",
                (),
                node.pos,
            )

    def check_index(self, node: Call, value: sp.Expr) -> None:
        if not (isinstance(value, sp.Integer) and 0 <= int(value) <= MAX_INDEX):
            raise located(
                InvalidExpression,
                f"the order argument of {node.name} at position {node.pos} must be an integer from 0 to {MAX_INDEX}",
                (),
                node.pos,
            )

    def checked(self, result: sp.Expr, pos: int, reason: str) -> sp.Expr:
        if any(node is undefined for node in (result, *result.args) for undefined in _UNDEFINED):
            raise located(InvalidExpression, f"{reason} at position {pos}", (), pos)
        if result.is_number:
            if result.is_extended_real is False:
                raise located(
                    InvalidExpression, f"the value at position {pos} is not a real number ({result})", (), pos
                )
            self.check_size(result, pos)
        elif isinstance(result, sp.Mul):
            self.check_size(result.as_coeff_Mul()[0], pos)
        return result

    def check_size(self, number: sp.Expr, pos: int) -> None:
        if isinstance(number, sp.Rational) and max(int(number.p).bit_length(), int(number.q).bit_length()) > (
            self.limits.max_power_bits
        ):
            raise located(
                LimitExceeded,
                f"the number at position {pos} would have more than {self.limits.max_power_bits} bits",
                (),
                pos,
            )


def build(
    tree: Node, known: Collection[str] | None = None, limits: Limits = DEFAULT_LIMITS, declared: Collection[str] = ()
) -> sp.Expr:
    """The SymPy expression of ``tree``. With ``known``, any other non-constant name is an ``UnknownName``.

    Names in ``known`` or ``declared`` are symbols even when they are also constants (``e`` as a variable)."""
    return _Builder(known, limits, declared).build(tree)


def parse_expression(text: str, known: Collection[str] | None = None, limits: Limits = DEFAULT_LIMITS) -> sp.Expr:
    """Parse and build ``text`` in one step."""
    return build(parse(text, limits), known, limits)
