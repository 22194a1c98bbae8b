"""The catalogue of the twelve distribution families: names, parameters and their constraints, log densities (SymPy),
samplers (NumPy) and SciPy's frozen distributions.

Conventions, one per family where there is a choice: ``geometric`` counts trials up to and including the first
success (support 1, 2, ...); ``exponential`` and ``gamma`` take ``rate`` or ``scale``, exactly one, and their
canonical parameter is ``scale`` (``rate`` is mapped to ``scale = 1/rate`` by ``Family.resolve``).

Two sets of names: the client's (``Family.parameters``, every accepted name) and the canonical ones
(``Family.canonical``), which ``log_density``, ``sample`` and ``frozen`` take. Check the client's numbers with
``Family.check`` before ``Family.resolve`` maps them onto the canonical names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import sympy as sp
from scipy import stats

from service.compute.errors import InvalidInput, located

V = TypeVar("V")
Numbers = np.ndarray | float
Expr = Any  # a SymPy expression (SymPy is untyped)
Frozen = Any  # scipy.stats' rv_frozen (SciPy is untyped)

LogDensity = Callable[[Expr, Mapping[str, Expr]], Expr]
Sampler = Callable[[np.random.Generator, Mapping[str, Numbers], int], np.ndarray]
Freezer = Callable[[Mapping[str, float]], Frozen]


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
    """One family: what the client may write, and the canonical parameterisation the methods take."""

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
    alternatives: tuple[Alternative, ...] = ()
    relations: tuple[Relation, ...] = ()
    observation: Parameter = Parameter("x", "any real number", "One observation.")
    irregular: str | None = None
    """Why the family is not a regular model (its support moves with the parameters), or None: for an irregular
    family the log density's derivatives in the parameters are not the score (the boundary terms are missing)."""

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


def _positive(name: str, description: str) -> Parameter:
    return Parameter(name, f"{name} > 0", description, low=0.0)


def _probability(name: str, description: str, *, zero: bool = True) -> Parameter:
    constraint = f"0 <= {name} <= 1" if zero else f"0 < {name} <= 1"
    return Parameter(name, constraint, description, low=0.0, high=1.0, closed_low=zero, closed_high=True)


def _reciprocal(value: Any) -> Any:
    return 1 / value


def _log_beta(a: Expr, b: Expr) -> Expr:
    return sp.loggamma(a) + sp.loggamma(b) - sp.loggamma(a + b)


def _log_choose(n: Expr, k: Expr) -> Expr:
    return sp.loggamma(n + 1) - sp.loggamma(k + 1) - sp.loggamma(n - k + 1)


def _normal(x: Expr, p: Mapping[str, Expr]) -> Expr:
    mu, sigma = p["mu"], p["sigma"]
    return -sp.log(sigma) - sp.log(2 * sp.pi) / 2 - (x - mu) ** 2 / (2 * sigma**2)


def _bernoulli(x: Expr, p: Mapping[str, Expr]) -> Expr:
    return x * sp.log(p["p"]) + (1 - x) * sp.log(1 - p["p"])


def _binomial(x: Expr, p: Mapping[str, Expr]) -> Expr:
    n, q = p["n"], p["p"]
    return _log_choose(n, x) + x * sp.log(q) + (n - x) * sp.log(1 - q)


def _poisson(x: Expr, p: Mapping[str, Expr]) -> Expr:
    return x * sp.log(p["lam"]) - p["lam"] - sp.loggamma(x + 1)


def _uniform(x: Expr, p: Mapping[str, Expr]) -> Expr:
    return -sp.log(p["b"] - p["a"])


def _geometric(x: Expr, p: Mapping[str, Expr]) -> Expr:
    return (x - 1) * sp.log(1 - p["p"]) + sp.log(p["p"])


def _student_t(x: Expr, p: Mapping[str, Expr]) -> Expr:
    nu = p["df"]
    normaliser = sp.loggamma((nu + 1) / 2) - sp.loggamma(nu / 2) - sp.log(sp.pi * nu) / 2
    return normaliser - (nu + 1) / 2 * sp.log(1 + x**2 / nu)


def _chi2(x: Expr, p: Mapping[str, Expr]) -> Expr:
    k = p["df"]
    return (k / 2 - 1) * sp.log(x) - x / 2 - k / 2 * sp.log(2) - sp.loggamma(k / 2)


def _exponential(x: Expr, p: Mapping[str, Expr]) -> Expr:
    return -sp.log(p["scale"]) - x / p["scale"]


def _f(x: Expr, p: Mapping[str, Expr]) -> Expr:
    d1, d2 = p["dfn"], p["dfd"]
    return (
        d1 / 2 * sp.log(d1 / d2)
        + (d1 / 2 - 1) * sp.log(x)
        - (d1 + d2) / 2 * sp.log(1 + d1 * x / d2)
        - _log_beta(d1 / 2, d2 / 2)
    )


def _gamma(x: Expr, p: Mapping[str, Expr]) -> Expr:
    k, theta = p["shape"], p["scale"]
    return (k - 1) * sp.log(x) - x / theta - sp.loggamma(k) - k * sp.log(theta)


def _beta(x: Expr, p: Mapping[str, Expr]) -> Expr:
    a, b = p["alpha"], p["beta"]
    return (a - 1) * sp.log(x) + (b - 1) * sp.log(1 - x) - _log_beta(a, b)


def _bernoulli_draws(rng: np.random.Generator, p: Mapping[str, Numbers], size: int) -> np.ndarray:
    return (rng.random(size) < p["p"]).astype(float)


def _binomial_draws(rng: np.random.Generator, p: Mapping[str, Numbers], size: int) -> np.ndarray:
    return rng.binomial(np.asarray(p["n"]).astype(np.int64), p["p"], size)


def _counts(constraint: str, low: float, high: float = math.inf) -> Parameter:
    return Parameter(
        "x", constraint, "One observation.", integer=True, low=low, high=high, closed_low=True, closed_high=True
    )


_POSITIVE = Parameter("x", "x > 0", "One observation (the log density needs x > 0).", low=0.0)
_SCALE_TEXT = "exactly one of rate and scale, scale = 1/rate"
_FAMILIES = (
    Family(
        "normal", "Normal (Gaussian)", False,
        (Parameter("mu", "mu real", "Mean (location)."), _positive("sigma", "Standard deviation.")),
        ("mu", "sigma"), "all real numbers (-inf, inf)", "sigma is the standard deviation, not the variance.",
        _normal, lambda rng, p, n: rng.normal(p["mu"], p["sigma"], n),
        lambda p: stats.norm(loc=p["mu"], scale=p["sigma"]),
    ),
    Family(
        "bernoulli", "Bernoulli", True,
        (_probability("p", "Probability of a success (the value 1)."),),
        ("p",), "{0, 1}", "P(X = 1) = p and P(X = 0) = 1 - p.",
        _bernoulli, _bernoulli_draws, lambda p: stats.bernoulli(p["p"]),
        observation=_counts("x is 0 or 1", 0.0, high=1.0),
    ),
    Family(
        "binomial", "Binomial", True,
        (
            Parameter("n", "n a positive integer", "Number of independent trials.", integer=True, low=1.0,
                      closed_low=True),
            _probability("p", "Probability of a success in each trial."),
        ),
        ("n", "p"), "{0, 1, ..., n}", "The number of successes in n trials.",
        _binomial, _binomial_draws, lambda p: stats.binom(int(p["n"]), p["p"]),
        observation=_counts("x an integer >= 0 (and <= n)", 0.0),
    ),
    Family(
        "poisson", "Poisson", True,
        (_positive("lam", "Rate: the mean number of events per interval."),),
        ("lam",), "{0, 1, 2, ...}", "lam is both the mean and the variance.",
        _poisson, lambda rng, p, n: rng.poisson(p["lam"], n), lambda p: stats.poisson(p["lam"]),
        observation=_counts("x an integer >= 0", 0.0),
    ),
    Family(
        "uniform", "Continuous uniform", False,
        (Parameter("a", "a real, a < b", "Lower end."), Parameter("b", "b real, b > a", "Upper end.")),
        ("a", "b"), "[a, b]", "Continuous on [a, b], a < b.",
        _uniform, lambda rng, p, n: rng.uniform(p["a"], p["b"], n),
        lambda p: stats.uniform(loc=p["a"], scale=p["b"] - p["a"]),
        relations=(Relation(("a", "b"), "a < b", lambda a, b: np.asarray(a) < np.asarray(b)),),
        irregular="the support [a, b] moves with a and b, so the likelihood is not differentiable at its maximum",
    ),
    Family(
        "geometric", "Geometric", True,
        (_probability("p", "Probability of a success in each trial.", zero=False),),
        ("p",), "{1, 2, 3, ...}",
        "Counts trials up to and including the first success (support 1, 2, ...; mean 1/p), not failures before it.",
        _geometric, lambda rng, p, n: rng.geometric(p["p"], n), lambda p: stats.geom(p["p"]),
        observation=_counts("x an integer >= 1", 1.0),
    ),
    Family(
        "student_t", "Student's t", False,
        (_positive("df", "Degrees of freedom (need not be an integer)."),),
        ("df",), "all real numbers (-inf, inf)", "Standard form: location 0, scale 1.",
        _student_t, lambda rng, p, n: rng.standard_t(p["df"], n), lambda p: stats.t(p["df"]),
    ),
    Family(
        "chi2", "Chi-squared", False,
        (_positive("df", "Degrees of freedom (need not be an integer)."),),
        ("df",), "[0, inf)", "The sum of df squared standard normals (for integer df).",
        _chi2, lambda rng, p, n: rng.chisquare(p["df"], n), lambda p: stats.chi2(p["df"]),
        observation=_POSITIVE,
    ),
    Family(
        "exponential", "Exponential", False,
        (_positive("rate", "Rate lambda: events per unit time (scale = 1/rate)."),
         _positive("scale", "Scale: the mean waiting time (scale = 1/rate).")),
        ("scale",), "[0, inf)", f"Takes {_SCALE_TEXT}.",
        _exponential, lambda rng, p, n: rng.exponential(p["scale"], n), lambda p: stats.expon(scale=p["scale"]),
        alternatives=(Alternative("rate", "scale", _reciprocal),),
        observation=Parameter("x", "x >= 0", "One observation.", low=0.0, closed_low=True),
    ),
    Family(
        "f", "F (Fisher-Snedecor)", False,
        (_positive("dfn", "Numerator degrees of freedom."), _positive("dfd", "Denominator degrees of freedom.")),
        ("dfn", "dfd"), "[0, inf)", "The ratio of two chi-squared variables, each divided by its df.",
        _f, lambda rng, p, n: rng.f(p["dfn"], p["dfd"], n), lambda p: stats.f(p["dfn"], p["dfd"]),
        observation=_POSITIVE,
    ),
    Family(
        "gamma", "Gamma", False,
        (_positive("shape", "Shape k."), _positive("rate", "Rate beta = 1/scale."),
         _positive("scale", "Scale theta = 1/rate.")),
        ("shape", "scale"), "[0, inf)", f"Takes shape and {_SCALE_TEXT}; mean shape*scale.",
        _gamma, lambda rng, p, n: rng.gamma(p["shape"], p["scale"], n),
        lambda p: stats.gamma(p["shape"], scale=p["scale"]),
        alternatives=(Alternative("rate", "scale", _reciprocal),),
        observation=_POSITIVE,
    ),
    Family(
        "beta", "Beta", False,
        (_positive("alpha", "First shape parameter."), _positive("beta", "Second shape parameter.")),
        ("alpha", "beta"), "[0, 1]", "Density proportional to x^(alpha-1) (1-x)^(beta-1).",
        _beta, lambda rng, p, n: rng.beta(p["alpha"], p["beta"], n), lambda p: stats.beta(p["alpha"], p["beta"]),
        observation=Parameter("x", "0 < x < 1", "One observation.", low=0.0, high=1.0),
    ),
)  # fmt: skip

FAMILIES: Mapping[str, Family] = {f.name: f for f in _FAMILIES}
"""Every family by name, in the order of the catalogue."""
