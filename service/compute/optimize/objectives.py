"""What is minimised: a compiled function, a negative log-likelihood, or an expectation estimated by draws.

Each objective is built once per run (parsing, differentiating and compiling happen here, in the worker) and then
evaluated at each iterate. An evaluation that is not an answer carries its ``problem`` (the run's ``reason``) and a
sentence saying why, instead of NaNs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from service.compute import calculus
from service.compute.calculus import CalculusTask, natural_key
from service.compute.distributions.families import FAMILIES, Family
from service.compute.distributions.inference import check_data, derive, fisher, hessian_sum, score_sum
from service.compute.distributions.statistics import Law, quiet
from service.compute.errors import InvalidInput, NablaError, located
from service.compute.language.build import free_names
from service.compute.language.functions import CONSTANTS
from service.compute.language.syntax import parse
from service.compute.limits import Limits
from service.compute.numeric import compile_evaluator
from service.compute.optimize.task import Expectation, ModelFit
from service.compute.status import Status
from service.compute.stochastic.derivative import Prepared, prepare
from service.compute.stochastic.estimate import draw
from service.compute.stochastic.model import ModelSpec

__all__ = ["Evaluation", "ExpectationObjective", "FunctionObjective", "LikelihoodObjective"]

_PROBLEMS = {
    Status.DOMAIN_ERROR: ("left_domain", "f is undefined or not real there"),
    Status.NON_FINITE: ("diverged", "f is infinite there, or beyond the float64 range"),
    Status.NON_DIFFERENTIABLE: ("not_differentiable", "the gradient does not exist there (a kink, cusp or jump)"),
}


@dataclass(frozen=True)
class Evaluation:
    """f, its gradient and (when asked for) its Hessian at one point, or the ``problem`` there and ``why``."""

    value: float
    gradient: np.ndarray
    hessian: np.ndarray | None = None
    problem: str | None = None
    why: str = ""


def _failed(problem: str, why: str, size: int) -> Evaluation:
    return Evaluation(float("nan"), np.full(size, np.nan), None, problem, why)


class FunctionObjective:
    """A function of the variables, with its gradient (and Hessian) compiled into one kernel."""

    def __init__(
        self,
        function: str,
        variables: tuple[str, ...] | None,
        parameters: Sequence[tuple[str, float]],
        limits: Limits,
        hessian: bool,
    ) -> None:
        names = tuple(name for name, _ in parameters)
        gradient = calculus.run(CalculusTask("gradient", (function,), variables, names, limits=limits))
        self.variables = gradient.variables
        derivatives = [d.expr for d in gradient.derivatives]
        if hessian:
            second = calculus.run(CalculusTask("hessian", (function,), self.variables, names, limits=limits))
            derivatives += [d.expr for d in second.derivatives]
        self.evaluator = compile_evaluator((*self.variables, *names), gradient.functions, derivatives)
        self.constants = np.array([value for _, value in parameters], dtype=float)
        self.with_hessian = hessian

    def valid(self, x: np.ndarray) -> bool:
        return True

    def evaluate(self, x: np.ndarray) -> Evaluation:
        n = len(self.variables)
        row = np.concatenate([x, self.constants])[None, :]
        result = self.evaluator.evaluate(row)
        status = Status(int(result.status[0]))
        if status != Status.OK:
            problem, why = _PROBLEMS[status]
            return _failed(problem, why, n)
        values = result.values[0]
        hessian = values[n:].reshape(n, n) if self.with_hessian else None
        return Evaluation(float(result.functions[0, 0]), values[:n], hessian)


@cache
def _log_density(family: Family, names: tuple[str, ...]) -> Any:
    """The family's log density (the catalogue's SymPy tree) compiled over x and ``names``: summed over the data it
    is the log-likelihood, as SciPy's frozen law gives it but without freezing a law at every step (milliseconds)."""
    x = sp.Symbol("x", real=True)
    symbols = {name: sp.Symbol(name, positive=True) for name in names}
    tree = family.log_density(x, family.resolve(symbols))
    return sp.lambdify([x, *symbols.values()], tree, modules=["scipy", "numpy"])


def _model_location(error: NablaError, *prefix: str | int) -> NablaError:
    return located(type(error), error.detail, ("body", *prefix))


class LikelihoodObjective:
    """The negative log-likelihood of ``data`` in a family's parameters (the variables); others are held fixed."""

    def __init__(
        self, model: ModelFit, variables: tuple[str, ...] | None, fixed: Mapping[str, float], hessian: bool
    ) -> None:
        self.family = _family(model.family)
        self.data = np.asarray(model.data, dtype=float)
        try:
            check_data(self.family, self.data)
        except NablaError as error:
            raise error.at("body", "model") from None
        self.variables = _model_variables(self.family, variables, fixed)
        self.fixed = dict(fixed)
        names = tuple(n for n in self.family.names if n in {*self.variables, *fixed})
        self.derived = derive(self.family, names)
        self.order = [self.derived.free.index(v) for v in self.variables]
        self.log_density = _log_density(self.family, names)
        self.with_hessian = hessian

    def _values(self, x: np.ndarray) -> dict[str, float]:
        return self.fixed | {name: float(v) for name, v in zip(self.variables, x, strict=True)}

    def valid(self, x: np.ndarray) -> bool:
        return bool(np.all(np.isfinite(x))) and bool(self.family.valid(self._values(x)))

    def _arguments(self, x: np.ndarray) -> list[float]:
        values = self._values(x)
        return [values[n] for n in self.derived.names]

    def log_likelihood(self, x: np.ndarray) -> float:
        with quiet():
            terms = self.log_density(self.data, *(np.float64(v) for v in self._arguments(x)))
            return float(np.sum(np.broadcast_to(terms, self.data.shape)))

    def evaluate(self, x: np.ndarray) -> Evaluation:
        n = len(self.variables)
        if not self.valid(x):
            shown = ", ".join(f"{k} = {v:.6g}" for k, v in self._values(x).items())
            return _failed("left_domain", f"{shown} is outside {self.family.name}'s parameter space", n)
        value = -self.log_likelihood(x)
        if not np.isfinite(value):
            return _failed("left_domain", "some observation has probability 0 at these parameters", n)
        arguments = self._arguments(x)
        with quiet():
            gradient = -score_sum(self.derived, self.data, arguments)[self.order]
            hessian = None
            if self.with_hessian:
                hessian = -hessian_sum(self.derived, self.data, arguments)[np.ix_(self.order, self.order)]
        if not (np.all(np.isfinite(gradient)) and (hessian is None or np.all(np.isfinite(hessian)))):
            return _failed("diverged", "the score or the information is infinite at these parameters", n)
        return Evaluation(value, gradient, hessian)

    def metric(self, x: np.ndarray) -> np.ndarray:
        """The Fisher information of the whole sample: n times that of one observation."""
        values = self._values(x)
        law = Law(self.family, values, {k: float(v) for k, v in self.family.resolve(values).items()})
        per_observation = fisher(law, self.derived, self._arguments(x))[np.ix_(self.order, self.order)]
        return self.data.size * per_observation


def _family(name: str) -> Family:
    family = FAMILIES.get(name)
    if family is None:
        detail = f"there is no family '{name}'; the families are {', '.join(FAMILIES)}"
        raise located(InvalidInput, detail, ("body", "model", "family"))
    if family.irregular is not None:
        detail = (
            f"{name} is not a regular model ({family.irregular}), so its log-likelihood has no gradient to follow; "
            "choose another family"
        )
        raise located(InvalidInput, detail, ("body", "model", "family"))
    return family


def _model_variables(family: Family, variables: tuple[str, ...] | None, fixed: Mapping[str, float]) -> tuple[str, ...]:
    """The fitted parameters: as given, else the canonical ones that are not fixed (integer ones never are)."""
    if variables is None:
        variables = tuple(c for c in family.canonical if c not in fixed and not family.parameter(c).integer)
    for name in (*variables, *fixed):
        if name not in family.names:
            where = ("body", "variables") if name in variables else ("body", "parameters", name)
            detail = f"{family.name} has no parameter '{name}'; its parameters are {family.expected()}"
            raise located(InvalidInput, detail, where)
    for name in variables:
        if family.parameter(name).integer:
            detail = (
                f"{family.name}'s '{name}' is a whole number, not a parameter to fit: give its value in 'parameters' "
                f'(e.g. {{"{name}": 10}}) and fit the others'
            )
            raise located(InvalidInput, detail, ("body", "variables"))
    try:
        family.resolve(dict.fromkeys((*variables, *fixed), 1.0))
        family.check(dict(fixed))
    except NablaError as error:
        raise _model_location(error, "variables") from None
    return variables


def _names(text: str, loc: tuple[str | int, ...], limits: Limits) -> set[str]:
    try:
        return free_names(parse(text, limits))
    except NablaError as error:
        raise error.at(*loc) from None


class ExpectationObjective:
    """E[f(X, theta)] over random variables: its value and gradient estimated from fresh draws at each step."""

    def __init__(
        self,
        function: str,
        expectation: Expectation,
        variables: tuple[str, ...] | None,
        parameters: Sequence[tuple[str, float]],
        limits: Limits,
    ) -> None:
        random = {r.name for r in expectation.random}
        fixed = tuple(name for name, _ in parameters)
        if variables is None:
            names = _names(function, ("body", "function"), limits)
            for law in expectation.random:
                for parameter, value in law.parameters:
                    if isinstance(value, str):
                        names |= _names(value, ("body", "random", law.name, "parameters", parameter), limits)
            variables = tuple(sorted(names - random - set(fixed) - set(CONSTANTS), key=natural_key))
        self.variables = variables
        spec = ModelSpec(function, expectation.random, (*variables, *fixed), variables, limits, 200_000)
        self.prepared: Prepared = prepare(spec, expectation.estimator)
        self.constants = dict(parameters)
        self.samples = expectation.samples

    def estimate(self, x: np.ndarray, seed: int) -> Evaluation:
        """The Monte Carlo means of f and of the chosen estimator's derivative samples, from ``samples`` draws."""
        n = len(self.variables)
        at = self.constants | {name: float(v) for name, v in zip(self.variables, x, strict=True)}
        try:
            columns = draw(self.prepared.samplers, at, self.samples, seed)
        except NablaError as error:
            return _failed("left_domain", error.detail, n)
        chosen = self.prepared.chosen
        with np.errstate(all="ignore"):
            values = chosen.compiled(columns, self.samples)[:, 0]
            estimates = chosen.estimate(columns, self.samples)
        value = float(np.mean(values))
        gradient = np.array(estimates.mean)
        if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
            bad = max(int(np.count_nonzero(~np.isfinite(values))), *estimates.non_finite)
            why = f"f or its derivative is not finite in {bad} of {self.samples} draws there"
            return _failed("diverged" if np.isinf(value) else "left_domain", why, n)
        return Evaluation(value, gradient)
