"""The lexer and Pratt parser: tree shapes, precedence, exact error messages and positions, and every limit."""

from __future__ import annotations

import itertools
import string
from fractions import Fraction

import pytest

from service.compute.errors import ExpressionSyntaxError, LimitExceeded, NablaError
from service.compute.language.syntax import Binary, Call, Name, Number, Unary, parse, tokenize
from service.compute.limits import DEFAULT_LIMITS, Limits


def _error(text: str, limits: Limits = DEFAULT_LIMITS) -> NablaError:
    with pytest.raises(NablaError) as caught:
        parse(text, limits)
    return caught.value


def _distinct_names(count: int) -> list[str]:
    """``count`` three-character names that are neither functions nor constants (u00, u01, ..., wzz)."""
    alphabet = string.digits + string.ascii_lowercase
    return [a + b + c for a, b, c in itertools.product("uvw", alphabet, alphabet)][:count]


class TestTokenize:
    def test_kinds_and_positions(self) -> None:
        tokens = tokenize("sin(x1)**2.5e-1 ")
        assert [(t.kind, t.text, t.pos) for t in tokens] == [
            ("name", "sin", 0),
            ("op", "(", 3),
            ("name", "x1", 4),
            ("op", ")", 6),
            ("op", "**", 7),
            ("number", "2.5e-1", 9),
            ("end", "", 16),
        ]

    @pytest.mark.parametrize(
        ("text", "char", "pos"),
        [
            ("x + ٣", "٣", 4),  # Arabic-Indic digit three: str.isdigit() is True, the language refuses it
            ("x + \uff13", "\uff13", 4),  # fullwidth digit three
            ("x $ y", "$", 2),
            ("x == y", "=", 2),
            ("é", "é", 0),
            ("_x", "_", 0),  # a name starts with a letter
        ],
    )
    def test_unexpected_character(self, text: str, char: str, pos: int) -> None:
        error = _error(text)
        assert isinstance(error, ExpressionSyntaxError)
        assert error.detail == f"unexpected character {char!r} at position {pos}"
        assert [e.position for e in error.errors] == [pos]
        assert error.errors[0].type == "syntax_error"


class TestTree:
    def test_number_is_exact(self) -> None:
        tree = parse("0.1")
        assert tree == Number(Fraction(1, 10), "0.1", 0)

    @pytest.mark.parametrize(
        ("text", "value"),
        [("1.", Fraction(1)), (".5", Fraction(1, 2)), ("2.5e-1", Fraction(1, 4)), ("1E3", Fraction(1000)), ("007", 7)],
    )
    def test_number_forms(self, text: str, value: Fraction) -> None:
        tree = parse(text)
        assert isinstance(tree, Number)
        assert tree.value == value

    def test_call_with_positions(self) -> None:
        assert parse("atan2(y, x)") == Call("atan2", (Name("y", 6), Name("x", 9)), 0)

    def test_double_star_is_stored_as_caret(self) -> None:
        assert parse("x**2") == Binary("^", Name("x", 0), Number(Fraction(2), "2", 3), 1)


class TestPrecedence:
    def test_unary_minus_binds_looser_than_power(self) -> None:
        assert parse("-x^2") == Unary("-", Binary("^", Name("x", 1), Number(Fraction(2), "2", 3), 2), 0)

    def test_negative_exponent(self) -> None:
        assert parse("2^-x") == Binary("^", Number(Fraction(2), "2", 0), Unary("-", Name("x", 3), 2), 1)

    def test_power_is_right_associative(self) -> None:
        assert parse("x^y^z") == Binary("^", Name("x", 0), Binary("^", Name("y", 2), Name("z", 4), 3), 1)
        assert parse("x**y**z") == Binary("^", Name("x", 0), Binary("^", Name("y", 3), Name("z", 6), 4), 1)

    def test_minus_is_left_associative(self) -> None:
        assert parse("x-y-z") == Binary("-", Binary("-", Name("x", 0), Name("y", 2), 1), Name("z", 4), 3)

    def test_product_binds_tighter_than_sum(self) -> None:
        assert parse("x+y*z") == Binary("+", Name("x", 0), Binary("*", Name("y", 2), Name("z", 4), 3), 1)

    def test_unary_minus_binds_tighter_than_product(self) -> None:
        assert parse("-x*y") == Binary("*", Unary("-", Name("x", 1), 0), Name("y", 3), 2)

    def test_parentheses_leave_no_node(self) -> None:
        assert parse("((x))") == Name("x", 2)


class TestSyntaxErrors:
    @pytest.mark.parametrize(
        ("text", "detail", "position"),
        [
            ("x**", "expected an operand after '**' at position 3", 3),
            ("x+", "expected an operand after '+' at position 2", 2),
            ("x+*y", "expected an operand after '+' at position 2, found '*'", 2),
            (")", "expected an operand at position 0, found ')'", 0),
            ("", "expected an expression, found an empty text", 0),
            ("   ", "expected an expression, found an empty text", 0),
            ("(x", "expected ')' to close the '(' at position 0, found the end of the input at position 2", 2),
            ("sin(x", "expected ')' to close the '(' at position 3, found the end of the input at position 5", 5),
            ("f(x y)", "expected an operator or the end of the expression at position 4, found 'y' "
             "(write x*y for a product)", 4),
            ("2x", "expected an operator or the end of the expression at position 1, found 'x' "
             "(write 2*x for a product)", 1),
            ("x,y", "unexpected ',' at position 1", 1),
            ("x)", "unexpected ')' at position 1", 1),
            ("sin()", "expected an operand after '(' at position 4, found ')'", 4),
            ("max(x,)", "expected an operand after ',' at position 6, found ')'", 6),
        ],
    )  # fmt: skip
    def test_message_and_position(self, text: str, detail: str, position: int) -> None:
        error = _error(text)
        assert type(error) is ExpressionSyntaxError
        assert error.detail == detail
        assert [(e.msg, e.position, e.loc) for e in error.errors] == [(detail, position, ())]

    def test_function_name_followed_by_operand_suggests_the_call(self) -> None:
        error = _error("sin x")
        assert error.detail == (
            "expected an operator or the end of the expression at position 4, found 'x' (write sin(x) to call sin)"
        )


class TestLimits:
    def test_length(self) -> None:
        error = _error("x" * 10_001)
        assert type(error) is LimitExceeded
        assert error.detail == "the expression has 10001 characters; the limit is 10000"

    def test_length_at_the_limit_is_accepted(self) -> None:
        assert parse("x" * 10_000) == Name("x" * 10_000, 0)

    def test_nodes(self) -> None:
        error = _error("x" + "+x" * 2_500)
        assert type(error) is LimitExceeded
        assert error.detail == "the expression has more than 5000 nodes (reached at position 4999)"
        assert error.errors[0].position == 4999

    @pytest.mark.timeout(10)  # a guard against a hang, not a speed claim (tests/bench measures speed)
    def test_deep_nesting_is_refused_before_it_is_built(self) -> None:
        error = _error("(" * 2000 + "x" + ")" * 2000)
        assert type(error) is LimitExceeded
        assert error.detail == "the expression nests deeper than 100 levels (at position 100)"

    @pytest.mark.parametrize("text", ["-" * 2000 + "x", "sin(" * 500 + "x" + ")" * 500, "x" + "^x" * 300])
    def test_other_deep_forms_are_refused(self, text: str) -> None:
        error = _error(text)
        assert type(error) is LimitExceeded
        assert error.detail.startswith("the expression nests deeper than 100 levels")

    def test_depth_at_the_limit_is_accepted(self) -> None:
        assert parse("(" * 99 + "x" + ")" * 99) == Name("x", 99)

    def test_literal_digits(self) -> None:
        error = _error("2*" + "1" * 3001)
        assert type(error) is LimitExceeded
        assert error.detail == "the number at position 2 has 3001 digits; the limit is 3000"
        assert error.errors[0].position == 2

    def test_leading_zeros_are_not_digits(self) -> None:
        assert parse("0" * 200 + "1" * 100) == Number(Fraction(int("1" * 100)), "0" * 200 + "1" * 100, 0)

    @pytest.mark.parametrize(("text", "power"), [("1e401", 401), ("1e-401", -401), ("2.5E+999", 999)])
    def test_literal_exponent(self, text: str, power: int) -> None:
        error = _error(text)
        assert type(error) is LimitExceeded
        assert error.detail == (
            f"the exponent of the number at position 0 is {power}; its magnitude may be at most 400"
        )

    def test_custom_limits(self) -> None:
        small = Limits(max_length=5, max_nodes=3, max_depth=2, max_literal_digits=2, max_literal_exponent=1)
        assert _error("x+y+z", small).detail == "the expression has more than 3 nodes (reached at position 4)"
        assert _error("123", small).detail == "the number at position 0 has 3 digits; the limit is 2"
        assert _error("1e2", small).detail == (
            "the exponent of the number at position 0 is 2; its magnitude may be at most 1"
        )
        assert _error("xxxxxx", small).detail == "the expression has 6 characters; the limit is 5"
        assert _error("((x))", small).detail == "the expression nests deeper than 2 levels (at position 2)"


class TestLongChains:
    def test_sum_of_2400_distinct_terms(self) -> None:
        names = _distinct_names(2400)
        tree = parse("+".join(names))
        count = 0
        while isinstance(tree, Binary):
            assert tree.op == "+"
            assert isinstance(tree.right, Name)
            count += 1
            tree = tree.left
        assert count == 2399
        assert tree == Name(names[0], 0)

    def test_mixed_chain(self) -> None:
        tree = parse("-".join(["x"] * 1200) + "*y/z" * 500)
        assert isinstance(tree, Binary)
        assert tree.op == "-"
        assert isinstance(tree.right, Binary)
        assert tree.right.op == "/"  # the last term is the product chain x*y/z*y/z...
