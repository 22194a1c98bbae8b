"""The Student t, F and gamma laws where SciPy's distribution functions lose their arguments: each is SciPy's own
law with its cdf, sf and quantiles computed from the incomplete beta or gamma function at an argument that never
underflows, overflows or rounds to 1.

SciPy forms the argument first and loses it at extreme parameters: the t's w = df/(df + x^2) underflows for df below
1e-10 at large |x| (its cdf at df = 2.2e-30, x = 9.4e146 is 0.917, truth 0.5 + 1e-27), the F's
w = dfn x/(dfn x + dfd) rounds to 1 or to 0 (its cdf is 1 at dfn = 8.5e279, dfd = 6.8e-266, x = 1.71, truth
2.1e-263), and the gamma's x/scale underflows (its cdf is 0 at x = 2e-287 for shape 4.4e-78, scale 4.6e90, truth 1).
Here the argument travels as the odds r = w/(1 - w) and its logarithm. Where both w and 1 - w are normal doubles,
SciPy's ``betainc``/``betaincc`` take the smaller of the two (each exact to a few ulps); where one of them is below
1e-300 (say w), I_w(a, b) = w^a (1 - w)^b 2F1(a + b, 1; a + 1; w) / (a B(a, b)):

- when (a + b) w < 1e-17 the hypergeometric factor and (1 - w)^b are 1 to double precision, so
  I = exp(L) and 1 - I = -expm1(L) with L = a log w - log(a B(a, b)), log(a B(a, b)) kept exact for a near 0;
- otherwise a + b > 1e283 and b w is the gamma limit's argument: with Y = G_a/(G_a + G_b), I = P(G_a <= r G_b) and
  G_b = b (1 +- 1e-141), so I = P(a, b r) (the F's b r = dfn x/2, computed without the ratio).

Each quantile inverts the same forms: L = log q solved for log w, the gamma limit by ``gammaincinv``, SciPy's own
inverse in between; a quantile beyond the double range is +-inf (null with its warning upstream).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special, stats

__all__ = ["log_gamma_1p", "stable_f", "stable_gamma", "stable_t"]

_TINY = -690.0  # log of 1e-300: below it a double has lost digits (or is 0)
_SERIES = -39.0  # log of 1e-17: (a + b) w below it leaves only the first term of the series
_EULER = 0.5772156649015329
_ZETA = special.zeta(np.arange(2.0, 32.0))


def log_gamma_1p(a: np.ndarray) -> np.ndarray:
    """log Gamma(1 + a) for a >= 0, exact to a few ulps also for a near 0 (``gammaln(1 + a)`` is 0 for a < 1e-16,
    where the truth is -0.5772 a): its Taylor series in zeta values below 0.2."""
    a = np.asarray(a, dtype=float)
    small = np.where(a < 0.2, a, 0.0)
    series = np.zeros_like(small)
    for k in range(len(_ZETA) + 1, 1, -1):  # Horner: sum (-1)^k zeta(k)/k a^k, k >= 2
        series = (series + (-1) ** k * _ZETA[k - 2] / k) * small
    series = (series - _EULER) * small
    return np.where(a < 0.2, series, special.gammaln(1 + a))


def _gamma_ratio_small(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log Gamma(a + b) - log Gamma(b) for a < b/4 < 1/4000: -log(1 + a/b) plus the difference of the series of
    log Gamma(1 + .), each power's difference as b^k expm1(k log(1 + a/b)) (no cancellation)."""
    step = np.log1p(a / b)
    total = -step
    for k in range(1, 9):
        coefficient = -_EULER if k == 1 else (-1) ** k * _ZETA[k - 2] / k
        total = total + coefficient * b**k * np.expm1(k * step)
    return np.asarray(total)


def _gamma_ratio_series(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log Gamma(a + b) - log Gamma(b) for a < min(1, b/4), b >= 1e-3: its Taylor series in polygammas at b (the
    terms fall like (a/b)^k)."""
    total, power = np.zeros_like(a), np.ones_like(a)
    for k in range(1, 80):
        power = power * a / k
        term = special.polygamma(k - 1, b) * power
        total += term
        if not np.any(np.abs(term) > 1e-17 * np.abs(total)):
            break
    return total


def _log_a_beta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(a B(a, b)) = log Gamma(1 + a) + log Gamma(b) - log Gamma(a + b), exact also when a is near 0 (where it is
    -a (0.5772 + digamma(b)) + ...): for a < min(1, b/4) the difference of log gammas is a series; for a >= 1
    SciPy's betaln, or where that is nan (betaln(2.7e165, 4.3e290)) Stirling's form of the difference."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    series = (a < 1) & (a < b / 4)
    with np.errstate(all="ignore"):
        stirling = special.gammaln(a) - (a + b - 0.5) * np.log1p(a / b) - a * np.log(b) + a
        whole = special.betaln(a, b)
        out = np.where(a >= 1, np.log(a) + np.where(np.isfinite(whole), whole, stirling), 0.0)
    close = (a < 1) & ~series
    out[close] = log_gamma_1p(a[close]) + special.gammaln(b[close]) - special.gammaln(a[close] + b[close])
    sa, sb = a[series], b[series]
    tiny = sb < 1e-3
    ratio = np.empty_like(sa)
    ratio[tiny] = _gamma_ratio_small(sa[tiny], sb[tiny])
    ratio[~tiny] = _gamma_ratio_series(sa[~tiny], sb[~tiny])
    out[series] = log_gamma_1p(sa) - ratio
    return out


def _once(function: Callable[..., np.ndarray], *params: np.ndarray) -> np.ndarray:
    """``function`` of the parameters, evaluated once per distinct combination (SciPy hands a frozen law's
    parameters over broadcast to the shape of x: a million copies of one value)."""
    arrays = np.broadcast_arrays(*(np.asarray(p, dtype=float) for p in params))
    if arrays[0].size == 0 or all(np.all(p == p.flat[0]) for p in arrays):
        first = [p.ravel()[:1] for p in arrays]
        return np.full(arrays[0].shape, np.asarray(function(*first), dtype=float)[0] if arrays[0].size else 0.0)
    stacked = np.stack([p.ravel() for p in arrays], axis=-1)
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    return np.asarray(function(*unique.T), dtype=float)[inverse.ravel()].reshape(arrays[0].shape)


_LIMIT = 1e40  # b above this times max(1, a): Beta(a, b) is Gamma(a)/b to double precision (G_b = b (1 +- 1e-20))


def _near_side(
    a: np.ndarray, b: np.ndarray, w: np.ndarray, log_w: np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """I_w(a, b) and 1 - I_w(a, b) for w <= 1/2 (given also by log w, and z = b w by the caller): the series or
    the gamma limit where either holds, SciPy's betainc/betaincc elsewhere."""
    series = np.log(a + b) + log_w < _SERIES
    limit = ~series & ((log_w < _TINY) | (b > _LIMIT * np.maximum(a, 1)))
    plain = ~series & ~limit
    lower, upper = np.empty_like(w), np.empty_like(w)
    lower[plain], upper[plain] = (
        special.betainc(a[plain], b[plain], w[plain]),
        special.betaincc(a[plain], b[plain], w[plain]),
    )
    lower[limit], upper[limit] = special.gammainc(a[limit], z[limit]), special.gammaincc(a[limit], z[limit])
    log_i = a[series] * log_w[series] - _once(_log_a_beta, a[series], b[series])
    lower[series], upper[series] = np.exp(log_i), -np.expm1(log_i)
    return lower, upper


def beta_sides(
    a: np.ndarray, b: np.ndarray, r: np.ndarray, log_r: np.ndarray, b_r: np.ndarray, a_over_r: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """I_w(a, b) and 1 - I_w(a, b), each computed directly, at w = r/(1 + r): the odds r (inf when it overflows),
    its logarithm, and the gamma limits' arguments b r and a/r, each computed by the caller without cancellation.
    Below w = 1/2 from w itself, above it from 1 - w = 1/(1 + r) by I_w(a, b) = 1 - I_(1-w)(b, a)."""
    a, b, r, log_r, b_r, a_over_r = np.broadcast_arrays(a, b, r, log_r, b_r, a_over_r)
    with np.errstate(all="ignore"):
        lower, upper = np.empty_like(r), np.empty_like(r)
        s = log_r < 0
        w, log_w = r[s] / (1 + r[s]), log_r[s] - np.log1p(np.exp(log_r[s]))
        lower[s], upper[s] = _near_side(a[s], b[s], w, log_w, b_r[s])
        t = ~s
        v, log_v = 1 / (1 + r[t]), -log_r[t] - np.log1p(np.exp(-log_r[t]))
        upper[t], lower[t] = _near_side(b[t], a[t], v, log_v, a_over_r[t])
    return lower, upper


_INSIDE, _LOW_SERIES, _LOW_LIMIT, _HIGH_SERIES, _HIGH_LIMIT = range(5)


def _side_quantile(a: np.ndarray, b: np.ndarray, p: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which form solves I_w(a, b) = p (0 < p < 1, c = 1 - p given as itself) and its answer, where the answer's w
    is small: the series (a log w - log(a B) = log p, answer log w) or the gamma limit (P(a, z) = p, answer
    z = b w)."""
    with np.errstate(all="ignore"):
        upper = p > 0.5
        log_p = np.where(upper, np.log1p(-c), np.log(p))
        series = (log_p + _once(_log_a_beta, a, b)) / a
        wide = np.log(a + b)
        possible = (wide > -_TINY + _SERIES) | (b > _LIMIT * np.maximum(a, 1))  # else no gamma limit holds
        z = np.full_like(p, np.nan)
        up, down = possible & upper, possible & ~upper
        z[up], z[down] = special.gammainccinv(a[up], c[up]), special.gammaincinv(a[down], p[down])
        limit = np.log(z) - np.log(b)
        use_series = wide + series < _SERIES
        far = (limit < _TINY) & (wide + limit >= _SERIES)
        use_limit = ~use_series & (far | ((b > _LIMIT * np.maximum(a, 1)) & (limit < 0)))
    return np.where(use_series, 1, np.where(use_limit, 2, 0)), np.where(use_series, series, z)


def beta_quantile(a: np.ndarray, b: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The form that solves I_w(a, b) = q and its answer where w or 1 - w is small: ``_LOW_SERIES`` (log r),
    ``_LOW_LIMIT`` (z = b r), ``_HIGH_SERIES`` (log 1/r), ``_HIGH_LIMIT`` (z = a/r); ``_INSIDE`` (answer nan)
    where the caller's SciPy inverse serves."""
    a, b, q = np.broadcast_arrays(a, b, q)
    low, low_answer = _side_quantile(a, b, q, 1 - q)
    high, high_answer = _side_quantile(b, a, 1 - q, q)
    regime = np.where(low > 0, low, np.where(high > 0, high + 2, _INSIDE))
    answer = np.where(low > 0, low_answer, np.where(high > 0, high_answer, np.nan))
    return regime, answer


class _StableT(stats.rv_continuous):  # type: ignore[misc]
    """Student's t with df degrees of freedom: SciPy's density and moments, the distribution functions here."""

    def _pdf(self, x: np.ndarray, df: np.ndarray) -> np.ndarray:
        return np.asarray(np.exp(self._logpdf(x, df)))

    def _logpdf(self, x: np.ndarray, df: np.ndarray) -> np.ndarray:
        """SciPy's, but for log(1 + x^2/df) where x^2/df overflows: 2 log|x| - log df + log1p(df/x^2) (SciPy's is
        -inf at df = 3, x = 1e200, where the truth is about -1840)."""
        with np.errstate(all="ignore"):
            ratio = x * x / df
            wide = ~np.isfinite(ratio) | (ratio > 1e300)
            spread = np.where(
                wide, 2 * np.log(np.abs(x)) - np.log(df) + np.log1p(df / (x * x)), np.log1p(np.where(wide, 0, ratio))
            )
            plain = np.asarray(stats.t.logpdf(np.where(wide, 0.0, x), df))
            constant = special.gammaln((df + 1) / 2) - special.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
            return np.asarray(np.where(wide, constant - (df + 1) / 2 * spread, plain))

    def _sides(self, x: np.ndarray, df: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the tail beyond |x|, the rest), from I_w(df/2, 1/2) with w = df/(df + x^2), r = df/x^2."""
        with np.errstate(all="ignore"):
            t = np.abs(x) / np.sqrt(df)
            log_r = np.log(df) - 2 * np.log(np.abs(x))
            r = 1 / (t * t)
            half = np.full_like(df, 0.5)
            tail, rest = beta_sides(df / 2, half, r, log_r, half * r, x * x / 2)
            normal = log_r > -_TINY  # df > 1e300 x^2: the normal law to double precision
            tail = np.where(normal, special.ndtr(-np.abs(x)), tail / 2)
            rest = np.where(normal, special.ndtr(np.abs(x)), 0.5 + rest / 2)
        return tail, rest

    def _cdf(self, x: np.ndarray, df: np.ndarray) -> np.ndarray:
        tail, rest = self._sides(x, df)
        return np.where(x < 0, tail, rest)

    def _sf(self, x: np.ndarray, df: np.ndarray) -> np.ndarray:
        tail, rest = self._sides(x, df)
        return np.where(x < 0, rest, tail)

    def _ppf(self, q: np.ndarray, df: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            tail = np.where(q < 0.5, q, 1 - q)
            regime, answer = beta_quantile(df / 2, np.full_like(df, 0.5), 2 * tail)
            size = np.abs(special.stdtrit(df, q))
            size = np.where(regime == _LOW_SERIES, np.exp((np.log(df) - answer) / 2), size)  # |x| = sqrt(df/r)
            size = np.where(regime >= _HIGH_SERIES, -special.ndtri(tail), size)  # df > 1e300 x^2: the normal
        return np.where(q < 0.5, -size, np.where(q == 0.5, 0.0, size))

    def _isf(self, q: np.ndarray, df: np.ndarray) -> np.ndarray:
        return -self._ppf(q, df)

    def _stats(self, df: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.asarray(s) for s in stats.t.stats(df, moments="mvsk"))

    def _entropy(self, df: np.ndarray) -> np.ndarray:
        return np.asarray(stats.t.entropy(df))


_WIDE = 1e40  # both degrees of freedom above this: log F is normal to double precision


def _lognormal(dfn: np.ndarray, dfd: np.ndarray) -> np.ndarray:
    """Where both degrees of freedom are so large that log F is N(1/dfd - 1/dfn, 2/dfn + 2/dfd): each chi-square
    over its degrees of freedom has a log within O(df^-1/2) = 1e-20 of normal in its skewness, below a double's
    resolution (SciPy's betainc is nan or wrong there once both pass about 1e48)."""
    return np.asarray((np.minimum(dfn, dfd) >= _WIDE) & np.isfinite(dfn) & np.isfinite(dfd))


def _log_mean(dfn: np.ndarray, dfd: np.ndarray) -> np.ndarray:
    return np.asarray(1 / dfd - 1 / dfn)


def _log_spread(dfn: np.ndarray, dfd: np.ndarray) -> np.ndarray:
    return np.asarray(np.sqrt(2 / dfn + 2 / dfd))


class _StableF(stats.rv_continuous):  # type: ignore[misc]
    """The F law with dfn and dfd degrees of freedom: SciPy's density and moments, the distribution functions
    here, from I_w(dfn/2, dfd/2) at w = dfn x/(dfn x + dfd), r = dfn x/dfd."""

    def _pdf(self, x: np.ndarray, dfn: np.ndarray, dfd: np.ndarray) -> np.ndarray:
        return np.asarray(stats.f.pdf(x, dfn, dfd))

    def _logpdf(self, x: np.ndarray, dfn: np.ndarray, dfd: np.ndarray) -> np.ndarray:
        return np.asarray(stats.f.logpdf(x, dfn, dfd))

    def _sides(self, x: np.ndarray, dfn: np.ndarray, dfd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            log_r = np.log(dfn) + np.log(x) - np.log(dfd)
            ratio = dfn / dfd
            direct = np.isfinite(ratio) & (ratio > 1e-300)
            r = np.where(direct, ratio * x, np.exp(log_r))
            lower, upper = beta_sides(dfn / 2, dfd / 2, r, log_r, dfn / 2 * x, dfd / 2 / x)
            wide = _lognormal(dfn, dfd)
            if wide.any():
                dfn, dfd, x = np.broadcast_arrays(dfn, dfd, x)
                z = (np.log(x[wide]) - _log_mean(dfn[wide], dfd[wide])) / _log_spread(dfn[wide], dfd[wide])
                lower, upper = np.array(lower), np.array(upper)
                lower[wide], upper[wide] = special.ndtr(z), special.ndtr(-z)
            return lower, upper

    def _cdf(self, x: np.ndarray, dfn: np.ndarray, dfd: np.ndarray) -> np.ndarray:
        return self._sides(x, dfn, dfd)[0]

    def _sf(self, x: np.ndarray, dfn: np.ndarray, dfd: np.ndarray) -> np.ndarray:
        return self._sides(x, dfn, dfd)[1]

    def _ppf(self, q: np.ndarray, dfn: np.ndarray, dfd: np.ndarray) -> np.ndarray:
        a, b = dfn / 2, dfd / 2
        with np.errstate(all="ignore"):
            regime, answer = beta_quantile(a, b, q)
            x = special.fdtri(dfn, dfd, q)
            x = np.where(regime == _LOW_SERIES, np.exp(answer + np.log(dfd) - np.log(dfn)), x)
            x = np.where(regime == _LOW_LIMIT, answer / a, x)  # z = b r = a x
            x = np.where(regime == _HIGH_SERIES, np.exp(np.log(dfd) - np.log(dfn) - answer), x)
            x = np.where(regime == _HIGH_LIMIT, b / answer, x)  # z = a / r = b / x
            normal = np.exp(_log_mean(dfn, dfd) + _log_spread(dfn, dfd) * special.ndtri(q))
            x = np.where(_lognormal(dfn, dfd), normal, x)
        return np.asarray(x)

    def _stats(self, dfn: np.ndarray, dfd: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.asarray(s) for s in stats.f.stats(dfn, dfd, moments="mvsk"))

    def _entropy(self, dfn: np.ndarray, dfd: np.ndarray) -> np.ndarray:
        return np.asarray(stats.f.entropy(dfn, dfd))


_TEMME_SHAPE = 1e5  # from this shape the lower tail is Temme's (SciPy's gammainc was 100% off at 1e-14, k = 1e9)


def _d_minus_log1p(d: np.ndarray) -> np.ndarray:
    """d - log(1 + d) for d > -1, by its series where |d| < 0.1 (directly it would cancel)."""
    out = np.empty_like(d)
    small = np.abs(d) < 0.1
    s = d[small]
    term, total = s * s, np.zeros_like(s)
    for k in range(2, 30):  # |d|^30 < 1e-30: far below a double's resolution of the sum (about d^2/2)
        total += (1 if k % 2 == 0 else -1) * term / k
        term = term * s
    out[small] = total
    out[~small] = d[~small] - np.log1p(d[~small])
    return out


def temme_lower(k: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(k, z) for 0 < z < k by Temme's uniform asymptotic expansion to two terms (relative error O(k^-2): about
    1e-13 against the reference integrals from k = 1e5 on, 1e-300 tails included), and log of the density there."""
    with np.errstate(all="ignore"):
        d = (z - k) / k
        h = _d_minus_log1p(d)  # lambda - 1 - log(lambda), lambda = z/k
        eta = -np.sqrt(2 * h)
        lead = 0.5 * special.erfc(-eta * np.sqrt(k / 2))
        small = np.abs(eta) < 1e-3
        c0 = np.where(small, -1 / 3 + eta / 12 - 2 * eta**2 / 135 + eta**3 / 864, 1 / d - 1 / eta)
        c1 = np.where(small, -1 / 540 - eta / 288, 1 / eta**3 - 1 / d**3 - 1 / d**2 - 1 / (12 * d))
        lower = lead - np.exp(-k * h) / np.sqrt(2 * np.pi * k) * (c0 + c1 / k)
        log_density = -k * h - np.log(z) + 0.5 * np.log(k / (2 * np.pi)) - 1 / (12 * k)  # Stirling, no cancellation
    return lower, log_density


def temme_quantile(k: np.ndarray, q: np.ndarray) -> np.ndarray:
    """z with P(k, z) = q < 1/2 for k >= 1e5: Wilson-Hilferty's start, then Newton on log P in log z."""
    with np.errstate(all="ignore"):
        z = k * (1 - 1 / (9 * k) + special.ndtri(q) / (3 * np.sqrt(k))) ** 3
        z = np.where(z > 0, z, k * np.exp((np.log(q) + special.gammaln(k + 1)) / k))  # far tails: the series' start
        for _ in range(8):
            lower, log_density = temme_lower(k, z)
            step = (np.log(lower) - np.log(q)) / (z * np.exp(log_density - np.log(lower)))
            z = z * np.exp(-np.clip(step, -1, 1))
    return np.asarray(z)


class _StableGamma(stats.rv_continuous):  # type: ignore[misc]
    """The gamma law with shape k and scale theta as shape parameters (SciPy's own scale divides x first):
    P(k, x/theta), with P(k, z) = exp(k log z - log Gamma(1 + k)) (1 - k z/(k + 1) + ...) where z < 1e-300."""

    def _logpdf(self, x: np.ndarray, k: np.ndarray, theta: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            log_z = np.log(x) - np.log(theta)
            tiny = special.xlogy(k - 1, x) - k * np.log(theta) - special.gammaln(k)  # e^-z = 1
            scaled = np.asarray(stats.gamma.logpdf(x / theta, k)) - np.log(theta)
            return np.asarray(np.where(log_z < _TINY, tiny, scaled))

    def _pdf(self, x: np.ndarray, k: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return np.asarray(np.exp(self._logpdf(x, k, theta)))

    def _sides(self, x: np.ndarray, k: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            log_z = np.log(x) - np.log(theta)
            z = x / theta
            log_p = k * log_z - _once(log_gamma_1p, k)
            tiny = log_z < _TINY
            lower = np.where(tiny, np.exp(log_p), special.gammainc(k, z))
            upper = np.where(tiny, -np.expm1(log_p), special.gammaincc(k, z))
            k, z = np.broadcast_arrays(k, z)
            temme = ~tiny & (k >= _TEMME_SHAPE) & (z > 0) & (z < k)
            if temme.any():
                lower, upper = np.array(lower), np.array(upper)
                lower[temme] = temme_lower(k[temme], z[temme])[0]
                upper[temme] = 1 - lower[temme]  # lower <= 1/2 here: no digits lost
        return lower, upper

    def _cdf(self, x: np.ndarray, k: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return self._sides(x, k, theta)[0]

    def _sf(self, x: np.ndarray, k: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return self._sides(x, k, theta)[1]

    def _quantile(self, log_p: np.ndarray, z: np.ndarray, k: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """x from z = x/theta, where z solves P(k, z) = p (given by log p) below 1e-300 by the series."""
        with np.errstate(all="ignore"):
            log_z = (log_p + _once(log_gamma_1p, k)) / k
            tiny = log_z < _TINY
            direct = theta * z
            scaled = np.exp(np.log(theta) + np.where(tiny, log_z, np.log(z)))
            ok = ~tiny & np.isfinite(direct) & (direct > 1e-300)
            return np.asarray(np.where(ok, direct, np.where(tiny | (z > 0), scaled, direct)))

    def _ppf(self, q: np.ndarray, k: np.ndarray, theta: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            z = np.where(q <= 0.5, special.gammaincinv(k, q), special.gammainccinv(k, 1 - q))
            q, k, z = np.broadcast_arrays(q, k, z)
            temme = (k >= _TEMME_SHAPE) & (q < 0.5) & (q > 0)
            if temme.any():
                z = np.array(z)
                z[temme] = temme_quantile(k[temme], q[temme])
            return self._quantile(np.log(q), z, k, theta)

    def _isf(self, q: np.ndarray, k: np.ndarray, theta: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return self._quantile(np.log1p(-q), special.gammainccinv(k, q), k, theta)

    def _stats(self, k: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, ...]:
        return k * theta, k * theta * theta, 2 / np.sqrt(k), 6 / k

    def _entropy(self, k: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return np.asarray(stats.gamma.entropy(k) + np.log(theta))


class _StablePoisson(type(stats.poisson)):  # type: ignore[misc]
    """The Poisson law with SciPy's mass and quantile search, and P(X > k) = P(k + 1, lam), P(X <= k) its
    complement, from the gamma law's sides above: SciPy's pdtrc is 60 times too small in the far upper tail of a
    large rate (1.6e-16 against 1.0e-14 at lam = 1e12, k = lam + 7.65 sqrt(lam))."""

    def _sides(self, x: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = np.floor(x) + 1
        below_mu, above_mu = _GAMMA._sides(np.asarray(mu, dtype=float), k, np.ones_like(k))  # P(k + 1, mu), Q
        return above_mu, below_mu  # P(X <= k) = Q(k + 1, mu), P(X > k) = P(k + 1, mu)

    def _cdf(self, x: np.ndarray, mu: np.ndarray) -> np.ndarray:
        return self._sides(x, mu)[0]

    def _sf(self, x: np.ndarray, mu: np.ndarray) -> np.ndarray:
        return self._sides(x, mu)[1]

    def _ppf(self, q: np.ndarray, mu: np.ndarray) -> np.ndarray:
        values = np.ceil(special.pdtrik(q, mu))
        below = np.maximum(values - 1, 0)
        return np.asarray(np.where(self._cdf(below, mu) >= q, below, values))


_T = _StableT(name="t", shapes="df")
_F = _StableF(a=0.0, name="f", shapes="dfn, dfd")
_GAMMA = _StableGamma(a=0.0, name="gamma", shapes="k, theta")


def stable_t(df: float) -> object:
    """Student's t law with ``df`` degrees of freedom, its distribution functions right for every df > 0."""
    return _T(df)


def stable_f(dfn: float, dfd: float) -> object:
    """The F law, its distribution functions right for every dfn, dfd > 0."""
    return _F(dfn, dfd)


_POISSON = _StablePoisson(name="poisson")


def stable_poisson(lam: float) -> object:
    """A frozen Poisson law whose distribution functions hold in the far tails of a large rate."""
    return _POISSON(lam)


def stable_gamma(shape: float, scale: float) -> object:
    """The gamma law, its distribution functions right for every shape and scale > 0."""
    return _GAMMA(shape, scale)
