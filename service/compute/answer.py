"""From a symbolic result and its evaluation to everything a calculus answer says: the values in the shape of the
derivative, what they imply (directional rates and steepest ascent, definiteness), the exact values, each point's
status and the warnings. Plain NumPy work on numbers already computed: no symbolic work happens here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from service.compute.calculus import CalculusQuery, CalculusResult
from service.compute.critical import critical_point, is_critical
from service.compute.exact import DOMAIN_ERROR, NON_DIFFERENTIABLE, NON_FINITE, OK, ExactValues
from service.compute.geometry import Definiteness, Directional, classify_hessians, directional
from service.compute.notes import Note, Notes
from service.compute.numeric import Evaluation
from service.compute.points import Points
from service.compute.status import Status
from service.compute.trust import Check, Provenance


@dataclass(frozen=True)
class CalculusAnswer:
    """The answer to one calculus query. Numeric parts are None when no point was given."""

    query: CalculusQuery
    result: CalculusResult
    values: np.ndarray | None = None  # (N, *shape); NaN where a point is not ok
    status: np.ndarray | None = None  # (N,) Status codes
    counts: dict[str, int] | None = None  # points per status label
    directional: Directional | None = None
    definiteness: Definiteness | None = None
    exact: ExactValues | None = None  # with `at` exact: the exact values (None where undefined)
    notes: Notes = field(default_factory=Notes)
    functions: np.ndarray | None = None  # (N, functions): f itself; NaN where it is undefined or not finite
    critical_point: dict[str, bool | str | None] | None = None  # hessian at a point: the second derivative test
    decimal: tuple[tuple[str | None, ...], ...] | None = None  # with digits: per point, per flat entry
    provenance: Provenance | None = None
    check: Check | None = None  # with check: true at a point
    sides: tuple[tuple[float, ...], tuple[float, ...]] | None = None  # non-differentiable point: left, right (flat)

    @property
    def size(self) -> int:
        """How many numbers the answer holds: what presenting it costs."""
        return 0 if self.values is None else int(self.values.size)

    @property
    def status_label(self) -> str | None:
        return None if self.status is None else Status(int(self.status[0])).label


def merge_exact(evaluation: Evaluation, exact: ExactValues) -> Evaluation:
    """The evaluation of one exact point, corrected by its exact values: a pole or branch point hidden by float
    rounding (tan at the float nearest pi/2 is finite) makes the point not ok, whatever the floats said."""
    if exact.status == OK:
        return evaluation
    values = evaluation.values.copy()
    status = evaluation.status.copy()
    status[0] = exact.status
    if exact.status in (DOMAIN_ERROR, NON_FINITE):
        values[0, :] = np.nan
    else:
        values[0, np.array(exact.undefined, dtype=bool)] = np.nan
    return Evaluation(values, evaluation.functions, status)


def _visible(exact: ExactValues, evaluation: Evaluation) -> ExactValues:
    """The exact values, with those of entries the point's status makes undefined left out."""
    status = int(evaluation.status[0])
    hidden = np.isnan(evaluation.values[0]) & (status in (DOMAIN_ERROR, NON_DIFFERENTIABLE))
    texts = tuple(None if h else t for t, h in zip(exact.texts, hidden, strict=True))
    latex = tuple(None if h else t for t, h in zip(exact.latex, hidden, strict=True))
    return replace(exact, texts=texts, latex=latex)


def _overflowed(part: Directional | Definiteness | None) -> np.ndarray | None:
    """Points where a quantity derived from finite derivatives (a directional value, a rate, an eigenvalue)
    overflowed float64."""
    if isinstance(part, Directional):
        overflowed: np.ndarray = ~np.isfinite(part.values) | ~np.isfinite(part.rates)
        return overflowed
    if isinstance(part, Definiteness) and part.eigenvalues.shape[1]:
        broken: np.ndarray = ~np.isfinite(part.eigenvalues).all(axis=1)
        return broken
    return None


def _status_notes(evaluation: Evaluation, limit: int) -> tuple[Notes, dict[str, int]]:
    listed, counts = evaluation.problems(limit)
    notes = [Note(p["status"], p["detail"], point=p["point"], status=p["status"]) for p in listed]
    bad = sum(n for label, n in counts.items() if label != Status.OK.label)
    return Notes(tuple(notes), bad - len(notes)), counts


def _split(name: str, others: frozenset[str]) -> list[str] | None:
    """``name`` as two or more of ``others`` side by side (``xy`` beside ``x`` and ``y``), or None."""
    for other in sorted(others, key=len, reverse=True):
        rest = name[len(other) :]
        if name.startswith(other) and rest:
            tail = [rest] if rest in others else _split(rest, others)
            if tail is not None:
                return [other, *tail]
    return None


def name_notes(result: CalculusResult) -> Notes:
    """A warning for each name that reads as a product of other names: it is one variable, not their product."""
    names = frozenset((*result.variables, *result.parameters))
    notes = []
    for name in sorted(names):
        parts = _split(name, names - {name})
        if parts is not None:
            detail = f"{name} is one variable named {name}; did you mean {'*'.join(parts)}?"
            notes.append(Note("ambiguous_name", detail))
    return Notes(tuple(notes))


def answer(
    query: CalculusQuery,
    result: CalculusResult,
    evaluation: Evaluation | None,
    exact: ExactValues | None = None,
    unit: np.ndarray | None = None,
    max_warnings: int = 20,
    exact_timeout: float | None = None,
    points: Points | None = None,
    gradients: np.ndarray | None = None,
) -> CalculusAnswer:
    """The answer of ``query``. ``unit`` is the direction as used (directional derivatives only); ``exact_timeout``
    says that exact values were asked for but ran out of that many seconds; ``gradients`` at ``points`` (a Hessian
    at a point) say whether the point is critical."""
    if evaluation is None:
        return CalculusAnswer(query, result, notes=name_notes(result))
    if exact is not None:
        evaluation = merge_exact(evaluation, exact)
    values = evaluation.values.reshape(len(evaluation.values), *result.shape)
    part: Directional | Definiteness | None = None
    if query.operation == "directional" and unit is not None:
        part = directional(values, unit)
    elif query.operation == "hessian" and query.classify:
        part = classify_hessians(values)
    overflowed = _overflowed(part)
    if overflowed is not None:
        evaluation = evaluation.flag_non_finite(overflowed)
    notes, counts = _status_notes(evaluation, max_warnings)
    extra = []
    if isinstance(part, Directional) and query.single and part.rates[0] == 0.0:
        extra.append(Note("critical_point", "a critical point: the gradient is zero, so no direction ascends", 0, "ok"))
    status = Status(int(evaluation.status[0])).label
    if exact_timeout is not None:
        detail = f"the exact value was not computed within {exact_timeout:g} s; the float values stand"
        extra.append(Note("exact_timeout", detail, 0, status))
    functions = np.where(np.isfinite(evaluation.functions), evaluation.functions, np.nan)
    # Finite floats at a point whose exact values say undefined or infinite (tan at "pi/2"): none of them stands.
    corrected = (evaluation.status == DOMAIN_ERROR) | (evaluation.status == NON_FINITE)
    functions[corrected & np.isfinite(functions).all(axis=1)] = np.nan
    test = None
    if isinstance(part, Definiteness) and gradients is not None and points is not None and status == Status.OK.label:
        n = len(result.variables)
        critical = is_critical(points.matrix[:, :n], gradients, values)
        test = critical_point(bool(critical[0]), part.classes[0])
    return CalculusAnswer(
        query=query,
        result=result,
        values=values,
        status=evaluation.status,
        counts=counts,
        directional=part if isinstance(part, Directional) else None,
        definiteness=part if isinstance(part, Definiteness) else None,
        exact=None if exact is None else _visible(exact, evaluation),
        notes=name_notes(result) + notes + Notes(tuple(extra)),
        functions=functions,
        critical_point=test,
    )
