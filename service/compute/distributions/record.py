"""What one distribution family's record holds: everything the engine knows about the family, in one value.

``families.py`` is the catalogue of these records; every other module reads a record's fields instead of keeping a
table keyed by family name, so a new family is one record there and nothing else:

- what the client may write: ``parameters`` (with their constraints), ``alternatives`` (``rate`` for ``scale``) and
  ``relations`` (uniform ``a < b``), checked by ``resolve``, ``check`` and ``valid``;
- the law: ``log_density`` (SymPy), ``sample`` (NumPy), ``frozen`` (SciPy) and ``sympy_stats`` (``sympy.stats``);
- its statistics: ``closed_forms`` (SymPy, in the canonical parameters), ``rules`` (where a statistic is undefined or
  infinite), ``mode``, and ``entropy`` where SciPy's is too slow or too inexact;
- its likelihood: ``fit`` (the starting point, exact or refined by Newton), ``limit`` (the law at an open end of
  the parameter space, where a likelihood may climb without a maximum), ``log_mass`` (where SciPy's is inexact),
  ``beyond_support`` (data that the
  parameters exclude), ``irregular`` and ``support_parameters`` (the support moves with them);
- the stochastic derivative: ``reparameterisation`` (parameter-free noise and its transform), ``coupling`` (a
  discrete law's measure-valued derivative on the same draw), ``score_log_density`` (a form whose derivatives stay
  finite at a probability of 0 or 1), ``support_sign`` (the sign ``sympy.stats`` may assume of a draw) and
  ``lattice`` (how an exact sum walks a discrete law).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np
import sympy as sp

from service.compute.distributions.lattice import Lattice
from service.compute.distributions.special import Rule, Verdict
from service.compute.errors import InvalidInput, located

V = TypeVar("V")
Numbers = np.ndarray | float
Expr = Any  # a SymPy expression (SymPy is untyped)
Frozen = Any  # scipy.stats' rv_frozen (SciPy is untyped)

LogDensity = Callable[[Expr, Mapping[str, Expr]], Expr]
Sampler = Callable[[np.random.Generator, Mapping[str, Numbers], int], np.ndarray]
Freezer = Callable[[Mapping[str, float]], Frozen]
Entry = tuple[sp.Expr, str | None]
"""A closed form in the canonical parameters, and the condition where it holds (None: everywhere)."""
Mode = float | Verdict
Start = Callable[[np.ndarray, Mapping[str, float]], dict[str, float]]
"""Data and the fixed parameters (canonical names) -> an estimate of every canonical parameter."""
Entropy = Callable[[Mapping[str, float], Frozen], float]
LogMass = Callable[[np.ndarray, Mapping[str, float]], np.ndarray]
"""Points and the canonical parameters -> the log pmf (or pdf) there, -inf off the support."""
Outside = Callable[[np.ndarray, Mapping[str, float]], tuple[tuple[str | int, ...], str] | None]
"""Data and the parameters (client's names) -> where the data leave the support, and why, or None."""
RandomVariable = Callable[[str, Mapping[str, Expr]], Any]
Sign = Literal["positive", "nonnegative"]


@dataclass(frozen=True)
class FitRule:
    """How a maximum-likelihood fit starts: ``start`` gives every canonical parameter; ``exact`` when that is the
    estimate itself (a closed form), otherwise Newton's method refines it."""

    start: Start
    exact: bool


@dataclass(frozen=True)
class Limit:
    """The law a family tends to as ``parameter`` tends to ``value`` (an open end of its range)."""

    parameter: str
    value: float
    law: Callable[[Mapping[str, float]], Frozen]
    name: str
    """The limit law in words, for messages: "the standard normal (the limit as df -> inf)"."""


@dataclass(frozen=True)
class Noise:
    """How a reparameterisable family is sampled: parameter-free noise, then a differentiable transform."""

    fixed: tuple[str, ...]
    """Parameters the noise itself depends on (gamma's shape): they may not depend on theta."""
    draw: Callable[[np.random.Generator, Mapping[str, np.ndarray], int], np.ndarray]
    """``size`` draws of the noise (canonical parameters, arrays of ``size``)."""
    transform: Callable[[Any, Mapping[str, Any]], Any]
    """The variable from its noise: symbolically (SymPy) or numerically (NumPy arrays), the same arithmetic."""


Terms = Callable[[Expr, Mapping[str, Expr]], tuple[tuple[Expr, Expr], ...]]
"""A draw ``x`` and the canonical parameters (SymPy) -> the terms ``(weight, replacement)`` of a coupling."""


@dataclass(frozen=True)
class Coupling:
    """A discrete law's measure-valued (finite-difference) derivative in one parameter, on the same draw:
    ``d/dq E[f(X)] = E[sum_k weight_k(X) * f(replacement_k(X))]``, unbiased for every ``f`` with a finite mean.

    The weights of every draw sum to 0 (a constant ``f`` has derivative 0); a term whose weight is 0 at a draw is
    dropped there, so ``f`` may be undefined at a replacement the law never reaches (``sqrt(X - 1)`` at ``X = 0``)."""

    parameter: str
    """The canonical parameter it differentiates by (never an integer one: those may not depend on theta)."""
    terms: Terms


@dataclass(frozen=True)
class Parameter:
    """One parameter as the client writes it, with its constraint: ``low < value < high`` (``<=`` at a closed end),
    and an integer when ``integer``."""

    name: str
    constraint: str
    description: str
    integer: bool = False
    low: float = -math.inf
    high: float = math.inf
    closed_low: bool = False
    closed_high: bool = False

    def valid(self, value: Numbers) -> np.ndarray | bool:
        """Whether ``value`` meets the constraint, elementwise on arrays (NaN and infinities never do)."""
        v = np.asarray(value, dtype=float)
        above = v >= self.low if self.closed_low else v > self.low
        below = v <= self.high if self.closed_high else v < self.high
        ok = np.isfinite(v) & above & below
        if self.integer:
            ok = ok & (np.floor(np.where(np.isfinite(v), v, 0.0)) == v)
        return bool(ok) if np.ndim(ok) == 0 else ok


@dataclass(frozen=True)
class Relation:
    """A constraint between parameters (uniform: ``a < b``), on the client's names."""

    names: tuple[str, ...]
    constraint: str
    holds: Callable[..., np.ndarray | bool]


@dataclass(frozen=True)
class Alternative:
    """A name the client may use instead of a canonical one: ``rate`` for ``scale`` (``scale = 1/rate``)."""

    name: str
    canonical: str
    to_canonical: Callable[[Any], Any]


@dataclass(frozen=True)
class Family:
    """One family: what the client may write, the canonical parameterisation the methods take, and everything
    else the engine knows about it (see the module's docstring)."""

    name: str
    title: str
    discrete: bool
    parameters: tuple[Parameter, ...]
    canonical: tuple[str, ...]
    support: str
    convention: str
    _log_density: LogDensity = field(repr=False)
    _sample: Sampler = field(repr=False)
    _frozen: Freezer = field(repr=False)
    closed_forms: Mapping[str, Entry] = field(repr=False, compare=False)  # a dict: not hashable, so not compared
    """Statistic -> closed form in the canonical parameters (SymPy symbols of those names, positive where the
    parameter is, real otherwise); at least mean and variance. What the service's grammar cannot spell is absent."""
    mode: Callable[[Mapping[str, float]], Mode] = field(repr=False)
    """The mode at the canonical parameters, or the Verdict that says why there is no single one."""
    fit: FitRule = field(repr=False)
    sympy_stats: RandomVariable = field(repr=False)
    """``sympy.stats``' random variable of this law: (its name, canonical parameters as SymPy) -> RandomSymbol."""
    alternatives: tuple[Alternative, ...] = ()
    relations: tuple[Relation, ...] = ()
    observation: Parameter = Parameter("x", "any real number", "One observation.")
    irregular: str | None = None
    """Why the family is not a regular model (its support moves with the parameters), or None: for an irregular
    family the log density's derivatives in the parameters are not the score (the boundary terms are missing)."""
    support_parameters: tuple[str, ...] = ()
    """The canonical parameters that move the support: the score function is blind to them."""
    rules: tuple[Rule, ...] = ()
    """Where a statistic is undefined or infinite (the first rule that applies wins); SciPy's number otherwise."""
    entropy: Entropy | None = field(default=None, repr=False)
    """The entropy at (canonical parameters, SciPy's frozen law), where SciPy's own is too slow or inexact."""
    log_mass: LogMass | None = field(default=None, repr=False)
    """The log pmf (or pdf) where SciPy's is inexact (the binomial for huge n), or None: SciPy's."""
    limit: Limit | None = field(default=None, repr=False)
    """The law the family tends to at an open end of a parameter's range (Student t as df -> inf: the standard
    normal), where a likelihood may be largest without a maximum inside; None when there is none to check."""
    beyond_support: Outside | None = field(default=None, repr=False)
    """Where fit data leave a support that depends on the parameters (binomial x <= n), beyond ``observation``."""
    reparameterisation: Noise | None = field(default=None, repr=False)
    """The differentiable sampler of the pathwise estimator, or None (no pathwise derivative)."""
    coupling: Coupling | None = field(default=None, repr=False)
    """The measure-valued derivative of a discrete law (the ``measure_valued`` estimator), or None."""
    score_log_density: LogDensity | None = field(default=None, repr=False)
    """The log density the score estimator differentiates, where ``log_density``'s derivatives are not finite at
    some possible draw (a probability of 0 or 1); None: ``log_density``. The likelihood keeps ``log_density``."""
    support_sign: Sign | None = None
    """The sign every draw has (what ``sympy.stats`` may assume of it), or None when it may have either."""
    lattice: Lattice | None = field(default=None, repr=False, compare=False)  # holds a dict: not hashable
    """A discrete law as exact summation walks it (ratios of successive masses, scores), or None (no summation)."""

    def parameter(self, name: str) -> Parameter:
        return next(p for p in self.parameters if p.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the client may write."""
        return tuple(p.name for p in self.parameters)

    def choices(self, canonical: str) -> tuple[str, ...]:
        """The names that give one canonical parameter: itself and its alternatives (``("scale", "rate")``)."""
        return (canonical, *(a.name for a in self.alternatives if a.canonical == canonical))

    def expected(self) -> str:
        """'shape, and rate or scale (exactly one)' for messages."""
        parts = [" or ".join(sorted(self.choices(c))) for c in self.canonical]
        return ", ".join(p if " or " not in p else f"{p} (exactly one)" for p in parts)

    def resolve(self, given: Mapping[str, V]) -> dict[str, V]:
        """Check the names (unknown, missing, two for one) and map alternatives onto the canonical names.

        ``V`` may be a number or a SymPy expression: only ``1/v``-style arithmetic is used. Raises ``InvalidInput``
        located at ``("parameters", name)``."""
        for name in given:
            if name not in self.names:
                raise _bad(name, f"{self.name} has no parameter '{name}'; its parameters are {self.expected()}")
        return {c: self._one(c, given) for c in self.canonical}

    def _one(self, canonical: str, given: Mapping[str, V]) -> V:
        present = [n for n in self.choices(canonical) if n in given]
        if not present:
            options = " or ".join(f"'{n}'" for n in sorted(self.choices(canonical)))
            raise _bad(canonical, f"{self.name} needs the parameter {options}; its parameters are {self.expected()}")
        if len(present) > 1:
            both = " and ".join(f"'{n}'" for n in sorted(present))
            raise _bad(present[-1], f"{self.name} takes {both} as alternatives: give exactly one of them")
        name = present[0]
        if name == canonical:
            return given[name]
        alternative = next(a for a in self.alternatives if a.name == name)
        try:
            return alternative.to_canonical(given[name])  # type: ignore[no-any-return]
        except ZeroDivisionError:
            raise self._violation(name, given[name]) from None

    def check(self, values: Mapping[str, float]) -> None:
        """The numeric constraints on the client's (unresolved) values; the first violation is raised."""
        for name, value in values.items():
            if name in self.names and not self.parameter(name).valid(value):
                raise self._violation(name, value)
        for relation in self.relations:
            if all(n in values for n in relation.names):
                args = [values[n] for n in relation.names]
                if not relation.holds(*args):
                    shown = ", ".join(f"{n} = {_show(v)}" for n, v in zip(relation.names, args, strict=True))
                    message = f"{self.name} needs {relation.constraint}, got {shown}"
                    raise _bad(relation.names[-1], message)

    def valid(self, values: Mapping[str, Numbers]) -> np.ndarray | bool:
        """Elementwise: whether every constraint holds (client's names; arrays broadcast)."""
        ok: np.ndarray | bool = True
        for name, value in values.items():
            if name in self.names:
                ok = ok & self.parameter(name).valid(value)
        for relation in self.relations:
            if all(n in values for n in relation.names):
                ok = ok & relation.holds(*(values[n] for n in relation.names))
        return ok

    def _violation(self, name: str, value: object) -> InvalidInput:
        constraint = self.parameter(name).constraint
        return _bad(name, f"{self.name} needs {constraint}, got {name} = {_show(value)}")

    def log_density(self, x: Expr, params: Mapping[str, Expr]) -> Expr:
        """log pdf (continuous) or log pmf (discrete, ``x`` an integer) in the canonical parameters, valid on the
        support; differentiable in the parameters (discrete normalisers are written with loggamma)."""
        return self._log_density(x, params)

    def score_log(self, x: Expr, params: Mapping[str, Expr]) -> Expr:
        """The log density for the score estimator: ``score_log_density`` where there is one."""
        guarded = self.score_log_density
        return (guarded or self._log_density)(x, params)

    def sample(self, rng: np.random.Generator, params: Mapping[str, Numbers], size: int) -> np.ndarray:
        """``size`` draws (floats), parameters (canonical names) broadcast elementwise against ``size``."""
        return np.asarray(self._sample(rng, params, size), dtype=float)

    def frozen(self, params: Mapping[str, float]) -> Frozen:
        """SciPy's frozen distribution at the canonical parameters."""
        return self._frozen(params)


def _show(value: object) -> str:
    return repr(float(value)) if isinstance(value, int | float | np.floating | np.integer) else str(value)


def _bad(name: str, message: str) -> InvalidInput:
    return located(InvalidInput, message, ("parameters", name))  # type: ignore[return-value]
