"""Optimisation runs against independent truth: contraction rates of gradient descent and the heavy ball on
quadratics (closed forms in the condition number), Newton's quadratic convergence to a closed-form minimiser, the
natural gradient (Fisher scoring) against plain gradient descent on the same maximum-likelihood fit (closed-form
MLE), and SGD's iterates against the minimiser of an expectation derived by hand."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from service.compute.errors import InvalidInput, InvalidPoint, NablaError, TooLarge
from service.compute.optimize import ModelFit, OptimizeResult, OptimizeTask
from service.compute.optimize import run as optimize
from service.compute.stochastic.model import RandomSpec

QUADRATIC = "(x^2 + {kappa}*y^2)/2"  # Hessian diag(1, kappa): m = 1, L = kappa


def run(method: str, start: Any, **fields: Any) -> OptimizeResult:
    """A run from ``start`` given as in JSON (an array or an object by name)."""
    given = tuple(start.items()) if isinstance(start, dict) else tuple(start)
    return optimize(OptimizeTask(method, given, **fields))


def points(result: OptimizeResult) -> np.ndarray:
    return np.array([it.point for it in result.trajectory])


def raises(kind: type[NablaError], method: str, start: Any, **fields: Any) -> NablaError:
    with pytest.raises(kind) as caught:
        run(method, start, **fields)
    return caught.value


class TestGradientDescent:
    @pytest.mark.parametrize("kappa", [4, 10, 100])
    def test_the_optimal_fixed_step_contracts_by_kappa_minus_one_over_kappa_plus_one(self, kappa: int) -> None:
        # Step 2/(m + L): each component is multiplied by 1 - 2/(1 + kappa) or 1 - 2 kappa/(1 + kappa), both of
        # magnitude (kappa - 1)/(kappa + 1), so the distance to the minimiser shrinks by exactly that each step.
        result = run("gradient_descent", [1, 1], function=QUADRATIC.format(kappa=kappa), learning_rate=2 / (1 + kappa))
        distances = np.linalg.norm(points(result), axis=1)
        ratios = distances[1:] / distances[:-1]
        np.testing.assert_allclose(ratios, (kappa - 1) / (kappa + 1), rtol=1e-9)
        assert result.converged
        assert result.reason == "gradient_norm"

    def test_the_step_one_over_l_contracts_by_one_minus_one_over_kappa(self) -> None:
        kappa = 10
        result = run("gradient_descent", [1, 1], function=QUADRATIC.format(kappa=kappa), learning_rate=1 / kappa)
        distances = np.linalg.norm(points(result), axis=1)
        np.testing.assert_allclose(distances[2:] / distances[1:-1], 1 - 1 / kappa, rtol=1e-9)

    def test_each_gradient_norm_is_the_closed_form_one(self) -> None:
        result = run("gradient_descent", [1, 1], function=QUADRATIC.format(kappa=3), learning_rate=0.1)
        xy = points(result)
        np.testing.assert_allclose(
            [it.gradient_norm for it in result.trajectory], np.hypot(xy[:, 0], 3 * xy[:, 1]), rtol=1e-12
        )
        np.testing.assert_allclose(
            [it.function_value for it in result.trajectory], (xy[:, 0] ** 2 + 3 * xy[:, 1] ** 2) / 2, rtol=1e-12
        )
        assert [it.iteration for it in result.trajectory] == list(range(len(result.trajectory)))

    def test_backtracking_lowers_f_at_every_step_and_finds_a_minimum_of_himmelblau(self) -> None:
        result = run(
            "gradient_descent",
            [1, 1],
            function="(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
            learning_rate=1,
            line_search="backtracking",
            tolerance=1e-8,
        )
        values = [it.function_value for it in result.trajectory]
        assert all(b < a for a, b in itertools.pairwise(values))
        assert result.converged
        np.testing.assert_allclose(result.minimum_at, [3, 2], atol=1e-8)  # f(3, 2) = 0 by hand

    def test_a_step_too_large_is_reported_as_divergence_with_a_finite_trajectory(self) -> None:
        result = run("gradient_descent", [1], function="x^2", learning_rate=1.5)  # x <- -2 x
        assert (result.converged, result.reason) == (False, "diverged")
        assert "lower learning_rate" in result.detail
        assert all(math.isfinite(it.function_value) for it in result.trajectory)
        np.testing.assert_allclose(points(result)[:, 0], (-2.0) ** np.arange(len(result.trajectory)))

    def test_a_function_unbounded_below_is_reported(self) -> None:
        result = run("gradient_descent", [1], function="-x^2", learning_rate=0.1)
        assert result.reason == "diverged"
        assert "unbounded below" in result.detail

    def test_a_step_out_of_the_domain_stops_the_run_with_the_reason(self) -> None:
        result = run("gradient_descent", [1], function="sqrt(x)", learning_rate=10)  # 1 - 10/2 = -4
        assert result.reason == "left_domain"
        assert result.detail == "the next iterate (-4) cannot be used: f is undefined or not real there"
        assert len(result.trajectory) == 1

    def test_max_iterations_and_step_size_stop_a_run(self) -> None:
        result = run("gradient_descent", [1], function="x^2", learning_rate=0.01, max_iterations=5)
        assert (result.reason, result.iterations, result.converged) == ("max_iterations", 5, False)
        stalled = run("gradient_descent", [1], function="x^4", learning_rate=1e-9, step_tolerance=1e-6)
        assert stalled.reason == "step_size"
        assert "stalled" in stalled.detail

    def test_the_minimum_is_the_lowest_iterate(self) -> None:
        result = run("gradient_descent", [1], function="x^2", learning_rate=0.25)
        assert result.minimum_value == min(it.function_value for it in result.trajectory)
        assert result.minimum_at == result.trajectory[-1].point

    def test_parameters_and_exact_starts(self) -> None:
        result = run(
            "gradient_descent", {"x": "pi/4"}, function="a*(x - 1)^2", parameters=(("a", "sqrt(4)"),), learning_rate=0.2
        )
        assert result.trajectory[0].point == (math.pi / 4,)
        np.testing.assert_allclose(result.minimum_at, [1], atol=1e-6)
        np.testing.assert_allclose(result.trajectory[1].point, [math.pi / 4 - 0.2 * 4 * (math.pi / 4 - 1)])
        error = raises(InvalidInput, "gradient_descent", [0], function="a*x^2", parameters=(("a", "b"),))
        assert error.errors[0].loc == ("body", "parameters", "a")


class TestNewton:
    def test_converges_quadratically_to_log_2(self) -> None:
        # f = exp(x) - 2x: minimiser log 2; e_{k+1} / e_k^2 -> f'''/(2 f'') = 1/2 there.
        result = run("newton", [1], function="exp(x) - 2*x", tolerance=1e-14)
        errors = np.abs(points(result)[:, 0] - math.log(2))
        errors = errors[errors > 1e-12]
        assert len(errors) >= 3
        np.testing.assert_allclose(errors[-1] / errors[-2] ** 2, 0.5, rtol=1e-2)
        assert result.converged

    def test_one_step_minimises_a_quadratic(self) -> None:
        a = np.array([[3.0, 1.0], [1.0, 2.0]])
        b = np.array([1.0, -1.0])
        result = run("newton", [5, 5], function="(3*x^2 + 2*x*y + 2*y^2)/2 - x + y")
        np.testing.assert_allclose(result.trajectory[1].point, np.linalg.solve(a, b), rtol=1e-12)
        assert result.iterations == 1

    def test_the_safeguard_steps_away_from_a_saddle_to_a_minimum(self) -> None:
        # H = diag(2, 3y^2 - 2) is indefinite at y = 0.5; the minima are (0, +-sqrt 2), the saddle (0, 0).
        result = run("newton", [1, 0.5], function="x^2 - y^2 + y^4/4")
        np.testing.assert_allclose(result.minimum_at, [0, math.sqrt(2)], atol=1e-9)
        assert result.warnings[0].code == "hessian_modified"
        assert "not positive definite at" in result.warnings[0].detail
        values = [it.function_value for it in result.trajectory]
        assert all(b < a for a, b in itertools.pairwise(values))

    def test_rosenbrock_with_backtracking(self) -> None:
        result = run(
            "newton", [-1.2, 1], function="(1 - x)^2 + 100*(y - x^2)^2", line_search="backtracking", tolerance=1e-10
        )
        assert result.converged
        assert result.iterations < 40
        errors = np.linalg.norm(points(result) - [1, 1], axis=1)
        tail = errors[errors > 1e-13][-4:]  # measured: 9.2e-3, 1.2e-3, 2.7e-6, 1.4e-10
        assert np.all(tail[1:] / tail[:-1] ** 2 < 50)  # quadratic at the end: e_{k+1} <= C e_k^2


class TestMomentumNesterovAdam:
    def test_the_heavy_ball_with_optimal_parameters_contracts_by_root_kappa_ratio(self) -> None:
        kappa = 100
        rate = 4 / (1 + math.sqrt(kappa)) ** 2
        beta = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
        result = run(
            "momentum",
            [1, 1],
            function=QUADRATIC.format(kappa=kappa),
            learning_rate=rate,
            momentum=beta,
            tolerance=1e-12,
        )
        distances = np.linalg.norm(points(result), axis=1)
        k = len(distances) - 1
        measured = (distances[k] / distances[k - 20]) ** (1 / 20)
        np.testing.assert_allclose(measured, (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1), rtol=0.02)
        plain = run(
            "gradient_descent",
            [1, 1],
            function=QUADRATIC.format(kappa=kappa),
            learning_rate=2 / (1 + kappa),
            tolerance=1e-12,
            max_iterations=10_000,
        )
        assert result.iterations < plain.iterations / 4

    def test_nesterov_needs_fewer_steps_than_gradient_descent(self) -> None:
        kappa = 100
        beta = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
        f = QUADRATIC.format(kappa=kappa)
        fast = run("nesterov", [1, 1], function=f, learning_rate=1 / kappa, momentum=beta, max_iterations=5000)
        slow = run("gradient_descent", [1, 1], function=f, learning_rate=1 / kappa, max_iterations=5000)
        assert fast.converged
        assert slow.converged
        assert fast.iterations < slow.iterations / 3
        assert fast.warnings[0].code == "not_monotone"

    def test_adam_reaches_a_badly_scaled_minimum(self) -> None:
        result = run(
            "adam",
            [3, -2],
            function="(x - 1)^2 + 1000*(y + 0.5)^2",
            learning_rate=0.05,
            max_iterations=5000,
            tolerance=1e-6,
        )
        np.testing.assert_allclose(result.minimum_at, [1, -0.5], atol=1e-4)


def normal_data() -> tuple[float, ...]:
    return tuple(np.random.default_rng(1).normal(3, 2, 200))


class TestNaturalGradient:
    def test_fisher_scoring_takes_fewer_steps_than_gradient_descent_on_the_same_fit(self) -> None:
        data = normal_data()
        mle = [np.mean(data), np.std(data)]  # the closed-form MLE: mean and the 1/n standard deviation
        natural = run("natural_gradient", [0, 1], model=ModelFit("normal", data), learning_rate=1)
        plain = run(
            "gradient_descent",
            [0, 1],
            model=ModelFit("normal", data),
            learning_rate=1,
            line_search="backtracking",
            max_iterations=5000,
        )
        assert natural.converged
        assert plain.converged
        np.testing.assert_allclose(natural.minimum_at, mle, rtol=1e-8)
        np.testing.assert_allclose(plain.minimum_at, mle, rtol=1e-6)
        assert natural.iterations * 5 < plain.iterations
        assert natural.variables == ("mu", "sigma")

    def test_fisher_scoring_fits_a_poisson_in_one_step(self) -> None:
        # score n (xbar/lam - 1), information n/lam: lam + lam (xbar/lam - 1) = xbar.
        data = (0.0, 2.0, 3.0, 1.0, 4.0, 2.0)
        result = run("natural_gradient", [7], model=ModelFit("poisson", data))
        np.testing.assert_allclose(result.trajectory[1].point, [np.mean(data)], rtol=1e-12)
        assert result.converged

    def test_the_negative_log_likelihood_is_scipys(self) -> None:
        from scipy import stats

        data = normal_data()
        result = run("natural_gradient", [0, 1], model=ModelFit("normal", data), max_iterations=3)
        for it in result.trajectory:
            mu, sigma = it.point
            np.testing.assert_allclose(it.function_value, -stats.norm(mu, sigma).logpdf(data).sum(), rtol=1e-12)

    def test_a_step_out_of_the_parameter_space_is_halved(self) -> None:
        data = tuple(np.random.default_rng(2).gamma(3, 2, 300))
        result = run(
            "natural_gradient", {"shape": 1, "rate": 1}, model=ModelFit("gamma", data), variables=("shape", "rate")
        )
        assert result.converged
        assert all(v > 0 for it in result.trajectory for v in it.point)

    def test_binomial_n_is_fixed_in_parameters(self) -> None:
        data = (3.0, 5.0, 4.0, 6.0)
        result = run("natural_gradient", [0.2], model=ModelFit("binomial", data), parameters=(("n", 10.0),))
        np.testing.assert_allclose(result.minimum_at, [np.mean(data) / 10], rtol=1e-9)
        error = raises(InvalidInput, "natural_gradient", [0.5], model=ModelFit("binomial", data), variables=("n", "p"))
        assert error.detail.startswith("binomial's 'n' is a whole number, not a parameter to fit")

    def test_a_plain_function_has_no_fisher_metric(self) -> None:
        error = raises(InvalidInput, "natural_gradient", [1], function="x^2")
        assert error.detail.startswith("natural_gradient needs 'model' {family, data}")
        assert error.errors[0].loc == ("body", "method")

    def test_uniform_is_refused(self) -> None:
        error = raises(InvalidInput, "natural_gradient", [0, 1], model=ModelFit("uniform", (0.5,)))
        assert "not a regular model" in error.detail


def sgd(
    function: str, random: dict[str, tuple[str, dict[str, Any]]], start: Any, seed: int = 7, **fields: Any
) -> OptimizeResult:
    specs = tuple(RandomSpec(name, family, tuple(params.items())) for name, (family, params) in random.items())
    return run("sgd", start, function=function, random=specs, samples=fields.pop("samples", 1000), seed=seed, **fields)


class TestSGD:
    def test_pathwise_iterates_approach_the_mean(self) -> None:
        # E[(theta - X)^2] = (theta - 2)^2 + 1 for X ~ N(2, 1): minimiser 2, minimum 1.
        result = sgd("(theta - X)^2", {"X": ("normal", {"mu": 2, "sigma": 1})}, [0], max_iterations=200)
        tail = points(result)[100:, 0]
        assert np.max(np.abs(tail - 2)) < 0.1
        assert abs(result.minimum_at[0] - 2) < 0.02
        assert abs(result.minimum_value - 1) < 0.1
        assert result.reason == "max_iterations"

    def test_score_function_iterates_approach_the_minimiser(self) -> None:
        # X ~ Poisson(theta): E[(X - 3)^2] = theta + (theta - 3)^2, minimised at theta = 2.5 (no pathwise form).
        result = sgd(
            "(X - 3)^2", {"X": ("poisson", {"lam": "theta"})}, [1], samples=2000, max_iterations=300, learning_rate=0.1
        )
        assert abs(result.minimum_at[0] - 2.5) < 0.05

    @pytest.mark.parametrize("estimator", ["measure_valued", "score"])
    def test_a_coupled_discrete_law(self, estimator: str) -> None:
        # X ~ Binomial(10, sigmoid(t)): E[(X - 3)^2] = 10p(1 - p) + (10p - 3)^2, so dE/dp = 180p - 50 vanishes at
        # p = 5/18, that is t = log(p/(1 - p)) = log(5/13).
        law = {"X": ("binomial", {"n": 10, "p": "sigmoid(t)"})}
        result = sgd("(X - 3)^2", law, [0], samples=2000, max_iterations=300, learning_rate=0.05, estimator=estimator)
        assert abs(result.minimum_at[0] - math.log(5 / 13)) < 0.1

    def test_a_seed_reproduces_the_run(self) -> None:
        law = {"X": ("normal", {"mu": 2, "sigma": 1})}
        first = sgd("(theta - X)^2", law, [0], seed=3, max_iterations=20)
        again = sgd("(theta - X)^2", law, [0], seed=3, max_iterations=20)
        other = sgd("(theta - X)^2", law, [0], seed=4, max_iterations=20)
        assert first == again
        assert first.trajectory != other.trajectory
        assert first.seed == 3

    def test_a_law_left_invalid_stops_the_run(self) -> None:
        result = sgd("X^2", {"X": ("normal", {"mu": 0, "sigma": "s"})}, [0.5], learning_rate=1, max_iterations=10)
        assert result.reason == "left_domain"
        assert "is not a valid normal" in result.detail

    def test_sgd_needs_random(self) -> None:
        error = raises(InvalidInput, "sgd", [0], function="x^2")
        assert error.detail == "sgd needs 'random' (the random variables of f) and 'samples'"


class TestValidation:
    def test_function_or_model_exactly_one(self) -> None:
        error = raises(InvalidInput, "newton", [0])
        assert error.detail == (
            "give either 'function' (a function to minimise) or 'model' (data to fit), exactly one of them; got neither"
        )

    def test_line_search_only_where_it_applies(self) -> None:
        error = raises(InvalidInput, "adam", [0], function="x^2", line_search="backtracking")
        assert error.detail.startswith("line_search 'backtracking' is for gradient_descent, newton, natural_gradient")

    def test_iterations_are_bounded(self) -> None:
        error = raises(TooLarge, "adam", [0], function="x^2", max_iterations=10_001)
        assert error.detail == "max_iterations is 10001; it must be between 0 and 10000 (NABLA_MAX_OPTIMIZE_ITERATIONS)"

    def test_a_start_where_f_is_undefined(self) -> None:
        error = raises(InvalidPoint, "gradient_descent", [-1], function="log(x)")
        assert error.detail == "the run cannot start at (-1): f is undefined or not real there; choose another start"
        assert error.errors[0].loc == ("body", "start")

    def test_a_start_of_the_wrong_size(self) -> None:
        error = raises(InvalidInput, "gradient_descent", [1, 2, 3], function="x*y")
        assert "has 3 values but there are 2 variables (x, y)" in error.detail

    def test_no_variables(self) -> None:
        error = raises(InvalidInput, "gradient_descent", [], function="2")
        assert error.detail.startswith("the function has no variables to optimise")

    def test_an_unknown_method(self) -> None:
        error = raises(InvalidInput, "lbfgs", [0], function="x^2")
        assert error.detail.startswith("'lbfgs' is not a method; use one of gradient_descent, momentum")


class TestStops:
    def test_nesterov_stops_when_its_look_ahead_leaves_the_domain(self) -> None:
        # g(1) = 1/2: velocity -1.6/2 = -0.8 and x = 0.2; the next look-ahead is 0.2 + 0.9 * -0.8 = -0.52.
        result = run("nesterov", [1], function="sqrt(x)", learning_rate=1.6, momentum=0.9)
        assert result.reason == "left_domain"
        assert "at the look-ahead point (-0.52): f is undefined or not real there" in result.detail

    def test_sgd_needs_two_draws(self) -> None:
        error = raises(
            InvalidInput,
            "sgd",
            [0],
            function="(t - X)^2",
            random=(RandomSpec("X", "normal", (("mu", 0), ("sigma", 1))),),
            samples=1,
        )
        assert error.detail == "samples is 1; sgd needs at least 2 draws per step (the estimators' baseline)"

    def test_a_spent_time_budget_returns_the_trajectory_so_far(self) -> None:
        result = run("gradient_descent", [1], function="x^2", learning_rate=1e-6, max_iterations=10_000, time_budget=0)
        assert result.reason == "time_budget"
        assert 1 <= len(result.trajectory) < 10_001
        assert result.detail.startswith("the run's time budget of 0 s was spent after")


def test_a_result_pickles_for_the_way_back_from_a_worker() -> None:
    import pickle

    result = run("newton", [1], function="exp(x) - 2*x")
    assert pickle.loads(pickle.dumps(result)) == result
