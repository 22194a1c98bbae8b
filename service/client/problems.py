"""``ProblemError``: a problem+json answer (RFC 9457) raised with its fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson


@dataclass(frozen=True)
class Location:
    """One problem of the answer's ``errors``: where (``loc``, e.g. ``("body", "function")``), what, and its type."""

    loc: tuple[str | int, ...]
    msg: str
    type: str | None = None
    position: int | None = None

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.loc) or "body"
        at = f" (position {self.position})" if self.position is not None else ""
        return f"{where}{at}: {self.msg}"


class ProblemError(Exception):
    """The server refused or failed a request: ``type``, ``title``, ``status``, ``detail``, ``errors`` (each a
    ``Location``), ``instance`` and ``request_id`` as it sent them; ``str()`` is one readable paragraph."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        type: str = "about:blank",
        errors: tuple[Location, ...] = (),
        instance: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status, self.title, self.detail, self.type = status, title, detail, type
        self.errors, self.instance, self.request_id = errors, instance, request_id
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"{self.status} {self.title}" + (f": {self.detail}" if self.detail else "")
        located = [f"  {error}" for error in self.errors if error.msg != self.detail or len(self.errors) > 1]
        return "\n".join([head, *located])


def problem_of(response: httpx.Response) -> ProblemError:
    """The ``ProblemError`` of a non-2xx answer: its problem document, or its status and text when it has none."""
    try:
        fields: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        fields = None
    if not isinstance(fields, dict) or "title" not in fields:
        text = response.text.strip()[:500] or None
        return ProblemError(response.status_code, response.reason_phrase or "error", text)
    return ProblemError(
        status=int(fields.get("status", response.status_code)),
        title=str(fields["title"]),
        detail=fields.get("detail"),
        type=str(fields.get("type", "about:blank")),
        errors=tuple(_location(error) for error in fields.get("errors") or () if isinstance(error, dict)),
        instance=fields.get("instance"),
        request_id=fields.get("request_id"),
    )


def _location(error: dict[str, Any]) -> Location:
    position = error.get("position")
    return Location(
        loc=tuple(error.get("loc") or ()),
        msg=str(error.get("msg", "")),
        type=error.get("type"),
        position=position if isinstance(position, int) else None,
    )
