"""Statistics of every family: against closed forms (read back through the service's own parser), against
independent numerics (argmax for the mode, integration of the density, d/dx cdf = pdf), the rules for undefined
and infinite moments, and the seed's worked numbers recomputed independently."""

from __future__ import annotations

import math
import operator

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import integrate, stats
from scipy.special import xlogy

from service.compute.distributions.closed_forms import TABLE, closed_forms
from service.compute.distributions.families import FAMILIES
from service.compute.distributions.statistics import SUMMARY, describe, prepare
from service.compute.errors import InvalidInput, TooLarge
from service.compute.language.build import parse_expression

# Parameters as a client writes them, with every statistic defined.
CASES: list[tuple[str, dict[str, float]]] = [
    ("normal", {"mu": -1.5, "sigma": 2.5}),
    ("bernoulli", {"p": 0.3}),
    ("binomial", {"n": 8, "p": 0.5}),
    ("binomial", {"n": 40, "p": 0.13}),
    ("poisson", {"lam": 10.0}),
    ("poisson", {"lam": 2.7}),
    ("uniform", {"a": -1.0, "b": 3.0}),
    ("geometric", {"p": 0.25}),
    ("student_t", {"df": 7.5}),
    ("chi2", {"df": 5.0}),
    ("chi2", {"df": 1.2}),
    ("exponential", {"rate": 4.0}),
    ("exponential", {"scale": 0.7}),
    ("f", {"dfn": 5.0, "dfd": 12.0}),
    ("gamma", {"shape": 2.5, "scale": 1.5}),
    ("gamma", {"shape": 0.6, "rate": 3.0}),
    ("beta", {"alpha": 2.0, "beta": 5.0}),
    ("beta", {"alpha": 0.5, "beta": 3.0}),
]
IDS = [f"{name}-{'-'.join(f'{k}{v:g}' for k, v in params.items())}" for name, params in CASES]


def closed_form_value(text: str, params: dict[str, float]) -> float:
    """Evaluate a printed closed form the way a client would: parse it with the service's grammar, substitute."""
    expr = parse_expression(text)
    values = {s: sp.Float(params[s.name], 30) for s in expr.free_symbols}
    return float(expr.xreplace(values).evalf(30))


def holds(condition: str | None, params: dict[str, float]) -> bool:
    """Whether a stated condition ('df > 2', 'alpha > 1 and beta > 1', 'shape >= 1') holds at ``params``."""
    if condition is None:
        return True
    compare = {">": operator.gt, ">=": operator.ge}
    clauses = [clause.split(" ") for clause in condition.split(" and ")]
    return all(compare[op](params[name], float(bound)) for name, op, bound in clauses)


class TestClosedForms:
    @pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
    def test_every_printed_closed_form_parses_back_and_equals_the_statistic(
        self, name: str, params: dict[str, float]
    ) -> None:
        result = describe(prepare(name, params))
        forms = closed_forms(name, frozenset(params))
        assert forms, name
        for statistic, form in forms.items():
            if not holds(form.condition, params):
                continue
            expected = result.summary[statistic]
            assert expected is not None, statistic
            got = closed_form_value(form.expression, params)
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), (statistic, form.expression)

    def test_mean_of_gamma_is_shape_times_scale_or_shape_over_rate(self) -> None:
        # SymPy orders the factors alphabetically: scale*shape.
        product = closed_forms("gamma", frozenset({"shape", "scale"}))["mean"].expression
        assert parse_expression(product) == parse_expression("shape*scale")
        assert closed_forms("gamma", frozenset({"shape", "rate"}))["mean"].expression == "shape/rate"
        assert closed_forms("gamma", frozenset({"shape", "rate"}))["mean"].latex == "\\frac{shape}{rate}"

    def test_conditions_are_read_as_stated(self) -> None:
        assert holds("alpha > 1 and beta > 1", {"alpha": 2, "beta": 1.5})
        assert not holds("alpha > 1 and beta > 1", {"alpha": 2, "beta": 1})
        assert holds("shape >= 1", {"shape": 1})
        assert not holds("df > 2", {"df": 2})

    def test_conditions_are_stated(self) -> None:
        forms = closed_forms("student_t", frozenset({"df"}))
        assert (forms["variance"].expression, forms["variance"].condition) == ("df/(df - 2)", "df > 2")
        assert forms["entropy"].condition is None

    def test_the_table_covers_mean_and_variance_of_every_family(self) -> None:
        assert set(TABLE) == set(FAMILIES)
        assert all({"mean", "variance"} <= set(entries) for entries in TABLE.values())


class TestSummary:
    @pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
    def test_every_statistic_is_finite_where_defined(self, name: str, params: dict[str, float]) -> None:
        result = describe(prepare(name, params))
        defined = {k for k, v in result.summary.items() if v is not None}
        assert defined | set(result.undefined) == set(SUMMARY)
        assert not defined & set(result.undefined)

    @pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
    def test_median_halves_the_probability(self, name: str, params: dict[str, float]) -> None:
        law = prepare(name, params)
        median = describe(law).summary["median"]
        rv = law.frozen()
        assert median is not None
        assert rv.cdf(median) >= 0.5 - 1e-9
        if law.family.discrete:
            assert rv.cdf(median - 1) < 0.5
        else:
            assert rv.cdf(median) == pytest.approx(0.5, abs=1e-9)

    @pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
    def test_mode_maximises_the_density(self, name: str, params: dict[str, float]) -> None:
        law = prepare(name, params)
        result = describe(law)
        rv = law.frozen()
        if result.summary["mode"] is None:
            assert "mode" in result.undefined
            return
        low, high = rv.ppf(1e-6), rv.ppf(1 - 1e-6)
        if law.family.discrete:
            grid = np.arange(low, high + 1)
            assert grid[np.argmax(rv.pmf(grid))] == result.summary["mode"]
        else:
            grid = np.linspace(max(low, rv.support()[0] + 1e-9), high, 200_001)
            assert grid[np.argmax(rv.pdf(grid))] == pytest.approx(result.summary["mode"], abs=1e-3 * (high - low))

    @pytest.mark.parametrize(("name", "params"), [c for c in CASES if not FAMILIES[c[0]].discrete])
    def test_entropy_is_minus_the_integral_of_f_log_f(self, name: str, params: dict[str, float]) -> None:
        law = prepare(name, params)
        rv = law.frozen()
        low, high = rv.support()

        def integrand(t: float) -> float:
            density = rv.pdf(t)
            return float(-density * np.log(density)) if density > 0 else 0.0

        entropy, _ = integrate.quad(integrand, low, high, limit=200)
        assert describe(law).summary["entropy"] == pytest.approx(entropy, rel=1e-6, abs=1e-9)


class TestUndefined:
    def test_student_t_moments_by_df(self) -> None:
        def undefined(df: float) -> dict[str, str]:
            return describe(prepare("student_t", {"df": df})).undefined

        assert undefined(0.5)["mean"] == "the mean of a Student t is undefined for df <= 1 (both tails diverge)"
        assert "mean" not in undefined(1.5)
        assert undefined(1.5)["variance"] == "the variance of a Student t is infinite for 1 < df <= 2"
        assert undefined(1.0)["variance"] == "the variance of a Student t is undefined for df <= 1 (it has no mean)"
        assert "variance" not in undefined(2.5)
        assert undefined(3.0)["skewness"] == "the skewness of a Student t is undefined for df <= 3"
        assert undefined(4.0)["excess_kurtosis"] == "the kurtosis of a Student t is infinite for 2 < df <= 4"
        assert undefined(4.5) == {}

    def test_infinite_is_told_apart_from_undefined(self) -> None:
        result = describe(prepare("student_t", {"df": 1.5}))
        assert result.infinite == ["variance", "std"]
        assert result.summary["variance"] is None
        assert result.summary["std"] is None
        assert result.summary["mean"] == 0.0

    def test_f_moments_by_dfd(self) -> None:
        result = describe(prepare("f", {"dfn": 3, "dfd": 2}))
        assert result.undefined["mean"] == "the mean of an F distribution is infinite for dfd <= 2"
        assert result.infinite == ["mean"]
        assert describe(prepare("f", {"dfn": 3, "dfd": 5})).infinite == ["skewness", "excess_kurtosis"]
        assert describe(prepare("f", {"dfn": 3, "dfd": 8.5})).undefined == {}

    @pytest.mark.parametrize("p", [0.0, 1.0])
    def test_a_point_mass_has_no_skewness(self, p: float) -> None:
        result = describe(prepare("binomial", {"n": 5, "p": p}))
        assert result.summary["variance"] == 0.0
        assert result.undefined["skewness"] == "X is constant when p is 0 or 1: with variance 0 it has no skewness"
        assert result.summary["mode"] == 5 * p

    @pytest.mark.parametrize(
        ("name", "params", "reason"),
        [
            ("uniform", {"a": 0, "b": 1}, "every point of [a, b] is a mode of a uniform distribution"),
            ("poisson", {"lam": 3}, "the mode is not unique: 2 and 3 are both modes (lam is an integer)"),
            ("binomial", {"n": 9, "p": 0.5}, "the mode is not unique: 4 and 5 are both modes"),
            ("bernoulli", {"p": 0.5}, "the mode is not unique: 0 and 1 are both modes (p = 0.5)"),
            ("beta", {"alpha": 0.5, "beta": 0.5}, "the mode is not unique: 0 and 1 are both modes"),
            ("beta", {"alpha": 1, "beta": 1}, "every point of [0, 1] is a mode"),
        ],
    )
    def test_modes_that_are_not_unique(self, name: str, params: dict[str, float], reason: str) -> None:
        result = describe(prepare(name, params))
        assert result.summary["mode"] is None
        assert result.undefined["mode"].startswith(reason)

    @pytest.mark.parametrize(
        ("name", "params", "mode"),
        [
            ("chi2", {"df": 1}, 0.0),
            ("gamma", {"shape": 0.5, "scale": 1}, 0.0),
            ("f", {"dfn": 2, "dfd": 5}, 0.0),
            ("beta", {"alpha": 1, "beta": 3}, 0.0),
            ("beta", {"alpha": 3, "beta": 0.5}, 1.0),
            ("bernoulli", {"p": 0.7}, 1.0),
            ("geometric", {"p": 0.1}, 1.0),
        ],
    )
    def test_modes_at_an_end_of_the_support(self, name: str, params: dict[str, float], mode: float) -> None:
        assert describe(prepare(name, params)).summary["mode"] == mode

    def test_overflow_is_explained(self) -> None:
        result = describe(prepare("gamma", {"shape": 2, "scale": 1e300}))
        assert result.summary["variance"] is None
        assert result.undefined["variance"] == "the variance is beyond the double-precision range at these parameters"


class TestPoints:
    @pytest.mark.parametrize(("name", "params"), [c for c in CASES if not FAMILIES[c[0]].discrete])
    def test_derivative_of_cdf_is_pdf(self, name: str, params: dict[str, float]) -> None:
        law = prepare(name, params)
        rv = law.frozen()
        x = rv.ppf(np.linspace(0.02, 0.98, 25))
        h = 1e-5 * np.maximum(np.abs(x), 1e-3)
        values = describe(law, x).at_x
        assert values is not None
        up, down = describe(law, x + h).at_x, describe(law, x - h).at_x
        assert up is not None
        assert down is not None
        slope = (np.array(up["cdf"]) - np.array(down["cdf"])) / (2 * h)
        np.testing.assert_allclose(slope, values["pdf"], rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(np.exp(np.array(values["log_pdf"], dtype=float)), values["pdf"], rtol=1e-12)
        np.testing.assert_allclose(np.add(values["cdf"], values["sf"]), 1.0, atol=1e-12)

    def test_pmf_sums_to_the_cdf(self) -> None:
        values = describe(prepare("poisson", {"lam": 4.5}), np.arange(0.0, 12.0)).at_x
        assert values is not None
        np.testing.assert_allclose(np.cumsum(values["pmf"]), values["cdf"], rtol=1e-12)

    def test_values_outside_the_support_are_null_with_a_warning(self) -> None:
        result = describe(prepare("beta", {"alpha": 0.5, "beta": 2}), np.array([-1.0, 0.0, 0.5]))
        assert result.at_x is not None
        assert result.at_x["pdf"][:2] == [0.0, None]
        assert result.at_x["log_pdf"][:2] == [None, None]
        assert [(w.field, w.index, w.detail) for w in result.warnings] == [
            ("pdf", 1, "pdf is +infinity at x = 0: the density is unbounded there"),
            ("log_pdf", 0, "log_pdf is -infinity at x = -1: the density there is 0"),
            ("log_pdf", 1, "log_pdf is +infinity at x = 0: the density is unbounded there"),
        ]

    def test_warnings_are_capped_and_the_rest_counted(self) -> None:
        result = describe(prepare("gamma", {"shape": 2, "scale": 1}), np.full(10_000, -1.0), np.array([1.0]), limit=3)
        assert [(w.field, w.index) for w in result.warnings] == [("log_pdf", 0), ("log_pdf", 1), ("log_pdf", 2)]
        assert result.warnings_omitted == 10_000 + 1 - 3

    def test_quantiles_invert_the_cdf_and_end_at_the_support(self) -> None:
        law = prepare("binomial", {"n": 8, "p": 0.5})
        result = describe(law, q=np.array([0.0, 0.03, 0.5, 1.0]))
        assert result.quantiles == [0.0, 1.0, 4.0, 8.0]
        normal = describe(prepare("normal", {"mu": 0, "sigma": 1}), q=np.array([0.0, 1.0]))
        assert normal.quantiles == [None, None]
        assert [w.detail for w in normal.warnings] == ["the 0-quantile is -infinity", "the 1-quantile is +infinity"]

    def test_probabilities_outside_0_1_are_refused(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            describe(prepare("normal", {"mu": 0, "sigma": 1}), q=np.array([0.5, 1.5]))
        assert str(caught.value) == "q[1] = 1.5 is not a probability: every q must be in [0, 1]"
        assert caught.value.errors[0].loc == ("q", 1)


class TestSeedNumbers:
    """The worked numbers of the seed's probability notes, each recomputed from its definition."""

    def test_seven_or_more_girls_of_eight(self) -> None:
        # The seed prints 0.04 (rounded); exactly (C(8,7) + C(8,8)) / 2^8 = 9/256.
        exact = (math.comb(8, 7) + math.comb(8, 8)) / 2**8
        assert exact == 9 / 256
        sf = describe(prepare("binomial", {"n": 8, "p": 0.5}), np.array([6.0])).at_x
        assert sf is not None
        assert sf["sf"][0] == pytest.approx(exact, rel=1e-14)
        assert round(exact, 5) == 0.03516

    def test_bus_stop(self) -> None:
        # 2.5 an hour for 4 hours: P(X <= 3), X ~ Poisson(10) = e^-10 (1 + 10 + 100/2 + 1000/6).
        exact = float(mpmath.exp(-10) * (1 + 10 + mpmath.mpf(100) / 2 + mpmath.mpf(1000) / 6))
        cdf = describe(prepare("poisson", {"lam": 2.5 * 4}), np.array([3.0])).at_x
        assert cdf is not None
        assert cdf["cdf"][0] == pytest.approx(exact, rel=1e-13)
        assert round(exact, 6) == 0.010336

    def test_binomial_against_its_poisson_approximation(self) -> None:
        binomial = sum(math.comb(500, k) * 0.01**k * 0.99 ** (500 - k) for k in range(3))
        poisson = sum(math.exp(-5) * 5**k / math.factorial(k) for k in range(3))
        ours_binomial = describe(prepare("binomial", {"n": 500, "p": 0.01}), np.array([2.0])).at_x
        ours_poisson = describe(prepare("poisson", {"lam": 500 * 0.01}), np.array([2.0])).at_x
        assert ours_binomial is not None
        assert ours_poisson is not None
        assert ours_binomial["cdf"][0] == pytest.approx(binomial, rel=1e-12)
        assert ours_poisson["cdf"][0] == pytest.approx(poisson, rel=1e-12)
        assert (round(binomial, 4), round(poisson, 4)) == (0.1234, 0.1247)

    def test_normal_percentiles(self) -> None:
        # z with Phi(z) = q, from the inverse error function at 50 digits: z = sqrt(2) erfinv(2q - 1).
        mpmath.mp.dps = 50
        probabilities = [0.90, 0.95, 0.975, 0.99]
        expected = [float(mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(q) - 1)) for q in probabilities]
        result = describe(prepare("normal", {"mu": 0, "sigma": 1}), q=np.array(probabilities))
        assert result.quantiles == pytest.approx(expected, rel=1e-12)
        assert [round(z, 3) for z in expected] == [1.282, 1.645, 1.960, 2.326]  # the seed's 2.33 is rounded

    def test_two_sigma_above_the_mean(self) -> None:
        # The seed says "about 2.5%"; P(Z >= 2) = erfc(sqrt(2)) / 2 = 2.275%.
        exact = float(mpmath.erfc(mpmath.sqrt(2)) / 2)
        values = describe(prepare("normal", {"mu": 3, "sigma": 2}), np.array([3.0 + 2 * 2])).at_x
        assert values is not None
        assert values["sf"][0] == pytest.approx(exact, rel=1e-12)
        assert round(100 * exact, 3) == 2.275

    def test_bernoulli_takes_one_with_probability_p(self) -> None:
        # The seed says 0 and 1 "with probabilities p and 1 - p respectively": reversed. Its own pmf p^k (1-p)^(1-k)
        # gives P(X = 1) = p.
        values = describe(prepare("bernoulli", {"p": 0.2}), np.array([0.0, 1.0])).at_x
        assert values is not None
        assert values["pmf"] == pytest.approx([0.8, 0.2])
        assert describe(prepare("bernoulli", {"p": 0.2})).summary["mean"] == pytest.approx(0.2)

    def test_cdf_is_p_of_x_at_most_x(self) -> None:
        # The seed writes F(x) = P(X < x); the cdf is P(X <= x), which differs for a discrete law.
        values = describe(prepare("binomial", {"n": 8, "p": 0.5}), np.array([4.0])).at_x
        assert values is not None
        assert values["cdf"][0] == pytest.approx(sum(math.comb(8, k) for k in range(5)) / 256)


class TestPrepare:
    def test_the_family_must_exist(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            prepare("lognormal", {})
        assert str(caught.value).startswith("there is no family 'lognormal'; the families are normal, bernoulli")

    def test_rate_is_mapped_onto_scale(self) -> None:
        law = prepare("gamma", {"shape": 2, "rate": 4})
        assert law.canonical == {"shape": 2.0, "scale": 0.25}
        assert law.given == {"shape": 2.0, "rate": 4.0}
        assert law.frozen().mean() == pytest.approx(stats.gamma(2, scale=0.25).mean())

    @pytest.mark.parametrize("n", [7, 10**5])
    def test_binomial_entropy_over_a_window_equals_the_full_sum(self, n: int) -> None:
        k = np.arange(n + 1)
        full = float(-np.sum(xlogy(stats.binom.pmf(k, n, 0.3), stats.binom.pmf(k, n, 0.3))))
        assert describe(prepare("binomial", {"n": n, "p": 0.3})).summary["entropy"] == pytest.approx(full, rel=1e-13)

    @pytest.mark.parametrize("n", [10**7, 10**15])
    def test_binomial_entropy_with_a_large_n_tends_to_the_normal_one(self, n: int) -> None:
        # SciPy sums over all n + 1 outcomes (terabytes for n = 10^15); H = 1/2 log(2 pi e npq) + O(1/(npq)).
        approximation = 0.5 * math.log(2 * math.pi * math.e * n * 0.3 * 0.7)
        entropy = describe(prepare("binomial", {"n": n, "p": 0.3})).summary["entropy"]
        assert entropy == pytest.approx(approximation, rel=1e-7)

    @pytest.mark.parametrize("lam", [1000.5, 10001.0])
    def test_poisson_entropy_with_a_large_mean_is_the_full_sum(self, lam: float) -> None:
        # SciPy's own is 2.5e-3 too low at lam = 10001; the sum over +-40 standard deviations is the truth.
        k = np.arange(0, int(lam + 40 * np.sqrt(lam)))
        pmf = stats.poisson.pmf(k, lam)
        full = float(-np.sum(xlogy(pmf, pmf)))
        assert describe(prepare("poisson", {"lam": lam})).summary["entropy"] == pytest.approx(full, rel=1e-10)

    def test_extreme_parameters_give_nulls_not_errors(self) -> None:
        # Boost overflows inside SciPy (ibeta_derivative) for a binomial with n = 1e15 and p = 1e-300.
        result = describe(prepare("binomial", {"n": 1e15, "p": 1e-300}), np.array([0.0, 1.0]), np.array([0.5]))
        assert set(result.summary) == set(SUMMARY)
        assert all(v is None or np.isfinite(v) for v in result.summary.values())
        assert describe(prepare("poisson", {"lam": 1e300})).summary["entropy"] == pytest.approx(
            0.5 * math.log(2 * math.pi * math.e * 1e300)
        )


def test_sizes_are_bounded() -> None:
    from service.compute.distributions.statistics import bounded

    with pytest.raises(TooLarge) as caught:
        bounded([0.0] * 11, "x", 10)
    assert str(caught.value) == "'x' has 11 values, more than the limit of 10 (NABLA_MAX_DISTRIBUTION_VALUES)"
    assert caught.value.status == 413
