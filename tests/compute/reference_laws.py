"""Distribution functions of the seven laws with an incomplete beta or gamma, by mpmath, for the extremes sweep.

mpmath's own ``betainc`` and ``gammainc`` do not serve at these parameters (at a = b = 1e300 ``betainc`` gives
2.8e-151 for I_0.5, which is 0.5, and at a = 1e10 it stops with NoConvergence), so each is an integral here:
P(a, x) is the mass below log x of log Y for Y ~ Gamma(a, 1), and I_x(a, b) the mass below logit x of logit Y for
Y ~ Beta(a, b). Both transformed densities are log-concave for every a, b > 0, so each integral is taken, by mpmath's
tanh-sinh rule, over the interval where the log density is within 90 of its largest value, cut where it is 1, 4, 16
and 50 below it; by concavity what lies beyond is below e^-89 of the whole. ``left`` and ``right`` are each computed
directly (never as 1 minus the other), and their sum is checked to be 1.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath

M = mpmath.mpf
_LEVELS = (2, 12, 40, 90)


def digits(*values: mpmath.mpf | float) -> int:
    """Working digits for log densities at these values: 40 beyond the largest decimal exponent, whose terms cancel."""
    exponents = [abs(mpmath.log10(abs(M(v)))) for v in values if v != 0 and mpmath.isfinite(v)]
    return 40 + int(max(exponents, default=0))


def _reach(
    g: Callable[[mpmath.mpf], mpmath.mpf], c: mpmath.mpf, top: mpmath.mpf, sign: int, end: mpmath.mpf
) -> list[mpmath.mpf]:
    """The points beyond ``c`` (towards ``sign``) where g has fallen by each of _LEVELS, up to ``end``."""
    points: list[mpmath.mpf] = []
    step, inner = M(2) ** -1100, M(0)
    for level in _LEVELS:
        while True:
            s = c + sign * step
            if (s - end) * sign >= 0:
                if mpmath.isfinite(end):
                    points.append(end)
                return points
            if top - g(s) >= level:
                break
            inner, step = step, step * 16
        low, high = inner, step  # bisection on log(step): a 2% bracket is enough for a cut
        while high > low * M(1.02) and high > M(2) ** -1090:
            middle = mpmath.sqrt(low * high) if low > 0 else high / 16
            if top - g(c + sign * middle) >= level:
                high = middle
            else:
                low = middle
        points.append(c + sign * high)
        inner = high
    return points


def _mass(
    g: Callable[[mpmath.mpf], mpmath.mpf], mode: mpmath.mpf, low: mpmath.mpf, high: mpmath.mpf, dps: int
) -> mpmath.mpf:
    """The integral of exp(g) over (low, high), g concave with its maximum at ``mode``."""
    with mpmath.workdps(dps):
        c = min(max(mode, low), high)
        top = g(c)
        right = _reach(g, c, top, 1, high) if c < high else []
        left = _reach(g, c, top, -1, low) if c > low else []
        if not left and not right:
            return M(0)
        scale = max(abs(v - c) for v in (*left, *right))
        cuts = [(v - c) / scale for v in (*reversed(left), c, *right)]  # within [-1, 1]: quad's error is absolute

    def integrand(u: mpmath.mpf) -> mpmath.mpf:
        with mpmath.workdps(dps):
            value = g(c + scale * u) - top
        return mpmath.exp(value)

    with mpmath.workdps(20):
        total = mpmath.quad(integrand, cuts)
    with mpmath.workdps(dps):
        return total * scale * mpmath.exp(top)


def _sides(
    g: Callable[[mpmath.mpf], mpmath.mpf], mode: mpmath.mpf, s0: mpmath.mpf, dps: int
) -> tuple[mpmath.mpf, mpmath.mpf]:
    left = _mass(g, mode, -mpmath.inf, s0, dps)
    right = _mass(g, mode, s0, mpmath.inf, dps)
    assert abs(left + right - 1) < M(10) ** -16, f"the reference quadrature is off: {left} + {right}"
    return left, right


def gamma_sides(a: mpmath.mpf, x: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
    """P(a, x) and Q(a, x): the regularized lower and upper incomplete gamma functions."""
    if x <= 0:
        return M(0), M(1)
    dps = digits(a, x)
    with mpmath.workdps(dps):
        norm = mpmath.loggamma(a)
        s0, mode = mpmath.log(x), mpmath.log(a)

    def g(s: mpmath.mpf) -> mpmath.mpf:
        return a * s - mpmath.exp(s) - norm if s < 2000 else -mpmath.inf  # e^2000 > 1e868 > a * s

    return _sides(g, mode, s0, dps)


def _log1p_exp_minus(s: mpmath.mpf) -> mpmath.mpf:
    """log(1 + e^-|s|); left out below 10^-2000 (below every term it is added to; mpmath's exp of -1e300 takes
    minutes)."""
    return mpmath.log1p(mpmath.exp(-abs(s))) if abs(s) < 5000 else M(0)


def beta_sides(a: mpmath.mpf, b: mpmath.mpf, logit: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
    """I_x(a, b) and 1 - I_x(a, b), at x given by its logit log(x / (1 - x)) (-inf and inf for 0 and 1)."""
    if logit == -mpmath.inf:
        return M(0), M(1)
    if logit == mpmath.inf:
        return M(1), M(0)
    dps = digits(a, b, logit)
    with mpmath.workdps(dps):
        norm = mpmath.loggamma(a) + mpmath.loggamma(b) - mpmath.loggamma(a + b)
        mode = mpmath.log(a) - mpmath.log(b)

    def g(s: mpmath.mpf) -> mpmath.mpf:
        # a s - (a + b) log(1 + e^s), without the cancellation of a s against (a + b) s for s > 0
        return (a * s if s <= 0 else -b * s) - (a + b) * _log1p_exp_minus(s) - norm

    return _sides(g, mode, logit, dps)


def _logit(x: mpmath.mpf) -> mpmath.mpf:
    with mpmath.workprec(2200):  # 1 - x exact for every double
        return +(mpmath.log(x) - mpmath.log1p(-x)) if 0 < x < 1 else (-mpmath.inf if x <= 0 else mpmath.inf)


Sides = Callable[[dict[str, mpmath.mpf], mpmath.mpf], tuple[mpmath.mpf, mpmath.mpf]]
"""(canonical parameters, x) -> (P(X <= x), P(X > x)), each computed directly."""


def _binomial(p: dict[str, mpmath.mpf], x: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
    n, q, k = p["n"], p["p"], mpmath.floor(x)
    if k < 0:
        return M(0), M(1)
    if k >= n or q == 0:
        return M(1), M(0)
    if q == 1:
        return M(0), M(1)
    with mpmath.workprec(2200):
        logit = +(mpmath.log1p(-q) - mpmath.log(q))  # of 1 - p: P(X <= k) = I_(1-p)(n - k, k + 1)
    return beta_sides(n - k, k + 1, logit)


def _poisson(p: dict[str, mpmath.mpf], x: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
    k = mpmath.floor(x)
    if k < 0:
        return M(0), M(1)
    below, above = gamma_sides(k + 1, p["lam"])  # P(X <= k) = Q(k + 1, lam)
    return above, below


def _student_t(p: dict[str, mpmath.mpf], x: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
    if x == 0:
        return M(1) / 2, M(1) / 2
    nu = p["df"]
    with mpmath.workdps(digits(nu, x)):
        logit = mpmath.log(nu) - 2 * mpmath.log(abs(x))  # of nu / (nu + x^2)
    tail, rest = beta_sides(nu / 2, M(1) / 2, logit)
    outer, inner = tail / 2, rest / 2 + M(1) / 2
    return (outer, inner) if x < 0 else (inner, outer)


def _f(p: dict[str, mpmath.mpf], x: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
    if x <= 0:
        return M(0), M(1)
    d1, d2 = p["dfn"], p["dfd"]
    with mpmath.workdps(digits(d1, d2, x)):
        logit = mpmath.log(d1) + mpmath.log(x) - mpmath.log(d2)
    return beta_sides(d1 / 2, d2 / 2, logit)


SIDES: dict[str, Sides] = {
    "binomial": _binomial,
    "poisson": _poisson,
    "student_t": _student_t,
    "chi2": lambda p, x: gamma_sides(p["df"] / 2, x / 2),
    "gamma": lambda p, x: gamma_sides(p["shape"], x / p["scale"]),
    "beta": lambda p, x: beta_sides(p["alpha"], p["beta"], _logit(x)),
    "f": _f,
}


def discrete_entropy(
    log_pmf: Callable[[mpmath.mpf], mpmath.mpf],
    ratio: Callable[[mpmath.mpf], mpmath.mpf],
    mode: mpmath.mpf,
    sd: mpmath.mpf,
    low: mpmath.mpf,
    high: mpmath.mpf,
    dps: int,
) -> mpmath.mpf:
    """-sum P(k) log P(k) over the integers of [low, high]: summed outwards from ``mode`` (``ratio(k)`` is
    P(k + 1) / P(k)) where 40 standard deviations reach an end of the support; otherwise the integral of
    -P log P with P continued to the reals by loggamma, whose difference from the sum (Poisson summation) is of
    order exp(-2 pi^2 sd^2) < 1e-1000."""
    with mpmath.workdps(dps):
        if mode - 40 * sd > low and mode + 40 * sd < high and sd > 10:
            offsets = [-40, -20, -10, -5, -2, 0, 2, 5, 10, 20, 40]

            top = log_pmf(mode)

            def integrand(u: mpmath.mpf) -> mpmath.mpf:  # near 1 at its peak: quad's tolerance is absolute
                with mpmath.workdps(dps):
                    value = log_pmf(mode + sd * u)
                    return -value * mpmath.exp(value - top)

            with mpmath.workdps(25):
                total = mpmath.quad(integrand, offsets, method="gauss-legendre")
            return total * sd * mpmath.exp(top)
        total = M(0)
        for direction in (1, -1):
            k = mode if direction == 1 else mode - 1
            if k < low:
                continue
            value = log_pmf(k)
            while low <= k <= high:
                total -= value * mpmath.exp(value)
                if value < -100 - 2 * mpmath.log(1 + sd) and (k - mode) * direction > sd:
                    break  # the terms fall faster than geometrically from here: the rest is below e^-90
                if not low <= k + direction <= high:
                    break
                step = ratio(k) if direction == 1 else 1 / ratio(k - 1)
                if step == 0:
                    break
                value += mpmath.log(step)
                k += direction
        return total


def _poisson_entropy(p: dict[str, mpmath.mpf]) -> mpmath.mpf:
    lam = p["lam"]
    dps = digits(lam)
    with mpmath.workdps(dps):
        return discrete_entropy(
            lambda k: k * mpmath.log(lam) - lam - mpmath.loggamma(k + 1),
            lambda k: lam / (k + 1),
            mpmath.floor(lam),
            mpmath.sqrt(lam),
            M(0),
            mpmath.inf,
            dps,
        )


def _binomial_entropy(p: dict[str, mpmath.mpf]) -> mpmath.mpf:
    n, q = p["n"], p["p"]
    if q in (0, 1):
        return M(0)
    dps = digits(n, q, 1 - q)
    with mpmath.workdps(dps):

        def log_pmf(k: mpmath.mpf) -> mpmath.mpf:
            choose = mpmath.loggamma(n + 1) - mpmath.loggamma(k + 1) - mpmath.loggamma(n - k + 1)
            return choose + k * mpmath.log(q) + (n - k) * mpmath.log1p(-q)

        return discrete_entropy(
            log_pmf,
            lambda k: (n - k) / (k + 1) * q / (1 - q),
            mpmath.floor((n + 1) * q),
            mpmath.sqrt(n * q * (1 - q)),
            M(0),
            n,
            dps,
        )


def _digamma_form(p: dict[str, mpmath.mpf], form: Callable[..., mpmath.mpf], *names: str) -> mpmath.mpf:
    """A closed form in loggamma and digamma, at digits enough for its cancellations (t at df = 1e300: 300)."""
    with mpmath.workdps(digits(*(p[n] for n in names)) + 20):
        return form(*(p[n] for n in names))


def _lbeta(a: mpmath.mpf, b: mpmath.mpf) -> mpmath.mpf:
    return mpmath.loggamma(a) + mpmath.loggamma(b) - mpmath.loggamma(a + b)


_psi = mpmath.digamma
ENTROPIES: dict[str, Callable[[dict[str, mpmath.mpf]], mpmath.mpf]] = {
    "binomial": _binomial_entropy,
    "poisson": _poisson_entropy,
    "student_t": lambda p: _digamma_form(
        p, lambda v: (v + 1) / 2 * (_psi((v + 1) / 2) - _psi(v / 2)) + mpmath.log(v) / 2 + _lbeta(v / 2, M(1) / 2),
        "df"),
    "chi2": lambda p: _digamma_form(
        p, lambda k: k / 2 + mpmath.log(2) + mpmath.loggamma(k / 2) + (1 - k / 2) * _psi(k / 2), "df"),
    "gamma": lambda p: _digamma_form(
        p, lambda k, t: k + mpmath.log(t) + mpmath.loggamma(k) + (1 - k) * _psi(k), "shape", "scale"),
    "beta": lambda p: _digamma_form(
        p, lambda a, b: _lbeta(a, b) - (a - 1) * _psi(a) - (b - 1) * _psi(b) + (a + b - 2) * _psi(a + b),
        "alpha", "beta"),
    "f": lambda p: _digamma_form(
        p, lambda m, n: _lbeta(m / 2, n / 2) + (1 - m / 2) * _psi(m / 2) - (1 + n / 2) * _psi(n / 2)
        + (m + n) / 2 * _psi((m + n) / 2) + mpmath.log(n / m), "dfn", "dfd"),
}  # fmt: skip
