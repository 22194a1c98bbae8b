"""Logs: one JSON object per line (python-json-logger) or plain text, each record with the id of its request.

``log_config(settings)`` is the ``logging.config.dictConfig`` document that ``python -m service`` gives uvicorn, so
that uvicorn's own messages look like the service's. Request ids come from asgi-correlation-id's middleware: a valid
``X-Request-ID`` header is kept, anything else is replaced by a new id; the response carries it back in
``X-Request-ID``, problem documents in ``request_id``, log records in ``request_id``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from asgi_correlation_id import correlation_id
from pythonjsonlogger.core import RESERVED_ATTRS

from service.config import Settings

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def valid_request_id(value: str) -> bool:
    """A request id worth keeping: 1 to 128 letters, digits, and ``. _ : -`` (it goes into logs and headers)."""
    return _REQUEST_ID.fullmatch(value) is not None


def request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return correlation_id.get()


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (``-`` outside a request) unless the record has one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id() or "-"
        return True


def log_config(settings: Settings) -> dict[str, Any]:
    """The logging configuration of a served process: every record to stdout, JSON or plain, with its request id."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
                "reserved_attrs": [*RESERVED_ATTRS, "color_message"],  # uvicorn's coloured copy of the message
                "timestamp": "time",
            },
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": settings.log_format,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stdout"], "level": settings.log_level.upper()},
        "loggers": {name: {"level": settings.log_level.upper()} for name in ("uvicorn", "uvicorn.error", "nabla")},
    }
