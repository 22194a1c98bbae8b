"""Summary statistics, densities, distribution functions and quantiles of one distribution, by SciPy.

Every number is finite or null: a null statistic has its reason in ``undefined`` (and is listed in ``infinite`` when
it is +infinity); a null value at a point or probability has a ``ValueWarning``. ``prepare`` is the one way from the
client's family name and parameters to a checked, canonical ``Law``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from scipy import optimize

from service.compute.distributions.families import FAMILIES, Family, Frozen
from service.compute.distributions.special import INFINITE, Verdict, verdict
from service.compute.errors import InvalidInput, TooLarge, located

SUMMARY = ("mean", "variance", "std", "skewness", "excess_kurtosis", "entropy", "median", "mode")


@dataclass(frozen=True)
class Law:
    """A family at checked parameters: as the client gave them, and canonical."""

    family: Family
    given: dict[str, float]
    canonical: dict[str, float]

    def frozen(self) -> Frozen:
        return self.family.frozen(self.canonical)


def prepare(family: str, given: Mapping[str, float]) -> Law:
    """The family ``family`` at the client's parameters: names resolved, constraints checked."""
    if family not in FAMILIES:
        known = ", ".join(FAMILIES)
        raise located(InvalidInput, f"there is no family '{family}'; the families are {known}", ("family",))
    chosen = FAMILIES[family]
    canonical = chosen.resolve(given)
    chosen.check(given)
    return Law(chosen, {k: float(v) for k, v in given.items()}, {k: float(v) for k, v in canonical.items()})


def bounded(values: Sequence[float] | None, name: str, limit: int) -> np.ndarray | None:
    """``values`` as a float array, refused with 413 above ``limit`` entries."""
    if values is None:
        return None
    if len(values) > limit:
        message = f"'{name}' has {len(values)} values, more than the limit of {limit} (NABLA_MAX_DISTRIBUTION_VALUES)"
        raise located(TooLarge, message, (name,))
    return np.asarray(values, dtype=float)


@dataclass(frozen=True)
class Support:
    lower: float | None
    upper: float | None
    description: str


@dataclass(frozen=True)
class ValueWarning:
    """Why one value at a point or probability is null."""

    field: str
    index: int
    detail: str


@dataclass(frozen=True)
class Statistics:
    """Everything ``describe`` computes; absent parts are None."""

    summary: dict[str, float | None]
    undefined: dict[str, str]
    infinite: list[str]
    support: Support
    at_x: dict[str, list[float | None]] | None = None
    quantiles: list[float | None] | None = None
    warnings: list[ValueWarning] = field(default_factory=list)
    warnings_omitted: int = 0


@contextmanager
def quiet() -> Iterator[None]:
    """SciPy's and NumPy's warnings off: every non-finite result is explained by the caller instead."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None


def _support(law: Law) -> Support:
    low, high = law.frozen().support()
    return Support(_finite(low), _finite(high), law.family.support)


def guarded(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``, or NaN where SciPy's special functions raise instead of returning inf or nan (Boost's
    overflow at extreme parameters: a binomial with n = 1e15 and p = 1e-300)."""
    try:
        return function(*args)
    except ArithmeticError:
        return np.full(np.shape(args[0]), np.nan) if args else np.nan


def _scipy_summary(law: Law) -> dict[str, float]:
    rv = law.frozen()
    moments = guarded(lambda: rv.stats(moments="mvsk"))
    mean, variance, skewness, kurtosis = moments if isinstance(moments, tuple) else (np.nan,) * 4
    return {
        "mean": float(mean),
        "variance": float(variance),
        "std": float(np.sqrt(variance)),
        "skewness": float(skewness),
        "excess_kurtosis": float(kurtosis),
        "entropy": float(guarded(entropy, law)),
        "median": float(guarded(inverse_cdf, law, np.array([0.5]))[0]),
    }


def log_mass(law: Law, x: np.ndarray) -> np.ndarray:
    """The log pmf (discrete) or log pdf at every ``x``: the family's own where SciPy's is inexact."""
    if law.family.log_mass is not None:
        return law.family.log_mass(x, law.canonical)
    rv = law.frozen()
    return np.asarray(rv.logpmf(x) if law.family.discrete else rv.logpdf(x), dtype=float)


def inverse_cdf(law: Law, q: np.ndarray) -> np.ndarray:
    """The smallest x with cdf(x) >= q, inside the support (SciPy's geometric with p = 1 gives 0 for q = 1/2 and
    +inf for q = 1); each quantile SciPy's ppf gives as nan (a beta with alpha = 8e61, beta = 4e52, whose median is
    1 - 5e-10, a Poisson with lam = 1.3e15), or as an infinity the cdf at the largest double does not confirm, is
    solved from the cdf instead."""
    rv = law.frozen()
    low, high = rv.support()
    at_low = (q == 0) | (rv.cdf(low) >= q)  # the definition at the lower end (a point mass: geometric p = 1)
    found = np.asarray(np.clip(np.where(at_low, low, rv.ppf(q)), low, high), dtype=float)
    inside = (q > 0) & (q < 1) & ~at_low
    if law.family.discrete:  # SciPy's Poisson ppf is nan at lam = 1.3e15
        for i in np.flatnonzero(inside & np.isnan(found)):
            found[i] = solved_count(rv, float(q[i]), low)
        return found
    largest = float(np.finfo(float).max)
    with quiet():  # an infinite ppf the cdf at the largest double confirms stands (a million of them: t at df 1e-30)
        beyond = ((found == math.inf) & (rv.cdf(largest) < q)) | ((found == -math.inf) & (rv.cdf(-largest) >= q))
    for i in np.flatnonzero(inside & ~np.isfinite(found) & ~beyond):  # an infinite ppf is checked: it may be nan
        found[i] = solved_quantile(rv, float(q[i]), (low, high))
    return found


def solved_count(rv: Frozen, q: float, low: float) -> float:
    """The smallest integer k >= ``low`` with cdf(k) >= q (cdf(low) < q), by doubling and bisection; +inf beyond
    the double range. Above 2^53 the answer is the double nearest it."""
    below, above = low, max(low + 1, 2 * float(rv.mean()) if np.isfinite(rv.mean()) else low + 1)
    with quiet():
        while rv.cdf(above) < q:
            below, above = above, 2 * above
            if not math.isfinite(above):
                return math.inf
        while above - below > max(1.0, 4e-16 * above):
            middle = float(math.floor(below / 2 + above / 2))
            if middle in (below, above):
                break
            below, above = (below, middle) if rv.cdf(middle) >= q else (middle, above)
    return above


def solved_quantile(rv: Frozen, q: float, support: tuple[float, float]) -> float:
    """The q-quantile (0 < q < 1) of a continuous law from its cdf (sf above the median) by Brent's method on a
    logarithmic scale: x = low + e^y below the median (high - e^y above it) where that end of the support is
    finite, x = -e^y (+e^y) where it is infinite. +-inf beyond the double range, the end (or 0) below 5e-324."""
    upper = q > 0.5
    tail = 1 - q if upper else q
    end = support[int(upper)]
    infinite = math.isinf(end)
    origin = 0.0 if infinite else end
    sign = (1.0 if upper else -1.0) if infinite else (-1.0 if upper else 1.0)
    top = 709.78 if infinite or not math.isfinite(support[1] - support[0]) else math.log(support[1] - support[0])

    def at(y: float) -> float:
        return origin + sign * math.exp(y)

    def gap(y: float) -> float:  # increasing in y
        with quiet():
            side = float(rv.sf(at(y)) if upper else rv.cdf(at(y)))
        return tail - side if infinite else side - tail

    first, last = gap(-745.0), gap(top)
    if not (math.isfinite(first) and math.isfinite(last)):
        return math.nan
    if first >= 0:
        return origin
    if last < 0:  # beyond the far end of the scale: the other end of the support, or beyond the double range
        return at(top) if not infinite and math.isfinite(support[1] - support[0]) else sign * math.inf
    try:
        return at(optimize.brentq(gap, -745.0, top, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500))
    except (ValueError, RuntimeError):  # a nan of SciPy's cdf on the way (an F at dfn = 7e253): no quantile
        return math.nan


_FROM_CLOSED_FORMS = ("mean", "variance", "std", "skewness", "excess_kurtosis", "entropy")


@cache
def _closed_form(family: str, statistic: str) -> Callable[..., Any] | None:
    """The closed form of ``statistic``, compiled for mpmath, or None (its condition is the rules' business)."""
    chosen = FAMILIES[family]
    forms = {**chosen.closed_forms}
    if "variance" in forms:
        forms["std"] = (sp.sqrt(forms["variance"][0]), forms["variance"][1])
    if statistic not in forms or statistic not in _FROM_CLOSED_FORMS:
        return None
    expr = forms[statistic][0]
    by_name = {s.name: s for s in expr.free_symbols}
    arguments = [by_name.get(c, sp.Symbol(f"_{c}")) for c in chosen.canonical]
    return sp.lambdify(arguments, expr, modules="mpmath")  # type: ignore[no-any-return]


def _evaluate(form: Callable[..., Any], values: list[float], digits: int) -> Any:
    with mpmath.workdps(digits):
        try:
            return form(*(mpmath.mpf(v) for v in values))
        except (ValueError, ArithmeticError, TypeError):
            return None


def _exactly(law: Law, statistic: str, found: float) -> float:
    """The statistic from its closed form by mpmath, where it has one, else SciPy's ``found``.

    Double precision loses the variance of a uniform over (-1e308, 1e308) (it overflows though the std is finite)
    and the last digits of n p (1 - p) for p near 1 in SciPy's form; the closed form at 20 digits more than the
    parameters' largest decimal exponent (the t entropy's digamma difference at df = 1e300 cancels 300 digits) is
    right, and it is checked against the same form at 20 digits more again."""
    form = _closed_form(law.family.name, statistic)
    if form is None:
        return found
    values = [law.canonical[c] for c in law.family.canonical]
    digits = 20 + max((abs(math.log10(abs(v))) for v in values if v != 0), default=0.0)
    first, second = (_evaluate(form, values, int(digits) + extra) for extra in (0, 20))
    if not all(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) for v in (first, second)):
        return found
    if abs(first - second) > 1e-15 * abs(second):
        return found
    return float(second)


def entropy(law: Law) -> float:
    """The entropy: the family's own where SciPy's is too slow or inexact (a binomial with n = 10^12, a Poisson
    with a large mean), SciPy's otherwise."""
    special_case = law.family.entropy
    if special_case is not None:
        return special_case(law.canonical, law.frozen())
    return float(law.frozen().entropy())


def _overflow(name: str, value: float) -> str:
    if np.isinf(value):
        return f"the {name.replace('_', ' ')} is beyond the double-precision range at these parameters"
    return f"the {name.replace('_', ' ')} could not be computed at these parameters"


def summarise(law: Law) -> tuple[dict[str, float | None], dict[str, str], list[str]]:
    """The summary statistics, the reasons for the null ones, and which of those are +infinity."""
    with quiet():
        numbers = _scipy_summary(law)
    mode = law.family.mode(law.canonical)
    values: dict[str, float | None] = {}
    undefined: dict[str, str] = {}
    infinite: list[str] = []
    for name in SUMMARY:
        found = mode if name == "mode" else verdict(law.family.rules, name, law.canonical) or numbers[name]
        if isinstance(found, Verdict):
            values[name], undefined[name] = None, found.reason
            infinite += [name] if found.kind == INFINITE else []
        else:
            values[name] = _finite(_exactly(law, name, float(found)))
            if values[name] is None:
                undefined[name] = _overflow(name, float(found))
    return values, undefined, infinite


def _density_names(law: Law) -> tuple[str, str]:
    return ("pmf", "log_pmf") if law.family.discrete else ("pdf", "log_pdf")


Warnings = tuple[list[ValueWarning], int]
"""The first warnings, and how many null values there are in all."""


def at_points(law: Law, x: np.ndarray, limit: int) -> tuple[dict[str, list[float | None]], Warnings]:
    """pdf or pmf, its logarithm, cdf and sf at every ``x``; a warning for each of the first ``limit`` null
    values of each column."""
    rv = law.frozen()
    density, log_density = _density_names(law)
    with quiet():
        columns = {
            density: guarded(rv.pmf if law.family.discrete else rv.pdf, x),
            log_density: guarded(log_mass, law, x),
            "cdf": guarded(rv.cdf, x),
            "sf": guarded(rv.sf, x),
        }
    bad = {name: np.flatnonzero(~np.isfinite(column)) for name, column in columns.items()}
    problems = [
        ValueWarning(name, int(i), _point_reason(name, float(x[i]), float(columns[name][i])))
        for name, indices in bad.items()
        for i in indices[:limit]
    ]
    return {name: _listed(column) for name, column in columns.items()}, (problems, sum(map(len, bad.values())))


def _point_reason(name: str, x: float, value: float) -> str:
    if value == -np.inf:
        return f"{name} is -infinity at x = {x:g}: the {'mass' if name == 'log_pmf' else 'density'} there is 0"
    if value == np.inf:
        return f"{name} is +infinity at x = {x:g}: the density is unbounded there"
    return f"{name} could not be computed at x = {x:g}"


def _listed(column: np.ndarray) -> list[float | None]:
    """The column as JSON-ready floats, None where it is not finite (a million values in milliseconds)."""
    values = np.asarray(column, dtype=float)
    listed: list[float | None] = values.tolist()
    for i in np.flatnonzero(~np.isfinite(values)):
        listed[i] = None
    return listed


def quantiles(law: Law, q: np.ndarray, limit: int) -> tuple[list[float | None], Warnings]:
    """The smallest x with cdf(x) >= q for every probability ``q``; q = 0 gives the lower end of the support."""
    bad = np.flatnonzero(~((q >= 0) & (q <= 1)))
    if bad.size:
        i = int(bad[0])
        message = f"q[{i}] = {q[i]:g} is not a probability: every q must be in [0, 1]"
        raise located(InvalidInput, message, ("q", i))
    rv = law.frozen()
    with quiet():
        values = guarded(inverse_cdf, law, q)
    bad = np.flatnonzero(~np.isfinite(values))
    problems = [
        ValueWarning("quantiles", int(i), _quantile_reason(float(q[i]), float(values[i]), rv.support()))
        for i in bad[:limit]
    ]
    return _listed(values), (problems, bad.size)


def _quantile_reason(q: float, value: float, support: tuple[float, float]) -> str:
    sign = "-" if value < 0 else "+"
    if q in (0.0, 1.0) and support[int(value > 0)] == value:  # the end of an unbounded support
        return f"the {q:g}-quantile is {sign}infinity"
    return f"the {q:g}-quantile is beyond the double-precision range ({sign})"


def describe(law: Law, x: np.ndarray | None = None, q: np.ndarray | None = None, limit: int = 1000) -> Statistics:
    """The summary of ``law``, with values at ``x`` and quantiles at ``q`` when given; at most ``limit``
    warnings, with the count of the others."""
    summary, undefined, infinite = summarise(law)
    none: Warnings = ([], 0)
    at_x, (x_listed, x_count) = at_points(law, x, limit) if x is not None else (None, none)
    quantile, (q_listed, q_count) = quantiles(law, q, limit) if q is not None else (None, none)
    listed = [*x_listed, *q_listed][:limit]
    omitted = x_count + q_count - len(listed)
    return Statistics(summary, undefined, infinite, _support(law), at_x, quantile, listed, omitted)
