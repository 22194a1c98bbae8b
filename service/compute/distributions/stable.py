"""Laws computed where SciPy's own are inexact or overflow: the binomial log pmf for huge n (Loader's saddle-point
form), the uniform over an interval wider than the largest double, the geometric entropy at p near 0 or 1, and a
quantile that stays in the support.

SciPy's ``binom.logpmf`` is ``gammaln(n+1) - gammaln(k+1) - gammaln(n-k+1) + ...``: for n = 10^15 each term is near
3e16 and their difference, of order 1, has lost every digit (it is 6.6 off at n = 10^15, p = 10^-12, k = 1000).
Loader's form (C. Loader, "Fast and accurate computation of binomial probabilities", 2000; R's ``dbinom``) writes it
as a sum of small, separately accurate terms.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import mpmath
import numpy as np
from scipy import special, stats

__all__ = [
    "beta_log_pdf",
    "binomial_log_pmf",
    "chi2_log_pdf",
    "f_log_pdf",
    "gamma_log_pdf",
    "geometric_entropy",
    "uniform_log_pdf",
    "wide_uniform",
]


def _stirling_table() -> np.ndarray:
    """log(k!) - log(sqrt(2 pi k) (k/e)^k) for k = 0..15, exactly (mpmath at 30 digits), 0 at k = 0."""
    with mpmath.workdps(30):
        values = [0.0] + [
            float(mpmath.loggamma(k + 1) - (k + mpmath.mpf(1) / 2) * mpmath.log(k) + k - mpmath.log(2 * mpmath.pi) / 2)
            for k in range(1, 16)
        ]
    return np.array(values)


_STIRLING = _stirling_table()
_S = (1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188)


def _stirlerr(k: np.ndarray) -> np.ndarray:
    """The error of Stirling's formula for log(k!), k >= 0 real: a table at the integers up to 15, the direct
    difference between other small k, the asymptotic series above 15."""
    k = np.asarray(k, dtype=float)
    small = k <= 15
    n = np.where(small, 16.0, k)
    nn = n * n
    series = (_S[0] - (_S[1] - (_S[2] - (_S[3] - _S[4] / nn) / nn) / nn) / nn) / n
    tiny = np.where(small & (k > 0), k, 1.0)
    direct = special.gammaln(tiny + 1) - (tiny + 0.5) * np.log(tiny) + tiny - 0.5 * math.log(2 * math.pi)
    table = _STIRLING[np.clip(k, 0, 15).astype(int)]
    exact = np.where(np.floor(k) == k, table, np.where(k > 0, direct, 0.0))
    return np.asarray(np.where(small, exact, series), dtype=float)


def _bd0(x: np.ndarray, m: np.ndarray, log_m: np.ndarray) -> np.ndarray:
    """x log(x/m) + m - x, the deviance term, without cancellation when x is near m (Loader's series)."""
    near = np.abs(x - m) < 0.1 * (x + m)
    v = np.where(near, (x - m) / np.where(near, x + m, 1.0), 0.0)
    total = (x - m) * v
    term = 2 * x * v
    v2 = v * v
    for j in range(1, 200):
        term = term * v2
        step = term / (2 * j + 1)
        if not np.any(near & (step != 0) & (np.abs(step) > 1e-17 * np.abs(total))):
            break
        total = total + np.where(near, step, 0.0)
    far = special.xlogy(x, x) - x * log_m + m - x
    return np.asarray(np.where(near, total, far), dtype=float)


def _binomial_raw(k: np.ndarray, rest: np.ndarray, log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """Loader's log of C(n, k) p^k q^(n-k), n = k + rest, for real k, rest >= 0 (each given as itself: n may round
    them away) and p + q = 1 given by their logarithms (p = 1e-324 has lost every digit as a double): a sum of
    small, separately accurate terms."""
    n = k + rest
    log_n = np.log(n)
    inner = np.where(k > 0, k, 1.0)
    np_, nq = n * np.exp(log_p), n * np.exp(log_q)  # not exp(log n + ...): its error grows with log n
    value = (
        _stirlerr(n) - _stirlerr(inner) - _stirlerr(rest)
        - _bd0(inner, np_, log_n + log_p) - _bd0(rest, nq, log_n + log_q)
        - 0.5 * (math.log(2 * math.pi) + np.log(inner) + np.log(rest) - log_n)
    )  # fmt: skip
    return np.asarray(np.where(k > 0, value, n * log_q), dtype=float)  # k = 0: q^n


def binomial_log_pmf(x: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """log P(X = x) for X ~ Binomial(n, p), correct to about 1e-14 relative for every n up to 2^53 and every p;
    -inf off the support (non-integers, x < 0, x > n)."""
    n, p = float(params["n"]), float(params["p"])
    x = np.asarray(x, dtype=float)
    inside = (x >= 0) & (x <= n) & (np.floor(x) == x)
    k = np.where(inside, x, 0.0)
    with np.errstate(all="ignore"):
        ends = np.where(k == 0, special.xlog1py(n, -p) if p < 1 else -math.inf, special.xlogy(n, p))
        out = np.where((k == 0) | (k == n), ends, -math.inf)  # -inf inside when p is 0 or 1 (a point mass)
        middle = (k > 0) & (k < n)
        if np.any(middle) and 0 < p < 1:
            inner = k[middle]
            out[middle] = _binomial_raw(
                inner, n - inner, np.full_like(inner, math.log(p)), np.full_like(inner, math.log1p(-p))
            )
    return np.where(inside, out, -math.inf)


def gamma_log_pdf(x: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """log pdf of Gamma(shape, scale): Loader's form log(k/x) + log dpois(k; x/scale) for shape >= 10 (SciPy's
    difference of (k - 1) log x and gammaln(k) loses 1e-10 relative at shape = 1e300), the direct form below."""
    k, theta = float(params["shape"]), float(params["scale"])
    x = np.asarray(x, dtype=float)
    positive = np.where(x > 0, x, 1.0)
    with np.errstate(all="ignore"):
        if k < 10:
            value = special.xlogy(k - 1, positive) - positive / theta - special.gammaln(k) - k * math.log(theta)
        else:
            y = positive / theta
            log_y = np.log(positive) - math.log(theta)
            poisson = -_stirlerr(np.array(k)) - _bd0(np.full_like(y, k), y, log_y) - 0.5 * math.log(2 * math.pi * k)
            value = math.log(k) - np.log(positive) + poisson
        at_zero = math.inf if k < 1 else -math.log(theta) if k == 1 else -math.inf
    return np.asarray(np.where(x > 0, value, np.where(x == 0, at_zero, -math.inf)), dtype=float)


def chi2_log_pdf(x: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """log pdf of chi-squared with df degrees of freedom: the gamma with shape df/2 and scale 2."""
    return gamma_log_pdf(x, {"shape": params["df"] / 2, "scale": 2.0})


def beta_log_pdf(x: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """log pdf of Beta(alpha, beta): Loader's binomial form for alpha, beta > 2 (R's dbeta), the direct form with
    SciPy's betaln otherwise; -inf outside (0, 1)."""
    a, b = float(params["alpha"]), float(params["beta"])
    x = np.asarray(x, dtype=float)
    inside = (x > 0) & (x < 1)
    t = np.where(inside, x, 0.5)
    with np.errstate(all="ignore"):
        if a <= 2 or b <= 2:
            value = special.xlogy(a - 1, t) + special.xlog1py(b - 1, -t) - special.betaln(a, b)
        else:
            full = np.ones_like(t)
            value = math.log(a + b - 1) + _binomial_raw((a - 1) * full, (b - 1) * full, np.log(t), np.log1p(-t))
        at_0 = math.inf if a < 1 else math.log(b) if a == 1 else -math.inf
        at_1 = math.inf if b < 1 else math.log(a) if b == 1 else -math.inf
    ends = np.where(x == 0, at_0, np.where(x == 1, at_1, -math.inf))
    return np.asarray(np.where(inside, value, ends), dtype=float)


def f_log_pdf(x: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """log pdf of F(dfn, dfd) by Loader's binomial form (R's df): SciPy's is 2e-4 off at dfd = 1e12."""
    m, n = float(params["dfn"]), float(params["dfd"])
    x = np.asarray(x, dtype=float)
    inside = x > 0
    t = np.where(inside, x, 1.0)
    with np.errstate(all="ignore"):
        # p = x m/(n + x m) and q = n/(n + x m), by their logarithms
        log_ratio = np.log(t) + math.log(m) - math.log(n)  # log(p/q) = log(x m/n), which may overflow as a ratio
        small = log_ratio < 0
        tail = np.log1p(np.exp(np.where(small, log_ratio, -log_ratio)))
        log_p = np.where(small, log_ratio - tail, -tail)
        log_q = np.where(small, -tail, -log_ratio - tail)
        full = np.ones_like(t)
        if m >= 2:
            value = math.log(m / 2) + log_q + _binomial_raw((m - 2) / 2 * full, n / 2 * full, log_p, log_q)
        else:
            log_f = 2 * math.log(m) + log_q - math.log(2) - log_p - math.log(m + n)
            value = log_f + _binomial_raw(m / 2 * full, n / 2 * full, log_p, log_q)
        at_zero = math.inf if m < 2 else (0.0 if m == 2 else -math.inf)
    return np.asarray(np.where(inside, value, np.where(x == 0, at_zero, -math.inf)), dtype=float)


def geometric_entropy(p: float) -> float:
    """-(q log q + p log p)/p with q = 1 - p: 0 at p = 1 (a point mass), and 1 - log p as p -> 0 (where
    SciPy's ``log1p(-p)*(1-p)/p`` is right but its p = 1 is nan)."""
    return float(-special.xlog1py(1 - p, -p) / p - math.log(p)) + 0.0  # -0.0 at p = 1 as 0.0


class _SymmetricUniform(stats.rv_continuous):  # type: ignore[misc]
    """The uniform law on [-1, 1]: placed by loc = (a + b)/2 and scale = (b - a)/2, each computed without
    forming b - a, so an interval as wide as (-1e308, 1e308) keeps finite densities, cdf and quantiles."""

    def _pdf(self, x: np.ndarray) -> np.ndarray:
        return np.where(np.abs(x) <= 1, 0.5, 0.0)

    def _logpdf(self, x: np.ndarray) -> np.ndarray:
        return np.where(np.abs(x) <= 1, -math.log(2), -np.inf)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        return np.clip((x + 1) / 2, 0.0, 1.0)

    def _sf(self, x: np.ndarray) -> np.ndarray:
        return np.clip((1 - x) / 2, 0.0, 1.0)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return np.where(q < 0.5, 2 * q - 1, 1 - 2 * (1 - q))

    def _isf(self, q: np.ndarray) -> np.ndarray:
        return -self._ppf(q)

    def _stats(self) -> tuple[float, float, float, float]:
        return 0.0, 1 / 3, 0.0, -1.2

    def _entropy(self) -> float:
        return math.log(2)


_SYMMETRIC_UNIFORM = _SymmetricUniform(a=-1.0, b=1.0, name="uniform")


def uniform_log_pdf(x: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """-log(b - a) on [a, b] with b - a exact (its rounding error kept by two-sum): -8.3e-17 for [0.1, 1.1], where
    the rounded width 1.0 gives 0; finite for widths beyond the largest double."""
    a, b = params["a"], params["b"]
    half_b, half_a = b / 2, -a / 2
    high = half_b + half_a
    low = (half_b - (high - (high - half_b))) + (half_a - (high - half_b))
    log_width = math.log(2) + math.log(high) + math.log1p(low / high)
    x = np.asarray(x, dtype=float)
    return np.where((a <= x) & (x <= b), -log_width, -math.inf)


def wide_uniform(a: float, b: float) -> object:
    """SciPy's frozen uniform law on [a, b], for any finite a < b: SciPy's own where b - a is a double (its
    cdf (x - a)/(b - a) is exact at x = a and its quantiles near a keep their digits), by the halves beyond."""
    if math.isfinite(b - a):
        return stats.uniform(loc=a, scale=b - a)
    return _SYMMETRIC_UNIFORM(loc=a / 2 + b / 2, scale=b / 2 - a / 2)
