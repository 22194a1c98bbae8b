"""The one shape of a warning, in every area: what the numbers of an answer cannot say themselves.

Every answer's ``warnings`` is a list of these, with ``warnings_omitted`` counting those not listed. A warning has a
``code`` (a stable slug a program can test) and a ``detail`` (a sentence for a person); where it concerns one value it
says which: ``point`` and ``status`` for a point of a calculus request, ``field`` and ``index`` for an entry of an
array of the answer (``log_pdf[3]``, ``estimate[0]``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Note:
    """One warning of an answer."""

    code: str
    detail: str
    point: int | None = None
    status: str | None = None
    field: str | None = None
    index: int | None = None


@dataclass(frozen=True)
class Notes:
    """The first warnings of an answer, and how many more there were."""

    listed: tuple[Note, ...] = ()
    omitted: int = 0

    @classmethod
    def of(cls, notes: Iterable[Note], limit: int, total: int | None = None) -> Notes:
        """The first ``limit`` of ``notes``; ``total`` counts them all when it is known to be more than given."""
        listed = tuple(notes)
        kept = listed[:limit]
        return cls(kept, (len(listed) if total is None else total) - len(kept))

    def __add__(self, other: Notes) -> Notes:
        return Notes(self.listed + other.listed, self.omitted + other.omitted)
