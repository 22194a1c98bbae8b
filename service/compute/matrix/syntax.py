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

from service.compute.errors import ExpressionSyntaxError, LimitExceeded, located
from service.compute.language.syntax import Binary, Call, Name, Node, Number, Token, Unary, parse_number
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


def _describe(token: Token) -> str:
    return "the end of the input" if token.kind == END else f"'{token.text}'"


def _syntax_error(message: str, pos: int) -> ExpressionSyntaxError:
    return located(ExpressionSyntaxError, message, (), pos)  # type: ignore[return-value]


def tokenize(text: str, limits: Limits = DEFAULT_LIMITS) -> list[Token]:
    """Split ``text`` into tokens, ending with an END token. Raises on any character outside the language."""
    if len(text) > limits.max_length:
        raise located(LimitExceeded, f"the expression has {len(text)} characters; the limit is {limits.max_length}")
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            hint = " (write x' for the transpose of x)" if text[pos] in "ᵀ`" else ""
            raise _syntax_error(f"unexpected character {text[pos]!r} at position {pos}{hint}", pos)
        kind = match.lastgroup
        if kind != "ws":
            tokens.append(Token(str(kind), match.group(), pos))
        pos = match.end()
    tokens.append(Token(END, "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str, limits: Limits) -> None:
        self.tokens = tokenize(text, limits)
        self.index = 0
        self.limits = limits
        self.nodes = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def count(self, pos: int) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise located(
                LimitExceeded,
                f"the expression has more than {self.limits.max_nodes} nodes (reached at position {pos})",
                (),
                pos,
            )

    def expression(self, right_power: int = 0) -> Node:
        self.depth += 1
        if self.depth > self.limits.max_depth:
            pos = self.token.pos
            raise located(
                LimitExceeded,
                f"the expression nests deeper than {self.limits.max_depth} levels (at position {pos})",
                (),
                pos,
            )
        left = self.prefix()
        while (power := self.infix_power()) > right_power:
            op = self.advance()
            right = self.expression(power - 1 if op.text in _RIGHT_ASSOCIATIVE else power)
            self.count(op.pos)
            left = Binary("^" if op.text == "**" else op.text, left, right, op.pos)
        self.depth -= 1
        return left

    def infix_power(self) -> int:
        token = self.token
        if token.kind == OP and token.text in _INFIX_POWER:
            return _INFIX_POWER[token.text]
        if token.kind in (OP, END) and token.text in (")", ",", ""):
            return 0
        previous = self.tokens[self.index - 1]
        hint = ""
        if token.kind in (NAME, NUMBER):
            hint = f" (write {previous.text}*{token.text} for a product)"
            if previous.kind == NAME and previous.text == "T" and self.tokens[self.index - 2].text == "^":
                hint = " (write x' for the transpose of x, not x^T)"
            elif previous.kind == NAME and previous.text in FUNCTION_NAMES:
                hint = f" (write {previous.text}({token.text}) to call {previous.text})"
        raise _syntax_error(
            f"expected an operator or the end of the expression at position {token.pos}, "
            f"found {_describe(token)}{hint}",
            token.pos,
        )

    def prefix(self) -> Node:
        token = self.advance()
        self.count(token.pos)
        if token.kind == OP and token.text in ("-", "+"):
            return Unary(token.text, self.expression(_PREFIX_POWER), token.pos)
        return self.postfix(self.atom(token))

    def atom(self, token: Token) -> Node:
        if token.kind == NUMBER:
            return Number(parse_number(token.text, token.pos, self.limits), token.text, token.pos)
        if token.kind == NAME:
            if self.token.kind == OP and self.token.text == "(":
                return self.call(token)
            return Name(token.text, token.pos)
        if token.kind == OP and token.text == "(":
            inner = self.expression()
            self.expect(")", token)
            return inner
        raise self.operand_error(token)

    def postfix(self, node: Node) -> Node:
        while self.token.kind == OP and self.token.text == TRANSPOSE:
            quote = self.advance()
            self.count(quote.pos)
            node = Unary(TRANSPOSE, node, quote.pos)
        return node

    def operand_error(self, token: Token) -> ExpressionSyntaxError:
        if self.index == 1:
            where = f"at position {token.pos}"
        else:
            previous = self.tokens[self.index - 2]
            where = f"after '{previous.text}' at position {token.pos}"
        found = "" if token.kind == END else f", found {_describe(token)}"
        return _syntax_error(f"expected an operand {where}{found}", token.pos)

    def call(self, name: Token) -> Call:
        opening = self.advance()
        args = [self.expression()]
        while self.token.kind == OP and self.token.text == ",":
            self.advance()
            args.append(self.expression())
        self.expect(")", opening)
        return Call(name.text, tuple(args), name.pos)

    def expect(self, text: str, opening: Token) -> None:
        token = self.token
        if token.kind == OP and token.text == text:
            self.advance()
            return
        raise _syntax_error(
            f"expected '{text}' to close the '{opening.text}' at position {opening.pos}, "
            f"found {_describe(token)} at position {token.pos}",
            token.pos,
        )


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> Node:
    """Parse ``text`` into a syntax tree (the scalar language's node types; ``Unary("'")`` is the transpose and
    ``Binary`` also carries ``.*``, ``./`` and ``.^``), or raise an ``ExpressionSyntaxError`` / ``LimitExceeded``."""
    parser = _Parser(text, limits)
    if parser.token.kind == END:
        raise _syntax_error("expected an expression, found an empty text", 0)
    tree = parser.expression()
    if parser.token.kind != END:
        token = parser.token
        raise _syntax_error(f"unexpected {_describe(token)} at position {token.pos}", token.pos)
    return tree


_ = (Call, Name, Number)
