"""The measure-valued (coupling) estimator's piece for one discrete variable: finite differences of the function on
the same draws.

For a discrete ``X`` whose law has the parameter ``q`` (an expression of theta and of the other draws), the law's
part of the derivative is ``dq/dtheta * d/dq E[F | the rest]``, and the family's ``Coupling`` writes the second
factor as a weighted sum of ``F`` with ``X`` replaced (a Poisson: ``F(X + 1) - F(X)``). ``F`` here is the function
after every substitution (pathwise variables and the reparameterised variables whose laws depend on ``X``), so a
replacement of ``X`` moves those variables with it, on their own noise: a valid coupling of the shifted law.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy as sp

from service.compute.distributions.record import Coupling
from service.compute.engine import EngineExpr, differentiate, to_engine


@dataclass(frozen=True)
class Difference:
    """One coupled variable's derivative samples: ``sum_j chain[j] * sum_k weights[k] * values[k]`` by theta_j."""

    name: str
    chain: tuple[EngineExpr, ...]  # dq/dtheta_j, per name of wrt
    weights: tuple[EngineExpr, ...]
    values: tuple[EngineExpr, ...]  # F with the variable replaced, one per weight
    score: tuple[EngineExpr, ...]  # the variable's own score by theta_j: the alternative auto may take instead

    @property
    def exprs(self) -> tuple[EngineExpr, ...]:
        return (*self.chain, *self.weights, *self.values, *self.score)


def difference(
    name: str,
    x: sp.Symbol,
    coupling: Coupling,
    params: Mapping[str, sp.Expr],
    function: sp.Expr,
    wrt: Sequence[str],
    log_density: EngineExpr,
) -> Difference:
    """The pieces of ``x``'s coupling: ``params`` are its law's canonical parameters (integer ones as the stand-ins
    the sampler fills), ``function`` the substituted function, ``log_density`` its law's (for its score)."""
    q = to_engine(params[coupling.parameter])
    terms = coupling.terms(x, params)
    return Difference(
        name,
        tuple(differentiate(q, theta) for theta in wrt),
        tuple(to_engine(weight) for weight, _ in terms),
        tuple(to_engine(function.xreplace({x: replacement})) for _, replacement in terms),
        tuple(differentiate(log_density, theta) for theta in wrt),
    )
