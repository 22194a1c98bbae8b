"""The catalogue of the twelve distribution families: one record per family, holding everything the engine knows
about it (``record.Family`` lists the fields). A new family is one record here and nothing else: the statistics, the
fit, the closed forms and the stochastic derivative read the record's fields.

Conventions, one per family where there is a choice: ``geometric`` counts trials up to and including the first
success (support 1, 2, ...); ``exponential`` and ``gamma`` take ``rate`` or ``scale``, exactly one, and their
canonical parameter is ``scale`` (``rate`` is mapped to ``scale = 1/rate`` by ``Family.resolve``).

Two sets of names: the client's (``Family.parameters``, every accepted name) and the canonical ones
(``Family.canonical``), which ``log_density``, ``sample``, ``frozen`` and the closed forms take. Check the client's
numbers with ``Family.check`` before ``Family.resolve`` maps them onto the canonical names.

To add a family, add its record to ``_FAMILIES``: the required fields (parameters, the law as SymPy, NumPy and SciPy,
its closed forms with at least mean and variance, its mode, how its fit starts, its ``sympy.stats`` law), and the
optional ones that apply (alternatives, relations, the observation's constraint, rules for statistics that can be
undefined or infinite, an entropy SciPy gets wrong, a support that moves with the parameters, a reparameterisation,
the sign of its draws). The web layer's list of family names (``schemas/distributions.py``) is the one place outside
``compute/`` that names them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy as sp
from scipy import special, stats
from sympy import stats as sympy_stats

from service.compute.distributions.lattice import BERNOULLI, BINOMIAL, GEOMETRIC, POISSON
from service.compute.distributions.record import (
    Alternative,
    Coupling,
    Entry,
    Expr,
    Family,
    FitRule,
    Frozen,
    Limit,
    Mode,
    Noise,
    Numbers,
    Parameter,
    Relation,
    Start,
)
from service.compute.distributions.special import INFINITE, UNDEFINED, Rule, Verdict, at_most, two_modes
from service.compute.distributions.stable import (
    beta_log_pdf,
    binomial_log_pmf,
    chi2_log_pdf,
    f_log_pdf,
    gamma_log_pdf,
    geometric_entropy,
    uniform_log_pdf,
    wide_uniform,
)
from service.compute.distributions.tails import stable_f, stable_gamma, stable_poisson, stable_t

__all__ = ["FAMILIES", "Family", "Frozen", "Parameter"]


def _positive(name: str, description: str) -> Parameter:
    return Parameter(name, f"{name} > 0", description, low=0.0)


def _probability(name: str, description: str, *, zero: bool = True) -> Parameter:
    constraint = f"0 <= {name} <= 1" if zero else f"0 < {name} <= 1"
    return Parameter(name, constraint, description, low=0.0, high=1.0, closed_low=zero, closed_high=True)


def _reciprocal(value: Any) -> Any:
    return 1 / value


def _lbeta(a: Expr, b: Expr) -> Expr:
    return sp.loggamma(a) + sp.loggamma(b) - sp.loggamma(a + b)


def _log_choose(n: Expr, k: Expr) -> Expr:
    return sp.loggamma(n + 1) - sp.loggamma(k + 1) - sp.loggamma(n - k + 1)


def _log_normal(x: Expr, p: Mapping[str, Expr]) -> Expr:
    mu, sigma = p["mu"], p["sigma"]
    return -sp.log(sigma) - sp.log(2 * sp.pi) / 2 - (x - mu) ** 2 / (2 * sigma**2)


def _log_bernoulli(x: Expr, p: Mapping[str, Expr]) -> Expr:
    return x * sp.log(p["p"]) + (1 - x) * sp.log(1 - p["p"])


def _log_binomial(x: Expr, p: Mapping[str, Expr]) -> Expr:
    n, q = p["n"], p["p"]
    return _log_choose(n, x) + x * sp.log(q) + (n - x) * sp.log(1 - q)


# The score's forms of the log pmfs with a probability parameter, finite with finite derivatives at every draw the law
# can make, even where the probability is 0 or 1 (``Family.score_log_density``). The forms above are 0*log(0), and
# their derivatives 0/0, at a draw x = 0 with p = 0 (a term x log p) or x = n with p = 1: that made the score
# estimate null whenever a drawn probability reached 0 or 1. Here a term c log(u) whose weight c (an integer >= 0)
# is 0 exactly where u may be is written c log(u + 1 - sign(c)): at c = 0 the term is 0 and so is its derivative
# c/(u + 1), elsewhere it is c log(u); every value on the support is unchanged. (0^c would say the same, but SymPy's
# common-subexpression pass turns 0^(n - x) into zoo^(x - n).)
def _guarded(c: Expr, u: Expr) -> Expr:
    return c * sp.log(u + 1 - sp.sign(c))


def _score_log_bernoulli(x: Expr, p: Mapping[str, Expr]) -> Expr:
    return sp.log(x * p["p"] + (1 - x) * (1 - p["p"]))  # the probability of the outcome drawn, x in {0, 1}


def _score_log_binomial(x: Expr, p: Mapping[str, Expr]) -> Expr:
    n, q = p["n"], p["p"]
    return _log_choose(n, x) + _guarded(x, q) + _guarded(n - x, 1 - q)


def _score_log_geometric(x: Expr, p: Mapping[str, Expr]) -> Expr:
    return _guarded(x - 1, 1 - p["p"]) + sp.log(p["p"])


def _log_poisson(x: Expr, p: Mapping[str, Expr]) -> Expr:
    return x * sp.log(p["lam"]) - p["lam"] - sp.loggamma(x + 1)


def _log_uniform(x: Expr, p: Mapping[str, Expr]) -> Expr:
    return -sp.log(p["b"] - p["a"])


def _log_geometric(x: Expr, p: Mapping[str, Expr]) -> Expr:
    return (x - 1) * sp.log(1 - p["p"]) + sp.log(p["p"])


def _log_student_t(x: Expr, p: Mapping[str, Expr]) -> Expr:
    nu = p["df"]
    normaliser = sp.loggamma((nu + 1) / 2) - sp.loggamma(nu / 2) - sp.log(sp.pi * nu) / 2
    return normaliser - (nu + 1) / 2 * sp.log(1 + x**2 / nu)


def _log_chi2(x: Expr, p: Mapping[str, Expr]) -> Expr:
    k = p["df"]
    return (k / 2 - 1) * sp.log(x) - x / 2 - k / 2 * sp.log(2) - sp.loggamma(k / 2)


def _log_exponential(x: Expr, p: Mapping[str, Expr]) -> Expr:
    return -sp.log(p["scale"]) - x / p["scale"]


def _log_f(x: Expr, p: Mapping[str, Expr]) -> Expr:
    d1, d2 = p["dfn"], p["dfd"]
    return (
        d1 / 2 * sp.log(d1 / d2)
        + (d1 / 2 - 1) * sp.log(x)
        - (d1 + d2) / 2 * sp.log(1 + d1 * x / d2)
        - _lbeta(d1 / 2, d2 / 2)
    )


def _log_gamma(x: Expr, p: Mapping[str, Expr]) -> Expr:
    k, theta = p["shape"], p["scale"]
    return (k - 1) * sp.log(x) - x / theta - sp.loggamma(k) - k * sp.log(theta)


def _log_beta(x: Expr, p: Mapping[str, Expr]) -> Expr:
    a, b = p["alpha"], p["beta"]
    return (a - 1) * sp.log(x) + (b - 1) * sp.log(1 - x) - _lbeta(a, b)


def _bernoulli_draws(rng: np.random.Generator, p: Mapping[str, Numbers], size: int) -> np.ndarray:
    return (rng.random(size) < p["p"]).astype(float)


def _binomial_draws(rng: np.random.Generator, p: Mapping[str, Numbers], size: int) -> np.ndarray:
    return rng.binomial(np.asarray(p["n"]).astype(np.int64), p["p"], size)


def _counts(constraint: str, low: float, high: float = math.inf) -> Parameter:
    return Parameter(
        "x", constraint, "One observation.", integer=True, low=low, high=high, closed_low=True, closed_high=True
    )


# Closed forms: SymPy symbols named as the canonical parameters (positive where the parameter is, real otherwise).
mu, a, b = (sp.Symbol(v, real=True) for v in ("mu", "a", "b"))
sigma, p, n, lam, df, scale, shape = (
    sp.Symbol(v, positive=True) for v in ("sigma", "p", "n", "lam", "df", "scale", "shape")
)
dfn, dfd, alpha, beta = (sp.Symbol(v, positive=True) for v in ("dfn", "dfd", "alpha", "beta"))
_q = 1 - p
_psi, _half = sp.digamma, sp.Rational(1, 2)


def _moments(mean: Entry, variance: Entry, skewness: Entry, kurtosis: Entry) -> dict[str, Entry]:
    return {"mean": mean, "variance": variance, "skewness": skewness, "excess_kurtosis": kurtosis}


def _plain(*values: sp.Expr) -> tuple[Entry, ...]:
    return tuple((v, None) for v in values)


_F_SKEW = (2 * dfn + dfd - 2) * sp.sqrt(8 * (dfd - 4)) / ((dfd - 6) * sp.sqrt(dfn * (dfn + dfd - 2)))
_F_KURT = (
    12
    * (dfn * (5 * dfd - 22) * (dfn + dfd - 2) + (dfd - 4) * (dfd - 2) ** 2)
    / (dfn * (dfd - 6) * (dfd - 8) * (dfn + dfd - 2))
)
_F_ENTROPY = (
    _lbeta(dfn / 2, dfd / 2)
    + (1 - dfn / 2) * _psi(dfn / 2)
    - (1 + dfd / 2) * _psi(dfd / 2)
    + (dfn + dfd) / 2 * _psi((dfn + dfd) / 2)
    + sp.log(dfd / dfn)
)
_BETA_SKEW = 2 * (beta - alpha) * sp.sqrt(alpha + beta + 1) / ((alpha + beta + 2) * sp.sqrt(alpha * beta))
_BETA_KURT = (
    6
    * ((alpha - beta) ** 2 * (alpha + beta + 1) - alpha * beta * (alpha + beta + 2))
    / (alpha * beta * (alpha + beta + 2) * (alpha + beta + 3))
)
_BETA_ENTROPY = (
    _lbeta(alpha, beta) - (alpha - 1) * _psi(alpha) - (beta - 1) * _psi(beta) + (alpha + beta - 2) * _psi(alpha + beta)
)
_T_ENTROPY = (df + 1) / 2 * (_psi((df + 1) / 2) - _psi(df / 2)) + sp.log(df) / 2 + _lbeta(df / 2, _half)


# Statistics that are not finite numbers, and modes.
_SHAPE = ("skewness", "excess_kurtosis")
_SPREAD = ("variance", "std")
_CONSTANT = "X is constant when p is 0 or 1: with variance 0 it has no {stat}"
_POINT_MASS = Rule(_SHAPE, lambda p: p["p"] in (0.0, 1.0), UNDEFINED, _CONSTANT)
_CERTAIN = Rule(_SHAPE, lambda p: p["p"] == 1.0, UNDEFINED, "X is 1 when p is 1: with variance 0 it has no {stat}")
_MAX_TRIALS = 2.0**53  # every integer up to here is a double; SciPy's binomial cdf and quantiles hold to 1e16


def _df(bound: float) -> Callable[[Mapping[str, float]], bool]:
    return at_most("df", bound)


def _dfd(bound: float) -> Callable[[Mapping[str, float]], bool]:
    return at_most("dfd", bound)


_T_RULES = (
    Rule(("mean",), _df(1), UNDEFINED, "the mean of a Student t is undefined for df <= 1 (both tails diverge)"),
    Rule(_SPREAD, _df(1), UNDEFINED, "the {stat} of a Student t is undefined for df <= 1 (it has no mean)"),
    Rule(_SPREAD, _df(2), INFINITE, "the {stat} of a Student t is infinite for 1 < df <= 2"),
    Rule(("skewness",), _df(3), UNDEFINED, "the skewness of a Student t is undefined for df <= 3"),
    Rule(("excess_kurtosis",), _df(2), UNDEFINED, "the kurtosis of a Student t is undefined for df <= 2"),
    Rule(("excess_kurtosis",), _df(4), INFINITE, "the kurtosis of a Student t is infinite for 2 < df <= 4"),
)  # fmt: skip
_F_RULES = (
    Rule(("mean",), _dfd(2), INFINITE, "the mean of an F distribution is infinite for dfd <= 2"),
    Rule(_SPREAD, _dfd(2), UNDEFINED, "the {stat} of an F distribution is undefined for dfd <= 2 (infinite mean)"),
    Rule(_SPREAD, _dfd(4), INFINITE, "the {stat} of an F distribution is infinite for 2 < dfd <= 4"),
    Rule(_SHAPE, _dfd(4), UNDEFINED, "the {stat} of an F distribution is undefined for dfd <= 4"),
    Rule(("skewness",), _dfd(6), INFINITE, "the skewness of an F distribution is infinite for 4 < dfd <= 6"),
    Rule(("excess_kurtosis",), _dfd(8), INFINITE, "the kurtosis of an F distribution is infinite for 4 < dfd <= 8"),
)  # fmt: skip


def _mode_bernoulli(p: Mapping[str, float]) -> Mode:
    return two_modes(0, 1, "p = 0.5") if p["p"] == 0.5 else float(p["p"] > 0.5)


def _mode_binomial(p: Mapping[str, float]) -> Mode:
    peak = (p["n"] + 1) * p["p"]
    if 0 < p["p"] < 1 and peak == math.floor(peak):
        return two_modes(peak - 1, peak, "(n + 1)*p is an integer")
    return float(min(math.floor(peak), p["n"]))


def _mode_poisson(p: Mapping[str, float]) -> Mode:
    lam = p["lam"]
    return two_modes(lam - 1, lam, "lam is an integer") if lam == math.floor(lam) else float(math.floor(lam))


def _mode_f(p: Mapping[str, float]) -> Mode:
    d1, d2 = p["dfn"], p["dfd"]
    return (d1 - 2) / d1 * d2 / (d2 + 2) if d1 > 2 else 0.0


def _mode_gamma(p: Mapping[str, float]) -> Mode:
    return (p["shape"] - 1) * p["scale"] if p["shape"] >= 1 else 0.0


def _mode_beta(p: Mapping[str, float]) -> Mode:
    a, b = p["alpha"], p["beta"]
    if a < 1 and b < 1:
        return two_modes(0, 1, "alpha < 1 and beta < 1: the density is unbounded at both ends")
    if a == 1 and b == 1:
        return Verdict(UNDEFINED, "every point of [0, 1] is a mode when alpha = beta = 1 (the uniform density)")
    if a <= 1 <= b:
        return 0.0
    if b <= 1 <= a:
        return 1.0
    return (a - 1) / (a + b - 2)


_FLAT = Verdict(UNDEFINED, "every point of [a, b] is a mode of a uniform distribution (the density is flat)")


# Entropies SciPy computes too slowly or too inexactly.
_WIDE = 1e8  # binomial variance above which the entropy is 1/2 log(2 pi e var), within 1e-9 relative
_LARGE_LAM = 1e3  # Poisson mean above which the asymptotic series is exact in double precision (next term ~1e-13)


def _binomial_entropy(params: Mapping[str, float], rv: Frozen) -> float:
    """SciPy sums over all n + 1 outcomes (terabytes for n = 10^12): here -sum P log P with log P by Loader's form
    over +-12 standard deviations (SciPy's entr(pmf) loses the k = 0 term, -q^n log q^n = n p q^n, when q^n rounds
    to 1: 7.8655379e-10 for 7.8655433e-10 at n = 4, p = 7.8e-12), or, when even that window is wide, the normal
    limit with its first correction, -(skewness^2)/12 (the next term is O(1/variance^2) < 1e-16)."""
    n, p = params["n"], params["p"]
    variance = n * p * (1 - p)
    if variance > _WIDE:
        return 0.5 * math.log(2 * math.pi * math.e * variance) - (1 - 2 * p) ** 2 / (12 * variance)
    spread = 12 * math.sqrt(variance) + 12
    k = np.arange(max(0.0, math.floor(n * p - spread)), min(n, math.ceil(n * p + spread)) + 1)
    log_p = binomial_log_pmf(k, params)
    finite = np.isfinite(log_p)
    return float(-np.sum(np.exp(log_p[finite]) * log_p[finite])) + 0.0


def _poisson_entropy(params: Mapping[str, float], rv: Frozen) -> float:
    """SciPy sums term by term (hours for lam = 10^300, and 2.5e-3 too low already at lam = 10001; its entr(pmf)
    loses the k = 0 term lam e^-lam when e^-lam rounds to 1: 1.4e-3 relative at lam = 1e-300): -sum P log P
    with log P exact, or for a large mean the asymptotic series."""
    lam = params["lam"]
    if lam <= _LARGE_LAM:
        k = np.arange(0.0, math.ceil(lam + 40 * math.sqrt(lam) + 40))
        log_p = special.xlogy(k, lam) - lam - special.gammaln(k + 1)
        return float(-np.sum(np.exp(log_p) * log_p))
    t = 1 / lam
    return 0.5 * math.log(2 * math.pi * math.e / t) - t / 12 - t * t / 24 - 19 * t**3 / 360


# Maximum-likelihood starting points (canonical names; ``fixed`` holds the fixed ones).
def _exact(start: Start) -> FitRule:
    return FitRule(start, exact=True)


def _newton(start: Start) -> FitRule:
    return FitRule(start, exact=False)


def _fit_normal(x: np.ndarray, fixed: Mapping[str, float]) -> dict[str, float]:
    mu = fixed.get("mu", float(x.mean()))
    return {"mu": mu, "sigma": float(np.sqrt(np.mean((x - mu) ** 2)))}


def _scipy_fit(distribution: Any, names: tuple[str, ...], **frozen: float) -> FitRule:
    """SciPy's own fit as the starting point for Newton's method."""

    def start(x: np.ndarray, fixed: Mapping[str, float]) -> dict[str, float]:
        try:
            found = distribution.fit(x, **frozen)
        except (ValueError, ArithmeticError, RuntimeError):  # FitError and LinAlgError among them
            found = [1.0] * len(names)  # SciPy's solver gave up: Newton's method starts from 1 and decides
        return dict(zip(names, (float(v) for v in found), strict=False))

    return _newton(start)


# Data outside a support that moves with the parameters (client's names).
def _beyond_n(data: np.ndarray, v: Mapping[str, float]) -> tuple[tuple[str | int, ...], str] | None:
    above = np.flatnonzero(data > v["n"])
    if not above.size:
        return None
    i = int(above[0])
    return ("data", i), f"data[{i}] = {data[i]:g} is more than n = {v['n']:g} trials: binomial needs 0 <= x <= n"


def _beyond_ab(data: np.ndarray, v: Mapping[str, float]) -> tuple[tuple[str | int, ...], str] | None:
    if v["a"] <= data.min() and data.max() <= v["b"]:
        return None
    return ("data",), f"the data lie outside [a, b] = [{v['a']:g}, {v['b']:g}]: uniform needs a <= x <= b"


# Couplings: measure-valued derivatives of the discrete laws on the same draw (see ``record.Coupling``); each is
# checked in tests/compute/test_stochastic_coupling.py against the derivative of the summed expectation.
def _bernoulli_terms(x: Expr, p: Mapping[str, Expr]) -> tuple[tuple[Expr, Expr], ...]:
    # E f(X) = p f(1) + (1 - p) f(0): d/dp = f(1) - f(0), whatever the draw (the rest of the model keeps its draws).
    return ((sp.S.One, sp.S.One), (sp.S.NegativeOne, sp.S.Zero))


def _binomial_terms(x: Expr, p: Mapping[str, Expr]) -> tuple[tuple[Expr, Expr], ...]:
    # d/dp E f(X) = n E[f(Y + 1) - f(Y)] with Y ~ Binomial(n - 1, p) (X = Y + one more trial). Given X, the trial
    # left out is a success with probability X/n, so E[n (f(Y + 1) - f(Y)) | X] = X (f(X) - f(X - 1))
    # + (n - X)(f(X + 1) - f(X)): the same derivative on the draw of X itself, with less variance (Rao-Blackwell).
    n = p["n"]
    return ((-x, x - 1), (2 * x - n, x), (n - x, x + 1))


def _poisson_terms(x: Expr, p: Mapping[str, Expr]) -> tuple[tuple[Expr, Expr], ...]:
    # d/dlam sum f(k) lam^k e^-lam / k! = sum f(k) (P(k - 1) - P(k)) = E[f(X + 1) - f(X)].
    return ((sp.S.One, x + 1), (sp.S.NegativeOne, x))


def _geometric_terms(x: Expr, p: Mapping[str, Expr]) -> tuple[tuple[Expr, Expr], ...]:
    # Support 1, 2, ...: E f(X) = f(1) + sum_{k>=1} (f(k + 1) - f(k)) P(X > k) with P(X > k) = (1 - p)^k, so
    # d/dp E f(X) = -sum_k (f(k + 1) - f(k)) k (1 - p)^(k - 1) = -E[X (f(X + 1) - f(X))]/p (k (1-p)^(k-1) = P(k) k/p).
    weight = x / p["p"]
    return ((-weight, x + 1), (weight, x))


# Reparameterisations: parameter-free noise and a differentiable transform.
_NORMAL_NOISE = Noise((), lambda rng, p, n: rng.standard_normal(n), lambda e, p: p["mu"] + p["sigma"] * e)
_UNIFORM_NOISE = Noise((), lambda rng, p, n: rng.random(n), lambda e, p: p["a"] + (p["b"] - p["a"]) * e)
_EXPONENTIAL_NOISE = Noise((), lambda rng, p, n: rng.standard_exponential(n), lambda e, p: p["scale"] * e)
_GAMMA_NOISE = Noise(("shape",), lambda rng, p, n: rng.standard_gamma(p["shape"], n), lambda e, p: p["scale"] * e)


_POSITIVE = Parameter("x", "x > 0", "One observation (the log density needs x > 0).", low=0.0)
_SCALE_TEXT = "exactly one of rate and scale, scale = 1/rate"
_FAMILIES = (
    Family(
        "normal", "Normal (Gaussian)", False,
        (Parameter("mu", "mu real", "Mean (location)."), _positive("sigma", "Standard deviation.")),
        ("mu", "sigma"), "all real numbers (-inf, inf)", "sigma is the standard deviation, not the variance.",
        _log_normal, lambda rng, p, n: rng.normal(p["mu"], p["sigma"], n),
        lambda p: stats.norm(loc=p["mu"], scale=p["sigma"]),
        closed_forms={
            **_moments(*_plain(mu, sigma**2, sp.S.Zero, sp.S.Zero)),
            "entropy": (sp.log(2 * sp.pi * sp.E * sigma**2) / 2, None),
            "median": (mu, None),
            "mode": (mu, None),
        },
        mode=lambda p: p["mu"], fit=_exact(_fit_normal),
        sympy_stats=lambda x, p: sympy_stats.Normal(x, p["mu"], p["sigma"]),
        reparameterisation=_NORMAL_NOISE,
    ),
    Family(
        "bernoulli", "Bernoulli", True,
        (_probability("p", "Probability of a success (the value 1)."),),
        ("p",), "{0, 1}", "P(X = 1) = p and P(X = 0) = 1 - p.",
        _log_bernoulli, _bernoulli_draws, lambda p: stats.bernoulli(p["p"]),
        closed_forms={
            **_moments(*_plain(p, p * _q, (1 - 2 * p) / sp.sqrt(p * _q), (1 - 6 * p * _q) / (p * _q))),
            "entropy": (-p * sp.log(p) - _q * sp.log(_q), None),
        },
        mode=_mode_bernoulli, fit=_exact(lambda x, f: {"p": float(x.mean())}),
        sympy_stats=lambda x, p: sympy_stats.Bernoulli(x, p["p"]),
        rules=(_POINT_MASS,), support_sign="nonnegative", coupling=Coupling("p", _bernoulli_terms),
        score_log_density=_score_log_bernoulli, lattice=BERNOULLI,
        observation=_counts("x is 0 or 1", 0.0, high=1.0),
    ),
    Family(
        "binomial", "Binomial", True,
        (
            Parameter("n", "n a positive integer <= 2^53", "Number of independent trials.", integer=True, low=1.0,
                      high=_MAX_TRIALS, closed_low=True, closed_high=True),
            _probability("p", "Probability of a success in each trial."),
        ),
        ("n", "p"), "{0, 1, ..., n}", "The number of successes in n trials.",
        _log_binomial, _binomial_draws, lambda p: stats.binom(int(p["n"]), p["p"]),
        closed_forms=_moments(
            *_plain(n * p, n * p * _q, (1 - 2 * p) / sp.sqrt(n * p * _q), (1 - 6 * p * _q) / (n * p * _q))
        ),
        mode=_mode_binomial, fit=_exact(lambda x, f: {"n": f["n"], "p": float(x.mean() / f["n"])}),
        sympy_stats=lambda x, p: sympy_stats.Binomial(x, p["n"], p["p"]),
        rules=(_POINT_MASS,), entropy=_binomial_entropy, beyond_support=_beyond_n, support_sign="nonnegative",
        log_mass=binomial_log_pmf, coupling=Coupling("p", _binomial_terms), score_log_density=_score_log_binomial,
        lattice=BINOMIAL,
        observation=_counts("x an integer >= 0 (and <= n)", 0.0),
    ),
    Family(
        "poisson", "Poisson", True,
        (_positive("lam", "Rate: the mean number of events per interval."),),
        ("lam",), "{0, 1, 2, ...}", "lam is both the mean and the variance.",
        _log_poisson, lambda rng, p, n: rng.poisson(p["lam"], n), lambda p: stable_poisson(p["lam"]),
        closed_forms=_moments(*_plain(lam, lam, 1 / sp.sqrt(lam), 1 / lam)),
        mode=_mode_poisson, fit=_exact(lambda x, f: {"lam": float(x.mean())}),
        sympy_stats=lambda x, p: sympy_stats.Poisson(x, p["lam"]),
        entropy=_poisson_entropy, support_sign="nonnegative", coupling=Coupling("lam", _poisson_terms),
        lattice=POISSON,
        observation=_counts("x an integer >= 0", 0.0),
    ),
    Family(
        "uniform", "Continuous uniform", False,
        (Parameter("a", "a real, a < b", "Lower end."), Parameter("b", "b real, b > a", "Upper end.")),
        ("a", "b"), "[a, b]", "Continuous on [a, b], a < b.",
        _log_uniform, lambda rng, p, n: rng.uniform(p["a"], p["b"], n),
        lambda p: wide_uniform(p["a"], p["b"]),
        closed_forms={
            **_moments(*_plain((a + b) / 2, (b - a) ** 2 / 12, sp.S.Zero, sp.Rational(-6, 5))),
            "entropy": (sp.log(b - a), None),
            "median": ((a + b) / 2, None),
        },
        mode=lambda p: _FLAT,
        fit=_exact(lambda x, f: {"a": f.get("a", float(x.min())), "b": f.get("b", float(x.max()))}),
        sympy_stats=lambda x, p: sympy_stats.Uniform(x, p["a"], p["b"]),
        relations=(Relation(("a", "b"), "a < b", lambda a, b: np.asarray(a) < np.asarray(b)),),
        irregular="the support [a, b] moves with a and b, so the likelihood is not differentiable at its maximum",
        support_parameters=("a", "b"), beyond_support=_beyond_ab, reparameterisation=_UNIFORM_NOISE,
        log_mass=uniform_log_pdf,
    ),
    Family(
        "geometric", "Geometric", True,
        (_probability("p", "Probability of a success in each trial.", zero=False),),
        ("p",), "{1, 2, 3, ...}",
        "Counts trials up to and including the first success (support 1, 2, ...; mean 1/p), not failures before it.",
        _log_geometric, lambda rng, p, n: rng.geometric(p["p"], n), lambda p: stats.geom(p["p"]),
        closed_forms={
            **_moments(*_plain(1 / p, _q / p**2, (2 - p) / sp.sqrt(_q), 6 + p**2 / _q)),
            "entropy": ((-_q * sp.log(_q) - p * sp.log(p)) / p, None),
            "mode": (sp.S.One, None),
        },
        mode=lambda p: 1.0, fit=_exact(lambda x, f: {"p": float(1 / x.mean())}),
        sympy_stats=lambda x, p: sympy_stats.Geometric(x, p["p"]), support_sign="positive",
        rules=(_CERTAIN,), entropy=lambda p, rv: geometric_entropy(p["p"]), coupling=Coupling("p", _geometric_terms),
        score_log_density=_score_log_geometric, lattice=GEOMETRIC,
        observation=_counts("x an integer >= 1", 1.0),
    ),
    Family(
        "student_t", "Student's t", False,
        (_positive("df", "Degrees of freedom (need not be an integer)."),),
        ("df",), "all real numbers (-inf, inf)", "Standard form: location 0, scale 1.",
        _log_student_t, lambda rng, p, n: rng.standard_t(p["df"], n), lambda p: stable_t(p["df"]),
        closed_forms={
            **_moments(
                (sp.S.Zero, "df > 1"), (df / (df - 2), "df > 2"), (sp.S.Zero, "df > 3"), (6 / (df - 4), "df > 4")
            ),
            "entropy": (_T_ENTROPY, None),
            "median": (sp.S.Zero, None),
            "mode": (sp.S.Zero, None),
        },
        mode=lambda p: 0.0, fit=_scipy_fit(stats.t, ("df",), floc=0, fscale=1),
        sympy_stats=lambda x, p: sympy_stats.StudentT(x, p["df"]), rules=_T_RULES,
        limit=Limit("df", math.inf, lambda p: stats.norm(), "the standard normal (the limit as df -> inf)"),
    ),
    Family(
        "chi2", "Chi-squared", False,
        (_positive("df", "Degrees of freedom (need not be an integer)."),),
        ("df",), "[0, inf)", "The sum of df squared standard normals (for integer df).",
        _log_chi2, lambda rng, p, n: rng.chisquare(p["df"], n), lambda p: stable_gamma(p["df"] / 2, 2.0),
        closed_forms={
            **_moments(*_plain(df, 2 * df, sp.sqrt(8 / df), 12 / df)),
            "entropy": (df / 2 + sp.log(2) + sp.loggamma(df / 2) + (1 - df / 2) * _psi(df / 2), None),
            "mode": (df - 2, "df >= 2"),
        },
        mode=lambda p: max(p["df"] - 2, 0.0), fit=_newton(lambda x, f: {"df": float(x.mean())}),
        sympy_stats=lambda x, p: sympy_stats.ChiSquared(x, p["df"]), support_sign="positive",
        log_mass=chi2_log_pdf,
        observation=_POSITIVE,
    ),
    Family(
        "exponential", "Exponential", False,
        (_positive("rate", "Rate lambda: events per unit time (scale = 1/rate)."),
         _positive("scale", "Scale: the mean waiting time (scale = 1/rate).")),
        ("scale",), "[0, inf)", f"Takes {_SCALE_TEXT}.",
        _log_exponential, lambda rng, p, n: rng.exponential(p["scale"], n), lambda p: stats.expon(scale=p["scale"]),
        closed_forms={
            **_moments(*_plain(scale, scale**2, sp.Integer(2), sp.Integer(6))),
            "entropy": (1 + sp.log(scale), None),
            "median": (scale * sp.log(2), None),
            "mode": (sp.S.Zero, None),
        },
        mode=lambda p: 0.0, fit=_exact(lambda x, f: {"scale": float(x.mean())}),
        sympy_stats=lambda x, p: sympy_stats.Exponential(x, 1 / p["scale"]),
        reparameterisation=_EXPONENTIAL_NOISE, support_sign="positive",
        alternatives=(Alternative("rate", "scale", _reciprocal),),
        observation=Parameter("x", "x >= 0", "One observation.", low=0.0, closed_low=True),
    ),
    Family(
        "f", "F (Fisher-Snedecor)", False,
        (_positive("dfn", "Numerator degrees of freedom."), _positive("dfd", "Denominator degrees of freedom.")),
        ("dfn", "dfd"), "[0, inf)", "The ratio of two chi-squared variables, each divided by its df.",
        _log_f, lambda rng, p, n: rng.f(p["dfn"], p["dfd"], n), lambda p: stable_f(p["dfn"], p["dfd"]),
        closed_forms={
            **_moments(
                (dfd / (dfd - 2), "dfd > 2"),
                (2 * dfd**2 * (dfn + dfd - 2) / (dfn * (dfd - 2) ** 2 * (dfd - 4)), "dfd > 4"),
                (_F_SKEW, "dfd > 6"),
                (_F_KURT, "dfd > 8"),
            ),
            "entropy": (_F_ENTROPY, None),
            "mode": ((dfn - 2) / dfn * dfd / (dfd + 2), "dfn > 2"),
        },
        mode=_mode_f, fit=_scipy_fit(stats.f, ("dfn", "dfd"), floc=0, fscale=1),
        sympy_stats=lambda x, p: sympy_stats.FDistribution(x, p["dfn"], p["dfd"]), rules=_F_RULES,
        log_mass=f_log_pdf,
        support_sign="positive",
        observation=_POSITIVE,
    ),
    Family(
        "gamma", "Gamma", False,
        (_positive("shape", "Shape k."), _positive("rate", "Rate beta = 1/scale."),
         _positive("scale", "Scale theta = 1/rate.")),
        ("shape", "scale"), "[0, inf)", f"Takes shape and {_SCALE_TEXT}; mean shape*scale.",
        _log_gamma, lambda rng, p, n: rng.gamma(p["shape"], p["scale"], n),
        lambda p: stable_gamma(p["shape"], p["scale"]),
        closed_forms={
            **_moments(*_plain(shape * scale, shape * scale**2, 2 / sp.sqrt(shape), 6 / shape)),
            "entropy": (shape + sp.log(scale) + sp.loggamma(shape) + (1 - shape) * _psi(shape), None),
            "mode": ((shape - 1) * scale, "shape >= 1"),
        },
        mode=_mode_gamma, fit=_scipy_fit(stats.gamma, ("shape", "loc", "scale"), floc=0),
        sympy_stats=lambda x, p: sympy_stats.Gamma(x, p["shape"], p["scale"]),
        log_mass=gamma_log_pdf,
        reparameterisation=_GAMMA_NOISE, support_sign="positive",
        alternatives=(Alternative("rate", "scale", _reciprocal),),
        observation=_POSITIVE,
    ),
    Family(
        "beta", "Beta", False,
        (_positive("alpha", "First shape parameter."), _positive("beta", "Second shape parameter.")),
        ("alpha", "beta"), "[0, 1]", "Density proportional to x^(alpha-1) (1-x)^(beta-1).",
        _log_beta, lambda rng, p, n: rng.beta(p["alpha"], p["beta"], n), lambda p: stats.beta(p["alpha"], p["beta"]),
        closed_forms={
            **_moments(
                *_plain(alpha / (alpha + beta), alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1)), _BETA_SKEW,
                        _BETA_KURT)
            ),
            "entropy": (_BETA_ENTROPY, None),
            "mode": ((alpha - 1) / (alpha + beta - 2), "alpha > 1 and beta > 1"),
        },
        mode=_mode_beta, fit=_scipy_fit(stats.beta, ("alpha", "beta"), floc=0, fscale=1),
        sympy_stats=lambda x, p: sympy_stats.Beta(x, p["alpha"], p["beta"]), support_sign="positive",
        log_mass=beta_log_pdf,
        observation=Parameter("x", "0 < x < 1", "One observation.", low=0.0, high=1.0),
    ),
)  # fmt: skip

FAMILIES: dict[str, Family] = {f.name: f for f in _FAMILIES}
"""Every family by name, in the order of the catalogue."""
