"""Where a statistic is not a finite number, and why: the kinds of verdict, the rules that give them, and the
helpers the catalogue writes its rules and modes with (each family's own rules and mode are fields of its record in
``families.py``).

SciPy returns ``inf`` or ``nan`` for moments that do not exist, and not always the honest one (the variance of a
Student t with 1 < df <= 2 is infinite, with df <= 1 undefined). A family's rules decide instead of SciPy's numbers:

- *undefined*: the defining integral has no value (the mean of a t with df <= 1: both tails diverge), or the
  statistic divides by a variance of 0 (a point mass), or there is no single mode (uniform, bimodal beta);
- *infinite*: the integral diverges to +infinity (the variance of a t with 1 < df <= 2).

Either way the statistic is reported as null with the reason; ``infinite`` lists the ones that are +infinity.
The mode is where the density (or mass) is largest; where the density is unbounded at an end of the support
(chi2 with df < 2, gamma with shape < 1), that end is the mode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
    """``statistics`` are ``kind`` wherever ``applies(canonical parameters)``; the first rule that applies wins.
    ``{stat}`` in the reason is the statistic's spoken name."""

    statistics: tuple[str, ...]
    applies: Callable[[Mapping[str, float]], bool]
    kind: Kind
    reason: str


def at_most(parameter: str, bound: float) -> Callable[[Mapping[str, float]], bool]:
    """``parameter <= bound``, as a rule's condition."""
    return lambda p: p[parameter] <= bound


_SPOKEN = {"std": "standard deviation", "excess_kurtosis": "excess kurtosis"}


def verdict(rules: Sequence[Rule], statistic: str, params: Mapping[str, float]) -> Verdict | None:
    """Why ``statistic`` at ``params`` (canonical) is not a finite number by the first of a family's ``rules``
    that applies, or None when none does."""
    for rule in rules:
        if statistic in rule.statistics and rule.applies(params):
            return Verdict(rule.kind, rule.reason.format(stat=_SPOKEN.get(statistic, statistic)))
    return None


def two_modes(first: float, second: float, why: str) -> Verdict:
    """A mode that is not unique: two neighbours share the largest mass or density."""
    return Verdict(UNDEFINED, f"the mode is not unique: {first:g} and {second:g} are both modes ({why})")
