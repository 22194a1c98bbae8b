"""Past failures of the compute layer, pinned: each test is an input that once misbehaved."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from service.compute.calculus import CalculusTask, run
from service.compute.engine import to_sympy
from service.compute.errors import InvalidExpression, LimitExceeded, NablaError
from service.compute.exact import NON_DIFFERENTIABLE, OK, exact_values
from service.compute.language.build import parse_expression
from service.compute.language.printer import to_text
from service.compute.language.syntax import parse
from service.compute.numeric import compile_evaluator
from service.compute.points import exact_value


class TestNonRealConstants:
    @pytest.mark.parametrize("text", ["sqrt(-1)*x", "log(-1)*x", "acosh(0)*x", "(-2)^(1/2)*x"])
    def test_are_refused_where_they_stand(self, text: str) -> None:
        with pytest.raises(InvalidExpression, match="is not a real number"):
            run(CalculusTask("derivative", (text,), ("x",), ()))

    @pytest.mark.parametrize("text", ["max(sqrt(-1), x)", "min(x, log(-2))"])
    def test_inside_max_and_min(self, text: str) -> None:
        with pytest.raises(InvalidExpression):
            parse_expression(text)


class TestHugeNumbers:
    @pytest.mark.parametrize("text", ["7^6000*x", "3^5000*3^5000*x", "gamma(100000)*x"])
    def test_are_refused_before_they_are_computed(self, text: str) -> None:
        with pytest.raises(LimitExceeded):
            parse_expression(text)

    @pytest.mark.parametrize("text", ["gamma(10^6)", "digamma(3*10^4)", "gamma(gamma(gamma(5)))"])
    @pytest.mark.timeout(10)  # a guard against a hang, not a speed claim
    def test_exact_strings_cannot_make_the_web_process_compute_factorials(self, text: str) -> None:
        with pytest.raises(NablaError):
            exact_value(text)

    def test_a_large_derivative_coefficient_prints_and_parses_back(self) -> None:
        result = run(CalculusTask("derivative", ("x^100",), None, (), order=100))
        assert result.derivatives[0].text == str(math.factorial(100))
        assert parse_expression(result.derivatives[0].text) == math.factorial(100)

    def test_a_large_number_parses_back(self) -> None:
        expr = parse_expression("2^400")
        assert parse_expression(to_text(expr)) == expr


class TestLongLiterals:
    @pytest.mark.parametrize(
        "text", ["0." + "0" * 5000 + "1", "1e" + "9" * 5000, "x*0." + "0" * 9000 + "1", "0." + "0" * 1000 + "1"]
    )
    def test_tiny_or_huge_literals_are_limited_by_their_magnitude(self, text: str) -> None:
        with pytest.raises(LimitExceeded, match="the exponent of the number at position"):
            parse(text)

    def test_leading_zeros_are_not_digits(self) -> None:
        assert parse_expression("0" * 5000 + "1") == 1
        assert parse_expression("1e-" + "0" * 5000 + "5") == sp.Rational(1, 100000)


class TestPrinting:
    def test_a_negated_quotient_reads_back_as_the_same_tree(self) -> None:
        expr = parse_expression("(x+y)/(-x)")
        assert to_text(expr) == "-((x + y)/x)"
        assert parse_expression(to_text(expr)) == expr

    def test_a_variable_named_pi_leaves_the_constant_recognisable(self) -> None:
        result = run(CalculusTask("derivative", ("erf(pi)",), ("pi",), ()))
        text = result.derivatives[0].text
        assert text == "2*exp(-pi^2)/sqrt(acos(-1))"
        assert parse_expression(text, known=("pi",)) == to_sympy(result.derivatives[0].expr)

    @pytest.mark.parametrize("text", ["abs(exp(x^x))", "abs(pi^(x^x))"])
    def test_a_derivative_the_language_cannot_write_is_a_clear_error(self, text: str) -> None:
        with pytest.raises(InvalidExpression, match=r"does not have \(arg\)"):
            run(CalculusTask("derivative", (text,), ("x",), ()))


def _derivative_at_zero(function: str) -> tuple[str, float]:
    result = run(CalculusTask("derivative", (function,), None, ()))
    evaluator = compile_evaluator(result.variables, result.functions, [d.expr for d in result.derivatives])
    evaluation = evaluator.evaluate(np.array([[0.0]]))
    return evaluation.status_of(0), float(evaluation.values[0, 0])


class TestJumps:
    @pytest.mark.parametrize("function", ["sign(x)^2", "heaviside(x)*heaviside(-x)", "sign(x)", "max(x, 0)"])
    def test_a_jump_or_kink_at_the_point_is_not_differentiable(self, function: str) -> None:
        assert _derivative_at_zero(function)[0] == "non_differentiable"

    @pytest.mark.parametrize(("function", "value"), [("abs(x)*sign(x)", 1.0), ("sign(x)*x^2", 0.0), ("abs(x)^3", 0.0)])
    def test_a_smooth_product_of_kinks_has_its_derivative(self, function: str, value: float) -> None:
        assert _derivative_at_zero(function) == ("ok", value)


class TestExactKinks:
    @pytest.mark.parametrize(
        ("function", "point"),
        [("abs(sin(x))", "pi"), ("max(sin(x), 0)", "pi"), ("sign(sin(x))", "pi"), ("abs(cos(x))", "pi/2")],
    )
    def test_a_kink_that_float_rounding_hides_is_found_exactly(self, function: str, point: str) -> None:
        result = run(CalculusTask("derivative", (function,), None, ()))
        exact = exact_values(
            result.functions, [d.expr for d in result.derivatives], result.variables, [exact_value(point)]
        )
        assert exact.status == NON_DIFFERENTIABLE
        assert exact.texts == (None,)

    def test_a_smooth_point_of_a_kinked_function_has_its_exact_value(self) -> None:
        result = run(CalculusTask("derivative", ("abs(sin(x))^3",), None, ()))
        exact = exact_values(result.functions, [d.expr for d in result.derivatives], result.variables, [sp.pi])
        assert (exact.status, exact.texts) == (OK, ("0",))
