"""One discrete variable's window for an exact sum: its counts from the mode outward, their weights (by the ratio of
successive masses, ``Family.lattice``), bounds on their rounding errors, and a bound on what lies outside.

The laws are log-concave, so past an edge the terms ``(1 + k)^m p(k)`` fall at least geometrically with the ratio at
the edge: the tail is at most its first term over (1 - ratio).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from service.compute.distributions.lattice import Lattice
from service.compute.stochastic.model import Variable

__all__ = ["EPS", "NotSummable", "Window", "window"]

EPS = 2.0**-53
_FIRST_CHUNK = 64


class NotSummable(Exception):
    """Why the expectation was not summed (a sentence for the warning)."""


@dataclass(frozen=True)
class Window:
    variable: Variable
    lattice: Lattice
    params: Mapping[str, float]
    counts: np.ndarray
    weights: np.ndarray  # masses, normalised over the window
    errors: np.ndarray  # bound on each weight's relative error
    total: float  # sum of the unnormalised weights (the mode's is 1)

    def tail(self, degree: float) -> float:
        """A bound on sum over the counts outside the window of (1 + k)^degree p(k)."""
        lattice, params = self.lattice, self.params
        low, high = float(self.counts[0]), float(self.counts[-1])
        out = 0.0
        if high < lattice.highest(params):
            out += _tail_up(np.array([high]), self.weights[-1:] * self.total, lattice, params, degree)[0]
        if low > lattice.lowest(params):
            out += _tail_down(np.array([low]), self.weights[:1] * self.total, lattice, params, degree)[0]
        return out / self.total

    def moment(self, degree: float) -> float:
        """A bound on E[(1 + X)^degree] over the whole support."""
        inside = math.fsum((1 + self.counts) ** degree * self.weights)
        return inside + self.tail(degree)


def _tail_up(k: np.ndarray, w: np.ndarray, lattice: Lattice, params: Mapping[str, float], m: float) -> np.ndarray:
    """For each last count k of weight w: a bound on sum_{j > k} (1 + j)^m w(j) (inf where none holds yet)."""
    first = (k + 2) ** m * w * lattice.up(k, params)
    ratio = ((k + 3) / (k + 2)) ** m * lattice.up(k + 1, params)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ratio < 1, 1.01 * first / (1 - ratio), np.inf)


def _tail_down(k: np.ndarray, w: np.ndarray, lattice: Lattice, params: Mapping[str, float], m: float) -> np.ndarray:
    """For each first count k of weight w: a bound on sum_{j < k} (1 + j)^m w(j), the support's end included."""
    first = k**m * w * lattice.down(k, params)
    ratio = lattice.down(k - 1, params)
    lowest = lattice.lowest(params)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(ratio < 1, 1.01 * first / (1 - ratio), np.inf)
    return np.where(k - 1 <= lowest, 1.01 * first, bound)  # one count left at most: its own term


def _walk(
    variable: Variable, lattice: Lattice, params: Mapping[str, float], side: int, m: float, cap: int, share: float
) -> tuple[np.ndarray, np.ndarray]:
    """The counts from the mode outward on one side (excluding the mode), their unnormalised weights and error
    bounds, until the tail beyond is below ``share`` of the moment so far (the mode's weight is 1)."""
    mode = lattice.mode(params)
    end = lattice.highest(params) if side > 0 else float(lattice.lowest(params))
    ratio = lattice.up if side > 0 else lattice.down
    tail = _tail_up if side > 0 else _tail_down
    counts: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    last_k, last_w, moment, steps = float(mode), 1.0, (1 + mode) ** m, 0
    size = _FIRST_CHUNK
    while last_k != end:
        if steps >= cap:
            raise NotSummable(
                f"the sum over '{variable.name}' needs more than {cap} terms (NABLA_MAX_SERIES_TERMS) to reach the "
                "tolerance"
            )
        if tail(np.array([last_k]), np.array([last_w]), lattice, params, m)[0] <= share * moment:
            break
        count = int(min(size, cap - steps, abs(end - last_k)))
        k = last_k + side * np.arange(1, count + 1, dtype=float)
        w = last_w * np.cumprod(ratio(k - side, params))
        bounds = tail(k, w, lattice, params, m)
        moments = moment + np.cumsum((1 + k) ** m * w)
        done = np.flatnonzero(bounds <= share * moments)
        stop = int(done[0]) + 1 if done.size else count
        counts.append(k[:stop])
        weights.append(w[:stop])
        last_k, last_w, moment = float(k[stop - 1]), float(w[stop - 1]), float(moments[stop - 1])
        steps += stop
        if done.size:
            break
        size *= 2
    if not counts:
        return np.empty(0), np.empty(0)
    return np.concatenate(counts), np.concatenate(weights)


def window(variable: Variable, params: Mapping[str, float], degree: float, cap: int, share: float) -> Window:
    lattice = variable.family.lattice
    assert lattice is not None
    mode = lattice.mode(params)
    up_k, up_w = _walk(variable, lattice, params, 1, degree, cap, share)
    down_k, down_w = _walk(variable, lattice, params, -1, degree, cap, share)
    counts = np.concatenate([down_k[::-1], [float(mode)], up_k])
    raw = np.concatenate([down_w[::-1], [1.0], up_w])
    if raw.min() < 1e-290:
        raise NotSummable(
            f"the terms of the sum over '{variable.name}' leave the range of float64 before its tail is small: the "
            "function grows too fast"
        )
    total = math.fsum(raw)
    weights = raw / total
    own = ((lattice.roundings + 1) * np.abs(counts - mode) + 2) * EPS  # the recurrence from the mode, the division
    errors = own + math.fsum(weights * own)  # and the normaliser's own error, a weighted mean of them
    shaped = Window(variable, lattice, params, counts, weights, errors, total)
    return Window(variable, lattice, params, counts, weights, errors + shaped.tail(0), total)  # the mass left out
