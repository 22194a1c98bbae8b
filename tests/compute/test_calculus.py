"""Symbolic calculus: shapes, variables, validation, budgets; values checked against mpmath at 50 digits,
closed-form identities and central differences."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from service.compute.calculus import CalculusResult, CalculusTask, natural_key, run
from service.compute.engine import to_sympy
from service.compute.errors import InvalidInput, LimitExceeded, NablaError, TooComplex, UnknownName
from service.compute.numeric import compile_evaluator

REL = 1e-12


@pytest.fixture(autouse=True)
def _fifty_digits() -> Iterator[None]:
    with mpmath.workdps(50):
        yield


def _task(operation: str, *functions: str, parameters: Sequence[str] = (), **options: object) -> CalculusResult:
    variables = options.pop("variables", None)
    return run(CalculusTask(operation, functions, variables, tuple(parameters), **options))  # type: ignore[arg-type]


def _values(result: CalculusResult, *point: float) -> np.ndarray:
    """The derivative entries at ``point`` (variables, then parameters), shaped like the result."""
    evaluator = compile_evaluator(
        result.variables + result.parameters, result.functions, [d.expr for d in result.derivatives]
    )
    evaluation = evaluator.evaluate(np.array([point], dtype=float))
    assert evaluation.status_of(0) == "ok"
    return evaluation.values[0].reshape(result.shape)


def _close(got: np.ndarray | float, expected: Sequence[object] | object, rel: float = REL) -> None:
    expected_array = np.array(expected, dtype=float).reshape(np.shape(got))
    np.testing.assert_allclose(got, expected_array, rtol=rel, atol=0)


class TestShapes:
    def test_derivative(self) -> None:
        result = _task("derivative", "x^3")
        assert (result.variables, result.shape, result.wrt) == (("x",), (), ("x",))
        assert [d.text for d in result.derivatives] == ["3*x^2"]
        assert [d.latex for d in result.derivatives] == ["3 x^{2}"]

    def test_gradient_orders_variables_naturally(self) -> None:
        result = _task("gradient", "x10*x2 + a*b", parameters=["a"])
        assert result.variables == ("b", "x2", "x10")
        assert result.parameters == ("a",)
        assert result.shape == (3,)
        assert [d.text for d in result.derivatives] == ["a", "x10", "x2"]

    def test_constants_are_not_variables(self) -> None:
        assert _task("gradient", "x*pi + e").variables == ("x",)

    def test_explicit_variables_keep_their_order(self) -> None:
        result = _task("gradient", "x*y^2", variables=("y", "x"))
        assert [d.text for d in result.derivatives] == ["2*x*y", "y^2"]

    def test_jacobian(self) -> None:
        result = _task("jacobian", "x*y", "x + z")
        assert result.shape == (2, 3)
        assert [d.text for d in result.derivatives] == ["y", "x", "0", "1", "0", "1"]

    def test_hessian_is_symmetric(self) -> None:
        result = _task("hessian", "exp(x*y*z)")
        assert result.shape == (3, 3)
        entries = np.array([d.expr for d in result.derivatives], dtype=object).reshape(3, 3)
        assert all(entries[i, j] is entries[j, i] for i in range(3) for j in range(3))

    def test_derivative_by_names_in_turn(self) -> None:
        result = _task("derivative", "x*y^2", wrt=("y", "y", "x"))
        assert result.wrt == ("y", "y", "x")
        assert [d.text for d in result.derivatives] == ["2"]

    def test_order_with_a_parameter(self) -> None:
        result = _task("derivative", "a*x^3", parameters=["a"], order=3)
        assert result.wrt == ("x", "x", "x")
        assert [d.text for d in result.derivatives] == ["6*a"]

    def test_natural_key(self) -> None:
        assert sorted(["x10", "x2", "b", "x1a"], key=natural_key) == ["b", "x1a", "x2", "x10"]


class TestValidation:
    def test_several_variables_need_a_choice(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            _task("derivative", "x*y")
        assert caught.value.detail == ("there are 2 variables (x, y); name the one to differentiate by in 'variable'")
        assert caught.value.errors[0].loc == ("body", "variable")

    def test_no_variables(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            _task("derivative", "5")
        assert caught.value.detail == "the function has no variables; name the one to differentiate by in 'variable'"

    def test_only_parameters(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            _task("derivative", "a*b", parameters=["a", "b"])
        assert caught.value.detail == (
            "the function has no variables (its names are all parameters: a, b); name the one to differentiate by in "
            "'variable'"
        )

    def test_too_many_variables(self) -> None:
        with pytest.raises(LimitExceeded) as caught:
            _task("gradient", "+".join(f"x{i}" for i in range(60)), parameters=[f"p{i}" for i in range(5)])
        assert caught.value.detail == (
            "the function has 60 variables and 5 parameters; together they may be at most 64 (NABLA_MAX_VARIABLES)"
        )
        assert caught.value.errors[0].loc == ("body", "variables")

    def test_unknown_wrt(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            _task("derivative", "x*y", variables=("x", "y"), wrt=("z",))
        assert caught.value.detail == "'z' is not one of the variables (x, y); differentiate by one of them"

    def test_error_location_in_a_jacobian(self) -> None:
        with pytest.raises(NablaError) as caught:
            _task("jacobian", "x", "y+", "z")
        assert [(e.loc, e.msg, e.position) for e in caught.value.errors] == [
            (("body", "functions", 1), "expected an operand after '+' at position 2", 2)
        ]

    def test_unknown_name_location(self) -> None:
        with pytest.raises(UnknownName) as caught:
            _task("gradient", "q*y", variables=("x", "y"))
        assert caught.value.errors[0].loc == ("body", "function")

    def test_node_budget(self) -> None:
        with pytest.raises(TooComplex) as caught:
            _task("derivative", "exp(x^2)", order=30, max_nodes=1000)
        assert caught.value.detail == (
            "the derivatives grew past 1000 expression nodes; ask for a lower order, fewer variables or a simpler "
            "function"
        )


class TestAgainstMpmath:
    """Closed forms and mpmath.diff evaluated at 50 digits; the service must agree to 1e-12."""

    def test_x_to_the_x(self) -> None:
        x = mpmath.mpf("1.5")
        _close(_values(_task("derivative", "x^x"), 1.5), x**x * (mpmath.log(x) + 1))
        _close(_values(_task("derivative", "x^x"), 1.5), mpmath.diff(lambda t: t**t, x))

    def test_second_derivative_of_exp_x_squared(self) -> None:
        x = mpmath.mpf("0.7")
        expected = (2 + 4 * x**2) * mpmath.exp(x**2)
        _close(_values(_task("derivative", "e^(x^2)", order=2), 0.7), expected)
        _close(_values(_task("derivative", "exp(x^2)", order=2), 0.7), mpmath.diff(lambda t: mpmath.exp(t**2), x, 2))

    def test_x_to_the_x_squared(self) -> None:
        x = mpmath.mpf("1.3")
        _close(_values(_task("derivative", "x^(x^2)"), 1.3), x ** (x**2) * (2 * x * mpmath.log(x) + x))

    def test_gradient(self) -> None:
        x, y, z = mpmath.mpf(1), mpmath.mpf(2), mpmath.mpf(3)
        power = mpmath.mpf(2) ** (x * y)
        expected = [y * mpmath.log(2) * power - z * mpmath.sin(x), x * mpmath.log(2) * power, mpmath.cos(x)]
        _close(_values(_task("gradient", "2^(x*y) + z*cos(x)"), 1, 2, 3), expected)

    def test_jacobian(self) -> None:
        x, y = mpmath.mpf("1.5"), mpmath.mpf(4)
        expected = [[4 * x, 0], [mpmath.sqrt(y), x / (2 * mpmath.sqrt(y))]]
        _close(_values(_task("jacobian", "2*x^2", "x*sqrt(y)"), 1.5, 4), expected)

    def test_hessian_of_polynomial(self) -> None:
        x, y = mpmath.mpf("1.2"), mpmath.mpf("-0.7")
        expected = [[2 * y**3, 6 * x * y**2], [6 * x * y**2, 6 * x**2 * y]]
        _close(_values(_task("hessian", "x^2*y^3"), 1.2, -0.7), expected)

    def test_hessian_of_sin_xy(self) -> None:
        x, y = mpmath.mpf("0.3"), mpmath.mpf("0.9")
        s, c = mpmath.sin(x * y), mpmath.cos(x * y)
        expected = [[-(y**2) * s, c - x * y * s], [c - x * y * s, -(x**2) * s]]
        _close(_values(_task("hessian", "sin(x*y)"), 0.3, 0.9), expected)

    @pytest.mark.parametrize(
        ("text", "point", "oracle"),
        [
            ("erf(x)", 0.4, lambda x: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-(x**2))),
            ("erfc(3*x)", 0.4, lambda x: -6 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-9 * x**2)),
            ("gamma(x)", 2.5, lambda x: mpmath.gamma(x) * mpmath.digamma(x)),
            ("gamma(x)", -1.5, lambda x: mpmath.gamma(x) * mpmath.digamma(x)),
            ("loggamma(x)", 2.5, mpmath.digamma),
            ("digamma(x)", 0.8, lambda x: mpmath.psi(1, x)),
            ("atan(x^2)", 0.6, lambda x: 2 * x / (1 + x**4)),
            ("acosh(x)", 1.7, lambda x: 1 / mpmath.sqrt(x**2 - 1)),
            ("log(x, 3)", 2.2, lambda x: 1 / (x * mpmath.log(3))),
            ("sigmoid(x)", 0.3, lambda x: mpmath.exp(-x) / (1 + mpmath.exp(-x)) ** 2),
            ("cbrt(x)", -8.0, lambda x: mpmath.mpf(1) / 12),
        ],
    )
    def test_special_functions(self, text: str, point: float, oracle: Callable[[mpmath.mpf], mpmath.mpf]) -> None:
        _close(_values(_task("derivative", text), point), oracle(mpmath.mpf(point)))

    @pytest.mark.parametrize(("x", "y"), [(1.0, 2.0), (-1.0, 0.5), (-2.0, -3.0), (0.5, -4.0)])
    def test_atan2_gradient(self, x: float, y: float) -> None:
        # atan2(y, x) in the language: the angle of (x, y); gradient (-y, x)/(x^2 + y^2), in every quadrant.
        mx, my = mpmath.mpf(x), mpmath.mpf(y)
        radius = mx**2 + my**2
        _close(_values(_task("gradient", "atan2(y, x)"), x, y), [-my / radius, mx / radius])
        numeric = [mpmath.diff(lambda t: mpmath.atan2(my, t), mx), mpmath.diff(lambda t: mpmath.atan2(t, mx), my)]
        _close(_values(_task("gradient", "atan2(y, x)"), x, y), numeric)

    def test_twentieth_derivative_of_x_to_the_twentieth(self) -> None:
        result = _task("derivative", "x^20", order=20)
        assert [d.text for d in result.derivatives] == [str(math.factorial(20))]
        assert _values(result, 1.3) == math.factorial(20)

    def test_parameters_are_inputs(self) -> None:
        result = _task("derivative", "a*sin(b*x)", parameters=["a", "b"], variables=("x",))
        a, b, x = mpmath.mpf(2), mpmath.mpf("0.5"), mpmath.mpf("1.1")
        _close(_values(result, 1.1, 2, 0.5), a * b * mpmath.cos(b * x))


class TestIdentities:
    @settings(max_examples=15, deadline=None)
    @given(st.lists(st.integers(-9, 9), min_size=9, max_size=9))
    def test_hessian_of_quadratic_form(self, entries: list[int]) -> None:
        matrix = np.array(entries).reshape(3, 3)
        text = " + ".join(f"({matrix[i, j]})*x{i}*x{j}" for i in range(3) for j in range(3))
        result = _task("hessian", text)
        assert result.variables == ("x0", "x1", "x2")
        symbolic = np.array([int(to_sympy(d.expr)) for d in result.derivatives]).reshape(3, 3)
        np.testing.assert_array_equal(symbolic, matrix + matrix.T)
        np.testing.assert_array_equal(_values(result, 0.3, -1.2, 2.0), matrix + matrix.T)

    @pytest.mark.parametrize(
        ("f", "g"), [("sin(x)*y", "exp(x*y)"), ("x^2*y", "log(1 + x^2 + y^2)"), ("abs(x)*y", "max(x, y)")]
    )
    def test_gradient_is_linear(self, f: str, g: str) -> None:
        total = _task("gradient", f"{f} + ({g})", variables=("x", "y"))
        separate = [_task("gradient", h, variables=("x", "y")) for h in (f, g)]
        for k in range(2):
            difference = to_sympy(total.derivatives[k].expr) - sum(to_sympy(s.derivatives[k].expr) for s in separate)
            assert sp.simplify(difference) == 0
        point = (0.7, -1.3)
        _close(_values(total, *point), _values(separate[0], *point) + _values(separate[1], *point), 1e-13)

    def test_hessian_is_jacobian_of_gradient(self) -> None:
        hessian = _task("hessian", "x^3*y + sin(x)*exp(y)")
        gradient = _task("gradient", "x^3*y + sin(x)*exp(y)")
        jacobian = _task("jacobian", *(d.text for d in gradient.derivatives), variables=("x", "y"))
        assert [d.text for d in hessian.derivatives] == [d.text for d in jacobian.derivatives]


SMOOTH: dict[str, Callable[..., mpmath.mpf]] = {
    "sin(x)*exp(y)": lambda x, y: mpmath.sin(x) * mpmath.exp(y),
    "log(1 + x^2 + y^2)": lambda x, y: mpmath.log(1 + x**2 + y**2),
    "atan(x*y) + cosh(x)/(1 + y^2)": lambda x, y: mpmath.atan(x * y) + mpmath.cosh(x) / (1 + y**2),
    "x^3 - 3*x*y^2 + tanh(y)": lambda x, y: x**3 - 3 * x * y**2 + mpmath.tanh(y),
}
_COORDINATE = st.floats(-2.0, 2.0, allow_nan=False)


class TestCentralDifferences:
    """The symbolic gradient against central differences of the function, evaluated with mpmath at 40 digits."""

    @settings(max_examples=25, deadline=None)
    @given(st.sampled_from(sorted(SMOOTH)), _COORDINATE, _COORDINATE)
    def test_gradient(self, text: str, x: float, y: float) -> None:
        function = SMOOTH[text]
        with mpmath.workdps(40):
            h = mpmath.mpf("1e-12")
            mx, my = mpmath.mpf(x), mpmath.mpf(y)
            expected = [
                (function(mx + h, my) - function(mx - h, my)) / (2 * h),
                (function(mx, my + h) - function(mx, my - h)) / (2 * h),
            ]
        got = _values(_task("gradient", text, variables=("x", "y")), x, y)
        np.testing.assert_allclose(got, np.array(expected, dtype=float), rtol=1e-10, atol=1e-12)
