"""Every family across its whole parameter range, extremes included (1e-300, 1e300, p within 1e-15 of 0 or 1):
each statistic is finite and agrees with mpmath at 50 digits (formulas written here, independently of the
catalogue), or is null with its reason; nothing raises but a located InvalidInput. The pinned examples are the
ones that found each class of wrong answers."""

from __future__ import annotations

import math
from collections.abc import Callable

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy import stats

from service.compute.distributions.families import FAMILIES
from service.compute.distributions.fit import fit
from service.compute.distributions.inference import infer
from service.compute.distributions.statistics import describe, prepare
from service.compute.errors import InvalidInput
from tests.compute.reference_laws import ENTROPIES, SIDES, beta_sides, gamma_sides

mpmath.mp.dps = 50
M = mpmath.mpf
RELATIVE = 1e-10


def close_log(got: float | None, truth: mpmath.mpf, what: str) -> None:
    """A logarithm (of a density, a mass, a likelihood): within RELATIVE of ``truth`` or, near 0, within RELATIVE
    absolutely, which is the density's own relative error."""
    assert got is not None, f"{what} is null, truth {mpmath.nstr(truth, 17)}"
    assert abs(M(got) - truth) <= RELATIVE * max(1, abs(truth)), f"{what} = {got!r}, truth {mpmath.nstr(truth, 17)}"


def close(got: float | None, truth: mpmath.mpf, what: str) -> None:
    """``got`` is finite and within RELATIVE of ``truth`` (or both are below the smallest normal double)."""
    assert got is not None, f"{what} is null, truth {mpmath.nstr(truth, 17)}"
    if abs(truth) < 1e-300:
        assert abs(got) < 1e-290, f"{what} = {got!r}, truth {mpmath.nstr(truth, 17)}"
        return
    assert abs(M(got) - truth) <= RELATIVE * abs(truth), f"{what} = {got!r}, truth {mpmath.nstr(truth, 17)}"


POSITION = st.one_of(st.just(0.0), st.floats(1e-300, 1))
"""Where in the support (or which probability): 0, or a normal double up to 1 (q = 1e-313 is subnormal: its own
digits are fewer than the answer's)."""


def positive() -> st.SearchStrategy[float]:
    """Any positive double from 1e-300 to 1e300, spread by order of magnitude."""
    return st.floats(-300, 300).map(lambda e: float(10.0**e))


def real() -> st.SearchStrategy[float]:
    return st.one_of(positive(), positive().map(lambda v: -v), st.just(0.0))


def probability(*, zero: bool = True) -> st.SearchStrategy[float]:
    near = st.floats(-15, -0.01).map(lambda e: float(10.0**e))
    options = [near, near.map(lambda v: 1.0 - v), st.floats(0, 1, exclude_min=not zero), st.just(1.0)]
    return st.one_of(*options, *([st.just(0.0)] if zero else []))


# Reference log density, mean and variance with mpmath: (parameters, x) -> value.
Reference = tuple[Callable[..., mpmath.mpf], Callable[..., mpmath.mpf], Callable[..., mpmath.mpf]]


def _log_binomial(p: dict[str, mpmath.mpf], k: mpmath.mpf) -> mpmath.mpf:
    n, q = p["n"], p["p"]
    choose = mpmath.loggamma(n + 1) - mpmath.loggamma(k + 1) - mpmath.loggamma(n - k + 1)
    return choose + (k * mpmath.log(q) if k else 0) + ((n - k) * mpmath.log1p(-q) if n - k else 0)


def _log_width(p: dict[str, mpmath.mpf]) -> mpmath.mpf:
    """log(b - a), with b - a exact (at 50 digits 1 - 1e-52 would round to 1)."""
    with mpmath.workprec(2200):  # every double difference is exact at 2200 bits
        return +mpmath.log(p["b"] - p["a"])


REFERENCES: dict[str, Reference] = {
    "normal": (
        lambda p, x: -mpmath.log(p["sigma"] * mpmath.sqrt(2 * mpmath.pi)) - (x - p["mu"]) ** 2 / (2 * p["sigma"] ** 2),
        lambda p: p["mu"],
        lambda p: p["sigma"] ** 2,
    ),
    "binomial": (_log_binomial, lambda p: p["n"] * p["p"], lambda p: p["n"] * p["p"] * (1 - p["p"])),
    "poisson": (
        lambda p, k: k * mpmath.log(p["lam"]) - p["lam"] - mpmath.loggamma(k + 1),
        lambda p: p["lam"],
        lambda p: p["lam"],
    ),
    "uniform": (lambda p, x: -_log_width(p), lambda p: (p["a"] + p["b"]) / 2,
                lambda p: (p["b"] - p["a"]) ** 2 / 12),
    "geometric": (
        lambda p, k: (k - 1) * mpmath.log1p(-p["p"]) + mpmath.log(p["p"]) if k > 1 else mpmath.log(p["p"]),
        lambda p: 1 / p["p"],
        lambda p: (1 - p["p"]) / p["p"] ** 2,
    ),
    "exponential": (lambda p, x: -mpmath.log(p["scale"]) - x / p["scale"], lambda p: p["scale"],
                    lambda p: p["scale"] ** 2),
    "bernoulli": (lambda p, x: mpmath.log(p["p"] if x else 1 - p["p"]), lambda p: p["p"],
                  lambda p: p["p"] * (1 - p["p"])),
    "student_t": (
        lambda p, x: mpmath.loggamma((p["df"] + 1) / 2) - mpmath.loggamma(p["df"] / 2)
        - mpmath.log(mpmath.pi * p["df"]) / 2 - (p["df"] + 1) / 2 * mpmath.log1p(x**2 / p["df"]),
        lambda p: M(0) if p["df"] > 1 else None,
        lambda p: p["df"] / (p["df"] - 2) if p["df"] > 2 else None,
    ),
    "chi2": (
        lambda p, x: (p["df"] / 2 - 1) * mpmath.log(x) - x / 2 - p["df"] / 2 * mpmath.log(2)
        - mpmath.loggamma(p["df"] / 2),
        lambda p: p["df"], lambda p: 2 * p["df"],
    ),
    "gamma": (
        lambda p, x: (p["shape"] - 1) * mpmath.log(x) - x / p["scale"] - mpmath.loggamma(p["shape"])
        - p["shape"] * mpmath.log(p["scale"]),
        lambda p: p["shape"] * p["scale"], lambda p: p["shape"] * p["scale"] ** 2,
    ),
    "beta": (
        lambda p, x: (p["alpha"] - 1) * mpmath.log(x) + (p["beta"] - 1) * mpmath.log1p(-x)
        - mpmath.log(mpmath.beta(p["alpha"], p["beta"])),
        lambda p: p["alpha"] / (p["alpha"] + p["beta"]),
        lambda p: p["alpha"] * p["beta"] / ((p["alpha"] + p["beta"]) ** 2 * (p["alpha"] + p["beta"] + 1)),
    ),
    "f": (
        lambda p, x: p["dfn"] / 2 * mpmath.log(p["dfn"] / p["dfd"]) + (p["dfn"] / 2 - 1) * mpmath.log(x)
        - (p["dfn"] + p["dfd"]) / 2 * mpmath.log1p(p["dfn"] * x / p["dfd"])
        - mpmath.log(mpmath.beta(p["dfn"] / 2, p["dfd"] / 2)),
        lambda p: p["dfd"] / (p["dfd"] - 2) if p["dfd"] > 2 else None,
        lambda p: 2 * p["dfd"] ** 2 * (p["dfn"] + p["dfd"] - 2) / (p["dfn"] * (p["dfd"] - 2) ** 2 * (p["dfd"] - 4))
        if p["dfd"] > 4 else None,
    ),
}  # fmt: skip

PARAMETERS: dict[str, st.SearchStrategy[dict[str, float]]] = {
    "normal": st.fixed_dictionaries({"mu": real(), "sigma": positive()}),
    "binomial": st.fixed_dictionaries(
        {
            "n": st.one_of(st.integers(1, 40), st.floats(0, 53).map(lambda e: float(math.floor(2.0**e)))),
            "p": probability(),
        }
    ),
    "poisson": st.fixed_dictionaries({"lam": positive()}),
    "uniform": st.tuples(real(), positive()).map(
        lambda t: {"a": t[0], "b": max(t[0] + t[1], math.nextafter(t[0], math.inf))}
    ),
    "geometric": st.fixed_dictionaries({"p": probability(zero=False)}),
    "exponential": st.fixed_dictionaries({"scale": positive()}),
    "bernoulli": st.fixed_dictionaries({"p": probability()}),
    "student_t": st.fixed_dictionaries({"df": positive()}),
    "chi2": st.fixed_dictionaries({"df": positive()}),
    "gamma": st.fixed_dictionaries({"shape": positive(), "scale": positive()}),
    "beta": st.fixed_dictionaries({"alpha": positive(), "beta": positive()}),
    "f": st.fixed_dictionaries({"dfn": positive(), "dfd": positive()}),
}


def _point(name: str, params: dict[str, float], u: float) -> float:
    """A point of the support at the u-th position: integers for the discrete families."""
    if name == "binomial":
        return float(math.floor(u * params["n"]))
    if name == "poisson":
        return float(math.floor(u * 3 * min(params["lam"], 2.0**53)))
    if name == "geometric":
        return float(math.floor(1 + u * min(3 / params["p"], 2.0**53)))
    if name == "uniform":
        return params["a"] / 2 + params["b"] / 2 + (u - 0.5) * (params["b"] / 2 - params["a"] / 2)
    if name == "normal":
        return params["mu"] + (u - 0.5) * 8 * params["sigma"]
    if name == "bernoulli":
        return float(u > 0.5)
    if name == "student_t":
        return (u - 0.5) * 10
    if name == "beta":
        return min(max(u, 1e-300), 1 - 1e-16)
    if name == "f":
        return u * 5 + 1e-300
    product = min(params["shape"] * params["scale"], 1e308) if name == "gamma" else 0.0  # shape * scale may overflow
    mean = params["df"] if name == "chi2" else product if name == "gamma" else params["scale"]
    return max(u * 3 * mean, 1e-300 * mean)


def check_law(name: str, params: dict[str, float], u: float) -> None:
    """Mean, variance, std, log density at a point of the support and the log-likelihood there against mpmath."""
    law = prepare(name, params)
    x = _point(name, params, u)
    result = describe(law, np.array([x]), np.array([0.5]))
    truth = {k: M(v) for k, v in law.canonical.items()}
    log_density, mean, variance = REFERENCES[name]
    with mpmath.workdps(400):  # the references cancel up to 340 digits at parameters of 1e300
        moments = {"mean": mean(truth), "variance": variance(truth)}
        moments["std"] = None if moments["variance"] is None else mpmath.sqrt(moments["variance"])
        expected = log_density(truth, M(x))
    for statistic, value in moments.items():
        got = result.summary[statistic]
        if got is None:
            assert statistic in result.undefined
            assert value is None or not abs(value) < 1.7e308, f"{statistic} is null, truth {mpmath.nstr(value, 17)}"
        else:
            assert value is not None, f"{statistic} = {got!r}, but it has no value"
            close(got, value, statistic)
    column = "log_pmf" if law.family.discrete else "log_pdf"
    if abs(expected) < 1.7e308:
        assert result.at_x is not None
        close_log(result.at_x[column][0], expected, f"{column}({x!r})")
        loglik = infer(law, np.array([x])).log_likelihood
        close_log(loglik, expected, "log-likelihood")
    median = result.summary["median"]
    assert median is None or law.frozen().support()[0] <= median <= law.frozen().support()[1]


def _geometric_cdf(p: dict[str, mpmath.mpf], k: mpmath.mpf) -> mpmath.mpf:
    return -mpmath.expm1(k * mpmath.log1p(-p["p"])) if p["p"] < 1 else M(1)


def _geometric_entropy(p: mpmath.mpf) -> mpmath.mpf:
    return -mpmath.log(p) - (1 - p) * mpmath.log1p(-p) / p if p < 1 else M(0)


def _plogp(v: mpmath.mpf) -> mpmath.mpf:
    return v * mpmath.log(v) if v > 0 else M(0)


# Reference cdf and entropy with mpmath, where both have an elementary form: (parameters, x) -> P(X <= x), and
# parameters -> entropy in nats.
QUANTILES: dict[str, Callable[..., mpmath.mpf]] = {
    "normal": lambda p, q: p["mu"] + p["sigma"] * mpmath.sqrt(2) * mpmath.erfinv(2 * q - 1),
    "exponential": lambda p, q: -p["scale"] * mpmath.log1p(-q),
    "uniform": lambda p, q: p["a"] + q * (p["b"] - p["a"]),
    "geometric": lambda p, q: mpmath.ceil(mpmath.log1p(-q) / mpmath.log1p(-p["p"])) if p["p"] < 1 else M(1),
}
DISTRIBUTIONS: dict[str, tuple[Callable[..., mpmath.mpf], Callable[..., mpmath.mpf]]] = {
    "normal": (lambda p, x: mpmath.ncdf(x, p["mu"], p["sigma"]),
               lambda p: mpmath.log(2 * mpmath.pi * mpmath.e * p["sigma"] ** 2) / 2),
    "exponential": (lambda p, x: -mpmath.expm1(-x / p["scale"]), lambda p: 1 + mpmath.log(p["scale"])),
    "uniform": (lambda p, x: (x - p["a"]) / (p["b"] - p["a"]), lambda p: _log_width(p)),
    "geometric": (_geometric_cdf, lambda p: _geometric_entropy(p["p"])),
    "bernoulli": (lambda p, x: 1 - p["p"] if x < 1 else M(1), lambda p: -_plogp(p["p"]) - _plogp(1 - p["p"])),
}  # fmt: skip


def check_distribution(name: str, params: dict[str, float], u: float) -> None:
    """cdf and sf at a point, the median and a quantile, and the entropy, against mpmath."""
    law = prepare(name, params)
    x = _point(name, params, u)
    result = describe(law, np.array([x]), np.array([0.5, u]))
    assert result.at_x is not None
    assert result.quantiles is not None
    cdf, entropy = DISTRIBUTIONS[name]
    truth = {k: M(v) for k, v in law.canonical.items()}
    with mpmath.workdps(400):
        close(result.at_x["cdf"][0], cdf(truth, M(x)), f"cdf({x!r})")
        close(result.at_x["sf"][0], 1 - cdf(truth, M(x)), f"sf({x!r})")
        close_log(result.summary["entropy"], entropy(truth), "entropy")
        for q, quantile in ((0.5, result.quantiles[0]), (u, result.quantiles[1])):
            if quantile is None:
                ends = (q, law.frozen().support()[int(q == 1)]) in ((0, -math.inf), (1, math.inf))
                assert ends or abs(QUANTILES[name](truth, M(q))) > 1.7e308, f"the {q}-quantile is null"
                assert any(w.field == "quantiles" for w in result.warnings)
                continue
            if law.family.discrete:  # the smallest support point with cdf >= q
                assert cdf(truth, M(quantile)) >= q * (1 - 1e-12), f"cdf({quantile}) < {q}"
                below = quantile - 1
                assert below < law.frozen().support()[0] or cdf(truth, M(below)) < q * (1 + 1e-12), quantile
            elif 0 < q < 1:  # the quantile itself: its cdf is ill-conditioned (sigma = 1e-7 around mu = 1)
                close(quantile, QUANTILES[name](truth, M(q)), f"the {q}-quantile")


def _bracket(quantile: float, q: float, sides: Callable[[mpmath.mpf], tuple[mpmath.mpf, mpmath.mpf]]) -> None:
    """The q-quantile of a continuous law is within RELATIVE of ``quantile``: cdf below it is <= q <= cdf above it
    (exact, whatever the density's condition there); below the smallest normal double any value below it does.
    Above the median the upper tail is compared with 1 - q: the reference's cdf near 1 has its quadrature's
    absolute error (1e-22), more than the slack."""
    spread, slack = RELATIVE * abs(quantile) + 1e-300, 1e-15 * min(q, 1 - q)  # slack: the reference's own error
    upper = q > 0.5
    tail = M(1) - M(q) if upper else M(q)

    def below_q(v: mpmath.mpf) -> mpmath.mpf:  # the mass on the side of the nearer tail, signed to grow with v
        low, high = sides(v)
        return -high if upper else low

    target = -tail if upper else tail
    below, above = below_q(M(quantile) - spread), below_q(M(quantile) + spread)
    shown = mpmath.nstr(sides(M(quantile))[0], 17)
    assert below <= target + slack, f"the {q}-quantile is {quantile!r}: cdf there {shown}"
    assert target - slack <= above, f"the {q}-quantile is {quantile!r}: cdf there {shown}"


def check_swept(name: str, params: dict[str, float], u: float) -> None:
    """cdf and sf at a point, the median and a quantile, and the entropy of the seven laws whose distribution
    functions are incomplete beta or gamma functions, against mpmath (tests/compute/reference_laws.py)."""
    law = prepare(name, params)
    x = _point(name, params, u)
    result = describe(law, np.array([x]), np.array([0.5, u]))
    assert result.at_x is not None
    assert result.quantiles is not None
    truth = {k: M(v) for k, v in law.canonical.items()}
    below, above = SIDES[name](truth, M(x))
    close(result.at_x["cdf"][0], below, f"cdf({x!r})")
    close(result.at_x["sf"][0], above, f"sf({x!r})")
    entropy = ENTROPIES[name](truth)
    if abs(entropy) > 1.7e308:
        assert result.summary["entropy"] is None
        assert result.undefined["entropy"] == "the entropy is beyond the double-precision range at these parameters"
    elif law.family.discrete:  # 0 <= H, and a small H has digits of its own (1e-12 for a binomial at p = 1e-15)
        close(result.summary["entropy"], entropy, "entropy")
    else:
        close_log(result.summary["entropy"], entropy, "entropy")
    assert result.summary["median"] == result.quantiles[0]
    low, high = law.frozen().support()
    sides: Callable[[mpmath.mpf], tuple[mpmath.mpf, mpmath.mpf]] = lambda v: SIDES[name](truth, v)  # noqa: E731

    def cdf(v: mpmath.mpf) -> mpmath.mpf:
        return sides(v)[0]

    for q, quantile in ((0.5, result.quantiles[0]), (u, result.quantiles[1])):
        if q in (0, 1):
            assert quantile == (None if math.isinf((low, high)[int(q)]) else (low, high)[int(q)])
        elif quantile is None:
            assert cdf(M(1.7e308)) < q or cdf(M(-1.7e308)) > q, f"the {q}-quantile is null"
            assert any(w.field == "quantiles" for w in result.warnings)
        elif law.family.discrete and quantile > 2.0**53:  # the nearest double to it
            _bracket(quantile, q, sides)
        elif law.family.discrete:  # the smallest support point with cdf >= q
            assert cdf(M(quantile)) >= q, f"cdf({quantile}) < {q}"
            assert quantile - 1 < low or cdf(M(quantile - 1)) < q, f"cdf({quantile - 1}) >= {q}"
        else:
            _bracket(quantile, q, sides)


@pytest.mark.parametrize("name", sorted(SIDES))
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same draws every run
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each reference costs ~0.1 s
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data(), u=POSITION)
def test_incomplete_beta_and_gamma_laws_agree_with_mpmath_over_the_whole_range(
    name: str, data: st.DataObject, u: float
) -> None:
    check_swept(name, data.draw(PARAMETERS[name]), u)


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), u=POSITION)
def test_distribution_functions_agree_with_mpmath_over_the_whole_range(
    name: str, data: st.DataObject, u: float
) -> None:
    check_distribution(name, data.draw(PARAMETERS[name]), u)


@pytest.mark.parametrize("name", sorted(REFERENCES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), u=POSITION)
def test_statistics_agree_with_mpmath_over_the_whole_range(name: str, data: st.DataObject, u: float) -> None:
    check_law(name, data.draw(PARAMETERS[name]), u)


SCIPY = {
    "student_t": lambda p: stats.t(p["df"]),
    "f": lambda p: stats.f(p["dfn"], p["dfd"]),
    "gamma": lambda p: stats.gamma(p["shape"], scale=p["scale"]),
}
"""SciPy's own laws, for what they gave."""


class TestExamplesThatFoundThem:
    @pytest.mark.parametrize(("k", "truth"), [(1000, -4.372899506025797), (999, -4.372899506025798)])
    def test_binomial_log_pmf_at_huge_n_and_tiny_p(self, k: int, truth: float) -> None:
        # SciPy's logpmf gives -11.02 at k = 1000 (every digit of gammaln(1e15 + 1) lost in a difference).
        check_law("binomial", {"n": 1e15, "p": 1e-12}, k / 1e15)
        law = prepare("binomial", {"n": 1e15, "p": 1e-12})
        assert describe(law, np.array([float(k)])).at_x["log_pmf"][0] == pytest.approx(truth, rel=1e-14)  # type: ignore[index]

    def test_binomial_log_likelihood_at_huge_n_and_tiny_p(self) -> None:
        law = prepare("binomial", {"n": 1e15, "p": 1e-12})
        data = np.array([1000.0, 999.0, 0.0])
        truth = sum(_log_binomial({"n": M(1e15), "p": M(1e-12)}, M(k)) for k in data)
        close(infer(law, data).log_likelihood, truth, "log-likelihood")

    def test_binomial_n_beyond_2_to_the_53_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            prepare("binomial", {"n": 1e20, "p": 0.5})
        assert str(caught.value) == "binomial needs n a positive integer <= 2^53, got n = 1e+20"
        check_law("binomial", {"n": 2.0**53, "p": 0.5}, 0.5)

    def test_geometric_with_p_1_is_a_point_mass_at_1(self) -> None:
        result = describe(prepare("geometric", {"p": 1.0}), np.array([1.0]), np.array([0.5, 1.0]))
        assert (result.summary["median"], result.summary["entropy"], result.summary["mode"]) == (1.0, 0.0, 1.0)
        assert result.quantiles == [1.0, 1.0]
        assert result.undefined == {
            "skewness": "X is 1 when p is 1: with variance 0 it has no skewness",
            "excess_kurtosis": "X is 1 when p is 1: with variance 0 it has no excess kurtosis",
        }

    @pytest.mark.parametrize("p", [1e-300, 1e-8, 0.3, 1 - 1e-12])
    def test_geometric_entropy_against_its_series(self, p: float) -> None:
        # H = -sum_k P(k) log P(k), P(k) = q^(k-1) p: summed by mpmath.
        q = 1 - M(p)
        truth = -mpmath.log(p) - q * mpmath.log1p(-M(p)) / M(p)
        close(describe(prepare("geometric", {"p": p})).summary["entropy"], truth, "entropy")

    def test_uniform_wider_than_the_largest_double(self) -> None:
        result = describe(prepare("uniform", {"a": -1e308, "b": 1e308}), np.array([0.0, 5e307]), np.array([0.25, 0.5]))
        assert result.at_x is not None
        assert result.at_x["cdf"] == [0.5, 0.75]
        assert result.at_x["pdf"] == [5e-309, 5e-309]
        assert result.quantiles == [-5e307, 0.0]
        assert (result.summary["mean"], result.summary["median"]) == (0.0, 0.0)
        close(result.summary["std"], M(2e308) / mpmath.sqrt(12), "std")
        close(result.summary["entropy"], mpmath.log(M(2e308)), "entropy")
        assert result.undefined["variance"] == "the variance is beyond the double-precision range at these parameters"
        check_law("uniform", {"a": -1e308, "b": 1e308}, 0.3)

    @pytest.mark.parametrize("value", [0.0, 0.5, 1.0, 1.5])
    def test_student_t_fit_of_identical_values_has_no_maximum(self, value: float) -> None:
        # Was df = 3.4e14 with a Wald interval reaching -4.9e15 for value 1.
        with pytest.raises(InvalidInput) as caught:
            fit("student_t", np.full(3, value), {})
        assert str(caught.value) == (
            f"the likelihood of student_t is largest at df = inf, outside df > 0: every observation is {value:g}"
        )
        assert caught.value.errors[0].loc == ("data",)

    def test_student_t_fit_of_identical_large_values_is_a_true_maximum(self) -> None:
        # |x| > sqrt(1 + sqrt(2)): the t density at x is largest at a finite df (here 0.884), not in the limit.
        estimate = fit("student_t", np.full(5, 3.0), {}).estimate["df"]
        grid = np.linspace(0.5, 2.0, 3001)
        from scipy import stats

        assert estimate == pytest.approx(grid[np.argmax(stats.t.logpdf(3.0, grid))], abs=1e-3)


class TestExamplesTheIncompleteBetaAndGammaSweepFound:
    @pytest.mark.parametrize(
        ("name", "params", "scipy"),
        [
            ("poisson", {"lam": 1e-300}, 6.9077552789823005e-298),  # entr(e^-lam) is 0 when e^-lam rounds to 1
            ("poisson", {"lam": 9.081811664613053e-15}, 3.0274152896587777e-13),
            ("binomial", {"n": 4.0, "p": 7.806278559014364e-12}, 7.865537969112317e-10),  # q^n rounds to 1
            ("binomial", {"n": 40.0, "p": 1e-15}, 1.2756292410553241e-12),
            ("binomial", {"n": 26.0, "p": 2.3699761014572194e-10}, 1.2265260044247787e-07),
        ],
    )
    def test_a_small_discrete_entropy_keeps_its_digits(self, name: str, params: dict[str, float], scipy: float) -> None:
        truth = ENTROPIES[name]({k: M(v) for k, v in params.items()})
        assert abs(scipy - truth) > 1e-9 * truth  # what it was
        close(describe(prepare(name, params)).summary["entropy"], truth, "entropy")

    @pytest.mark.parametrize(("n", "p"), [(2.0**53, 0.5), (1e12, 0.3), (2.0**53, 1e-7), (1e9, 0.5)])
    def test_the_binomial_entropy_of_a_wide_law_is_its_corrected_normal_limit(self, n: float, p: float) -> None:
        # Variance above 1e8: 1/2 log(2 pi e var) - (1 - 2p)^2/(12 var), against -sum P log P by mpmath.
        truth = ENTROPIES["binomial"]({"n": M(n), "p": M(p)})
        got = describe(prepare("binomial", {"n": n, "p": p})).summary["entropy"]
        assert got is not None
        assert abs(M(got) - truth) <= 1e-14 * truth

    @pytest.mark.parametrize(
        ("name", "params", "q"),
        [
            ("beta", {"alpha": 8.154113961362851e61, "beta": 3.7173932435387287e52}, 0.5),  # SciPy: nan
            ("gamma", {"shape": 9.098791960643682e138, "scale": 1.0}, 0.5),  # SciPy's ppf, checked
            ("beta", {"alpha": 7.374475161817371e244, "beta": 648.8039577439586}, 0.6),  # SciPy: nan
        ],
    )
    def test_a_quantile_scipy_misses_is_solved_from_the_cdf(
        self, name: str, params: dict[str, float], q: float
    ) -> None:
        law = prepare(name, params)
        (quantile,) = describe(law, None, np.array([q])).quantiles or [None]
        assert quantile is not None
        truth = {k: M(v) for k, v in law.canonical.items()}
        _bracket(quantile, q, lambda v: SIDES[name](truth, v))

    @pytest.mark.parametrize(
        ("name", "params", "x", "scipy"),
        [
            ("student_t", {"df": 2.1770278190724495e-30}, 9.4e146, 1.0),  # df/(df + x^2) underflows
            ("student_t", {"df": 1e-300}, -1e150, 0.0),
            ("f", {"dfn": 8.5e279, "dfd": 6.8e-266}, 1.71, 1.0),  # dfn x/(dfn x + dfd) rounds to 1
            ("f", {"dfn": 2.7e-292, "dfd": 6.6e131}, 3.34, 0.0),  # ... underflows to 0
            ("f", {"dfn": 1e-10, "dfd": 1e300}, 2.0, None),  # the gamma limit, b w = dfn x/2
            ("f", {"dfn": 1e300, "dfd": 3.0}, 0.5, None),  # the complement's gamma limit, a/r = dfd/(2x)
            ("f", {"dfn": 8.099284396121171e-288, "dfd": 8.916163339357758e-295}, 3.7536436986992046, None),  # sf was 1
            ("f", {"dfn": 2.5703566367754968e-225, "dfd": 1.901147527785096e-173}, 8.261014232897645e-279, None),
            ("f", {"dfn": 5.31361141903869e165, "dfd": 8.660095603239359e290}, 4.306960038444286e-204, None),
            ("gamma", {"shape": 4.4e-78, "scale": 4.6e90}, 2e-287, 0.0),  # x/scale underflows
            ("gamma", {"shape": 0.3, "scale": 1e300}, 1e-10, None),
        ],
    )
    def test_a_distribution_function_scipy_loses_keeps_its_digits(
        self, name: str, params: dict[str, float], x: float, scipy: float | None
    ) -> None:
        law = prepare(name, params)
        truth = {k: M(v) for k, v in law.canonical.items()}
        below, above = SIDES[name](truth, M(x))
        if scipy is not None:  # what SciPy's own law gave
            assert abs(float(SCIPY[name](params).cdf(x)) - scipy) < 1e-3
            assert abs(scipy - below) > 1e-3 * below
        result = describe(law, np.array([x]))
        assert result.at_x is not None
        close(result.at_x["cdf"][0], below, "cdf")
        close(result.at_x["sf"][0], above, "sf")

    @pytest.mark.parametrize(
        ("name", "params", "q"),
        [
            ("f", {"dfn": 2.967127373325556e-83, "dfd": 1.5088724901359987e118}, 0.5),  # SciPy: 1.1e-107, truth ~0
            ("f", {"dfn": 1e300, "dfd": 3.0}, 0.3),
            ("f", {"dfn": 1.6618701180888679e158, "dfd": 3.163817100932328e263}, 0.5),  # SciPy's fdtri: nan
            ("f", {"dfn": 1.160724266423313e258, "dfd": 2.927573342256312e83}, 0.5),
            ("f", {"dfn": 1e-10, "dfd": 1e300}, 0.999),
            ("gamma", {"shape": 1e-3, "scale": 1e300}, 0.5),
            ("student_t", {"df": 2e-3}, 0.2),  # |x| = 1e197: df/(df + x^2) = 2e-397
            ("student_t", {"df": 1.0}, 1e-300),  # the Cauchy: -1/(pi q)
        ],
    )
    def test_a_quantile_from_the_stable_forms(self, name: str, params: dict[str, float], q: float) -> None:
        # The gamma limits and the series, inverted (the F median at dfn = 1.7e158, dfd = 3.2e263 was null).
        law = prepare(name, params)
        (quantile,) = describe(law, None, np.array([q])).quantiles or [None]
        assert quantile is not None
        truth = {k: M(v) for k, v in law.canonical.items()}
        _bracket(quantile, q, lambda v: SIDES[name](truth, v))

    @pytest.mark.parametrize(("df", "q"), [(2.1770278190724495e-30, 0.9169412179474561), (1e-30, 0.1)])
    def test_a_student_t_quantile_beyond_the_double_range_is_null(self, df: float, q: float) -> None:
        # SciPy's ppf gives 9.4e146 for the first, where the cdf is 0.5 + 1e-27.
        result = describe(prepare("student_t", {"df": df}), None, np.array([q]))
        assert result.quantiles == [None]
        assert [w.detail for w in result.warnings] == [
            f"the {q:g}-quantile is beyond the double-precision range ({'+' if q > 0.5 else '-'})"
        ]

    def test_a_gamma_median_beyond_the_double_range_is_null_not_the_largest_double(self) -> None:
        result = describe(
            prepare("gamma", {"shape": 5.2457312231803035e239, "scale": 9.587258197324379e167}), None, np.array([0.5])
        )
        assert result.quantiles == [None]
        assert result.summary["median"] is None
        assert result.warnings[0].detail == "the 0.5-quantile is beyond the double-precision range (+)"

    def test_a_poisson_median_scipy_gives_as_nan_is_counted(self) -> None:
        law = prepare("poisson", {"lam": 1311904696707312.5})
        (median,) = describe(law, None, np.array([0.5])).quantiles or [None]
        assert median is not None
        below, _ = SIDES["poisson"]({"lam": M(1311904696707312.5)}, M(median))
        before, _ = SIDES["poisson"]({"lam": M(1311904696707312.5)}, M(median - 1))
        assert before < 0.5 <= below


class TestTheReferences:
    """The integrals of tests/compute/reference_laws.py against mpmath's own incomplete functions, where those
    converge."""

    @pytest.mark.parametrize(("a", "x"), [(5.0, 3.0), (0.3, 1e-5), (1e-8, 2.0), (1e4, 1.01e4), (200.0, 150.0)])
    def test_incomplete_gamma(self, a: float, x: float) -> None:
        lower, upper = gamma_sides(M(a), M(x))
        close(float(lower), mpmath.gammainc(a, 0, x, regularized=True), "P")
        close(float(upper), mpmath.gammainc(a, x, mpmath.inf, regularized=True), "Q")

    @pytest.mark.parametrize(("a", "b", "x"), [(2.5, 0.7, 0.3), (5.0, 6.0, 0.7), (0.01, 3.0, 1e-9), (40.0, 60.0, 0.2)])
    def test_incomplete_beta(self, a: float, b: float, x: float) -> None:
        lower, upper = beta_sides(M(a), M(b), mpmath.log(M(x)) - mpmath.log1p(-M(x)))
        close(float(lower), mpmath.betainc(a, b, 0, x, regularized=True), "I")
        close(float(upper), mpmath.betainc(a, b, x, 1, regularized=True), "1 - I")

    @pytest.mark.parametrize("lam", [0.3, 3.0, 50.0, 400.0, 2500.0])  # summed, and integrated (2500)
    def test_poisson_entropy_against_its_series(self, lam: float) -> None:
        last = int(lam + 60 * math.sqrt(lam) + 60)  # the terms beyond are below 1e-300
        terms = mpmath.fsum(
            _plogp(mpmath.exp(k * mpmath.log(lam) - lam - mpmath.loggamma(k + 1))) for k in range(last + 1)
        )
        close(float(ENTROPIES["poisson"]({"lam": M(lam)})), -terms, "entropy")


def test_every_family_is_swept() -> None:
    assert set(REFERENCES) == set(PARAMETERS) == set(FAMILIES) == set(DISTRIBUTIONS) | set(SIDES)


class TestTheFWithBothDegreesOfFreedomHuge:
    """Both dfs above 1e40: log F is normal to double precision (SciPy's betainc is nan or wrong past about 1e48)."""

    @pytest.mark.parametrize(
        ("dfn", "dfd", "x"),
        [(1.2e179, 1.8e178, 1.0), (1e50, 3e55, 1.0), (1e45, 1e45, 1 + 2.2e-16), (3e41, 5e41, 1 - 1.1e-16),
         (1e60, 1e42, 1.0), (2e40, 7e40, 1.0), (1e300, 1e300, 0.5), (1e300, 1e41, 2.0)],
    )  # fmt: skip
    def test_cdf_and_sf_against_the_reference(self, dfn: float, dfd: float, x: float) -> None:
        law = prepare("f", {"dfn": dfn, "dfd": dfd})
        result = describe(law, np.array([x]), np.array([0.5, 1e-10, 1 - 1e-10]))
        assert result.at_x is not None
        assert result.quantiles is not None
        with mpmath.workdps(400):
            lower, upper = SIDES["f"]({"dfn": M(dfn), "dfd": M(dfd)}, M(x))
            close(result.at_x["cdf"][0], lower, f"cdf({x!r})")
            close(result.at_x["sf"][0], upper, f"sf({x!r})")
        assert result.quantiles == [1.0, 1.0, 1.0]  # within 1e-20 of 1: the nearest double is 1


def _wilson_hilferty(shape: float, z: float) -> float:
    """A point of a gamma law of large ``shape`` at about ``z`` standard deviations (Wilson-Hilferty)."""
    return shape * (1 - 1 / (9 * shape) + z / (3 * math.sqrt(shape))) ** 3


class TestTheLowerTailOfALargeShape:
    """From shape 1e5 on, the gamma lower tail is Temme's expansion: SciPy's gammainc was 100 times too small at
    1e-14 for shape 1e12, and the chi-square and the Poisson upper tail are that function too."""

    SHAPES = (1e5, 3.3e9, 1e12, 2.4e15, 1e20)

    @pytest.mark.parametrize("shape", SHAPES)
    @pytest.mark.parametrize("z", [-37.0, -7.65, -1.0])
    def test_gamma_and_chi2_cdf_against_the_reference(self, shape: float, z: float) -> None:
        x = _wilson_hilferty(shape, z)
        with mpmath.workdps(400):
            lower, upper = gamma_sides(M(shape), M(x))
            gamma = describe(prepare("gamma", {"shape": shape, "scale": 1.0}), np.array([x]), np.array([0.5]))
            chi2 = describe(prepare("chi2", {"df": 2 * shape}), np.array([2 * x]), np.array([0.5]))
            for result in (gamma, chi2):
                assert result.at_x is not None
                close(result.at_x["cdf"][0], lower, f"cdf at {z} sd")
                close(result.at_x["sf"][0], upper, f"sf at {z} sd")

    @pytest.mark.parametrize("shape", SHAPES)
    @pytest.mark.parametrize("q", [1e-300, 1e-14, 1e-5, 0.3])
    def test_a_lower_quantile_is_the_double_whose_neighbours_bracket_it(self, shape: float, q: float) -> None:
        result = describe(prepare("gamma", {"shape": shape, "scale": 1.0}), np.array([1.0]), np.array([q]))
        assert result.quantiles is not None
        x = result.quantiles[0]
        assert x is not None
        with mpmath.workdps(400):
            below = gamma_sides(M(shape), M(math.nextafter(x, 0)))[0]
            above = gamma_sides(M(shape), M(math.nextafter(x, math.inf)))[0]
        assert below <= q * (1 + 1e-12), (x, mpmath.nstr(below, 17))
        assert above >= q * (1 - 1e-12), (x, mpmath.nstr(above, 17))

    @pytest.mark.parametrize("lam", [1e5, 1e12, 1e15])
    def test_the_poisson_upper_tail_of_a_large_rate(self, lam: float) -> None:
        k = math.floor(lam + 7.65 * math.sqrt(lam))
        result = describe(prepare("poisson", {"lam": lam}), np.array([float(k)]), np.array([0.5]))
        assert result.at_x is not None
        with mpmath.workdps(400):
            above, below = gamma_sides(M(k + 1), M(lam))  # P(X > k) = P(k + 1, lam)
            close(result.at_x["sf"][0], above, f"sf({k})")
            close(result.at_x["cdf"][0], below, f"cdf({k})")


@pytest.mark.parametrize(("df", "x"), [(2.2e-30, 9.4e146), (3.0, 1e200), (1e300, 1e160), (3.0, -2.0)])
def test_the_student_t_log_density_where_x_squared_over_df_overflows(df: float, x: float) -> None:
    result = describe(prepare("student_t", {"df": df}), np.array([x]), np.array([0.5]))
    assert result.at_x is not None
    log_density = REFERENCES["student_t"][0]
    with mpmath.workdps(400):
        close_log(result.at_x["log_pdf"][0], log_density({"df": M(df)}, M(x)), f"log_pdf({x!r})")
