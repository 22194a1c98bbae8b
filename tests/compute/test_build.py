"""Syntax tree to SymPy: exact numbers, real symbols, the allowlist, name checks, undefined constants, the power
budget, and a property: arbitrary text only ever raises the service's own errors."""

from __future__ import annotations

import itertools
import string

import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.compute.errors import (
    InvalidExpression,
    LimitExceeded,
    NablaError,
    UnknownName,
    UnsupportedFunction,
)
from service.compute.language.build import build, free_names, parse_expression, symbol
from service.compute.language.functions import CATALOGUE
from service.compute.language.syntax import parse

x, y, z = (symbol(n) for n in "xyz")


def _error(text: str, known: tuple[str, ...] | None = None) -> NablaError:
    with pytest.raises(NablaError) as caught:
        parse_expression(text, known)
    return caught.value


class TestValues:
    def test_decimals_are_exact_rationals(self) -> None:
        assert parse_expression("0.1 + 0.2") == sp.Rational(3, 10)
        assert parse_expression("2.5e-3") == sp.Rational(1, 400)

    def test_symbols_are_real(self) -> None:
        value = parse_expression("x")
        assert value == sp.Symbol("x", real=True)
        assert value != sp.Symbol("x")
        assert parse_expression("sqrt(x^2)") == sp.Abs(x)  # true only for real x

    def test_constants(self) -> None:
        assert parse_expression("pi") is sp.pi
        assert parse_expression("e") is sp.E
        assert parse_expression("log(e^2)") == 2

    def test_variable_named_like_a_constant_wins_when_known(self) -> None:
        assert parse_expression("e*x", known=("e", "x")) == symbol("e") * x

    def test_precedence_in_values(self) -> None:
        assert parse_expression("-x^2") == -(x**2)
        assert parse_expression("2^-x") == 2 ** (-x)
        assert parse_expression("x^y^z") == x ** (y**z)
        assert parse_expression("x/y/z") == x / (y * z)
        assert parse_expression("x-y-z") == x - y - z

    def test_functions(self) -> None:
        assert parse_expression("log(x, 2)") == sp.log(x) / sp.log(2)
        assert parse_expression("log10(x)") == sp.log(x) / sp.log(10)
        assert parse_expression("cbrt(-8)") == -2
        assert parse_expression("sigmoid(x)") == 1 / (1 + sp.exp(-x))
        assert parse_expression("max(x, y, z)") == sp.Max(x, y, z)
        assert parse_expression("digamma(x)") == sp.polygamma(0, x)
        assert parse_expression("dirac(x, 2)") == sp.DiracDelta(x, 2)

    def test_free_names(self) -> None:
        assert free_names(parse("sin(x)*y + atan2(z, pi)")) == {"x", "y", "z", "pi"}


class TestLongChains:
    def test_sum_of_2400_distinct_terms(self) -> None:
        alphabet = string.digits + string.ascii_lowercase
        names = [a + b + c for a, b, c in itertools.product("uvw", alphabet, alphabet)][:2400]
        value = parse_expression("+".join(names))
        assert isinstance(value, sp.Add)
        assert len(value.args) == 2400

    def test_difference_and_quotient_chains(self) -> None:
        assert parse_expression("-".join(["x"] * 2400)) == -2398 * x
        assert parse_expression("/".join(["x"] * 2400)) == x ** (-2398)
        assert parse_expression("*".join(["x"] * 2400)) == x**2400


class TestNameErrors:
    def test_unknown_function(self) -> None:
        error = _error("x + foo(x)")
        assert type(error) is UnsupportedFunction
        assert error.detail == (
            "unknown function 'foo' at position 4; supported functions: " + ", ".join(sorted(CATALOGUE))
        )
        assert error.errors[0].position == 4
        assert error.errors[0].type == "unsupported_function"

    @pytest.mark.parametrize(("text", "close"), [("sine(x)", "sin"), ("Sin(x)", "sin"), ("arctan(x)", "atan")])
    def test_unknown_function_suggests_a_close_name(self, text: str, close: str) -> None:
        error = _error(text)
        assert type(error) is UnsupportedFunction
        assert error.detail.startswith(
            f"unknown function '{text.split('(')[0]}' at position 0 (did you mean '{close}'?); supported functions: "
        )

    @pytest.mark.parametrize(
        ("text", "detail"),
        [
            ("sin(x, y)", "sin takes 1 argument, got 2 at position 0"),
            ("x*atan2(x)", "atan2 takes 2 arguments, got 1 at position 2"),
            ("max(x)", "max takes two or more arguments, got 1 at position 0"),
            ("log(x, y, z)", "log takes 1 or 2 arguments, got 3 at position 0"),
            ("dirac(x, 1, 2)", "dirac takes 1 or 2 arguments, got 3 at position 0"),
        ],
    )
    def test_wrong_arity(self, text: str, detail: str) -> None:
        error = _error(text)
        assert type(error) is InvalidExpression
        assert error.detail == detail

    def test_function_used_as_a_value(self) -> None:
        error = _error("2*sin")
        assert type(error) is InvalidExpression
        assert error.detail == "'sin' at position 2 is a function; call it as sin(...)"

    def test_unknown_name(self) -> None:
        error = _error("x + a*y", known=("y", "x"))
        assert type(error) is UnknownName
        assert error.detail == (
            "unknown name 'a' at position 4: it is not a variable, a parameter or a constant "
            "(known names: x, y); add it to 'variables' or 'parameters'"
        )
        assert error.errors[0].position == 4

    def test_unknown_name_without_known_names(self) -> None:
        assert _error("a", known=()).detail.endswith("(known names: none); add it to 'variables' or 'parameters'")

    @pytest.mark.parametrize("name", ["I", "oo", "zoo", "nan", "E", "Pi", "exec", "Symbol"])
    def test_sympy_names_are_plain_names(self, name: str) -> None:
        assert type(_error(f"x*{name}", known=("x",))) is UnknownName
        assert parse_expression(name) == symbol(name)

    def test_python_is_not_reachable(self) -> None:
        error = _error("__import__('os').system('true')")
        assert error.detail == "unexpected character '_' at position 0"


class TestUndefinedConstants:
    @pytest.mark.parametrize(
        ("text", "detail"),
        [
            ("1/0", "division by zero at position 1"),
            ("x + 1/(2-2)", "division by zero at position 5"),
            ("0^-1", "the power is undefined at position 1"),
            ("log(0)", "log is undefined here at position 0"),
            ("x*tan(pi/2)", "tan is undefined here at position 2"),
            ("gamma(0)", "gamma is undefined here at position 0"),
            ("atanh(1)", "atanh is undefined here at position 0"),
        ],
    )
    def test_refused_at_their_position(self, text: str, detail: str) -> None:
        error = _error(text)
        assert type(error) is InvalidExpression
        assert error.detail == detail

    @pytest.mark.parametrize("text", ["polygamma(x, y)", "polygamma(1001, x)", "polygamma(1/2, x)", "dirac(x, -1)"])
    def test_order_arguments(self, text: str) -> None:
        name = text.split("(")[0]
        assert _error(text).detail == f"the order argument of {name} at position 0 must be an integer from 0 to 1000"

    def test_valid_orders(self) -> None:
        assert parse_expression("polygamma(1000, x)") == sp.polygamma(1000, x)
        assert parse_expression("dirac(x, 1000)") == sp.DiracDelta(x, 1000)


class TestPowerBudget:
    @pytest.mark.timeout(10)  # a guard against a hang, not a speed claim
    def test_tower_refused_before_it_is_computed(self) -> None:
        error = _error("9^9^9^9")
        assert type(error) is LimitExceeded
        assert error.detail == (
            "the power at position 3 would have about 1228093895 bits; exact powers may have at most 9000"
        )
        assert error.errors[0].position == 3

    def test_fractional_and_negative_exponents_count(self) -> None:
        assert _error("2^-20001").detail.startswith("the power at position 1 would have about 20001 bits")
        assert _error("(1/3)^20000").detail.startswith("the power at position 5 would have about 31700 bits")

    def test_within_budget(self) -> None:
        assert parse_expression("2^8999") == sp.Integer(2) ** 8999
        assert parse_expression("x^100000") == x**100000  # symbolic: no digits to compute


_GRAMMAR_PIECES = [*"xyz0123456789+-*/^(),. e", "**", "sin(", "sqrt(", "log(", "atan2(", "1e", "pi"]


class TestArbitraryText:
    @settings(max_examples=200, deadline=None)
    @given(st.text(max_size=40))
    @example("x\x00")
    @example("1e99999999999999999999")
    @example("9" * 200)
    @example("atan2(1,,2)")
    @example("0." + "0" * 5000 + "1")
    @example("1e-" + "0" * 5000 + "5")
    def test_any_text_raises_only_nabla_errors(self, text: str) -> None:
        try:
            parse_expression(text)
        except NablaError:
            pass

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.sampled_from(_GRAMMAR_PIECES), max_size=30).map("".join))
    @example("(0)^(-1)")
    @example("log(0^0)")
    def test_grammar_soup_raises_only_nabla_errors(self, text: str) -> None:
        try:
            value = parse_expression(text)
        except NablaError:
            return
        assert isinstance(value, sp.Expr)

    def test_build_of_a_tree_checks_names(self) -> None:
        with pytest.raises(UnknownName):
            build(parse("x*y"), known=("x",))
