"""Maximum-likelihood estimates with standard errors from the Fisher information.

Each family's record says how to start (``Family.fit``): a closed form where one exists (normal, bernoulli, binomial
with n given, poisson, geometric, exponential, uniform); otherwise a starting point (SciPy's ``fit`` or a moment
estimate) refined by Newton's method on the log-likelihood, with the score and the observed information of
``inference.derive`` and a step halved until the likelihood does not decrease and the parameters stay valid (Fisher
scoring where the observed information is not positive definite). Parameters may be held ``fixed``; binomial ``n``
must be.

Standard errors are the square roots of the diagonal of the inverse of the sample's Fisher information at the
estimate (over the estimated parameters); the confidence interval is the Wald interval estimate ± z·se.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from service.compute.distributions.families import FAMILIES, Family
from service.compute.distributions.inference import (
    Derived,
    Inference,
    check_data,
    derive,
    fisher,
    hessian_sum,
    infer,
    log_likelihood,
    score_sum,
)
from service.compute.distributions.statistics import Law, prepare, quiet
from service.compute.errors import InvalidInput, located

MAX_ITERATIONS = 200
_HUGE = 1e12


@dataclass(frozen=True)
class Fit:
    """A maximum-likelihood fit: estimates by name (estimated and fixed), standard errors, the information there."""

    estimate: dict[str, float]
    estimated: tuple[str, ...]
    standard_errors: dict[str, float | None]
    level: float
    low: dict[str, float | None]
    high: dict[str, float | None]
    covariance: list[list[float | None]] | None
    method: str
    iterations: int
    inference: Inference
    notes: dict[str, str] = field(default_factory=dict)


def _client_names(family: Family, parameterization: str | None) -> tuple[str, ...]:
    names = []
    for canonical in family.canonical:
        choices = family.choices(canonical)
        names.append(parameterization if parameterization in choices else canonical)
    return tuple(names)


def _check_request(
    family: Family, names: tuple[str, ...], fixed: Mapping[str, float], parameterization: str | None
) -> None:
    choices = sorted({n for a in family.alternatives for n in (a.name, a.canonical)})
    if parameterization is not None and parameterization not in choices:
        hint = f"it takes {' or '.join(choices)}" if choices else "it has only one: leave 'parameterization' out"
        message = f"{family.name} has no parameterization '{parameterization}'; {hint}"
        raise located(InvalidInput, message, ("parameterization",))
    for name in fixed:
        if name not in names:
            message = f"'{name}' is not a parameter of {family.name} in this fit; its parameters are {', '.join(names)}"
            raise located(InvalidInput, message, ("fixed", name))
    try:
        family.check(fixed)
    except InvalidInput as error:
        raise located(InvalidInput, error.detail, ("fixed", *error.errors[0].loc[1:])) from None
    for name in names:
        if family.parameter(name).integer and name not in fixed:
            message = f"{family.name} needs '{name}' in 'fixed': an integer parameter is known, not estimated"
            raise located(InvalidInput, message, ("fixed", name))
    if all(n in fixed for n in names):
        raise located(InvalidInput, "every parameter is fixed: leave at least one out of 'fixed'", ("fixed",))


def _in_names(family: Family, canonical: Mapping[str, float], names: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for name in names:
        source = next(c for c in family.canonical if name in family.choices(c))
        alternative = next((a for a in family.alternatives if a.name == name), None)
        out[name] = float(alternative.to_canonical(canonical[source]) if alternative else canonical[source])
    return out


def _outside(family: Family, values: Mapping[str, float], data_note: str) -> InvalidInput:
    bad = next((n for n, v in values.items() if not family.parameter(n).valid(v)), None)
    if bad is None:
        return located(InvalidInput, f"the likelihood of {family.name} has no maximum for these data", ("data",))  # type: ignore[return-value]
    constraint = family.parameter(bad).constraint
    message = (
        f"the likelihood of {family.name} is largest at {bad} = {values[bad]:g}, outside {constraint}: {data_note}"
    )
    return located(InvalidInput, message, ("data",))  # type: ignore[return-value]


def _law(family: Family, values: Mapping[str, float]) -> Law:
    return prepare(family.name, dict(values))


class _Objective:
    """Log-likelihood, score and information as functions of the free parameters."""

    def __init__(self, family: Family, data: np.ndarray, values: dict[str, float], derived: Derived) -> None:
        self.family, self.data, self.values, self.derived = family, data, values, derived

    def at(self, theta: np.ndarray) -> dict[str, float]:
        return self.values | dict(zip(self.derived.free, (float(t) for t in theta), strict=True))

    def valid(self, theta: np.ndarray) -> bool:
        return bool(self.family.valid(self.at(theta)))

    def loglik(self, theta: np.ndarray) -> float:
        return log_likelihood(_law(self.family, self.at(theta)), self.data)

    def arguments(self, theta: np.ndarray) -> list[float]:
        values = self.at(theta)
        return [values[n] for n in self.derived.names]

    def step(self, theta: np.ndarray, free: list[int]) -> np.ndarray:
        arguments = self.arguments(theta)
        score = score_sum(self.derived, self.data, arguments)[free]
        information = -hessian_sum(self.derived, self.data, arguments)[np.ix_(free, free)]
        if not np.all(np.linalg.eigvalsh(information) > 0):
            law = _law(self.family, self.at(theta))
            information = self.data.size * fisher(law, self.derived, arguments)[np.ix_(free, free)]
        full = np.zeros(theta.size)
        full[free] = np.linalg.solve(information, score)
        return full


def _newton(objective: _Objective, theta: np.ndarray, free: list[int]) -> tuple[np.ndarray, int]:
    current = objective.loglik(theta)
    for iteration in range(1, MAX_ITERATIONS + 1):
        try:
            with quiet():
                step = objective.step(theta, free)
        except np.linalg.LinAlgError:
            raise _no_maximum(objective, theta) from None
        if not np.all(np.isfinite(step)):
            raise _no_maximum(objective, theta)
        t = 1.0
        while t > 1e-12:
            candidate = theta + t * step
            if objective.valid(candidate) and objective.loglik(candidate) >= current - 1e-12 * abs(current):
                break
            t /= 2
        else:
            return theta, iteration
        theta, current = candidate, objective.loglik(candidate)
        if np.all(np.abs(t * step) <= 1e-10 * (1 + np.abs(theta))):
            return theta, iteration
        if np.any(np.abs(theta) > _HUGE):
            break
    raise _no_maximum(objective, theta)


def _no_maximum(objective: _Objective, theta: np.ndarray) -> InvalidInput:
    family, values, limit = objective.family, objective.at(theta), objective.family.limit
    if limit is not None and abs(values.get(limit.parameter, 0.0)) > _HUGE:
        return _beyond_limit(family, values, objective.data)
    where = ", ".join(f"{n} = {v:g}" for n, v in objective.at(theta).items())
    message = (
        f"the likelihood of {objective.family.name} has no maximum inside the parameter space for these data "
        f"(the search reached {where} and was still climbing); try another family or fix a parameter"
    )
    return located(InvalidInput, message, ("data",))  # type: ignore[return-value]


def _standard_errors(inference: Inference, free: tuple[str, ...], estimated: tuple[str, ...]) -> tuple[Any, str | None]:
    if inference.fisher_sample is None:
        return None, inference.notes.get("fisher_information", "the Fisher information is not defined")
    index = [free.index(n) for n in estimated]
    sample = np.array(inference.fisher_sample, dtype=float)[np.ix_(index, index)]
    if not np.all(np.isfinite(sample)) or not np.all(np.linalg.eigvalsh(sample) > 0):
        return None, "the Fisher information at the estimate is infinite or singular (an estimate on the boundary)"
    covariance = np.linalg.inv(sample)
    return (covariance + covariance.T) / 2, None


def fit(
    family_name: str,
    data: np.ndarray,
    fixed: Mapping[str, float],
    parameterization: str | None = None,
    level: float = 0.95,
) -> Fit:
    """The maximum-likelihood estimate of ``family_name``'s parameters from ``data``."""
    family = FAMILIES[family_name]
    names = _client_names(family, parameterization)
    _check_request(family, names, fixed, parameterization)
    check_data(family, data)
    with quiet():
        start_canonical = family.fit.start(data, _canonical_fixed(family, fixed))
    values = _in_names(family, start_canonical, names) | dict(fixed)
    _check_support(family, values, data)
    estimated = tuple(n for n in names if n not in fixed)
    method, iterations = "closed form", 0
    if not family.fit.exact:
        derived = derive(family, names)
        objective = _Objective(family, data, values, derived)
        theta = np.array([values[n] for n in derived.free])
        free = [derived.free.index(n) for n in estimated]
        theta, iterations = _newton(objective, theta, free)
        values, method = objective.at(theta), "newton"
    if not family.valid(values):
        raise _outside(family, values, "these data cannot be fitted by this family")
    _check_limit(family, values, data)
    return _summarise(family, data, values, estimated, method, iterations, level)


def _canonical_fixed(family: Family, fixed: Mapping[str, float]) -> dict[str, float]:
    """The fixed parameters in canonical names (a fixed rate as its scale)."""
    held = [c for c in family.canonical if any(n in fixed for n in family.choices(c))]
    filled = {**{c: 1.0 for c in family.canonical if c not in held}, **fixed}
    return {c: v for c, v in family.resolve(filled).items() if c in held}


def _check_support(family: Family, values: Mapping[str, float], data: np.ndarray) -> None:
    beyond = family.beyond_support(data, values) if family.beyond_support is not None else None
    if beyond is not None:
        loc, message = beyond
        raise located(InvalidInput, message, loc)
    if not family.valid(values):
        raise _outside(family, values, _data_note(family, data))


def _check_limit(family: Family, values: Mapping[str, float], data: np.ndarray) -> None:
    """Refuse an estimate that its family's limit law fits at least as well: the likelihood then climbs towards
    the open end of the range (a Student t of identical values 1 passes df = 3e14 and tends to the normal)."""
    limit = family.limit
    if limit is None or limit.parameter not in values:
        return
    with quiet():
        reached = log_likelihood(_law(family, values), data)
        beyond = float(np.sum(limit.law(values).logpdf(data)))
    if beyond >= reached - 1e-12 * abs(reached):
        raise _beyond_limit(family, values, data)


def _beyond_limit(family: Family, values: Mapping[str, float], data: np.ndarray) -> InvalidInput:
    limit = family.limit
    assert limit is not None
    note = _data_note(family, data)
    if not np.all(data == data[0]):
        note = f"{limit.name} fits these data at least as well as every finite {limit.parameter}"
    return _outside(family, {**values, limit.parameter: limit.value}, note)


def _data_note(family: Family, data: np.ndarray) -> str:
    if np.all(data == data[0]):
        return f"every observation is {data[0]:g}"
    return "these data cannot be fitted by this family"


def _summarise(
    family: Family,
    data: np.ndarray,
    values: dict[str, float],
    estimated: tuple[str, ...],
    method: str,
    iterations: int,
    level: float,
) -> Fit:
    inference = infer(_law(family, values), data)
    covariance, reason = _standard_errors(inference, inference.parameters, estimated)
    z = float(stats.norm.ppf((1 + level) / 2))
    errors: dict[str, float | None] = dict.fromkeys(estimated)
    low: dict[str, float | None] = dict.fromkeys(estimated)
    high: dict[str, float | None] = dict.fromkeys(estimated)
    if covariance is not None:
        for i, name in enumerate(estimated):
            errors[name] = se = float(np.sqrt(covariance[i, i]))
            low[name], high[name] = values[name] - z * se, values[name] + z * se
    notes = {"standard_errors": reason} if reason else {}
    matrix = covariance.tolist() if covariance is not None else None
    return Fit(values, estimated, errors, level, low, high, matrix, method, iterations, inference, notes)
