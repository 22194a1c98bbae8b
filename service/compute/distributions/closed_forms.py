"""Closed forms of the summary statistics, in the parameters: each family record's ``closed_forms``, printed.

Each entry is a SymPy expression in the canonical parameters and, where it only holds on part of the parameter space,
the condition (the variance of a Student t is ``df/(df - 2)`` for df > 2). ``closed_forms(family, names)`` writes the
record's forms in the client's names (``shape/rate`` rather than ``shape*scale`` when the client gave ``rate``) with the
service's printer, so every expression parses back with the service's grammar. Statistics with no closed form in that
grammar (the median of a gamma, the entropy of a Poisson, a mode that needs floor) are absent. The table is fixed, so
its cost is too: it is built once per family and naming and remembered.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache

import sympy as sp

from service.compute.distributions.families import FAMILIES
from service.compute.distributions.record import Entry
from service.compute.language.printer import to_latex, to_text


@dataclass(frozen=True)
class ClosedForm:
    expression: str
    latex: str
    condition: str | None


class _Table(Mapping[str, Mapping[str, Entry]]):
    """Every family's closed forms by family name, read from the records (a view, not a second table)."""

    def __getitem__(self, family: str) -> Mapping[str, Entry]:
        return FAMILIES[family].closed_forms

    def __iter__(self) -> Iterator[str]:
        return iter(FAMILIES)

    def __len__(self) -> int:
        return len(FAMILIES)


TABLE: Mapping[str, Mapping[str, Entry]] = _Table()
"""Per family, statistic -> (expression in the canonical parameters, condition or None): each record's
``closed_forms``."""


def _with_std(entries: Mapping[str, Entry]) -> dict[str, Entry]:
    variance, condition = entries["variance"]
    ordered = {k: v for k, v in entries.items() if k != "variance"}
    return {
        "mean": ordered.pop("mean"),
        "variance": (variance, condition),
        "std": (sp.sqrt(variance), condition),
        **ordered,
    }


@cache
def closed_forms(family: str, names: frozenset[str]) -> dict[str, ClosedForm]:
    """The table of ``family`` in the client's parameter ``names`` (``rate`` for ``scale`` when given)."""
    spec = FAMILIES[family]
    renamed = {
        sp.Symbol(alt.canonical, positive=True): alt.to_canonical(sp.Symbol(alt.name, positive=True))
        for alt in spec.alternatives
        if alt.name in names
    }
    return {
        name: ClosedForm(to_text(e.xreplace(renamed)), to_latex(e.xreplace(renamed)), condition)
        for name, (e, condition) in _with_std(spec.closed_forms).items()
    }
