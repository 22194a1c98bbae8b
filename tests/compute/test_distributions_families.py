"""The family catalogue: log densities against SciPy's logpdf/logpmf, sample moments against SciPy's, and the
parameter checks (names, alternatives, constraints) with their messages."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import sympy as sp
from scipy import stats

from service.compute.distributions import FAMILIES
from service.compute.errors import InvalidInput

# Canonical parameters, and points inside each support.
CASES: dict[str, tuple[dict[str, float], list[float]]] = {
    "normal": ({"mu": 1.5, "sigma": 2.0}, [-3.0, 0.0, 1.5, 4.2]),
    "bernoulli": ({"p": 0.3}, [0, 1]),
    "binomial": ({"n": 8, "p": 0.5}, [0, 3, 7, 8]),
    "poisson": ({"lam": 10.0}, [0, 3, 10, 25]),
    "uniform": ({"a": -1.0, "b": 3.0}, [-0.5, 0.0, 2.9]),
    "geometric": ({"p": 0.25}, [1, 2, 7]),
    "student_t": ({"df": 3.5}, [-4.0, 0.0, 0.7, 10.0]),
    "chi2": ({"df": 5.0}, [0.1, 1.0, 4.0, 20.0]),
    "exponential": ({"scale": 2.0}, [0.0, 0.5, 3.0, 10.0]),
    "f": ({"dfn": 5.0, "dfd": 12.0}, [0.05, 1.0, 3.0]),
    "gamma": ({"shape": 2.5, "scale": 1.5}, [0.2, 1.0, 6.0]),
    "beta": ({"alpha": 2.0, "beta": 5.0}, [0.01, 0.3, 0.9]),
}
SCIPY = {
    "normal": lambda p: stats.norm(p["mu"], p["sigma"]),
    "bernoulli": lambda p: stats.bernoulli(p["p"]),
    "binomial": lambda p: stats.binom(p["n"], p["p"]),
    "poisson": lambda p: stats.poisson(p["lam"]),
    "uniform": lambda p: stats.uniform(p["a"], p["b"] - p["a"]),
    "geometric": lambda p: stats.geom(p["p"]),
    "student_t": lambda p: stats.t(p["df"]),
    "chi2": lambda p: stats.chi2(p["df"]),
    "exponential": lambda p: stats.expon(scale=p["scale"]),
    "f": lambda p: stats.f(p["dfn"], p["dfd"]),
    "gamma": lambda p: stats.gamma(p["shape"], scale=p["scale"]),
    "beta": lambda p: stats.beta(p["alpha"], p["beta"]),
}


def assert_invalid(call: Callable[[], object], message: str, parameter: str) -> None:
    """``call`` raises InvalidInput with ``message``, located at the parameter."""
    with pytest.raises(InvalidInput) as caught:
        call()
    assert str(caught.value) == message
    assert caught.value.errors[0].loc == ("parameters", parameter)


def test_the_catalogue_has_the_twelve_families_of_the_contract() -> None:
    assert list(FAMILIES) == [
        "normal", "bernoulli", "binomial", "poisson", "uniform", "geometric",
        "student_t", "chi2", "exponential", "f", "gamma", "beta",
    ]  # fmt: skip
    assert set(CASES) == set(FAMILIES)


class TestLogDensity:
    @pytest.mark.parametrize("name", list(CASES))
    def test_matches_scipy(self, name: str) -> None:
        family = FAMILIES[name]
        params, xs = CASES[name]
        x = sp.Symbol("x", integer=True) if family.discrete else sp.Symbol("x", real=True)
        symbols = {k: sp.Symbol(k, positive=True) for k in params}
        log_density = sp.lambdify([x, *symbols.values()], family.log_density(x, symbols), "mpmath")
        reference = SCIPY[name](params)
        expected = reference.logpmf(xs) if family.discrete else reference.logpdf(xs)
        got = [float(log_density(v, *params.values())) for v in xs]
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)

    @pytest.mark.parametrize("name", list(CASES))
    def test_is_differentiable_in_every_canonical_parameter(self, name: str) -> None:
        family = FAMILIES[name]
        symbols = {k: sp.Symbol(k, positive=True) for k in family.canonical}
        log_density = family.log_density(sp.Symbol("x", positive=True), symbols)
        for symbol in symbols.values():
            derivative = sp.diff(log_density, symbol)
            assert not derivative.has(sp.Derivative, sp.Subs)


class TestSample:
    @pytest.mark.parametrize("name", list(CASES))
    def test_moments_match_scipy(self, name: str) -> None:
        family = FAMILIES[name]
        params, _ = CASES[name]
        draws = family.sample(np.random.default_rng(20261122), params, 200_000)
        mean, variance = SCIPY[name](params).stats("mv")
        assert draws.shape == (200_000,)
        if name == "student_t":  # df = 3.5: finite variance but a heavy tail; the mean is the robust check
            assert abs(draws.mean() - mean) < 0.02
            return
        standard_error = np.sqrt(variance / draws.size)
        assert abs(draws.mean() - mean) < 5 * standard_error
        assert draws.var() == pytest.approx(variance, rel=0.03)

    @pytest.mark.parametrize("name", list(CASES))
    def test_draws_lie_in_the_support(self, name: str) -> None:
        family = FAMILIES[name]
        params, _ = CASES[name]
        draws = family.sample(np.random.default_rng(1), params, 10_000)
        low, high = family.frozen(params).support()
        assert np.all((draws >= low) & (draws <= high))
        if family.discrete:
            assert np.all(draws == np.round(draws))

    def test_parameters_broadcast_elementwise(self) -> None:
        sigma = np.array([1e-9, 1e9] * 5)
        draws = FAMILIES["normal"].sample(np.random.default_rng(2), {"mu": 0.0, "sigma": sigma}, 10)
        assert np.all(np.abs(draws[::2]) < 1e-6)
        assert np.all(np.abs(draws[1::2]) > 1e-3)

    def test_the_same_seed_gives_the_same_draws(self) -> None:
        family = FAMILIES["gamma"]
        first = family.sample(np.random.default_rng(7), {"shape": 2.0, "scale": 1.0}, 5)
        second = family.sample(np.random.default_rng(7), {"shape": 2.0, "scale": 1.0}, 5)
        np.testing.assert_array_equal(first, second)


class TestFrozen:
    @pytest.mark.parametrize("name", list(CASES))
    def test_is_scipys_distribution(self, name: str) -> None:
        params, xs = CASES[name]
        ours, reference = FAMILIES[name].frozen(params), SCIPY[name](params)
        np.testing.assert_allclose(ours.cdf(xs), reference.cdf(xs), rtol=1e-14)
        assert ours.mean() == pytest.approx(reference.mean(), rel=1e-14)

    def test_geometric_counts_trials(self) -> None:
        geometric = FAMILIES["geometric"].frozen({"p": 0.25})
        assert geometric.support() == (1, np.inf)
        assert geometric.mean() == pytest.approx(4.0)

    def test_bernoulli_is_one_with_probability_p(self) -> None:
        # The seed has "0 and 1 with probabilities p and 1-p respectively": reversed. P(X = 1) = p.
        bernoulli = FAMILIES["bernoulli"].frozen({"p": 0.3})
        assert bernoulli.pmf(1) == pytest.approx(0.3)
        assert bernoulli.pmf(0) == pytest.approx(0.7)


class TestResolve:
    def test_rate_becomes_scale(self) -> None:
        assert FAMILIES["exponential"].resolve({"rate": 4.0}) == {"scale": 0.25}
        assert FAMILIES["gamma"].resolve({"shape": 2.0, "rate": 0.5}) == {"shape": 2.0, "scale": 2.0}
        assert FAMILIES["gamma"].resolve({"scale": 3.0, "shape": 2.0}) == {"shape": 2.0, "scale": 3.0}

    def test_works_on_sympy_expressions(self) -> None:
        theta = sp.Symbol("theta", positive=True)
        resolved = FAMILIES["gamma"].resolve({"shape": theta**2, "rate": 2 * theta})
        assert resolved == {"shape": theta**2, "scale": 1 / (2 * theta)}

    @pytest.mark.parametrize(
        ("family", "given", "loc", "message"),
        [
            ("normal", {"mu": 0, "sd": 1}, "sd", "normal has no parameter 'sd'; its parameters are mu, sigma"),
            ("normal", {"mu": 0}, "sigma", "normal needs the parameter 'sigma'; its parameters are mu, sigma"),
            (
                "exponential",
                {"rate": 1, "scale": 1},
                "rate",
                "exponential takes 'rate' and 'scale' as alternatives: give exactly one of them",
            ),
            (
                "gamma",
                {"shape": 1},
                "scale",
                "gamma needs the parameter 'rate' or 'scale'; its parameters are shape, rate or scale (exactly one)",
            ),
            ("exponential", {"rate": 0}, "rate", "exponential needs rate > 0, got rate = 0.0"),
        ],
    )
    def test_errors_name_the_parameter_and_the_fix(
        self, family: str, given: dict[str, float], loc: str, message: str
    ) -> None:
        assert_invalid(lambda: FAMILIES[family].resolve(given), message, loc)


class TestCheck:
    @pytest.mark.parametrize(
        ("family", "values", "loc", "message"),
        [
            ("normal", {"mu": 0, "sigma": 0}, "sigma", "normal needs sigma > 0, got sigma = 0.0"),
            ("normal", {"mu": 0, "sigma": -2}, "sigma", "normal needs sigma > 0, got sigma = -2.0"),
            ("bernoulli", {"p": 1.5}, "p", "bernoulli needs 0 <= p <= 1, got p = 1.5"),
            ("binomial", {"n": 2.5, "p": 0.5}, "n", "binomial needs n a positive integer <= 2^53, got n = 2.5"),
            ("binomial", {"n": 0, "p": 0.5}, "n", "binomial needs n a positive integer <= 2^53, got n = 0.0"),
            ("geometric", {"p": 0}, "p", "geometric needs 0 < p <= 1, got p = 0.0"),
            ("uniform", {"a": 2, "b": 1}, "b", "uniform needs a < b, got a = 2.0, b = 1.0"),
            ("gamma", {"shape": 1, "rate": -1}, "rate", "gamma needs rate > 0, got rate = -1.0"),
            ("beta", {"alpha": float("nan"), "beta": 1}, "alpha", "beta needs alpha > 0, got alpha = nan"),
        ],
    )
    def test_violations_name_parameter_constraint_and_value(
        self, family: str, values: dict[str, float], loc: str, message: str
    ) -> None:
        assert_invalid(lambda: FAMILIES[family].check(values), message, loc)

    def test_valid_values_pass(self) -> None:
        for name, (params, _) in CASES.items():
            FAMILIES[name].check(params)

    def test_valid_is_elementwise(self) -> None:
        family = FAMILIES["binomial"]
        ok = family.valid({"n": np.array([1.0, 2.5, 0.0, 10.0]), "p": np.array([0.5, 0.5, 0.5, 1.1])})
        np.testing.assert_array_equal(ok, [True, False, False, False])
        uniform = FAMILIES["uniform"].valid({"a": np.array([0.0, 1.0]), "b": np.array([1.0, 1.0])})
        np.testing.assert_array_equal(uniform, [True, False])
        assert FAMILIES["normal"].parameter("sigma").valid(np.inf) is False
