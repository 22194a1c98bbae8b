"""Text to syntax tree for the matrix language: a sibling of ``compute.language.syntax`` with the same limits,
node types and error style, and the operators of matrix calculus.

The grammar, loosest binding first::

    expr    := expr ('+' | '-') expr
             | expr ('*' | '/' | '.*' | './') expr
             | ('-' | '+') expr
             | expr ('^' | '.^') expr
             | postfix
    postfix := atom "'"*
    atom    := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'

``x'`` is the transpose and binds tightest (``-x'*y`` is ``-((x')*y)``); powers are right-associative and bind
tighter than unary minus, as in the scalar language. Positions are 0-based character offsets.
"""

from __future__ import annotations

import re

from service.compute.language.syntax import Node, Parser, Token, Unary, scan
from service.compute.language.syntax import parse as scalar_parse
from service.compute.limits import DEFAULT_LIMITS, Limits

__all__ = ["TRANSPOSE", "parse"]

TRANSPOSE = "'"

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<number>(?:[0-9]+(?:\.(?![*/^])[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z][A-Za-z0-9_]*)
  | (?P<op>\.\*|\./|\.\^|\*\*|[-+*/^(),'])
    """,
    re.VERBOSE | re.ASCII,
)

NUMBER, NAME, OP, END = "number", "name", "op", "end"

_INFIX_POWER = {"+": 10, "-": 10, "*": 20, "/": 20, ".*": 20, "./": 20, "^": 40, "**": 40, ".^": 40}
_PREFIX_POWER = 30
_RIGHT_ASSOCIATIVE = {"^", "**", ".^"}
FUNCTION_NAMES = frozenset(
    {"exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sigmoid", "softplus", "abs", "sqrt", "sign",
     "relu", "sum", "norm1", "norm2", "tr", "det", "logdet", "inv", "diag", "dot", "vector", "eye"}
)  # fmt: skip


def _hint(character: str) -> str:
    return " (write x' for the transpose of x)" if character in "ᵀ`" else ""


def tokenize(text: str, limits: Limits = DEFAULT_LIMITS) -> list[Token]:
    """Split ``text`` into tokens, ending with an END token. Raises on any character outside the language."""
    return scan(text, limits, _TOKEN, _hint)


class _Parser(Parser):
    """The scalar language's parser with the matrix operators: ``.*``, ``./``, ``.^`` and the postfix transpose."""

    INFIX_POWER = _INFIX_POWER
    RIGHT_ASSOCIATIVE = frozenset({"^", "**", ".^"})
    PREFIX_POWER = _PREFIX_POWER
    FUNCTIONS = FUNCTION_NAMES

    def tokenize(self, text: str, limits: Limits) -> list[Token]:
        return tokenize(text, limits)

    def hint(self, previous: Token, token: Token) -> str:
        if token.kind in (NAME, NUMBER) and previous.kind == NAME and previous.text == "T":
            if self.tokens[self.index - 2].text == "^":
                return " (write x' for the transpose of x, not x^T)"
        return super().hint(previous, token)

    def postfix(self, node: Node) -> Node:
        while self.token.kind == OP and self.token.text == TRANSPOSE:
            quote = self.advance()
            self.count(quote.pos)
            node = Unary(TRANSPOSE, node, quote.pos)
        return node


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> Node:
    """Parse ``text`` into a syntax tree (the scalar language's node types; ``Unary("'")`` is the transpose and
    ``Binary`` also carries ``.*``, ``./`` and ``.^``), or raise an ``ExpressionSyntaxError`` / ``LimitExceeded``."""
    return scalar_parse(text, limits, _Parser)
