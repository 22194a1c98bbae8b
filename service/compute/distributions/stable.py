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

__all__ = ["binomial_log_pmf", "geometric_entropy", "wide_uniform"]


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
    """The error of Stirling's formula for log(k!), for integers k >= 0 (a table up to 15, its series above)."""
    small = k <= 15
    n = np.where(small, 16.0, k)
    nn = n * n
    series = (_S[0] - (_S[1] - (_S[2] - (_S[3] - _S[4] / nn) / nn) / nn) / nn) / n
    return np.asarray(np.where(small, _STIRLING[np.clip(k, 0, 15).astype(int)], series), dtype=float)


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


def binomial_log_pmf(x: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """log P(X = x) for X ~ Binomial(n, p), correct to about 1e-15 relative for every n up to 2^53 and every p;
    -inf off the support (non-integers, x < 0, x > n)."""
    n, p = float(params["n"]), float(params["p"])
    x = np.asarray(x, dtype=float)
    inside = (x >= 0) & (x <= n) & (np.floor(x) == x)
    k = np.where(inside, x, 0.0)
    q = 1.0 - p  # exact for p >= 1/2 (Sterbenz); for p < 1/2, log1p(-p) is used instead
    log_p, log_q = math.log(p) if p > 0 else -math.inf, math.log1p(-p) if p < 1 else -math.inf
    with np.errstate(all="ignore"):
        ends = np.where(k == 0, special.xlog1py(n, -p) if p < 1 else -math.inf, special.xlogy(n, p))
        middle = k[(k > 0) & (k < n)]
        out = np.where((k == 0) | (k == n), ends, 0.0)
        if middle.size and 0 < p < 1:
            rest = n - middle
            np_, nq = n * p, n * q
            value = (
                _stirlerr(np.array(n)) - _stirlerr(middle) - _stirlerr(rest)
                - _bd0(middle, np.full_like(middle, np_), np.full_like(middle, math.log(n) + log_p))
                - _bd0(rest, np.full_like(rest, nq), np.full_like(rest, math.log(n) + log_q))
                + 0.5 * (math.log(n) - math.log(2 * math.pi) - np.log(middle) - np.log(rest))
            )  # fmt: skip
            out[(k > 0) & (k < n)] = value
        elif middle.size:
            out[(k > 0) & (k < n)] = -math.inf  # p = 0 or 1: a point mass at 0 or n
    return np.where(inside, out, -math.inf)


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


def wide_uniform(a: float, b: float) -> object:
    """SciPy's frozen uniform law on [a, b], for any finite a < b (b - a may exceed the largest double)."""
    return _SYMMETRIC_UNIFORM(loc=a / 2 + b / 2, scale=b / 2 - a / 2)
