"""Compiled evaluation: statuses at singular points, one-sided limits at kinks, batches, and MPFR refinement."""

from __future__ import annotations

import math
from collections.abc import Sequence

import mpmath
import numpy as np
import pytest

from service.compute.calculus import CalculusResult, CalculusTask, run
from service.compute.numeric import STATUS_DETAIL, Evaluation, Evaluator, compile_evaluator, refine


def _compile(operation: str, *functions: str, variables: tuple[str, ...] | None = None) -> Evaluator:
    result: CalculusResult = run(CalculusTask(operation, functions, variables, ()))
    return compile_evaluator(
        result.variables + result.parameters, result.functions, [d.expr for d in result.derivatives]
    )


def _at(operation: str, text: str, points: Sequence[Sequence[float]]) -> Evaluation:
    return _compile(operation, text).evaluate(np.array(points, dtype=float))


def _statuses(evaluation: Evaluation) -> list[str]:
    return [evaluation.status_of(i) for i in range(len(evaluation.status))]


class TestStatuses:
    def test_log_outside_its_domain(self) -> None:
        evaluation = _at("derivative", "log(x)", [[-1.0], [1.0]])
        assert _statuses(evaluation) == ["domain_error", "ok"]
        assert math.isnan(evaluation.values[0, 0])
        assert evaluation.values[1, 0] == 1.0

    def test_pole(self) -> None:
        evaluation = _at("derivative", "1/x", [[0.0], [2.0]])
        assert _statuses(evaluation) == ["non_finite", "ok"]
        assert math.isnan(evaluation.values[0, 0])
        assert evaluation.values[1, 0] == -0.25

    def test_overflow_is_non_finite(self) -> None:
        assert _statuses(_at("derivative", "exp(x)", [[1000.0]])) == ["non_finite"]
        assert _statuses(_at("gradient", "x*y", [[1e200, 1e200]])) == ["non_finite"]

    def test_kink(self) -> None:
        evaluation = _at("derivative", "abs(x)", [[0.0], [-2.0], [3.0]])
        assert _statuses(evaluation) == ["non_differentiable", "ok", "ok"]
        assert math.isnan(evaluation.values[0, 0])
        assert evaluation.values[1:, 0].tolist() == [-1.0, 1.0]
        assert evaluation.functions[0, 0] == 0.0  # the function itself is fine there

    @pytest.mark.parametrize("text", ["abs(x)^3", "x*abs(x)"])
    def test_smooth_despite_abs(self, text: str) -> None:
        evaluation = _at("derivative", text, [[0.0]])
        assert _statuses(evaluation) == ["ok"]
        assert evaluation.values[0, 0] == 0.0

    @pytest.mark.parametrize("text", ["sqrt(x)", "x^(1/3)", "cbrt(x)"])
    def test_infinite_slope(self, text: str) -> None:
        evaluation = _at("derivative", text, [[0.0]])
        assert _statuses(evaluation) == ["non_differentiable"]
        assert math.isnan(evaluation.values[0, 0])

    def test_cbrt_of_a_negative_number_is_real(self) -> None:
        evaluation = _at("derivative", "cbrt(x)", [[-8.0]])
        assert _statuses(evaluation) == ["ok"]
        assert evaluation.values[0, 0] == pytest.approx(1 / 12, rel=1e-15)

    def test_principal_root_of_a_negative_number_is_not_real(self) -> None:
        assert _statuses(_at("derivative", "x^(1/3)", [[-8.0]])) == ["domain_error"]

    @pytest.mark.parametrize("text", ["max(x, y)", "min(x, y)"])
    def test_max_and_min_on_the_diagonal(self, text: str) -> None:
        evaluation = _at("gradient", text, [[1.0, 1.0], [1.0, 2.0], [3.0, 1.0]])
        assert _statuses(evaluation) == ["non_differentiable", "ok", "ok"]
        assert np.isnan(evaluation.values[0]).all()
        expected = [[0.0, 1.0], [1.0, 0.0]] if text.startswith("max") else [[1.0, 0.0], [0.0, 1.0]]
        assert evaluation.values[1:].tolist() == expected

    def test_sign_jump(self) -> None:
        assert _statuses(_at("derivative", "sign(x)", [[0.0], [0.5]])) == ["non_differentiable", "ok"]

    def test_loggamma_is_real_only_for_positive_arguments(self) -> None:
        evaluation = _at("derivative", "loggamma(x)", [[-0.5], [2.0]])
        assert _statuses(evaluation) == ["domain_error", "ok"]
        assert evaluation.values[1, 0] == pytest.approx(1 - np.euler_gamma, rel=1e-14)

    @pytest.mark.parametrize("pole", [0.0, -1.0, -2.0])
    def test_gamma_poles_are_infinite(self, pole: float) -> None:
        evaluation = _at("derivative", "gamma(x)", [[pole], [2.5]])
        assert _statuses(evaluation) == ["non_finite", "ok"]
        assert evaluation.values[1, 0] == pytest.approx(float(mpmath.gamma(2.5) * mpmath.digamma(2.5)), rel=1e-13)

    def test_worst_status_of_several_functions_wins(self) -> None:
        evaluation = _compile("jacobian", "1/x", "log(x)").evaluate(np.array([[-1.0], [0.0]]))
        assert _statuses(evaluation) == ["domain_error", "non_finite"]
        assert np.isnan(evaluation.values).all()

    def test_problems_report(self) -> None:
        evaluation = _at("derivative", "log(x)", [[1.0], [-1.0], [0.0], [-2.0]])
        listed, counts = evaluation.problems(2)
        assert listed == [
            {"point": 1, "status": "domain_error", "detail": STATUS_DETAIL["domain_error"]},
            {"point": 2, "status": "non_finite", "detail": STATUS_DETAIL["non_finite"]},
        ]
        assert counts == {"ok": 1, "domain_error": 2, "non_finite": 1}


class TestKernels:
    def test_repeated_entries_share_a_column(self) -> None:
        evaluator = _compile("hessian", "x^2*y^3")
        assert evaluator.index.tolist() == [0, 1, 1, 2]
        values = evaluator.evaluate(np.array([[1.0, 2.0]])).values
        assert values.tolist() == [[16.0, 24.0, 24.0, 12.0]]

    def test_mixed_engines(self) -> None:
        evaluator = _compile("jacobian", "x^2", "abs(x)")
        evaluation = evaluator.evaluate(np.array([[-3.0], [0.0]]))
        assert evaluation.functions.tolist() == [[9.0, 3.0], [0.0, 0.0]]
        assert evaluation.values[0].tolist() == [-6.0, -1.0]
        assert _statuses(evaluation) == ["ok", "non_differentiable"]

    @pytest.mark.parametrize("text", ["sin(x)*exp(y) + atan2(y, x)", "abs(x - y)*loggamma(2 + y^2)"])
    def test_large_batch_matches_point_by_point(self, text: str) -> None:
        evaluator = _compile("gradient", text)
        points = np.random.default_rng(7).uniform(-3, 3, size=(600, 2))
        batch = evaluator.evaluate(points)
        single = [evaluator.evaluate(points[i : i + 1]) for i in range(0, 600, 37)]
        np.testing.assert_allclose(batch.values[::37], np.vstack([s.values for s in single]), rtol=1e-14)
        assert batch.status[::37].tolist() == [int(s.status[0]) for s in single]

    def test_inputs_include_parameters(self) -> None:
        result = run(CalculusTask("derivative", ("a*x^2",), ("x",), ("a",)))
        evaluator = compile_evaluator(("x", "a"), result.functions, [d.expr for d in result.derivatives])
        assert evaluator.evaluate(np.array([[3.0, 0.5], [1.0, 2.0]])).values.tolist() == [[3.0], [4.0]]


class TestPiecewiseAgainstCentralDifferences:
    """Away from their kinks, piecewise functions (SymPy kernels with sided steps) agree with central differences."""

    @pytest.mark.parametrize(
        "text", ["max(x, y, x*y)", "min(x, y, 2)", "max(abs(x), y^2)", "abs(x)*sign(y)", "min(sin(x), cos(y))"]
    )
    def test_gradient(self, text: str) -> None:
        evaluator = _compile("gradient", text, variables=("x", "y"))
        points = np.random.default_rng(11).uniform(-3, 3, size=(200, 2))
        evaluation = evaluator.evaluate(points)
        assert (evaluation.status == 0).all()  # random points miss the kinks

        def f(p: np.ndarray) -> np.ndarray:
            return evaluator.evaluate(p).functions[:, 0]

        h = 1e-6
        steps = np.eye(2) * h
        differences = np.stack([(f(points + s) - f(points - s)) / (2 * h) for s in steps], axis=1)
        np.testing.assert_allclose(evaluation.values, differences, rtol=0, atol=1e-7)


class TestRefine:
    def test_overflowing_derivative_is_non_finite(self) -> None:
        # exp(x^2/2) is finite at x = 37.6 but its derivative x*exp(x^2/2) exceeds float64.
        evaluator = _compile("derivative", "exp(x^2/2)")
        points = np.array([[37.6], [1.0]])
        evaluation = evaluator.evaluate(points)
        assert _statuses(evaluation) == ["non_differentiable", "ok"]
        assert _statuses(refine(evaluator, points, evaluation, 10)) == ["non_finite", "ok"]
        assert refine(evaluator, points, evaluation, 0) is evaluation

    def test_true_singularities_stay(self) -> None:
        evaluator = _compile("derivative", "sqrt(x)")
        points = np.array([[0.0], [-1.0]])
        evaluation = evaluator.evaluate(points)
        assert _statuses(refine(evaluator, points, evaluation, 10)) == ["non_differentiable", "domain_error"]
