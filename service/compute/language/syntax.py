"""Text to syntax tree: the lexer and a Pratt (precedence-climbing) parser of the expression language.

The grammar, loosest binding first::

    expr    := expr ('+' | '-') expr | expr ('*' | '/') expr | ('-' | '+') expr | expr ('^' | '**') expr | atom
    atom    := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'

Powers are right-associative and bind tighter than unary minus (``-x^2`` is ``-(x^2)``; ``2^-x`` is allowed).
Positions are 0-based character offsets into the text. Every limit is checked here, before any tree is built
by SymPy: text length, node count, nesting depth, literal digits and literal exponents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

from service.compute.errors import ExpressionSyntaxError, LimitExceeded, located
from service.compute.language.functions import CATALOGUE
from service.compute.limits import DEFAULT_LIMITS, Limits

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z][A-Za-z0-9_]*)
  | (?P<op>\*\*|[-+*/^(),])
    """,
    re.VERBOSE | re.ASCII,
)

NUMBER, NAME, OP, END = "number", "name", "op", "end"

_INFIX_POWER = {"+": 10, "-": 10, "*": 20, "/": 20, "^": 40, "**": 40}
_PREFIX_POWER = 30  # binds looser than '^': -x^2 == -(x^2)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    pos: int


@dataclass(frozen=True, slots=True)
class Number:
    value: Fraction
    text: str
    pos: int


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # one of + - * / ^  ('**' is stored as '^')
    left: Node
    right: Node
    pos: int


Node = Number | Name | Call | Unary | Binary


def describe(token: Token) -> str:
    return "the end of the input" if token.kind == END else f"'{token.text}'"


def syntax_error(message: str, pos: int) -> ExpressionSyntaxError:
    return located(ExpressionSyntaxError, message, (), pos)  # type: ignore[return-value]


def scan(text: str, limits: Limits, pattern: re.Pattern[str], hint: Callable[[str], str] = lambda _: "") -> list[Token]:
    """Split ``text`` into the tokens of ``pattern`` (groups ws, number, name, op), ending with an END token; a
    character outside the language is refused at its position, with ``hint(character)`` after the message."""
    if len(text) > limits.max_length:
        raise located(
            LimitExceeded,
            f"the expression has {len(text)} characters; the limit is {limits.max_length}",
        )
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = pattern.match(text, pos)
        if match is None:
            raise syntax_error(f"unexpected character {text[pos]!r} at position {pos}{hint(text[pos])}", pos)
        kind = match.lastgroup
        if kind != "ws":
            tokens.append(Token(str(kind), match.group(), pos))
        pos = match.end()
    tokens.append(Token(END, "", len(text)))
    return tokens


def tokenize(text: str, limits: Limits = DEFAULT_LIMITS) -> list[Token]:
    """Split ``text`` into tokens, ending with an END token. Raises on any character outside the language."""
    return scan(text, limits, _TOKEN)


def parse_number(text: str, pos: int, limits: Limits) -> Fraction:
    """The exact value of a decimal literal, refusing literals longer or larger than the limits."""
    mantissa, _, exponent = text.lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    significant = (whole + fraction).lstrip("0")
    if len(significant) > limits.max_literal_digits:
        raise located(
            LimitExceeded,
            f"the number at position {pos} has {len(significant)} digits; the limit is {limits.max_literal_digits}",
            (),
            pos,
        )
    exponent_digits = exponent.lstrip("+-").lstrip("0") or "0"
    sign = -1 if exponent.startswith("-") else 1
    power = sign * (int(exponent_digits) if len(exponent_digits) <= 6 else 10**7)
    scale = power - len(fraction)
    # The exponent in scientific notation, for literals written with one: 0.0001 and 1e-4 are refused alike.
    magnitude = scale + len(significant) - 1 if significant and (exponent or fraction) else 0
    if abs(magnitude) > limits.max_literal_exponent:
        raise located(
            LimitExceeded,
            f"the exponent of the number at position {pos} is {magnitude}; "
            f"its magnitude may be at most {limits.max_literal_exponent}",
            (),
            pos,
        )
    if not significant:
        return Fraction(0)  # 0e9999999 is 0, without computing 10^9999999
    if abs(scale) > limits.max_literal_exponent + limits.max_literal_digits:
        raise located(LimitExceeded, f"the number at position {pos} is too large or too small", (), pos)
    return Fraction(int(significant)) * Fraction(10) ** scale


class Parser:
    """The Pratt parser of the expression language. A sibling language (matrix calculus) subclasses it with its own
    tokens, operator powers, postfix operators and hints: the limits, positions and messages stay the same."""

    INFIX_POWER: ClassVar[Mapping[str, int]] = _INFIX_POWER
    RIGHT_ASSOCIATIVE: ClassVar[frozenset[str]] = frozenset({"^", "**"})
    PREFIX_POWER: ClassVar[int] = _PREFIX_POWER
    FUNCTIONS: ClassVar[Collection[str]] = CATALOGUE

    def __init__(self, text: str, limits: Limits) -> None:
        self.tokens = self.tokenize(text, limits)
        self.index = 0
        self.limits = limits
        self.nodes = 0
        self.depth = 0

    def tokenize(self, text: str, limits: Limits) -> list[Token]:
        return tokenize(text, limits)

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
            # '^' is right-associative: its right side may hold another '^'.
            right = self.expression(power - 1 if op.text in self.RIGHT_ASSOCIATIVE else power)
            self.count(op.pos)
            left = Binary("^" if op.text == "**" else op.text, left, right, op.pos)
        self.depth -= 1
        return left

    def infix_power(self) -> int:
        token = self.token
        if token.kind == OP and token.text in self.INFIX_POWER:
            return self.INFIX_POWER[token.text]
        if token.kind in (OP, END) and token.text in (")", ",", ""):
            return 0
        hint = self.hint(self.tokens[self.index - 1], token)
        raise syntax_error(
            f"expected an operator or the end of the expression at position {token.pos}, found {describe(token)}{hint}",
            token.pos,
        )

    def hint(self, previous: Token, token: Token) -> str:
        """What to write instead, when ``token`` follows ``previous`` with no operator between them."""
        if token.kind not in (NAME, NUMBER):
            return ""
        if previous.kind == NAME and previous.text in self.FUNCTIONS:
            return f" (write {previous.text}({token.text}) to call {previous.text})"
        return f" (write {previous.text}*{token.text} for a product)"

    def prefix(self) -> Node:
        token = self.advance()
        self.count(token.pos)
        if token.kind == OP and token.text in ("-", "+"):
            return Unary(token.text, self.expression(self.PREFIX_POWER), token.pos)
        return self.postfix(self.atom(token))

    def postfix(self, node: Node) -> Node:
        """Postfix operators after an operand (none in the scalar language)."""
        return node

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

    def operand_error(self, token: Token) -> ExpressionSyntaxError:
        if self.index == 1:
            where = f"at position {token.pos}"
        else:
            previous = self.tokens[self.index - 2]
            where = f"after '{previous.text}' at position {token.pos}"
        found = "" if token.kind == END else f", found {describe(token)}"
        return syntax_error(f"expected an operand {where}{found}", token.pos)

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
        raise syntax_error(
            f"expected '{text}' to close the '{opening.text}' at position {opening.pos}, "
            f"found {describe(token)} at position {token.pos}",
            token.pos,
        )


def parse(text: str, limits: Limits = DEFAULT_LIMITS, parser_class: type[Parser] = Parser) -> Node:
    """Parse ``text`` into a syntax tree, or raise an ``ExpressionSyntaxError`` / ``LimitExceeded``."""
    parser = parser_class(text, limits)
    if parser.token.kind == END:
        raise syntax_error("expected an expression, found an empty text", 0)
    tree = parser.expression()
    if parser.token.kind != END:
        token = parser.token
        raise syntax_error(f"unexpected {describe(token)} at position {token.pos}", token.pos)
    return tree
