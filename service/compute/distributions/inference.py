"""Likelihood inference at given parameters: log-likelihood, score, Fisher information and observed information.

The score and the Hessian of the log density come from ``Family.log_density`` differentiated by SymPy, in the
parameters as the client names them (``rate`` when the client gave ``rate``), and are compiled with
``sympy.lambdify``. Only catalogue-built trees reach lambdify, never client text, and there is one tree per family
and naming, so the work is fixed: it is done once and remembered (``derive``).

- score: the gradient of the log-likelihood, summed over the observations;
- observed information: minus the Hessian of the log-likelihood, summed over the observations;
- Fisher information per observation: minus the expected Hessian of the log density under the model (SciPy's
  ``expect``: a quadrature or a sum); for the sample, n times that.

An integer parameter (binomial ``n``) is a known constant, not differentiated. An irregular family (uniform) gets
the log-likelihood only, with the reason for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from service.compute.distributions.families import Family
from service.compute.distributions.statistics import Law, log_mass, quiet
from service.compute.errors import InvalidInput, located

Matrix = list[list[float | None]]


@dataclass(frozen=True)
class Derived:
    """The compiled score and Hessian of one family's log density in one naming of its parameters."""

    names: tuple[str, ...]  # the arguments after x, as the client names them
    free: tuple[str, ...]  # the differentiated parameters (all but integer ones)
    score: tuple[Callable[..., Any], ...]
    hessian: tuple[tuple[Callable[..., Any], ...], ...]
    affine: tuple[tuple[bool, ...], ...]  # Hessian entries affine in x: their expectation is their value at the mean


def _compile(expr: sp.Expr, arguments: Sequence[sp.Symbol]) -> Callable[..., Any]:
    return sp.lambdify(arguments, expr, modules=["scipy", "numpy"])  # type: ignore[no-any-return]


@cache
def derive(family: Family, names: tuple[str, ...]) -> Derived:
    """Score and Hessian of ``family``'s log density in the parameters ``names`` (the client's)."""
    x = sp.Symbol("x", real=True)
    symbols = {name: sp.Symbol(name, positive=True) for name in names}
    log_density = family.log_density(x, family.resolve(symbols))
    free = tuple(n for n in names if not family.parameter(n).integer)
    gradient = [sp.diff(log_density, symbols[n]) for n in free]
    arguments = [x, *symbols.values()]
    entries = [[sp.diff(gradient[i], symbols[free[j]]) for j in range(len(free))] for i in range(len(free))]
    hessian = tuple(tuple(_compile(e, arguments) for e in row) for row in entries)
    affine = tuple(tuple(sp.diff(e, x, 2) == 0 for e in row) for row in entries)
    return Derived(names, free, tuple(_compile(g, arguments) for g in gradient), hessian, affine)


def naming(law: Law) -> tuple[str, ...]:
    """The client's parameter names in catalogue order."""
    return tuple(n for n in law.family.names if n in law.given)


@dataclass(frozen=True)
class Inference:
    """Likelihood quantities at the parameters of a ``Law``; a null one has its reason in ``notes``."""

    parameters: tuple[str, ...]
    observations: int
    log_likelihood: float | None
    score: list[float | None] | None = None
    fisher_per_observation: Matrix | None = None
    fisher_sample: Matrix | None = None
    observed_information: Matrix | None = None
    notes: dict[str, str] = field(default_factory=dict)


def check_data(family: Family, data: np.ndarray) -> None:
    """Every observation must be a possible value of the family for some parameters (``Family.observation``)."""
    if data.size == 0:
        raise located(InvalidInput, "'data' is empty: give at least one observation", ("data",))
    bad = np.flatnonzero(~np.asarray(family.observation.valid(data), dtype=bool))
    if bad.size:
        i = int(bad[0])
        constraint = family.observation.constraint
        message = f"data[{i}] = {data[i]:g} cannot be an observation of {family.name}: it needs {constraint}"
        raise located(InvalidInput, message, ("data", i))


def _each(function: Callable[..., Any], data: np.ndarray, values: Sequence[float]) -> np.ndarray:
    with quiet():
        # NumPy scalars, not Python floats: 1/p**2 with p**2 underflowing is inf (explained), not ZeroDivisionError.
        scalars = [np.float64(v) for v in values]
        return np.broadcast_to(np.asarray(function(data, *scalars), dtype=float), data.shape)


def _matrix(entries: np.ndarray) -> Matrix:
    return [[_finite_or_none(v) for v in row] for row in entries]


def log_likelihood(law: Law, data: np.ndarray) -> float:
    with quiet():
        return float(np.sum(log_mass(law, data)))


def hessian_sum(derived: Derived, data: np.ndarray, values: Sequence[float]) -> np.ndarray:
    """The Hessian of the log-likelihood (summed over the observations)."""
    with quiet():
        return np.array([[_each(h, data, values).sum() for h in row] for row in derived.hessian])


def score_sum(derived: Derived, data: np.ndarray, values: Sequence[float]) -> np.ndarray:
    """The score: the gradient of the log-likelihood."""
    with quiet():
        return np.array([_each(g, data, values).sum() for g in derived.score])


def fisher(law: Law, derived: Derived, values: Sequence[float]) -> np.ndarray:
    """Minus the expected Hessian of the log density under the law: the Fisher information of one observation.

    An entry affine in x (every entry of the discrete families) is its value at the mean, exactly; the others are
    SciPy's ``expect`` (adaptive quadrature)."""
    rv = law.frozen()
    k = len(derived.free)
    out = np.empty((k, k))
    with quiet():
        mean = np.array([float(rv.mean())])
        for i in range(k):
            for j in range(i, k):
                entry = derived.hessian[i][j]
                if derived.affine[i][j]:
                    expected = float(_each(entry, mean, values)[0])
                else:
                    expected = float(rv.expect(lambda t, e=entry: _each(e, np.asarray(t), values)))
                out[i, j] = out[j, i] = -expected
    return out


def infer(law: Law, data: np.ndarray) -> Inference:
    """Log-likelihood, score, Fisher and observed information of ``data`` at the law's parameters."""
    check_data(law.family, data)
    names = naming(law)
    loglik = log_likelihood(law, data)
    if law.family.irregular is not None:
        reason = f"{law.family.name} is not a regular model: {law.family.irregular}"
        return Inference((), data.size, _finite_or_none(loglik), notes={"score": reason, "fisher_information": reason})
    derived = derive(law.family, names)
    if not np.isfinite(loglik):
        reason = "the log-likelihood is -infinity: some observation has probability 0 at these parameters"
        return Inference(derived.free, data.size, None, notes={"log_likelihood": reason, "score": reason})
    values = [law.given[n] for n in names]
    per_observation = fisher(law, derived, values)
    score = score_sum(derived, data, values)
    result = Inference(
        derived.free,
        data.size,
        loglik,
        [_finite_or_none(v) for v in score],
        _matrix(per_observation),
        _matrix(data.size * per_observation),
        _matrix(-hessian_sum(derived, data, values)),
    )
    return _explained(result)


def _finite_or_none(value: float) -> float | None:
    """A finite value as a float (-0.0 as 0.0), anything else as None."""
    return float(value) + 0.0 if np.isfinite(value) else None


def _explained(result: Inference) -> Inference:
    """Notes for the entries that came out non-finite (parameters on the boundary: p = 0 or 1)."""
    checks: Mapping[str, object] = {
        "score": result.score,
        "fisher_information": result.fisher_per_observation,
        "observed_information": result.observed_information,
    }
    for name, value in checks.items():
        if value is not None and None in np.asarray(value, dtype=object).ravel():
            result.notes[name] = f"the {name.replace('_', ' ')} is infinite or undefined at these parameters"
    return result
