"""Exact expectations of discrete models by summation, when SymPy finds no closed form (E[sqrt(X)], X ~ Poisson).

For independent discrete variables X_i with masses p_i(k; theta),

    E[f]          = sum_k f(k) P(k),                 P(k) = prod_i p_i(k_i)
    dE[f]/dtheta  = sum_k (df/dtheta(k) + f(k) * sum_i s_i(k_i)) P(k),

where ``s_i`` is the score of X_i in theta (its law's score in each canonical parameter, times the derivative of
that parameter's expression by theta: the chain rule). The sum runs over a box of counts around the modes, walked
outward by the ratio of successive masses (``Family.lattice``), and what lies outside the box is bounded:

- the function's growth: ``|f(k)| <= C * prod_i (1 + k_i)^d_i`` on the support, read off the expression by sound
  rules (``growth``; a function they cannot bound, ``exp(X)`` say, is not summed);
- the laws are log-concave, so past an edge of the box the terms ``(1 + k)^d p(k)`` fall at least geometrically, with
  the ratio at the edge: the tail is at most its first term over (1 - ratio) (``window``).

A value is reported only when the tail bound plus an estimate of the rounding errors (the weights' recurrence,
bounded; the compiled function's own error, taken as a few ulp) is below ``TOLERANCE`` of it: "exact" here means
correct to 1e-12 relative.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from service.compute.deadline import OutOfTime, deadline
from service.compute.engine import differentiate, to_engine
from service.compute.errors import NablaError
from service.compute.language.build import symbol
from service.compute.numeric import Kernel, compile_kernel
from service.compute.stochastic.growth import Envelope, envelope
from service.compute.stochastic.model import Model, Variable
from service.compute.stochastic.window import EPS, NotSummable, Window, window

__all__ = ["TOLERANCE", "NotSummable", "Summed", "summed"]

TOLERANCE = 1e-12  # relative: what "exact" promises
_WINDOWS = (1e-18, 1e-40, 1e-80)  # a window's edge: its tail below this share of its moment; wider when that is not
# enough (a sum that cancels, a crude bound on the function's growth)
_KERNEL_ULPS = 8  # rounding error assumed of one compiled evaluation of f (not a bound: an estimate)


@dataclass(frozen=True)
class Summed:
    """The derivatives of E[f] by ``wrt`` (and E[f] itself when it met the tolerance too), the terms summed and
    the largest bound on the relative error of the derivatives."""

    derivatives: tuple[float, ...]
    expectation: float | None
    terms: int
    error: float


def _value(expr: sp.Expr, at: Mapping[str, float]) -> float:
    return float(expr.xreplace({symbol(n): sp.Float(v, 30) for n, v in at.items()}).evalf(30))


Law = tuple[Variable, dict[str, float], dict[str, tuple[float, ...]]]


def _laws(model: Model, at: Mapping[str, float]) -> list[Law]:
    """Each variable with its canonical parameters at ``at`` and their derivatives by each name of ``wrt``."""
    out = []
    for variable in model.variables:
        lattice = variable.family.lattice
        if lattice is None:
            raise NotSummable(
                f"summation needs every random variable discrete, and '{variable.name}' is {variable.family.name}"
            )
        if variable.parents:
            raise NotSummable(
                f"the law of '{variable.name}' depends on the random {', '.join(sorted(variable.parents))}: summation "
                "is done for independent variables only"
            )
        params = {name: _value(expr, at) for name, expr in variable.params.items()}
        if not lattice.interior(params):
            shown = ", ".join(f"{n} = {v:g}" for n, v in params.items())
            raise NotSummable(f"'{variable.name}' is at the edge of its parameters ({shown}), where no score exists")
        slopes = {
            name: tuple(_value(sp.diff(variable.params[name], symbol(t)), at) for t in model.wrt)
            for name in lattice.scores
        }
        out.append((variable, params, slopes))
    return out


def _grid(windows: Sequence[Window], cap: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The box's counts per variable (flattened, C order), the product weights and their relative error bounds."""
    terms = math.prod(len(w.counts) for w in windows)
    if terms > cap:
        sizes = " x ".join(str(len(w.counts)) for w in windows)
        raise NotSummable(f"the sum needs {sizes} = {terms} terms, more than {cap} (NABLA_MAX_SERIES_TERMS)")
    mesh = np.meshgrid(*(w.counts for w in windows), indexing="ij")
    weights = np.ones(terms)
    errors = np.full(terms, len(windows) * EPS)
    for w, grid in zip(windows, np.meshgrid(*(np.arange(len(w.counts)) for w in windows), indexing="ij"), strict=True):
        index = grid.ravel()
        weights *= w.weights[index]
        errors += w.errors[index]
    return [m.ravel() for m in mesh], weights, errors


def _tail(windows: Sequence[Window], degrees: Mapping[str, float]) -> float:
    """A bound on sum over the counts outside the box of prod (1 + k_i)^d_i P(k)."""
    moments = [w.moment(degrees.get(w.variable.name, 0.0)) for w in windows]
    out = 0.0
    for i, w in enumerate(windows):
        out += w.tail(degrees.get(w.variable.name, 0.0)) * math.prod(m for j, m in enumerate(moments) if j != i)
    return out


def _bumped(env: Envelope, name: str) -> dict[str, float]:
    return {**env.degrees, name: env.degrees.get(name, 0.0) + 1}


@dataclass(frozen=True)
class _Sums:
    """The box's terms, for the derivative by each name: ``df/dtheta P + (f - c) P s`` with the score ``s`` of the
    laws in theta, centred on ``c = E[f]`` (``E[s] = 0``, so any constant gives the same sum; this one keeps the
    terms from cancelling), and a bound on its error: the tail outside the box plus the rounding."""

    laws: Sequence[Law]
    windows: Sequence[Window]
    columns: Sequence[np.ndarray]
    weights: np.ndarray
    errors: np.ndarray
    f: np.ndarray
    centre: float
    envelope: Envelope

    def derivative(self, j: int, partial: np.ndarray, partial_envelope: Envelope) -> tuple[float, float]:
        score = np.zeros(len(self.weights))
        scale = np.zeros(len(self.weights))  # what the score's rounding is relative to (its terms' magnitudes)
        tail = _tail(self.windows, partial_envelope.degrees) * partial_envelope.constant
        centred = self.envelope.plus(Envelope(abs(self.centre), {}))  # |f - c| <= |f| + |c|
        for i, (variable, params, slopes) in enumerate(self.laws):
            for parameter, slope in slopes.items():
                if slope[j] == 0:
                    continue
                s = variable.family.lattice.scores[parameter]  # type: ignore[union-attr]
                score += slope[j] * s.at(self.columns[i], params)
                a, b = s.bound(params)  # |s| <= a + b k <= max(a, b) (1 + k)
                scale += abs(slope[j]) * s.size(self.columns[i], params)
                tail += (
                    abs(slope[j]) * max(a, b) * centred.constant * _tail(self.windows, _bumped(centred, variable.name))
                )
        direct = partial * self.weights
        weighted = self.weights * score
        scored = (self.f - self.centre) * weighted
        total = math.fsum(direct) + math.fsum(scored)
        rounding = (
            math.fsum(np.abs(direct) * (self.errors + _KERNEL_ULPS * EPS))
            + math.fsum(np.abs(scored) * (self.errors + 4 * EPS))
            + math.fsum(np.abs((self.f - self.centre) * self.weights) * scale * 8 * EPS)
            + math.fsum(np.abs(weighted) * (_KERNEL_ULPS * EPS * np.abs(self.f) + EPS * abs(self.centre)))
            + 2 * EPS * abs(total)
        )
        return total, tail + rounding


def summed(model: Model, at: Mapping[str, float], max_terms: int, timeout: float) -> Summed:
    """The derivatives of E[f] by ``model.wrt`` summed to ``TOLERANCE``; ``NotSummable`` says why not. The box is
    widened (``_WINDOWS``) while the bound is not yet within the tolerance."""
    try:
        with deadline(timeout):
            problem = _Problem.of(model, at)
            for share in _WINDOWS[:-1]:
                try:
                    return problem.sum(max_terms, share)
                except NotSummable:
                    continue
            return problem.sum(max_terms, _WINDOWS[-1])
    except OutOfTime:
        raise NotSummable(f"the sum took longer than {timeout:g} s (NABLA_EXACT_TIMEOUT)") from None


@dataclass(frozen=True)
class _Problem:
    """What the sums need, whatever the box: the laws at the point, the growth of f and of its partials, the
    compiled f with its partials."""

    model: Model
    at: Mapping[str, float]
    laws: Sequence[Law]
    kernel: Kernel  # f and its partials by wrt, over the variables then the names of at
    function: Envelope
    partials: Sequence[Envelope]
    degrees: Mapping[str, float]  # per variable: the highest the box's tails are sized for

    @classmethod
    def of(cls, model: Model, at: Mapping[str, float]) -> _Problem:
        laws = _laws(model, at)
        lowest = {v.name: v.family.lattice.lowest(p) for v, p, _ in laws}  # type: ignore[union-attr]
        inputs = [*lowest, *at]
        try:
            value = to_engine(model.function)
            kernel = compile_kernel(inputs, [value, *(differentiate(value, t) for t in model.wrt)])
        except NablaError as error:  # too large to compile: the answer keeps its estimate
            raise NotSummable(f"the function could not be compiled for the sum ({error.detail})") from None
        problem = cls(model, at, laws, kernel, Envelope(0.0, {}), (), {})
        problem.evaluate([np.array([float(k)]) for k in lowest.values()])  # log(X) at X = 0: said as such
        values = {symbol(n): sp.Float(v, 30) for n, v in at.items()}
        exprs = [model.function, *(sp.diff(model.function, symbol(t)) for t in model.wrt)]
        bounds = [envelope(e.xreplace(values), lowest) for e in exprs]
        known = [b for b in bounds if b is not None]
        if len(known) < len(bounds):
            raise NotSummable(
                "the function's growth in the random variables cannot be bounded (Nabla bounds sums, products, "
                "powers, logarithms and bounded functions such as sin, tanh, erf), so neither can the sum's tail"
            )
        f, *partials = known
        degrees = {
            v.name: max(f.degrees.get(v.name, 0.0) + 1, *(e.degrees.get(v.name, 0.0) for e in partials))
            for v, _, _ in laws
        }
        return cls(model, at, laws, kernel, f, partials, degrees)

    def evaluate(self, columns: Sequence[np.ndarray]) -> np.ndarray:
        """f and its partials by ``wrt`` at the counts of the box (one compiled kernel)."""
        matrix = np.empty((len(columns[0]), len(columns) + len(self.at)))
        for j, column in enumerate(columns):
            matrix[:, j] = column
        for j, name in enumerate(self.at):
            matrix[:, len(columns) + j] = self.at[name]
        with np.errstate(all="ignore"):
            evaluated: np.ndarray = self.kernel(matrix)
        if not np.isfinite(evaluated).all():
            row = int(np.argmin(np.isfinite(evaluated).all(axis=1)))
            point = ", ".join(f"{v.name} = {columns[i][row]:g}" for i, (v, _, _) in enumerate(self.laws))
            raise NotSummable(f"the function or its derivative is not finite at {point}, a point of the support")
        return evaluated

    def sum(self, max_terms: int, share: float) -> Summed:
        windows = [window(v, p, self.degrees[v.name], max_terms, share) for v, p, _ in self.laws]
        columns, weights, errors = _grid(windows, max_terms)
        evaluated = self.evaluate(columns)
        f = evaluated[:, 0]
        mass = f * weights
        expectation = math.fsum(mass)
        tail = _tail(windows, self.function.degrees) * self.function.constant
        e_error = tail + math.fsum(np.abs(mass) * (errors + _KERNEL_ULPS * EPS))
        sums = _Sums(self.laws, windows, columns, weights, errors, f, expectation, self.function)
        derivatives, relative = [], []
        for j, name in enumerate(self.model.wrt):
            total, error = sums.derivative(j, evaluated[:, 1 + j], self.partials[j])
            if not error <= TOLERANCE * abs(total):
                raise NotSummable(
                    f"the sum for the derivative by {name} ({total:.6g}) is not within {TOLERANCE:g} of itself: its "
                    f"tail and rounding may reach {error:.3g} (the terms cancel, or the function grows fast)"
                )
            derivatives.append(total)
            relative.append(float(error) / abs(total) if total else 0.0)
        met = e_error <= TOLERANCE * abs(expectation)
        return Summed(tuple(derivatives), expectation if met else None, len(weights), max(relative, default=0.0))
