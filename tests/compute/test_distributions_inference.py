"""Likelihood inference: the score and the observed information against central differences of SciPy's log
density; the Fisher information against textbook closed forms, the variance of the score and minus the mean Hessian
over a large simulated sample; the score's mean zero under the model; maximum likelihood within a few standard errors
of the truth (fixed seeds), and every refusal with its message."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import special

from service.compute.distributions.fit import fit
from service.compute.distributions.inference import derive, hessian_sum, infer, naming, score_sum
from service.compute.distributions.statistics import Law, prepare
from service.compute.errors import InvalidInput

psi1 = lambda t: special.polygamma(1, t)  # noqa: E731  (a one-line alias read like the formula it stands in)

# (family, parameters as a client writes them, textbook Fisher information per observation in those parameters)
FISHER: list[tuple[str, dict[str, float], Callable[..., list[list[float]]]]] = [
    ("normal", {"mu": 1.0, "sigma": 2.0}, lambda mu, s: [[1 / s**2, 0], [0, 2 / s**2]]),
    ("bernoulli", {"p": 0.3}, lambda p: [[1 / (p * (1 - p))]]),
    ("binomial", {"n": 12, "p": 0.3}, lambda n, p: [[n / (p * (1 - p))]]),
    ("poisson", {"lam": 4.0}, lambda lam: [[1 / lam]]),
    ("geometric", {"p": 0.3}, lambda p: [[1 / (p**2 * (1 - p))]]),
    (
        "student_t",
        {"df": 5.0},
        lambda v: [[(psi1(v / 2) - psi1((v + 1) / 2)) / 4 - (v + 5) / (2 * v * (v + 1) * (v + 3))]],
    ),
    ("chi2", {"df": 3.0}, lambda k: [[psi1(k / 2) / 4]]),
    ("exponential", {"rate": 2.0}, lambda r: [[1 / r**2]]),
    ("exponential", {"scale": 0.5}, lambda s: [[1 / s**2]]),
    ("gamma", {"shape": 2.5, "scale": 1.5}, lambda k, t: [[psi1(k), 1 / t], [1 / t, k / t**2]]),
    ("gamma", {"shape": 2.5, "rate": 2.0}, lambda k, b: [[psi1(k), -1 / b], [-1 / b, k / b**2]]),
    (
        "beta",
        {"alpha": 2.0, "beta": 3.0},
        lambda a, b: [[psi1(a) - psi1(a + b), -psi1(a + b)], [-psi1(a + b), psi1(b) - psi1(a + b)]],
    ),
    ("f", {"dfn": 5.0, "dfd": 12.0}, lambda d1, d2: []),  # no textbook form: checked by simulation only
]
IDS = [f"{name}-{'-'.join(params)}" for name, params, _ in FISHER]


def log_likelihood(law: Law, data: np.ndarray, **changes: float) -> float:
    """SciPy's log-likelihood with some parameters changed (an independent oracle for the derivatives)."""
    moved = prepare(law.family.name, law.given | changes)
    rv = moved.frozen()
    return float(np.sum(rv.logpmf(data) if law.family.discrete else rv.logpdf(data)))


def simulate(law: Law, size: int, seed: int = 20261122) -> np.ndarray:
    return law.family.sample(np.random.default_rng(seed), law.canonical, size)


class TestDerivatives:
    @pytest.mark.parametrize(("name", "params", "textbook"), FISHER, ids=IDS)
    def test_score_and_observed_information_match_central_differences(
        self, name: str, params: dict[str, float], textbook: object
    ) -> None:
        law = prepare(name, params)
        data = simulate(law, 50)
        result = infer(law, data)
        free = result.parameters
        h = {n: 1e-5 * max(1.0, abs(law.given[n])) for n in free}
        for i, a in enumerate(free):
            up, down = (
                log_likelihood(law, data, **{a: law.given[a] + h[a]}),
                log_likelihood(law, data, **{a: law.given[a] - h[a]}),
            )
            assert result.score is not None
            assert result.score[i] == pytest.approx((up - down) / (2 * h[a]), rel=1e-5, abs=1e-5)
            for j, b in enumerate(free):
                second = _mixed(law, data, a, b, h)
                assert result.observed_information is not None
                assert result.observed_information[i][j] == pytest.approx(-second, rel=1e-4, abs=1e-4)

    @pytest.mark.parametrize(("name", "params", "textbook"), [f for f in FISHER if f[0] != "f"], ids=IDS[:-1])
    def test_fisher_information_is_the_textbook_one(
        self, name: str, params: dict[str, float], textbook: Callable[..., list[list[float]]]
    ) -> None:
        law = prepare(name, params)
        result = infer(law, np.array([simulate(law, 1)[0]]))
        expected = textbook(*law.given.values())
        np.testing.assert_allclose(np.array(result.fisher_per_observation, dtype=float), expected, rtol=1e-7)

    @pytest.mark.parametrize(("name", "params", "textbook"), FISHER, ids=IDS)
    def test_score_has_mean_zero_and_variance_the_fisher_information(
        self, name: str, params: dict[str, float], textbook: object
    ) -> None:
        law = prepare(name, params)
        data = simulate(law, 400_000)
        derived = derive(law.family, naming(law))
        values = [law.given[n] for n in derived.names]
        scores = np.array([np.broadcast_to(g(data, *values), data.shape) for g in derived.score])
        fisher = np.array(infer(law, data[:1]).fisher_per_observation, dtype=float)
        n = data.size
        # The mean of the score is within 5 standard errors of 0; its covariance and minus the mean Hessian are the
        # Fisher information to within sampling error (a few percent at this size).
        standard_error = np.sqrt(np.diag(fisher) / n)
        assert np.all(np.abs(scores.mean(axis=1)) < 5 * standard_error)
        np.testing.assert_allclose(np.cov(scores), fisher, rtol=0.05, atol=0.02 * np.abs(fisher).max())
        mean_hessian = hessian_sum(derived, data, values) / n
        np.testing.assert_allclose(-mean_hessian, fisher, rtol=0.05, atol=0.02 * np.abs(fisher).max())

    def test_sample_information_is_n_times_per_observation(self) -> None:
        law = prepare("gamma", {"shape": 2.0, "rate": 1.0})
        result = infer(law, simulate(law, 7))
        np.testing.assert_allclose(
            np.array(result.fisher_sample, dtype=float), 7 * np.array(result.fisher_per_observation, dtype=float)
        )
        assert result.parameters == ("shape", "rate")

    def test_log_likelihood_is_the_sum_of_the_log_densities(self) -> None:
        law = prepare("poisson", {"lam": 3.0})
        data = np.array([0.0, 2.0, 5.0])
        expected = sum(-3.0 + k * np.log(3.0) - special.gammaln(k + 1) for k in data)
        assert infer(law, data).log_likelihood == pytest.approx(expected, rel=1e-14)

    def test_score_sum_is_the_derivative_of_the_sum(self) -> None:
        law = prepare("normal", {"mu": 0.0, "sigma": 1.0})
        data = np.array([1.0, 2.0, -0.5])
        derived = derive(law.family, ("mu", "sigma"))
        np.testing.assert_allclose(score_sum(derived, data, [0.0, 1.0]), [2.5, np.sum(data**2) - 3])


def _mixed(law: Law, data: np.ndarray, a: str, b: str, h: dict[str, float]) -> float:
    def at(da: float, db: float) -> float:
        changes = {a: law.given[a] + da}
        changes[b] = changes.get(b, law.given[b]) + db
        return log_likelihood(law, data, **changes)

    return (at(h[a], h[b]) - at(h[a], -h[b]) - at(-h[a], h[b]) + at(-h[a], -h[b])) / (4 * h[a] * h[b])


class TestNotDefined:
    def test_uniform_is_irregular(self) -> None:
        result = infer(prepare("uniform", {"a": 0, "b": 2}), np.array([0.5, 1.5]))
        assert result.log_likelihood == pytest.approx(2 * np.log(0.5))
        assert result.score is None
        assert result.notes["score"].startswith("uniform is not a regular model: the support [a, b] moves")

    def test_data_of_probability_zero(self) -> None:
        result = infer(prepare("binomial", {"n": 3, "p": 0.5}), np.array([1.0, 4.0]))
        assert result.log_likelihood is None
        assert result.notes["log_likelihood"].startswith("the log-likelihood is -infinity")

    def test_binomial_n_is_a_known_constant(self) -> None:
        assert infer(prepare("binomial", {"n": 3, "p": 0.5}), np.array([1.0])).parameters == ("p",)

    @pytest.mark.parametrize(
        ("name", "params", "data", "message"),
        [
            ("poisson", {"lam": 1}, [1, 2.5],
             "data[1] = 2.5 cannot be an observation of poisson: it needs x an integer >= 0"),
            ("bernoulli", {"p": 0.5}, [2],
             "data[0] = 2 cannot be an observation of bernoulli: it needs x is 0 or 1"),
            ("gamma", {"shape": 1, "scale": 1}, [1, 0],
             "data[1] = 0 cannot be an observation of gamma: it needs x > 0"),
            ("geometric", {"p": 0.5}, [0],
             "data[0] = 0 cannot be an observation of geometric: it needs x an integer >= 1"),
            ("normal", {"mu": 0, "sigma": 1}, [], "'data' is empty: give at least one observation"),
        ],
    )  # fmt: skip
    def test_impossible_observations_are_refused(
        self, name: str, params: dict[str, float], data: list[float], message: str
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            infer(prepare(name, params), np.array(data, dtype=float))
        assert str(caught.value) == message


# (family, true parameters as a client writes them, fixed, parameterization)
TRUTHS: list[tuple[str, dict[str, float], dict[str, float], str | None]] = [
    ("normal", {"mu": 1.5, "sigma": 2.0}, {}, None),
    ("bernoulli", {"p": 0.3}, {}, None),
    ("binomial", {"n": 12, "p": 0.3}, {"n": 12}, None),
    ("poisson", {"lam": 4.0}, {}, None),
    ("geometric", {"p": 0.3}, {}, None),
    ("student_t", {"df": 5.0}, {}, None),
    ("chi2", {"df": 3.0}, {}, None),
    ("exponential", {"rate": 2.0}, {}, "rate"),
    ("exponential", {"scale": 0.5}, {}, None),
    ("gamma", {"shape": 2.5, "scale": 1.5}, {}, None),
    ("gamma", {"shape": 2.5, "rate": 2.0}, {}, "rate"),
    ("gamma", {"shape": 2.5, "rate": 2.0}, {"shape": 2.5}, "rate"),
    ("beta", {"alpha": 2.0, "beta": 3.0}, {}, None),
    ("f", {"dfn": 5.0, "dfd": 12.0}, {}, None),
    ("normal", {"mu": 1.5, "sigma": 2.0}, {"mu": 1.5}, None),
]


class TestFit:
    @pytest.mark.parametrize(("name", "truth", "fixed", "parameterization"), TRUTHS)
    def test_estimate_lands_within_a_few_standard_errors_of_the_truth(
        self, name: str, truth: dict[str, float], fixed: dict[str, float], parameterization: str | None
    ) -> None:
        law = prepare(name, truth)
        result = fit(name, simulate(law, 5_000), fixed, parameterization)
        assert set(result.estimate) == set(truth)
        for parameter in result.estimated:
            se = result.standard_errors[parameter]
            assert se is not None
            assert abs(result.estimate[parameter] - truth[parameter]) < 4 * se, parameter
            low, high = result.low[parameter], result.high[parameter]
            assert low is not None
            assert high is not None
            assert high - low == pytest.approx(2 * 1.959963984540054 * se)
        index = [result.inference.parameters.index(p) for p in result.estimated]
        score = np.array(result.inference.score, dtype=float)[index]
        information = np.array(result.inference.fisher_sample, dtype=float)[np.ix_(index, index)]
        # At the maximum the score vanishes: a Newton step from there is negligible against the standard errors.
        step = np.linalg.solve(information, score)
        assert np.all(np.abs(step) < 1e-6 * np.sqrt(np.diag(np.linalg.inv(information))) + 1e-12)

    def test_closed_forms_are_the_textbook_estimators(self) -> None:
        data = np.array([1.0, 2.0, 4.0, 9.0])
        normal = fit("normal", data, {})
        assert normal.estimate == pytest.approx({"mu": 4.0, "sigma": np.sqrt(np.mean((data - 4) ** 2))})
        assert normal.method == "closed form"
        assert normal.standard_errors["mu"] == pytest.approx(normal.estimate["sigma"] / 2)
        assert fit("exponential", data, {}, "rate").estimate == pytest.approx({"rate": 0.25})
        assert fit("geometric", data, {}).estimate == pytest.approx({"p": 0.25})

    def test_numeric_estimate_solves_the_likelihood_equations(self) -> None:
        # Gamma with known shape k: the MLE of the rate is k / mean(x), exactly.
        data = np.array([0.5, 1.5, 2.0, 3.5, 0.7])
        result = fit("gamma", data, {"shape": 3.0}, "rate")
        assert result.estimate["rate"] == pytest.approx(3.0 / data.mean(), rel=1e-10)
        assert result.method == "newton"

    def test_estimate_on_the_boundary_has_no_standard_error(self) -> None:
        result = fit("bernoulli", np.zeros(5), {})
        assert result.estimate == {"p": 0.0}
        assert result.standard_errors == {"p": None}
        assert "standard_errors" in result.notes

    def test_uniform_is_fitted_without_standard_errors(self) -> None:
        result = fit("uniform", np.array([0.2, 0.9, 0.4]), {})
        assert result.estimate == {"a": 0.2, "b": 0.9}
        assert result.standard_errors == {"a": None, "b": None}
        assert result.notes["standard_errors"].startswith("uniform is not a regular model")

    @pytest.mark.parametrize(
        ("name", "data", "fixed", "parameterization", "loc", "message"),
        [
            ("binomial", [1, 2], {}, None, ("fixed", "n"),
             "binomial needs 'n' in 'fixed': an integer parameter is known, not estimated"),
            ("binomial", [1, 9], {"n": 8}, None, ("data", 1),
             "data[1] = 9 is more than n = 8 trials: binomial needs 0 <= x <= n"),
            ("poisson", [0, 0, 0], {}, None, ("data",),
             "the likelihood of poisson is largest at lam = 0, outside lam > 0: every observation is 0"),
            ("normal", [2, 2], {}, None, ("data",),
             "the likelihood of normal is largest at sigma = 0, outside sigma > 0: every observation is 2"),
            ("normal", [1, 2], {"sd": 1}, None, ("fixed", "sd"),
             "'sd' is not a parameter of normal in this fit; its parameters are mu, sigma"),
            ("normal", [1, 2], {"sigma": -1}, None, ("fixed", "sigma"), "normal needs sigma > 0, got sigma = -1.0"),
            ("normal", [1, 2], {"mu": 0, "sigma": 1}, None, ("fixed",),
             "every parameter is fixed: leave at least one out of 'fixed'"),
            ("normal", [1, 2], {}, "rate", ("parameterization",),
             "normal has no parameterization 'rate'; it has only one: leave 'parameterization' out"),
            ("gamma", [1, 2], {}, "shape", ("parameterization",),
             "gamma has no parameterization 'shape'; it takes rate or scale"),
            ("uniform", [1, 2], {"a": 1.5}, None, ("data",),
             "the data lie outside [a, b] = [1.5, 2]: uniform needs a <= x <= b"),
        ],
    )  # fmt: skip
    def test_refusals_name_the_problem(
        self,
        name: str,
        data: list[float],
        fixed: dict[str, float],
        parameterization: str | None,
        loc: tuple[str, ...],
        message: str,
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            fit(name, np.array(data, dtype=float), fixed, parameterization)
        assert str(caught.value) == message
        assert caught.value.errors[0].loc == loc

    @pytest.mark.parametrize("data", [[3.0] * 5, [1.0]])
    def test_gamma_of_equal_observations_has_no_maximum(self, data: list[float]) -> None:
        # The likelihood grows without bound as the shape grows with the mean fixed.
        with pytest.raises(InvalidInput) as caught:
            fit("gamma", np.array(data), {})
        assert str(caught.value).startswith("the likelihood of gamma has no maximum inside the parameter space")

    def test_an_information_that_underflows_is_explained_not_raised(self) -> None:
        result = fit("geometric", np.array([1.0, 2.0**60]), {})
        assert result.estimate["p"] == pytest.approx(2 / (1 + 2.0**60))
        assert result.inference.fisher_per_observation is not None

    def test_a_likelihood_without_a_maximum_is_refused(self) -> None:
        # Normal data fitted by a t: the likelihood keeps rising with df.
        data = np.random.default_rng(4).normal(size=2_000)
        with pytest.raises(InvalidInput) as caught:
            fit("student_t", data, {})
        assert str(caught.value) == (
            "the likelihood of student_t is largest at df = inf, outside df > 0: the standard normal (the limit as "
            "df -> inf) fits these data at least as well as every finite df"
        )
