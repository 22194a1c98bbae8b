"""A random model as SymPy: the function, its random variables in dependency order, and the surrogate whose
per-sample derivative is an unbiased estimate of the derivative of the expectation.

Each random variable gets one treatment, decided in dependency order:

- ``independent``: its law does not depend on the parameters differentiated by (after substituting the
  reparameterised variables it depends on), so it contributes nothing of its own;
- ``pathwise``: it is written as a differentiable transform of parameter-free noise (``mu + sigma*eps``), and the
  derivative flows through the transform;
- ``measure_valued``: a discrete law's derivative as finite differences of the function on the same draws (its
  family's ``Coupling``: a Poisson's ``F(X + 1) - F(X)``), times the derivative of its parameter by theta;
- ``score``: its log-density, with its sample held fixed, is differentiated (the score function, REINFORCE).

With ``F`` the function after the pathwise substitutions and ``S`` the sum of the score variables' log-densities,
one sample of the derivative by ``theta`` is ``dF/dtheta + (F - b) dS/dtheta + sum of the coupled variables'
differences``, where the baseline ``b`` does not depend on the sample (a leave-one-out mean: unbiased, and it removes
most of the score term's variance). Each variable's law contributes its own term (the product rule over the joint
density), so the treatments mix freely, with one exception: a coupled ``X`` replaced by ``X + 1`` must carry along
every variable whose law depends on it, which only a variable drawn as a transform of its own noise can do; where
another variable's law depends on ``X`` and it is drawn directly (a Poisson of rate ``X``) or scored (its
log-density would change with ``X``), ``X`` takes the score (``auto``) or is refused (``measure_valued``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import sympy as sp

from service.compute.distributions.families import FAMILIES, Family
from service.compute.distributions.record import Noise
from service.compute.engine import EngineExpr, NodeBudget, differentiate, to_engine
from service.compute.errors import InvalidInput, NablaError, UnknownName, located
from service.compute.language.build import build, free_names, symbol
from service.compute.language.syntax import parse
from service.compute.limits import Limits
from service.compute.stochastic.coupling import Difference, difference

Treatment = Literal["independent", "pathwise", "measure_valued", "score"]
Estimator = Literal["pathwise", "score", "measure_valued", "auto"]
ParameterValue = float | str


@dataclass(frozen=True)
class RandomSpec:
    """One random variable as the client declared it."""

    name: str
    family: str
    parameters: tuple[tuple[str, ParameterValue], ...]


@dataclass(frozen=True)
class ModelSpec:
    """Everything symbolic about a request: its cache key."""

    function: str
    random: tuple[RandomSpec, ...]
    names: tuple[str, ...]  # the non-random names, all given values in ``at``
    wrt: tuple[str, ...]
    limits: Limits
    max_result_nodes: int


# Functions that can jump: no pathwise derivative through a variable inside them, and no theta inside them at all
# (the derivative of the expectation would come from the jump, which no draw sees). atan2, re and im jump across
# branch cuts (im(log(x)), which SymPy writes arg(x), is pi for x < 0).
DISCONTINUOUS: tuple[type, ...] = (sp.sign, sp.Heaviside, sp.DiracDelta, sp.atan2, sp.re, sp.im, sp.arg)
# Continuous functions with kinks: fine alone, but over a denominator that vanishes with them (abs(x)/x) they jump.
KINKS: tuple[type, ...] = (sp.Abs, sp.Min, sp.Max)


@dataclass(frozen=True)
class Variable:
    """A random variable of the model, with its law in canonical parameters (expressions in theta and parents)."""

    name: str
    family: Family
    params: dict[str, sp.Expr]
    parents: frozenset[str]

    @property
    def symbol(self) -> sp.Symbol:
        return symbol(self.name)

    @property
    def noise(self) -> sp.Symbol:
        return symbol(f"_noise_{self.name}")

    @property
    def integers(self) -> tuple[str, ...]:
        """The canonical parameters that are integers (binomial n)."""
        family = self.family
        return tuple(n for n in self.params if n in family.names and family.parameter(n).integer)

    def stand_in(self, parameter: str) -> sp.Symbol:
        """The symbol an integer parameter's value stands behind in the score (a name the language cannot spell)."""
        return symbol(f"_param_{self.name}_{parameter}")

    @property
    def reparameterisation(self) -> Noise | None:
        return self.family.reparameterisation


@dataclass(frozen=True)
class Surrogate:
    """The symbolic pieces of one estimator: ``F``, ``dF/dtheta`` and ``dS/dtheta`` for every theta."""

    treatments: dict[str, Treatment]
    value: EngineExpr
    direct: tuple[EngineExpr, ...]
    score: tuple[EngineExpr, ...] | None  # None when no variable is treated by its score
    differences: tuple[Difference, ...] = ()  # one per measure_valued variable

    @property
    def estimator(self) -> str:
        return estimator_of(self.treatments)


def estimator_of(treatments: Mapping[str, Treatment]) -> str:
    """The estimator's name: the one treatment used, or mixed (pathwise when every law is independent of theta)."""
    used = {t for t in treatments.values() if t != "independent"}
    return used.pop() if len(used) == 1 else "mixed" if used else "pathwise"


@dataclass(frozen=True)
class Model:
    function: sp.Expr
    variables: tuple[Variable, ...]  # in dependency order: parents first
    wrt: tuple[str, ...]


def _loc(*parts: str | int) -> tuple[str | int, ...]:
    return ("body", *parts)


def _expression(text: str, known: set[str], limits: Limits, loc: tuple[str | int, ...]) -> sp.Expr:
    """``text`` built over the ``known`` names; any other name is refused with what to do about it."""
    try:
        tree = parse(text, limits)
        missing = sorted(free_names(tree) - known - {"pi", "e"})
        if missing:
            raise located(
                UnknownName,
                f"'{missing[0]}' is neither a random variable nor given a value in 'at' (known: "
                f"{', '.join(sorted(known)) or 'none'}); declare it in 'random' or give its value in 'at'",
            )
        return build(tree, known, limits, declared=known)
    except NablaError as error:
        raise error.at(*loc) from None


def _parameter(value: ParameterValue, known: set[str], limits: Limits, loc: tuple[str | int, ...]) -> sp.Expr:
    if isinstance(value, str):
        return _expression(value, known, limits, loc)
    return sp.Rational(repr(float(value)))


def _family(spec: RandomSpec) -> Family:
    family = FAMILIES.get(spec.family)
    if family is None:
        raise located(
            InvalidInput,
            f"'{spec.family}' is not a distribution family; use one of {', '.join(FAMILIES)}",
            _loc("random", spec.name, "family"),
        )
    return family


def _variable(spec: RandomSpec, model: ModelSpec) -> Variable:
    family = _family(spec)
    known = {*model.names, *(r.name for r in model.random)} - {spec.name}
    given = {
        name: _parameter(value, known, model.limits, _loc("random", spec.name, "parameters", name))
        for name, value in spec.parameters
    }
    constants = {name: float(expr) for name, expr in given.items() if not expr.free_symbols}
    try:
        family.check(constants)
        params = family.resolve(given)
    except NablaError as error:
        raise error.at(*_loc("random", spec.name)) from None
    names = {s.name for expr in params.values() for s in expr.free_symbols}
    parents = frozenset(names & {r.name for r in model.random})
    return Variable(spec.name, family, params, parents)


def _ordered(variables: Sequence[Variable]) -> tuple[Variable, ...]:
    """Parents before children (declaration order otherwise); a cycle is an error that names it."""
    done: list[Variable] = []
    placed: set[str] = set()
    pending = list(variables)
    while pending:
        ready = [v for v in pending if v.parents <= placed]
        if not ready:
            cycle = ", ".join(sorted(v.name for v in pending))
            raise located(
                InvalidInput,
                f"the random variables {cycle} depend on each other in a cycle; a model must be acyclic (each law "
                "may use only variables declared without reference back to it)",
                _loc("random"),
            )
        done.extend(ready)
        placed.update(v.name for v in ready)
        pending = [v for v in pending if v.name not in placed]
    return tuple(done)


def build_model(spec: ModelSpec) -> Model:
    """Parse the function and the laws, check every name, and order the variables."""
    random_names = {r.name for r in spec.random}
    clash = random_names & set(spec.names)
    if clash:
        name = sorted(clash)[0]
        raise located(
            InvalidInput,
            f"'{name}' is both a random variable and a value in 'at'; give it one role",
            _loc("at", name),
        )
    function = _expression(spec.function, {*spec.names, *random_names}, spec.limits, _loc("function"))
    variables = _ordered([_variable(r, spec) for r in spec.random])
    return Model(function, variables, spec.wrt)


def _pathwise_refusal(model: Model, variable: Variable) -> str:
    noise = variable.reparameterisation
    if _jumps_in(model, variable):
        why = (
            "the function or a law jumps as it moves (sign, heaviside), and differentiating through the sampler "
            "would miss the jumps"
        )
    elif variable.family.discrete:
        why = f"its law ({variable.family.name}) is discrete, so its samples are not differentiable in the parameters"
    elif noise is None:
        why = f"Nabla has no differentiable sampler for the {variable.family.name} family"
    else:
        why = f"its {', '.join(noise.fixed)} depends on the parameters, and the sampler is not differentiable in it"
    return (
        f"the pathwise estimator does not apply to '{variable.name}': {why}; use estimator 'score', or 'auto' "
        "(pathwise where it applies, measure_valued for a discrete law, score elsewhere)"
    )


def _check_integers(variable: Variable, params: Mapping[str, sp.Expr], wrt: set[sp.Symbol]) -> None:
    for parameter in variable.family.parameters:
        if parameter.integer and parameter.name in params and params[parameter.name].free_symbols & wrt:
            raise located(
                InvalidInput,
                f"the {parameter.name} of '{variable.name}' is an integer and cannot depend on the parameters "
                f"differentiated by ({', '.join(sorted(s.name for s in wrt))})",
                _loc("random", variable.name, "parameters", parameter.name),
            )


def _score_refusal(variable: Variable, moving: Sequence[str]) -> str:
    return (
        f"the score estimator does not apply to '{variable.name}': the support of its {variable.family.name} law "
        f"moves with {', '.join(moving)}, which the score function cannot see (it would be biased); use estimator "
        "'pathwise' or 'auto', and keep the function continuous in it (pathwise cannot see jumps either)"
    )


def _denominators(expr: sp.Expr) -> list[sp.Expr]:
    return [p.base for p in expr.atoms(sp.Pow) if p.exp.is_negative]


def _may_jump(expr: sp.Expr, name: sp.Symbol) -> bool:
    """Whether ``expr`` may jump as ``name`` moves: ``name`` inside a step, a sign or a branch cut, or inside a kink
    while it also appears in a denominator (``abs(x)/x``). Conservative: a false alarm costs variance (the score
    estimator is used instead), a miss would cost a wrong answer."""
    if any(name in jump.free_symbols for jump in expr.atoms(*DISCONTINUOUS)):
        return True
    kinked = any(name in kink.free_symbols for kink in expr.atoms(*KINKS))
    return kinked and any(name in base.free_symbols for base in _denominators(expr))


def _jumps_in(model: Model, variable: Variable) -> bool:
    """Whether the function or a law may jump as ``variable`` moves: differentiating through the sampler would miss
    the jump's contribution (d/dθ E[heaviside(X - 1)] is a density, not 0)."""
    exprs = [model.function, *(e for v in model.variables for e in v.params.values())]
    return any(_may_jump(expr, variable.symbol) for expr in exprs)


def _refuse_jumps_in_theta(exprs: Sequence[sp.Expr], wrt: set[sp.Symbol], where: tuple[str | int, ...]) -> None:
    for expr in exprs:
        for name in sorted(wrt & expr.free_symbols, key=str):
            if _may_jump(expr, name):
                raise located(
                    InvalidInput,
                    f"the function or a law may jump as {name} moves (a step, a sign or a branch cut with {name} "
                    "inside): the derivative of the expectation then comes from the jump, which no draw sees, so "
                    f"neither estimator applies; keep {name} out of sign, heaviside, atan2, re, im and abs(...)/(...)",
                    where,
                )


def _treat_discrete(model: Model, variable: Variable, estimator: Estimator, uncoupled: Mapping[str, str]) -> Treatment:
    """A discrete law: its coupling (auto, measure_valued) unless another law needs it redrawn, else its score."""
    if estimator == "pathwise":
        raise located(InvalidInput, _pathwise_refusal(model, variable), _loc("random", variable.name))
    if estimator == "score":
        return "score"
    why = uncoupled.get(variable.name)
    if why is None:
        return "measure_valued"
    if estimator == "measure_valued":
        raise located(
            InvalidInput,
            f"the measure_valued estimator does not apply to '{variable.name}': {why}; use estimator 'score', or "
            "'auto' (which takes the score there)",
            _loc("random", variable.name),
        )
    return "score"


def _treat(
    model: Model,
    variable: Variable,
    params: Mapping[str, sp.Expr],
    wrt: set[sp.Symbol],
    estimator: Estimator,
    uncoupled: Mapping[str, str],
) -> Treatment:
    _check_integers(variable, params, wrt)
    if not any(p.free_symbols & wrt for p in params.values()):
        return "independent"
    if variable.family.coupling is not None:
        return _treat_discrete(model, variable, estimator, uncoupled)
    if estimator == "measure_valued":  # no coupling for a continuous law: treated as auto treats it
        estimator = "auto"
    noise = variable.reparameterisation
    reparameterisable = (
        noise is not None
        and not any(params[p].free_symbols & wrt for p in noise.fixed)
        and not _jumps_in(model, variable)
    )
    moving = [p for p in variable.family.support_parameters if params[p].free_symbols & wrt]
    if moving and (estimator == "score" or not reparameterisable):
        raise located(InvalidInput, _score_refusal(variable, moving), _loc("random", variable.name))
    if estimator == "score" or (estimator == "auto" and not reparameterisable):
        return "score"
    if not reparameterisable:
        raise located(InvalidInput, _pathwise_refusal(model, variable), _loc("random", variable.name))
    return "pathwise"


def _log_density(variable: Variable, params: Mapping[str, sp.Expr]) -> sp.Expr:
    """The log-density for the score. Integer parameters (free of theta: checked) enter as stand-in symbols whose
    values the sampler supplies per draw, so that a binomial's loggamma(n + 1) is never evaluated exactly (n = 10^6
    would take SymPy seconds, outside any timer); their terms vanish when differentiated by theta anyway."""
    stand_ins = {name: variable.stand_in(name) if name in variable.integers else e for name, e in params.items()}
    return variable.family.score_log(variable.symbol, stand_ins)


@dataclass
class _Plan:
    """One pass over the variables: treatments, substitutions, the score's log-density, the laws as substituted,
    and the coupled variables that another law needs redrawn (with why)."""

    treatments: dict[str, Treatment]
    substitutions: dict[sp.Symbol, sp.Expr]
    laws: dict[str, dict[str, sp.Expr]]
    log_density: sp.Expr
    blocked: dict[str, str]


def _redrawn(variable: Variable, treatment: Treatment, coupled: Sequence[str]) -> str:
    """Why the coupled variables cannot be shifted while ``variable``'s law depends on them."""
    if treatment == "score":
        how = "it is treated by its score, whose log-density would change with the shifted value"
    elif variable.reparameterisation is None:
        how = f"its {variable.family.name} law is drawn directly, not as a transform of noise"
    else:
        how = "the noise it is drawn from depends on it"
    return (
        f"the law of '{variable.name}' depends on {', '.join(repr(c) for c in coupled)} and {how}, so its draws at a "
        "shifted value are not available (the coupling would need it drawn again)"
    )


def _plan(model: Model, estimator: Estimator, uncoupled: Mapping[str, str]) -> _Plan:
    wrt = {symbol(name) for name in model.wrt}
    plan = _Plan({}, {}, {}, sp.S.Zero, {})
    for variable in model.variables:
        params = {name: expr.xreplace(plan.substitutions) for name, expr in variable.params.items()}
        treatment = _treat(model, variable, params, wrt, estimator, uncoupled)
        plan.treatments[variable.name] = treatment
        plan.laws[variable.name] = params
        _refuse_jumps_in_theta(list(params.values()), wrt, _loc("random", variable.name, "parameters"))
        coupled = {symbol(n) for n, t in plan.treatments.items() if t == "measure_valued"}
        depends = sorted(s.name for e in params.values() for s in e.free_symbols & coupled)
        noise = variable.reparameterisation
        if noise is not None and treatment in ("pathwise", "independent"):
            noise_moves = any(params[p].free_symbols & coupled for p in noise.fixed)
            if noise_moves:
                plan.blocked.update(dict.fromkeys(depends, _redrawn(variable, treatment, depends)))
            elif treatment == "pathwise" or depends:  # an independent law that moves with a coupled variable
                plan.substitutions[variable.symbol] = noise.transform(variable.noise, params)
        elif depends:
            plan.blocked.update(dict.fromkeys(depends, _redrawn(variable, treatment, depends)))
        if treatment == "score":
            plan.log_density += _log_density(variable, params)
    return plan


def surrogate(model: Model, estimator: Estimator, budget: NodeBudget) -> Surrogate:
    """The estimator's symbolic pieces, treating each variable as ``estimator`` allows. A coupled variable that
    another law needs redrawn is planned again by its score (auto) or refused (measure_valued): a few passes at
    most, one per discrete variable."""
    uncoupled: dict[str, str] = {}
    plan = _plan(model, estimator, uncoupled)
    while plan.blocked:
        uncoupled.update(plan.blocked)
        plan = _plan(model, estimator, uncoupled)
    wrt = {symbol(name) for name in model.wrt}
    function = model.function.xreplace(plan.substitutions)
    _refuse_jumps_in_theta([function], wrt, _loc("function"))
    value = to_engine(function)
    direct = tuple(differentiate(value, name) for name in model.wrt)
    budget.charge(direct)
    score = None
    if "score" in plan.treatments.values():
        engine_log_density = to_engine(plan.log_density)
        score = tuple(differentiate(engine_log_density, name) for name in model.wrt)
        budget.charge(score)
    differences = tuple(
        _difference(v, plan, function, model.wrt)
        for v in model.variables
        if plan.treatments[v.name] == "measure_valued"
    )
    for piece in differences:
        budget.charge(piece.exprs)
    return Surrogate(plan.treatments, value, direct, score, differences)


def _difference(variable: Variable, plan: _Plan, function: sp.Expr, wrt: Sequence[str]) -> Difference:
    coupling = variable.family.coupling
    assert coupling is not None  # only a discrete law with a coupling is treated measure_valued
    params = plan.laws[variable.name]
    stand_ins = {name: variable.stand_in(name) if name in variable.integers else e for name, e in params.items()}
    own_score = to_engine(_log_density(variable, params))  # auto may take it instead, where its variance is lower
    return difference(variable.name, variable.symbol, coupling, stand_ins, function, wrt, own_score)
