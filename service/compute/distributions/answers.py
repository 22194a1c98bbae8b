"""The distribution operations from a plain query to a frozen answer, computed where the runtime puts them (the
worker pool: SciPy's cost grows with some parameters, and a deadline and a memory limit must bound it).

Errors are ``NablaError``s located in the request body (``["body", "parameters", "p"]``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from service.compute.distributions.closed_forms import ClosedForm, closed_forms
from service.compute.distributions.fit import Fit, fit
from service.compute.distributions.inference import Inference, infer
from service.compute.distributions.statistics import Statistics, bounded, describe, prepare
from service.compute.errors import NablaError
from service.compute.trust import Provenance, versions


@dataclass(frozen=True)
class StatisticsQuery:
    """POST /v1/distributions/{family}/statistics, in plain values. Hashable: the answers are deterministic."""

    family: str
    parameters: tuple[tuple[str, float], ...]
    x: tuple[float, ...] | None = None
    q: tuple[float, ...] | None = None
    exact: bool = False
    data: tuple[float, ...] | None = None

    @property
    def size(self) -> int:
        return sum(len(v) for v in (self.x, self.q, self.data) if v is not None)


@dataclass(frozen=True)
class FitQuery:
    """POST /v1/distributions/{family}/fit, in plain values."""

    family: str
    data: tuple[float, ...]
    fixed: tuple[tuple[str, float], ...] = ()
    parameterization: str | None = None
    confidence: float = 0.95

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class StatisticsAnswer:
    """Plain values only (a family record holds functions, which do not cross the process boundary)."""

    family: str
    discrete: bool
    parameters: dict[str, float]  # as the client gave them
    statistics: Statistics
    exact: dict[str, ClosedForm] | None
    likelihood: Inference | None
    provenance: Provenance | None = None  # numeric by SciPy; exact with the closed forms of SymPy

    @property
    def size(self) -> int:
        return sum(len(v) for v in (self.statistics.at_x or {}).values()) + len(self.statistics.quantiles or ())


@dataclass(frozen=True)
class FitAnswer:
    query: FitQuery
    fit: Fit
    provenance: Provenance | None = None  # numeric (the fit's own method says closed form or newton)

    @property
    def size(self) -> int:
        return 0


@contextmanager
def _in_body() -> Iterator[None]:
    """Errors located in the request body, as the HTTP layer reports locations."""
    try:
        yield
    except NablaError as error:
        raise error.at("body") from None


def statistics(query: StatisticsQuery, limit: int, max_warnings: int) -> StatisticsAnswer:
    """Statistics of one law; at most ``limit`` values in each of x, q and data, ``max_warnings`` warnings listed."""
    with _in_body():
        given = dict(query.parameters)
        law = prepare(query.family, given)
        points, probabilities, observations = (
            bounded(v, n, limit) for v, n in ((query.x, "x"), (query.q, "q"), (query.data, "data"))
        )
        described = describe(law, points, probabilities, max_warnings)
        exact = closed_forms(query.family, frozenset(given)) if query.exact else None
        inference = infer(law, observations) if observations is not None else None
    made = Provenance("numeric", versions("scipy"))
    if exact is not None:  # the closed forms are SymPy's
        made = Provenance("exact", versions("scipy", "sympy"))
    return StatisticsAnswer(law.family.name, law.family.discrete, law.given, described, exact, inference, made)


def maximum_likelihood(query: FitQuery, limit: int) -> FitAnswer:
    """The maximum-likelihood fit of ``query.data``."""
    with _in_body():
        observations = bounded(query.data, "data", limit)
        assert observations is not None
        result = fit(query.family, observations, dict(query.fixed), query.parameterization, query.confidence)
    return FitAnswer(query, result, Provenance("numeric", versions("scipy")))
