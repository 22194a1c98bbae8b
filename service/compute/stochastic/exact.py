"""The exact expectation: its closed form, when SymPy finds one within a time budget, else its sum over a discrete
model (``series``). A search that found nothing is remembered by the caller (the web process keys it on the model)
and not made again: ``exact_answer`` then goes straight to the sum, and says so.

The variables are integrated out children first (``E[f] = E_X[E_Y[f | X]]``) with ``sympy.stats``. Symbols carry
the sign of their value in ``at`` and of their family's support, which lets the integrals converge; the closed form
is therefore valid near ``at``, which is where it is differentiated. SymPy cannot be interrupted from outside, so a
timer signal stops it (``service.compute.deadline``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import sympy as sp
from sympy import stats

from service.compute.deadline import OutOfTime, deadline
from service.compute.language.build import symbol
from service.compute.language.printer import UnprintableExpression, to_latex, to_text
from service.compute.notes import Note
from service.compute.stochastic.model import Model, Variable
from service.compute.stochastic.series import NotSummable, summed

T = TypeVar("T")
log = logging.getLogger("nabla.stochastic")
_UNFINISHED = (sp.Integral, sp.Sum, stats.Expectation, sp.Derivative)
_UNDEFINED = (sp.nan, sp.zoo, sp.oo, -sp.oo)


class OutOfBudget(Exception):
    """The closed form was not found within its time or memory budget (not an answer: worth trying again)."""


@dataclass(frozen=True)
class ClosedForm:
    """The expectation and its derivatives by ``wrt``, valid where the values of ``at`` have the signs they had."""

    expectation: sp.Expr
    derivatives: tuple[sp.Expr, ...]

    def printed(self) -> tuple[tuple[str, str], ...] | None:
        """(text, LaTeX) of the expectation then each derivative; None when the language cannot spell them."""
        try:
            return tuple((to_text(e), to_latex(e)) for e in (self.expectation, *self.derivatives))
        except UnprintableExpression:
            return None


def _signed(name: str, value: float) -> sp.Symbol:
    if value > 0:
        return sp.Symbol(name, positive=True)
    if value < 0:
        return sp.Symbol(name, negative=True)
    return symbol(name)


def _assumed(variable: Variable) -> sp.Symbol:
    sign = variable.family.support_sign
    if sign == "positive":
        return sp.Symbol(variable.name, positive=True)
    if sign == "nonnegative":
        return sp.Symbol(variable.name, nonnegative=True)
    return symbol(variable.name)


def _integrate(model: Model, at: Mapping[str, float]) -> sp.Expr | None:
    assumed = {symbol(n): _signed(n, v) for n, v in at.items()}
    assumed |= {v.symbol: _assumed(v) for v in model.variables}
    result = model.function.xreplace(assumed)
    for variable in reversed(model.variables):
        params = {k: e.xreplace(assumed) for k, e in variable.params.items()}
        rv = variable.family.sympy_stats(variable.name, params)
        result = sp.simplify(stats.E(result.xreplace({assumed[variable.symbol]: rv})))
        if result.has(*_UNFINISHED, *_UNDEFINED) or stats.random_symbols(result):
            return None  # not found, or infinite or undefined on some branch: not a closed form to trust
    return result.xreplace({s: k for k, s in assumed.items()})


def _value(expr: sp.Expr, at: Mapping[str, float]) -> float | None:
    number = expr.xreplace({symbol(n): sp.Rational(repr(v)) for n, v in at.items()}).evalf(30)
    if not number.is_number or not number.is_real or not number.is_finite:
        return None
    value = float(number)
    return value if math.isfinite(value) else None


def _bounded(work: Callable[[], T], timeout: float) -> T | None:
    try:
        with deadline(timeout):
            return work()
    except (OutOfTime, RecursionError, MemoryError):
        raise OutOfBudget from None
    except Exception:  # SymPy's integrators raise many kinds of errors, and the closed form is optional
        log.debug("no closed form", exc_info=True)
        return None


def closed_form(model: Model, at: Mapping[str, float], timeout: float) -> ClosedForm | None:
    """The closed-form expectation and its derivatives by ``model.wrt``; None when SymPy finds none, and
    ``OutOfBudget`` when it runs out of time or memory looking."""

    def work() -> ClosedForm | None:
        expectation = _integrate(model, at)
        if expectation is None:
            return None
        return ClosedForm(expectation, tuple(sp.diff(expectation, symbol(n)) for n in model.wrt))

    return _bounded(work, timeout)


def exact_values(form: ClosedForm, at: Mapping[str, float], timeout: float) -> tuple[float, tuple[float, ...]] | None:
    """The expectation's and the derivatives' values at ``at`` (30 digits, rounded once); None when one of them is
    not a finite real there."""

    def work() -> tuple[float, tuple[float, ...]] | None:
        expectation = _value(form.expectation, at)
        values = [_value(d, at) for d in form.derivatives]
        if expectation is None or None in values:
            return None
        return expectation, tuple(v for v in values if v is not None)

    return _bounded(work, timeout)


# --- the exact answer of a request: the closed form, remembered when none was found, else the sum --------------------

Search = Literal["found", "none", "timed_out"]
"""What a closed-form search came to: found, SymPy found none, or it ran out of its time (or memory)."""


@dataclass(frozen=True)
class Exact:
    """The exact part of an answer: the derivatives' values and E[f] (closed form or sum), how they were found,
    what this request's search came to (None: not searched, the outcome was remembered), and the warnings."""

    form: ClosedForm | None
    values: tuple[float, ...] | None
    expectation: float | None
    method: Literal["closed_form", "summation"] | None
    search: Search | None
    notes: tuple[Note, ...] = ()


def signs(at: Sequence[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    """What a closed form depends on besides the model: the sign of each value of ``at``."""
    return tuple((name, float(np.sign(value))) for name, value in at)


def _no_closed_form(outcome: Search, remembered: bool, timeout: float) -> Note:
    why = (
        f"no closed form was found within {timeout:g} s (NABLA_EXACT_TIMEOUT)"
        if outcome == "timed_out"
        else "sympy.stats found no closed form"
    )
    when = (
        " in an earlier request for this model; it is remembered, so this request did not search again"
        if remembered
        else "; the outcome is remembered for this model, so identical requests do not search again"
    )
    return Note("no_closed_form", f'{why}{when} (send "exact": true to search afresh, "exact": false to skip it)')


def _search(
    search: Callable[[], ClosedForm | None], at: Mapping[str, float], timeout: float
) -> tuple[Search, Exact | None]:
    try:
        form = search()
        if form is None:
            return "none", None
        values = exact_values(form, at, timeout)
    except OutOfBudget:
        return "timed_out", None
    if values is None:  # found, but not a finite real at the point: no sum either (the expectation may not exist)
        return "found", Exact(None, None, None, None, "found")
    expectation, derivatives = values
    return "found", Exact(form, derivatives, expectation, "closed_form", "found")


def exact_answer(
    model: Model,
    at: Mapping[str, float],
    search: Callable[[], ClosedForm | None] | None,
    remembered: Search | None,
    timeout: float,
    max_terms: int,
) -> Exact:
    """The closed form by ``search`` (skipped when ``remembered`` says what an earlier search came to), else the
    sum over a discrete model (``series``), with a warning saying what was not found and why."""
    outcome: Search = remembered or "none"
    if search is not None:
        outcome, found = _search(search, at, timeout)
        if found is not None:
            return found
    notes = [_no_closed_form(outcome, search is None, timeout)]
    asked = None if search is None else outcome
    try:
        sums = summed(model, at, max_terms, timeout)
    except NotSummable as why:
        notes.append(Note("no_exact_sum", f"the exact value was not summed either: {why}"))
        return Exact(None, None, None, None, asked, tuple(notes))
    return Exact(None, sums.derivatives, sums.expectation, "summation", asked, tuple(notes))
