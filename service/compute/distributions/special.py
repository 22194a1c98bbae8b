"""Where a statistic is not a finite number, and why; and the mode of each family.

SciPy returns ``inf`` or ``nan`` for moments that do not exist, and not always the honest one (the variance of a
Student t with 1 < df <= 2 is infinite, with df <= 1 undefined). These rules decide instead of SciPy's numbers:

- *undefined*: the defining integral has no value (the mean of a t with df <= 1: both tails diverge), or the
  statistic divides by a variance of 0 (a point mass), or there is no single mode (uniform, bimodal beta);
- *infinite*: the integral diverges to +infinity (the variance of a t with 1 < df <= 2).

Either way the statistic is reported as null with the reason; ``infinite`` lists the ones that are +infinity.
The mode is where the density (or mass) is largest; where the density is unbounded at an end of the support
(chi2 with df < 2, gamma with shape < 1), that end is the mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

Kind = Literal["undefined", "infinite"]
UNDEFINED: Kind = "undefined"
INFINITE: Kind = "infinite"


@dataclass(frozen=True)
class Verdict:
    """A statistic that is not a finite number: which kind, and the sentence that says why."""

    kind: Kind
    reason: str


@dataclass(frozen=True)
class Rule:
    """``statistics`` are ``kind`` wherever ``applies(canonical parameters)``; the first rule that applies wins."""

    statistics: tuple[str, ...]
    applies: Callable[[Mapping[str, float]], bool]
    kind: Kind
    reason: str


def _df(bound: float) -> Callable[[Mapping[str, float]], bool]:
    return lambda p: p["df"] <= bound


def _dfd(bound: float) -> Callable[[Mapping[str, float]], bool]:
    return lambda p: p["dfd"] <= bound


def _constant(p: Mapping[str, float]) -> bool:
    return p["p"] in (0.0, 1.0)


_SHAPE = ("skewness", "excess_kurtosis")
_POINT_MASS = Rule(_SHAPE, _constant, UNDEFINED, "X is constant when p is 0 or 1: with variance 0 it has no {stat}")
_SPREAD = ("variance", "std")
RULES: Mapping[str, tuple[Rule, ...]] = {
    "student_t": (
        Rule(("mean",), _df(1), UNDEFINED, "the mean of a Student t is undefined for df <= 1 (both tails diverge)"),
        Rule(_SPREAD, _df(1), UNDEFINED, "the {stat} of a Student t is undefined for df <= 1 (it has no mean)"),
        Rule(_SPREAD, _df(2), INFINITE, "the {stat} of a Student t is infinite for 1 < df <= 2"),
        Rule(("skewness",), _df(3), UNDEFINED, "the skewness of a Student t is undefined for df <= 3"),
        Rule(("excess_kurtosis",), _df(2), UNDEFINED, "the kurtosis of a Student t is undefined for df <= 2"),
        Rule(("excess_kurtosis",), _df(4), INFINITE, "the kurtosis of a Student t is infinite for 2 < df <= 4"),
    ),
    "f": (
        Rule(("mean",), _dfd(2), INFINITE, "the mean of an F distribution is infinite for dfd <= 2"),
        Rule(_SPREAD, _dfd(2), UNDEFINED, "the {stat} of an F distribution is undefined for dfd <= 2 (infinite mean)"),
        Rule(_SPREAD, _dfd(4), INFINITE, "the {stat} of an F distribution is infinite for 2 < dfd <= 4"),
        Rule(_SHAPE, _dfd(4), UNDEFINED, "the {stat} of an F distribution is undefined for dfd <= 4"),
        Rule(("skewness",), _dfd(6), INFINITE, "the skewness of an F distribution is infinite for 4 < dfd <= 6"),
        Rule(("excess_kurtosis",), _dfd(8), INFINITE, "the kurtosis of an F distribution is infinite for 4 < dfd <= 8"),
    ),
    "bernoulli": (_POINT_MASS,),
    "binomial": (_POINT_MASS,),
}  # fmt: skip


_SPOKEN = {"std": "standard deviation", "excess_kurtosis": "excess kurtosis"}


def verdict(family: str, statistic: str, params: Mapping[str, float]) -> Verdict | None:
    """Why ``statistic`` of ``family`` at ``params`` (canonical) is not a finite number, or None when it is."""
    for rule in RULES.get(family, ()):
        if statistic in rule.statistics and rule.applies(params):
            return Verdict(rule.kind, rule.reason.format(stat=_SPOKEN.get(statistic, statistic)))
    return None


Mode = float | Verdict


def _two(first: float, second: float, why: str) -> Verdict:
    return Verdict(UNDEFINED, f"the mode is not unique: {first:g} and {second:g} are both modes ({why})")


def _bernoulli(p: Mapping[str, float]) -> Mode:
    return _two(0, 1, "p = 0.5") if p["p"] == 0.5 else float(p["p"] > 0.5)


def _binomial(p: Mapping[str, float]) -> Mode:
    peak = (p["n"] + 1) * p["p"]
    if 0 < p["p"] < 1 and peak == math.floor(peak):
        return _two(peak - 1, peak, "(n + 1)*p is an integer")
    return float(min(math.floor(peak), p["n"]))


def _poisson(p: Mapping[str, float]) -> Mode:
    lam = p["lam"]
    return _two(lam - 1, lam, "lam is an integer") if lam == math.floor(lam) else float(math.floor(lam))


def _f(p: Mapping[str, float]) -> Mode:
    d1, d2 = p["dfn"], p["dfd"]
    return (d1 - 2) / d1 * d2 / (d2 + 2) if d1 > 2 else 0.0


def _gamma(p: Mapping[str, float]) -> Mode:
    return (p["shape"] - 1) * p["scale"] if p["shape"] >= 1 else 0.0


def _beta(p: Mapping[str, float]) -> Mode:
    a, b = p["alpha"], p["beta"]
    if a < 1 and b < 1:
        return _two(0, 1, "alpha < 1 and beta < 1: the density is unbounded at both ends")
    if a == 1 and b == 1:
        return Verdict(UNDEFINED, "every point of [0, 1] is a mode when alpha = beta = 1 (the uniform density)")
    if a <= 1 <= b:
        return 0.0
    if b <= 1 <= a:
        return 1.0
    return (a - 1) / (a + b - 2)


_UNIFORM = Verdict(UNDEFINED, "every point of [a, b] is a mode of a uniform distribution (the density is flat)")
MODES: Mapping[str, Callable[[Mapping[str, float]], Mode]] = {
    "normal": lambda p: p["mu"],
    "bernoulli": _bernoulli,
    "binomial": _binomial,
    "poisson": _poisson,
    "uniform": lambda p: _UNIFORM,
    "geometric": lambda p: 1.0,
    "student_t": lambda p: 0.0,
    "chi2": lambda p: max(p["df"] - 2, 0.0),
    "exponential": lambda p: 0.0,
    "f": _f,
    "gamma": _gamma,
    "beta": _beta,
}
