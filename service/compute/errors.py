"""The error tree of Nabla. Every failure a client can cause is one of these; anything else is a bug.

    NablaError
    ├── MalformedJSON              400  the body is not JSON
    │   └── MalformedMsgpack       400  an application/msgpack body that is not msgpack, or not a map
    ├── UnsupportedMediaType       415  a body of a type the service does not speak (JSON and msgpack only)
    ├── InvalidRequest             422  the body does not match the request schema (a field missing, mistyped, unknown)
    ├── NotFound                   404  no such path
    ├── MethodNotAllowed           405  the path exists, the method does not
    ├── InvalidExpression          422  the function text is not a valid expression
    │   ├── ExpressionSyntaxError  422  bad syntax: names the position and what was expected
    │   ├── UnsupportedFunction    422  a call to a function outside the allowlist
    │   ├── UnknownName            422  a name that is neither a variable nor a parameter nor a constant
    │   └── ShapeMismatch          422  matrix operands whose shapes do not fit their operator
    ├── InvalidInput               422  the request is well-formed JSON but asks for something impossible
    │   ├── InvalidPoint           422  a point of the wrong size, an unknown coordinate, a non-real exact value
    │   ├── NoMatrixForm           422  a matrix derivative of more than two indices (a matrix by a vector, ...)
    │   └── CheckFailed            422  a matrix derivative that disagreed with its entry-by-entry check: withheld
    ├── LimitExceeded              422  a configured limit was exceeded
    │   ├── TooLarge               413  a batch or body larger than the configured maximum
    │   └── TooComplex             422  symbolic work over its node budget or its deadline
    ├── ServiceUnavailable         503  at capacity, starting, or a worker crashed; retry after a moment
    └── InternalError              500  a bug (never the client's fault): logged, and nothing of it is revealed

Each class carries a ``type`` slug (the problem's ``type`` is ``/problems/<slug>``), a ``title`` and an HTTP
``status``. Instances carry a ``detail`` sentence and a
list of ``errors``, each ``{"loc": [...], "msg": ..., "type": ...}`` plus optional ``position``. They are plain,
picklable values: workers raise them and the web process re-raises them unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class ErrorItem:
    """One located problem inside a request."""

    loc: Loc
    msg: str
    type: str
    position: int | None = None

    def as_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"loc": list(self.loc), "msg": self.msg, "type": self.type}
        if self.position is not None:
            item["position"] = self.position
        return item


@dataclass
class NablaError(Exception):
    """Base of every error a client can cause."""

    detail: str
    errors: list[ErrorItem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    type: ClassVar[str] = "nabla_error"
    title: ClassVar[str] = "Request cannot be processed"
    status: ClassVar[int] = 400

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def __str__(self) -> str:
        return self.detail

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.detail, self.errors, self.headers))

    def at(self, *prefix: str | int) -> NablaError:
        """The same error with ``prefix`` put before every location (e.g. ``("body", "functions", 2)``)."""
        self.errors = [ErrorItem((*prefix, *e.loc), e.msg, e.type, e.position) for e in self.errors]
        return self


def count(number: int, noun: str) -> str:
    """'1 value', '3 values'."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def located(cls: type[NablaError], detail: str, loc: Loc = (), position: int | None = None) -> NablaError:
    """An error of class ``cls`` with one located item carrying the same message."""
    return cls(detail, [ErrorItem(loc, detail, cls.type, position)])


class MalformedJSON(NablaError):
    type = "malformed_json"
    title = "Malformed JSON"
    status = 400


class MalformedMsgpack(MalformedJSON):
    type = "malformed_msgpack"
    title = "Malformed msgpack"


class UnsupportedMediaType(NablaError):
    type = "unsupported_media_type"
    title = "Unsupported media type"
    status = 415


class InvalidRequest(NablaError):
    type = "validation_error"
    title = "Invalid request"
    status = 422


class NotFound(NablaError):
    type = "not_found"
    title = "Not found"
    status = 404


class MethodNotAllowed(NablaError):
    type = "method_not_allowed"
    title = "Method not allowed"
    status = 405


class InvalidExpression(NablaError):
    type = "invalid_expression"
    title = "Invalid expression"
    status = 422


class ExpressionSyntaxError(InvalidExpression):
    type = "syntax_error"
    title = "Expression syntax error"


class UnsupportedFunction(InvalidExpression):
    type = "unsupported_function"
    title = "Unsupported function"


class UnknownName(InvalidExpression):
    type = "unknown_name"
    title = "Unknown name"


class InvalidInput(NablaError):
    type = "invalid_input"
    title = "Invalid input"
    status = 422


class InvalidPoint(InvalidInput):
    type = "invalid_point"
    title = "Invalid point"


class ShapeMismatch(InvalidExpression):
    """Operands whose shapes do not fit the operator, named with their shapes and the position."""

    type = "shape_mismatch"
    title = "Shape mismatch"


class NoMatrixForm(InvalidInput):
    """A derivative of higher order than a matrix (a matrix by a vector, a vector by a matrix, ...)."""

    type = "no_matrix_form"
    title = "No matrix form"


class CheckFailed(InvalidInput):
    """The symbolic result disagreed with the component-by-component derivative: it is withheld and logged."""

    type = "check_failed"
    title = "Derivative withheld"


class LimitExceeded(NablaError):
    type = "limit_exceeded"
    title = "Limit exceeded"
    status = 422


class TooLarge(LimitExceeded):
    type = "too_large"
    title = "Request too large"
    status = 413


class HeadersTooLarge(TooLarge):
    type = "headers_too_large"
    title = "Request header fields too large"
    status = 431


class TooComplex(LimitExceeded):
    type = "too_complex"
    title = "Too complex"
    status = 422


class ServiceUnavailable(NablaError):
    type = "service_unavailable"
    title = "Service temporarily unavailable"
    status = 503


class InternalError(NablaError):
    type = "internal_error"
    title = "Internal server error"
    status = 500


ERROR_CLASSES: tuple[type[NablaError], ...] = (
    MalformedJSON,
    MalformedMsgpack,
    UnsupportedMediaType,
    InvalidRequest,
    NotFound,
    MethodNotAllowed,
    InvalidExpression,
    ExpressionSyntaxError,
    UnsupportedFunction,
    UnknownName,
    ShapeMismatch,
    InvalidInput,
    InvalidPoint,
    NoMatrixForm,
    CheckFailed,
    LimitExceeded,
    TooLarge,
    TooComplex,
    ServiceUnavailable,
    InternalError,
)
