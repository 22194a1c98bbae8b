"""Monte Carlo: draw the model's variables with NumPy's ``Generator`` (vectorised, parents first), then average one
compiled surrogate derivative over the draws.

Every estimator of a request uses the same draws: a reparameterisable variable is drawn as its noise and transformed
(``mu + sigma*eps`` is a draw of the normal law whichever estimator then treats it), so the variances of the
estimators compare like with like.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from service.compute.engine import EngineExpr
from service.compute.errors import InvalidInput, located
from service.compute.numeric import Kernel, compile_kernel
from service.compute.stochastic.model import Surrogate, Variable

Columns = dict[str, np.ndarray]


def _free_names(exprs: Sequence[EngineExpr]) -> list[str]:
    return sorted({str(s) for e in exprs for s in e.free_symbols})


@dataclass(frozen=True)
class Compiled:
    """Expressions compiled once over the columns they read."""

    inputs: tuple[str, ...]
    kernel: Kernel
    width: int

    @classmethod
    def of(cls, exprs: Sequence[EngineExpr]) -> Compiled:
        inputs = _free_names(exprs)
        return cls(tuple(inputs), compile_kernel(inputs, exprs), len(exprs))

    def __call__(self, columns: Columns, size: int) -> np.ndarray:
        matrix = np.empty((size, len(self.inputs)))
        for j, name in enumerate(self.inputs):
            matrix[:, j] = columns[name]
        with np.errstate(all="ignore"):
            return self.kernel(matrix)


@dataclass(frozen=True)
class Sampler:
    """How one variable is drawn: its law's parameters compiled over the values of theta and of its parents."""

    variable: Variable
    names: tuple[str, ...]
    params: Compiled

    @classmethod
    def of(cls, variable: Variable) -> Sampler:
        names = tuple(variable.params)
        return cls(variable, names, Compiled.of([variable.params[n] for n in names]))

    def draw(self, rng: np.random.Generator, columns: Columns, size: int) -> None:
        values = self.params(columns, size)
        params = {name: values[:, j] for j, name in enumerate(self.names)}
        self._check(params)
        variable, noise = self.variable, self.variable.reparameterisation
        for name in variable.integers:
            columns[variable.stand_in(name).name] = params[name]
        if noise is None:
            columns[variable.name] = self._sample(rng, params, size)
            return
        eps = noise.draw(rng, params, size)
        columns[variable.noise.name] = eps
        columns[variable.name] = noise.transform(eps, params)

    def _sample(self, rng: np.random.Generator, params: Mapping[str, np.ndarray], size: int) -> np.ndarray:
        try:
            return self.variable.family.sample(rng, params, size)
        except ValueError as error:  # NumPy's own limits, e.g. a Poisson rate beyond 1e19
            raise located(
                InvalidInput,
                f"the law of '{self.variable.name}' cannot be sampled at these parameters ({error}); choose values "
                "in 'at' within the range NumPy can draw from",
                ("body", "random", self.variable.name, "parameters"),
            ) from None

    def _counted(self, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``params`` with a drawn count of zero (binomial n = 0: no trials, the point mass at 0) read as valid: a
        law whose count is itself random reaches 0 (n ~ Poisson), and NumPy draws 0 there."""
        family = self.variable.family
        return {
            k: np.where(v == 0, family.parameter(k).low, v)
            if k in self.variable.integers and self.variable.parents
            else v
            for k, v in params.items()
        }

    def _check(self, params: Mapping[str, np.ndarray]) -> None:
        family, name = self.variable.family, self.variable.name
        ok = np.asarray(family.valid(self._counted(params)), dtype=bool)
        if ok.all():
            return
        bad = int(np.argmin(ok))
        shown = ", ".join(f"{n} = {params[n][bad]:.6g}" for n in self.names)
        varies = bool(self.variable.parents)
        where = f"in {np.count_nonzero(~ok)} of {ok.size} draws" if varies else "at the given point"
        constraints = "; ".join(p.constraint for p in family.parameters if p.name in self.names)
        raise located(
            InvalidInput,
            f"the law of '{name}' is not a valid {family.name} {where} (first: {shown}); it needs {constraints}; "
            "choose values in 'at' (and laws) that keep the parameters valid",
            ("body", "random", name, "parameters"),
        )


def draw(samplers: Sequence[Sampler], at: Mapping[str, float], samples: int, seed: int) -> Columns:
    """The columns of ``samples`` draws: theta (constant), every noise and every variable."""
    rng = np.random.default_rng(seed)
    columns: Columns = {name: np.full(samples, value) for name, value in at.items()}
    for sampler in samplers:
        sampler.draw(rng, columns, samples)
    return columns


@dataclass(frozen=True)
class Estimates:
    """Per theta: the mean of the derivative samples, their variance, and how many were not finite."""

    mean: tuple[float, ...]
    variance: tuple[float, ...]
    non_finite: tuple[int, ...]
    largest_share: tuple[float, ...] = ()  # of the sum of squared deviations, carried by the single largest draw


@dataclass(frozen=True)
class Pieces:
    """The terms of the derivative samples on one set of draws, each (size, k)."""

    value: np.ndarray  # (size, 1): F
    base: np.ndarray  # dF/dtheta and the score term of the variables scored in any case
    coupled: dict[str, tuple[np.ndarray, np.ndarray]]  # per coupled variable: (its differences, its score term)

    def samples(self, scored: frozenset[str] = frozenset()) -> np.ndarray:
        """The derivative samples, with the coupled variables in ``scored`` by their score; a draw where ``F``
        itself is not finite is NaN in every column (``E[f]`` does not exist there)."""
        total = self.base.copy()
        for name, (differences, score) in self.coupled.items():
            total += score if name in scored else differences
        return np.where(np.isfinite(self.value), total, np.nan)


def _spread(samples: np.ndarray) -> float:
    """The variance of the samples summed over theta, infinite where a draw is not finite (no estimate there)."""
    if not np.isfinite(samples).all():
        return math.inf
    return float(np.var(samples, axis=0).sum())


@dataclass(frozen=True)
class CompiledSurrogate:
    surrogate: Surrogate
    compiled: Compiled
    count: int  # theta components

    @classmethod
    def of(cls, surrogate: Surrogate) -> CompiledSurrogate:
        differences = [e for piece in surrogate.differences for e in piece.exprs]
        exprs = [surrogate.value, *surrogate.direct, *(surrogate.score or ()), *differences]
        return cls(surrogate, Compiled.of(exprs), len(surrogate.direct))

    def pieces(self, columns: Columns, size: int) -> Pieces:
        """The derivative samples' terms: ``dF/dtheta + (F - b) dS/dtheta`` with the leave-one-out mean of ``F`` as
        baseline ``b``, and each coupled variable's differences beside its own score term (auto's alternative)."""
        values = self.compiled(columns, size)
        k = self.count
        value = values[:, :1]
        base = values[:, 1 : 1 + k]
        start = 1 + k
        baseline = (value.sum() - value) / (size - 1)
        if self.surrogate.score is not None:
            base = base + (value - baseline) * values[:, start : start + k]
            start += k
        coupled = {}
        for piece in self.surrogate.differences:
            width = len(piece.weights)
            chain = values[:, start : start + k]
            weights = values[:, start + k : start + k + width]
            shifted = values[:, start + k + width : start + k + 2 * width]
            own_score = values[:, start + k + 2 * width : start + 2 * k + 2 * width]
            start += 2 * k + 2 * width
            # A term of weight 0 is absent (F may be undefined where the law never goes: sqrt(X - 1) at X = 0),
            # and so is a variable whose parameter does not move with this theta.
            total = np.where(weights == 0, 0.0, weights * shifted).sum(axis=1, keepdims=True)
            coupled[piece.name] = (np.where(chain == 0, 0.0, chain * total), (value - baseline) * own_score)
        return Pieces(value, base, coupled)

    def derivative_samples(self, columns: Columns, size: int, scored: frozenset[str] = frozenset()) -> np.ndarray:
        """(size, k): one derivative sample per draw; the coupled variables in ``scored`` by their score instead."""
        return self.pieces(columns, size).samples(scored)

    def lowest_variance(self, columns: Columns, size: int) -> frozenset[str]:
        """The coupled variables to score instead (auto): in one pass, each is switched to its score where that
        lowers the variance of the derivative samples (summed over theta) on these draws. A coupling usually has
        less (4-25x in the README's examples); an oscillating f such as cos(pi*X) of a Poisson can have 20x more."""
        pieces = self.pieces(columns, size)
        scored: frozenset[str] = frozenset()
        best = _spread(pieces.samples(scored))
        for name in pieces.coupled:
            trial = scored | {name}
            spread = _spread(pieces.samples(trial))
            if spread < best:
                scored, best = trial, spread
        return scored

    def estimate(self, columns: Columns, size: int, scored: frozenset[str] = frozenset()) -> Estimates:
        samples = self.derivative_samples(columns, size, scored)
        bad = tuple(int(n) for n in size - np.isfinite(samples).sum(axis=0))
        means, variances, shares = [], [], []
        for j in range(self.count):
            if bad[j]:
                means.append(np.nan)
                variances.append(np.nan)
                shares.append(np.nan)
                continue
            column = samples[:, j]
            mean = float(np.mean(column))
            squares = (column - mean) ** 2
            total = float(squares.sum())
            means.append(mean)
            variances.append(total / (size - 1))
            shares.append(float(np.max(squares)) / total if total > 0 else 0.0)
        return Estimates(tuple(means), tuple(variances), bad, tuple(shares))
