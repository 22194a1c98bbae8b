"""Taylor polynomials against hand-derived coefficients, mpmath's Taylor coefficients, and the remainder's order."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from service.compute.anchor import Coordinate, FunctionSpec
from service.compute.engine import to_sympy
from service.compute.errors import InvalidInput, InvalidPoint, LimitExceeded, NablaError
from service.compute.language.build import parse_expression, symbol
from service.compute.status import Status
from service.compute.taylor import TaylorResult, TaylorTask, compare, compile_comparison, expand

x, y, a = symbol("x"), symbol("y"), symbol("a")


def _taylor(text: str, at: tuple[Coordinate, ...], order: int = 1, parameters: tuple[str, ...] = ()) -> TaylorResult:
    return expand(TaylorTask(FunctionSpec(text, None, parameters), at, order=order))


def _same(result: TaylorResult, expected: sp.Expr) -> None:
    """The printed polynomial parses back (with the service's parser) to ``expected``."""
    parsed = parse_expression(result.text, known={*result.variables, *result.parameters})
    assert sp.expand(parsed - expected) == 0
    assert sp.expand(to_sympy(result.polynomial) - expected) == 0


def _error(task: TaylorTask) -> NablaError:
    with pytest.raises(NablaError) as caught:
        expand(task)
    assert caught.value.errors[0].msg == caught.value.detail
    return caught.value


class TestTangent:
    def test_tangent_plane_derived_by_hand(self) -> None:
        # f = x^2 y + 3y at (1, 2): f = 8, f_x = 2xy = 4, f_y = x^2 + 3 = 4.
        result = _taylor("x^2*y + 3*y", (1, 2))
        assert result.text == "8 + 4*(x - 1) + 4*(y - 2)"
        assert result.latex == r"8 + 4 \left(x - 1\right) + 4 \left(y - 2\right)"
        assert result.function_value == 8.0
        _same(result, 8 + 4 * (x - 1) + 4 * (y - 2))

    def test_tangent_line_at_a_decimal_point_is_exact(self) -> None:
        # x^2 at 0.1 (= 1/10 exactly): 1/100 + (2/10)(x - 1/10).
        result = _taylor("x^2", (0.1,))
        _same(result, sp.Rational(1, 100) + sp.Rational(1, 5) * (x - sp.Rational(1, 10)))
        assert result.function_value == 0.01

    def test_order_zero_is_the_value(self) -> None:
        result = _taylor("cos(x)*exp(y)", ("pi/3", 0), order=0)
        assert result.text == "1/2"
        assert result.terms == 1

    def test_a_zero_slope_drops_out(self) -> None:
        result = _taylor("x^2 + y", (0, 5))
        assert result.text == "5 + (y - 5)"


class TestCoefficients:
    def test_exp_at_zero(self) -> None:
        result = _taylor("exp(x)", (0,), order=5)
        _same(result, sum((x**k / sp.factorial(k) for k in range(6)), sp.Integer(0)))
        assert [c for _, c in result.coefficients] == ["1", "1", "1/2", "1/6", "1/24", "1/120"]

    def test_sin_at_pi_over_six(self) -> None:
        # sin, cos, -sin, -cos at pi/6, over k!: 1/2, sqrt(3)/2, -1/4, -sqrt(3)/12.
        h = x - sp.pi / 6
        result = _taylor("sin(x)", ("pi/6",), order=3)
        _same(result, sp.Rational(1, 2) + sp.sqrt(3) / 2 * h - h**2 / 4 - sp.sqrt(3) / 12 * h**3)

    def test_two_variables_to_third_order(self) -> None:
        # e^x cos y = (1 + x + x^2/2 + x^3/6)(1 - y^2/2) + O(4).
        result = _taylor("exp(x)*cos(y)", (0, 0), order=3)
        _same(result, 1 + x + x**2 / 2 - y**2 / 2 + x**3 / 6 - x * y**2 / 2)
        assert result.text == "1 + x + x^2/2 - y^2/2 + x^3/6 - x*y^2/2"

    def test_mixed_terms_of_a_product(self) -> None:
        # xyz about (1, -2, 3) is exactly its own cubic Taylor polynomial.
        z = symbol("z")
        result = _taylor("x*y*z", (1, -2, 3), order=3)
        _same(result, x * y * z)
        assert result.terms == 8

    def test_against_mpmath_taylor_coefficients(self) -> None:
        result = _taylor("log(1 + x^2)*exp(x)", (0.3,), order=6)
        expected = mpmath.taylor(lambda t: mpmath.log(1 + t**2) * mpmath.exp(t), mpmath.mpf(3) / 10, 6)
        polynomial = sp.Poly(sp.expand(to_sympy(result.polynomial).subs(x, x + sp.Rational(3, 10))), x)
        got = [float(polynomial.coeff_monomial(x**k).evalf(30)) for k in range(7)]
        np.testing.assert_allclose(got, [float(c) for c in expected], rtol=1e-14)

    def test_symbolic_parameters_stay_symbols(self) -> None:
        # a x^3 at -1: -a, f' = 3a x^2 = 3a, f''/2 = 3a x = -3a.
        result = _taylor("a*x^3", (-1,), order=2, parameters=("a",))
        assert result.text == "-a + 3*a*(x + 1) - 3*a*(x + 1)^2"
        assert result.function_value is None
        assert result.parameters == ("a",)

    def test_numeric_parameters_are_substituted_exactly(self) -> None:
        spec = FunctionSpec("a*x^2", None, ("a",), (0.5,))
        result = expand(TaylorTask(spec, (2,), order=1))
        _same(result, 2 + 2 * (x - 2))


class TestRemainder:
    @pytest.mark.parametrize("order", [1, 2, 3, 4])
    def test_error_shrinks_like_h_to_the_order_plus_one(self, order: int) -> None:
        centre, direction = np.array([0.5, 0.2]), np.array([1.0, -0.7])
        result = _taylor("exp(x)*sin(y) + x^3*y", (0.5, 0.2), order=order)
        steps = 0.2 / 2.0 ** np.arange(5)
        comparison = compare(compile_comparison(result), centre + steps[:, None] * direction)
        assert comparison.status.tolist() == [0] * 5
        slope = np.polyfit(np.log(steps), np.log(np.abs(comparison.errors)), 1)[0]
        assert slope == pytest.approx(order + 1, abs=0.15)

    def test_error_is_f_minus_the_polynomial(self) -> None:
        result = _taylor("exp(x)", (0,), order=2)
        comparison = compare(compile_comparison(result), np.array([[0.1], [-1.0]]))
        polynomial = np.array([1 + 0.1 + 0.005, 1 - 1 + 0.5])
        np.testing.assert_allclose(comparison.values, polynomial, rtol=1e-15)
        np.testing.assert_allclose(comparison.errors, np.exp([0.1, -1.0]) - polynomial, rtol=1e-12)

    def test_where_f_is_undefined_the_error_is_not_a_number(self) -> None:
        result = _taylor("sqrt(x)", (1,), order=2)
        comparison = compare(compile_comparison(result), np.array([[-1.0], [4.0]]))
        assert comparison.status.tolist() == [Status.DOMAIN_ERROR, Status.OK]
        assert math.isnan(comparison.errors[0])
        assert comparison.values[0] == pytest.approx(1 - 1 - 0.5)  # 1 + (x-1)/2 - (x-1)^2/8 at -1
        assert comparison.errors[1] == pytest.approx(2 - (1 + 1.5 - 9 / 8))


class TestErrors:
    def test_undefined_at_the_point(self) -> None:
        error = _error(TaylorTask(FunctionSpec("log(x)"), (0,)))
        assert isinstance(error, InvalidPoint)
        assert error.detail == (
            "the function is infinite at (x = 0); choose a point where the function is defined and smooth"
        )
        assert error.errors[0].loc == ("body", "at")

    def test_not_real_at_the_point(self) -> None:
        error = _error(TaylorTask(FunctionSpec("sqrt(x)"), (-1,)))
        assert error.detail == (
            "the function is undefined or not real at (x = -1); choose a point where the function is defined and smooth"
        )

    def test_a_kink_at_the_point(self) -> None:
        error = _error(TaylorTask(FunctionSpec("abs(x)"), (0,), order=1))
        assert error.detail == (
            "a derivative it needs does not exist (a kink, cusp, jump or pole) at (x = 0); choose a point where the "
            "function is defined and smooth"
        )

    def test_too_many_terms(self) -> None:
        error = _error(TaylorTask(FunctionSpec("x*y*z"), (0, 0, 0), order=30, max_terms=100))
        assert isinstance(error, LimitExceeded)
        assert error.detail == (
            "a Taylor polynomial of order 30 in 3 variables has 5456 coefficients; the limit is 100 "
            "(NABLA_MAX_TAYLOR_TERMS); ask for a lower order or fewer variables"
        )
        assert error.errors[0].loc == ("body", "order")

    def test_no_variables(self) -> None:
        error = _error(TaylorTask(FunctionSpec("2"), ()))
        assert isinstance(error, InvalidInput)
        assert error.detail == (
            "the function has no variables, so it has no Taylor polynomial in them; name them in 'variables'"
        )

    def test_a_point_of_the_wrong_size(self) -> None:
        error = _error(TaylorTask(FunctionSpec("x*y"), (1,)))
        assert (
            error.detail
            == "at has 1 value but there are 2 variables (x, y); give one value per variable, in that order"
        )

    def test_a_point_by_name(self) -> None:
        result = expand(TaylorTask(FunctionSpec("x - y"), (2, 1), at_names=("y", "x")))
        assert result.at == (1.0, 2.0)
        assert result.text == "-1 + (x - 1) - (y - 2)"


class TestPrinting:
    def test_a_negative_transcendental_coefficient_keeps_its_own_sign(self) -> None:
        # sin(xy) z at (1, 2, 3): f_x = y z cos(xy) = 6 cos(2), which is negative but prints without a minus.
        result = _taylor("sin(x*y)*z", (1, 2, 3))
        assert result.text == "3*sin(2) + 6*(x - 1)*cos(2) + 3*(y - 2)*cos(2) + (z - 3)*sin(2)"
        assert " - -" not in result.text
        z = symbol("z")
        _same(result, 3 * sp.sin(2) + 6 * sp.cos(2) * (x - 1) + 3 * sp.cos(2) * (y - 2) + sp.sin(2) * (z - 3))

    def test_every_printed_polynomial_parses_back(self) -> None:
        for text, at, order in [("sin(x*y)*z", (1, 2, 3), 3), ("exp(x)*sin(y)", (0.3, 0.7), 4), ("cos(x)", ("2",), 5)]:
            result = _taylor(text, at, order)
            _same(result, to_sympy(result.polynomial))
