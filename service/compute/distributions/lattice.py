"""A discrete law as summation needs it (``Family.lattice``): where its support starts and ends, its mode, the ratio
of successive masses and its score in each continuous parameter.

Every law here is log-concave (Bernoulli, binomial, Poisson, geometric), so ``up(k) = p(k+1)/p(k)`` does not increase
with k: past the edge of a window the masses fall at least geometrically, which is what bounds a tail. The score
``d/dparam log p(k)`` is affine in k, so ``|score| <= a + b*k`` on the support with the ``bound`` given here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

Params = Mapping[str, float]
Ratio = Callable[[np.ndarray, Params], np.ndarray]


@dataclass(frozen=True)
class Score:
    """The score in one continuous parameter: its values at the counts k, (a, b) with |score(k)| <= a + b*k, and
    the sum of its terms' magnitudes at k (what the rounding of its value is relative to)."""

    at: Callable[[np.ndarray, Params], np.ndarray]
    bound: Callable[[Params], tuple[float, float]]
    size: Callable[[np.ndarray, Params], np.ndarray]


@dataclass(frozen=True)
class Lattice:
    lowest: Callable[[Params], int]
    highest: Callable[[Params], float]  # math.inf for an unbounded support
    mode: Callable[[Params], int]
    up: Ratio  # p(k + 1) / p(k)
    down: Ratio  # p(k - 1) / p(k)
    scores: Mapping[str, Score]
    interior: Callable[[Params], bool]  # the parameters are inside the open range where every score exists
    roundings: int  # floating-point roundings in one ratio (1 - p, p/(1 - p), the division): bounds the weights'
    # error, with one more per step for the running product


def _open_probability(p: Params) -> bool:
    return 0.0 < p["p"] < 1.0


BERNOULLI = Lattice(
    lowest=lambda p: 0,
    highest=lambda p: 1.0,
    mode=lambda p: int(p["p"] >= 0.5),
    up=lambda k, p: np.full_like(k, p["p"] / (1 - p["p"])),
    down=lambda k, p: np.full_like(k, (1 - p["p"]) / p["p"]),
    scores={
        "p": Score(
            lambda k, p: k / p["p"] - (1 - k) / (1 - p["p"]),
            lambda p: (1 / (1 - p["p"]), 1 / p["p"]),
            lambda k, p: k / p["p"] + (1 - k) / (1 - p["p"]),
        )
    },
    interior=_open_probability,
    roundings=2,
)

BINOMIAL = Lattice(
    lowest=lambda p: 0,
    highest=lambda p: p["n"],
    mode=lambda p: min(int(p["n"]), math.floor((p["n"] + 1) * p["p"])),
    up=lambda k, p: (p["n"] - k) / (k + 1) * (p["p"] / (1 - p["p"])),
    down=lambda k, p: k / (p["n"] - k + 1) * ((1 - p["p"]) / p["p"]),
    scores={
        "p": Score(
            lambda k, p: k / p["p"] - (p["n"] - k) / (1 - p["p"]),
            lambda p: (p["n"] / (1 - p["p"]), 1 / p["p"] + 1 / (1 - p["p"])),
            lambda k, p: k / p["p"] + (p["n"] - k) / (1 - p["p"]),
        )
    },
    interior=_open_probability,
    roundings=4,
)

POISSON = Lattice(
    lowest=lambda p: 0,
    highest=lambda p: math.inf,
    mode=lambda p: math.floor(p["lam"]),
    up=lambda k, p: p["lam"] / (k + 1),
    down=lambda k, p: k / p["lam"],
    scores={"lam": Score(lambda k, p: k / p["lam"] - 1, lambda p: (1.0, 1 / p["lam"]), lambda k, p: k / p["lam"] + 1)},
    interior=lambda p: p["lam"] > 0,
    roundings=1,
)

GEOMETRIC = Lattice(  # trials up to and including the first success: support 1, 2, ...
    lowest=lambda p: 1,
    highest=lambda p: math.inf,
    mode=lambda p: 1,
    up=lambda k, p: np.full_like(k, 1 - p["p"]),
    down=lambda k, p: np.full_like(k, 1 / (1 - p["p"])),
    scores={
        "p": Score(
            lambda k, p: 1 / p["p"] - (k - 1) / (1 - p["p"]),
            lambda p: (1 / p["p"] + 1 / (1 - p["p"]), 1 / (1 - p["p"])),
            lambda k, p: 1 / p["p"] + (k - 1) / (1 - p["p"]),
        )
    },
    interior=_open_probability,
    roundings=1,
)
