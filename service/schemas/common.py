"""Reusable request and response pieces: names, expressions, coordinates, points, symbolic results, problems."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainValidator,
    SkipValidation,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from service.compute import limits
from service.compute.language.functions import CATALOGUE
from service.compute.status import Status


def named_enum(name: str, values: Iterable[str]) -> type[StrEnum]:
    """An enum of strings that OpenAPI shows once, as the named component ``name``, wherever it is used; its values
    come from the compute layer, where they are stated once."""
    return StrEnum(name, {value: value for value in values})  # type: ignore[return-value]


if TYPE_CHECKING:
    PointStatus = str
else:
    PointStatus = named_enum("PointStatus", (status.label for status in Status))


def _not_a_function(name: str) -> str:
    if name in CATALOGUE:
        raise ValueError(f"'{name}' is a function of the language and cannot name a variable or parameter")
    return name


NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
VariableName = Annotated[
    str,
    AfterValidator(_not_a_function),
    Field(
        pattern=NAME_PATTERN,
        max_length=64,
        description="A name: a letter, then letters, digits or underscores.",
        examples=["x", "theta", "x_1"],
    ),
]
Expression = Annotated[
    str,
    Field(
        min_length=1,
        description=(
            "An expression in Nabla's grammar: numbers, names, + - * / ^ (or **), parentheses and calls to the "
            "allowlisted functions; constants pi and e. Limited in length, nodes and depth by the server's settings "
            f"(NABLA_MAX_EXPRESSION_LENGTH, default {limits.MAX_EXPRESSION_LENGTH} characters)."
        ),
        examples=["sin(x*y) + z*cos(x)"],
    ),
]


def _coordinate(value: Any) -> int | float | str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        kind = "a boolean" if isinstance(value, bool) else "null" if value is None else type(value).__name__
        raise ValueError(f"expected a number or an exact string such as '1/3', got {kind}")
    if isinstance(value, str) and not 0 < len(value) <= 200:
        raise ValueError("an exact number is a string of 1 to 200 characters")
    coordinate: int | float | str = value  # typed: mypy 1.13 does not narrow Any by the checks above
    return coordinate


def _point(value: Any) -> dict[str, Any] | list[Any]:
    if not isinstance(value, dict | list):
        raise ValueError("a point is an object {name: value} or an array of values")
    if len(value) > limits.HARD_MAX_COORDINATES:
        raise ValueError(f"a point has at most {limits.HARD_MAX_COORDINATES} coordinates")
    return value


_COORDINATE_SCHEMA = {
    "anyOf": [{"type": "number"}, {"type": "string", "minLength": 1, "maxLength": 200, "examples": ["pi/4"]}],
    "description": "A finite number, or an exact constant as a string ('1/3', 'pi/4', 'sqrt(2)').",
}
Coordinate = Annotated[Any, PlainValidator(_coordinate), WithJsonSchema(_COORDINATE_SCHEMA)]
Point = Annotated[
    Any,
    PlainValidator(_point),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "object", "additionalProperties": _COORDINATE_SCHEMA},
                {"type": "array", "items": _COORDINATE_SCHEMA},
            ],
            "description": "One point: an object {name: value} with every variable, or an array in `variables` order.",
            "examples": [{"x": 1, "y": 2}, [1, 2]],
        }
    ),
]
POINTS_DESCRIPTION = (
    "A batch of points: an array of arrays (N x n, in `variables` order) or an object of columns {name: [values]}. "
    f"At most NABLA_MAX_POINTS points (default {limits.MAX_POINTS}). The response then has `values`, one entry per "
    "point."
)
Points = Annotated[
    SkipValidation[list[list[Coordinate]] | dict[VariableName, list[Coordinate]]],
    Field(description=POINTS_DESCRIPTION, examples=[[[0, 1], [1, 2]], {"x": [0, 1], "y": [1, 2]}]),
]
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _names_or_values(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """An object {name: value} is validated as such; a list holds parameter names only (symbols, no values)."""
    if not isinstance(value, list):
        return handler(value)
    if len(value) > limits.HARD_MAX_COORDINATES:
        raise ValueError(f"at most {limits.HARD_MAX_COORDINATES} parameters")
    for name in value:
        if not isinstance(name, str) or len(name) > 64 or not _NAME.fullmatch(name):
            raise ValueError(f"a parameter name is a letter, then letters, digits or underscores; got {name!r}")
        _not_a_function(name)
    if len(set(value)) != len(value):
        raise ValueError("parameters must not repeat a name")
    return value


Constants = Annotated[
    dict[VariableName, Coordinate],
    Field(
        max_length=limits.HARD_MAX_COORDINATES,
        description="Constants {name: value}: numbers (or exact strings) substituted into the function.",
    ),
]
"""Parameters that must have values (an optimiser or a picture needs numbers)."""

_PARAMETERS_DESCRIPTION = (
    "Constants: {name: value} (symbolic results keep them as symbols, numeric values substitute them), or a list of "
    'names ["a", "b"]: symbols only, with no numbers (then no point may be given).'
)
if TYPE_CHECKING:
    Parameters = dict[str, Any] | list[str]
else:
    Parameters = Annotated[
        dict[VariableName, Coordinate],
        Field(max_length=limits.HARD_MAX_COORDINATES),
        WrapValidator(_names_or_values),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "object", "additionalProperties": _COORDINATE_SCHEMA},
                    {"type": "array", "items": {"type": "string", "pattern": _NAME.pattern}},
                ],
                "description": _PARAMETERS_DESCRIPTION,
                "examples": [{"a": 2}, ["a", "b"]],
            }
        ),
    ]


def no_parameters() -> dict[str, Any]:
    """The default of ``parameters``: none (typed for every pydantic's stubs, unlike ``dict``)."""
    return {}


GRID_DESCRIPTION = (
    "A full grid of points: {name: [lo, hi, count]} for every variable (count evenly spaced values from lo to hi; "
    "bounds may be exact strings such as '2*pi'), in meshgrid's ij order flattened row-major (the last variable "
    "varies fastest). The response then has `values`, as for `points`."
)
Grid = Annotated[
    SkipValidation[dict[VariableName, list[Coordinate | int]]],
    Field(description=GRID_DESCRIPTION, examples=[{"x": [-1, 1, 3], "y": [0, "pi", 5]}]),
]


def _given(name: str) -> dict[str, Any]:
    """JSON Schema: the field is present and not null."""
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


def _both(first: str, second: str) -> dict[str, Any]:
    """JSON Schema: both fields are present and not null."""
    return {"required": [first, second], "properties": {n: {"not": {"type": "null"}} for n in (first, second)}}


class StrictModel(BaseModel):
    """Base of every request model: unknown fields are errors, and nothing is silently coerced.

    ``_exclusive`` names the pairs of fields that may not both be given, and ``_one_of_required`` the fields of which
    one must be: the model's validators refuse them, and its JSON schema says so too (``not``, ``anyOf``), so that
    the schema accepts nothing the server refuses."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    _exclusive: ClassVar[tuple[tuple[str, str], ...]] = ()
    _one_of_required: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __get_pydantic_json_schema__(cls, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core))
        if cls._exclusive:
            pairs = [_both(a, b) for a, b in cls._exclusive]
            schema["not"] = pairs[0] if len(pairs) == 1 else {"anyOf": pairs}
        if cls._one_of_required:
            schema["anyOf"] = [_given(name) for name in cls._one_of_required]
        return schema


class EvaluationFields(StrictModel):
    """Where to evaluate: one point, a batch, or neither (symbolic result only)."""

    _exclusive: ClassVar[tuple[tuple[str, str], ...]] = (("at", "points"), ("at", "grid"), ("points", "grid"))
    parameters: Parameters = Field(default_factory=no_parameters)
    at: Point | None = Field(None, description="One point; the response then has `value`.")
    points: Points | None = Field(None, description=POINTS_DESCRIPTION)
    grid: Grid | None = Field(None, description=GRID_DESCRIPTION)

    @model_validator(mode="after")
    def _one_evaluation(self) -> EvaluationFields:
        given = [name for name in ("at", "points", "grid") if getattr(self, name) is not None]
        if given == ["at", "points"]:
            raise ValueError("give either 'at' (one point) or 'points' (a batch), not both")
        if len(given) > 1:
            raise ValueError("give one of 'at' (one point), 'points' (a batch) or 'grid' (ranges), not several")
        if given and isinstance(self.parameters, list):
            raise ValueError(
                "parameters given as names stay symbols, so there is nothing to evaluate at a point; give them "
                "values ({name: value}) or no at, points or grid"
            )
        return self

    def parameter_values(self) -> dict[str, Any] | tuple[str, ...]:
        """The parameters as the query takes them: values by name, or the names alone."""
        return dict(self.parameters) if isinstance(self.parameters, dict) else tuple(self.parameters)


class VariablesField(StrictModel):
    variables: list[VariableName] | None = Field(
        None,
        max_length=limits.HARD_MAX_COORDINATES,
        description=(
            "The variables, in the order of gradient components, Jacobian columns and Hessian rows. Default: the "
            "function's free names that are not parameters, in natural order (x1, x2, x10)."
        ),
    )

    @model_validator(mode="after")
    def _distinct_names(self) -> VariablesField:
        names = self.variables or []
        if len(set(names)) != len(names):
            raise ValueError("variables must not repeat a name")
        clash = set(names) & set(getattr(self, "parameters", {}) or {})
        if clash:
            raise ValueError(f"{', '.join(sorted(clash))} cannot be both a variable and a parameter")
        return self


class SymbolicExpression(BaseModel):
    expression: str = Field(description="The result in Nabla's grammar; it parses back.")
    latex: str = Field(description="The result as LaTeX.")


class ExactExpression(BaseModel):
    expression: str | None = Field(description="The exact value; null where it is undefined.")
    latex: str | None


class ExactVector(BaseModel):
    expressions: list[str | None]
    latex: list[str | None]


class ExactMatrix(BaseModel):
    expressions: list[list[str | None]]
    latex: list[list[str | None]]


class SymbolicVector(BaseModel):
    expressions: list[str]
    latex: list[str]


class SymbolicMatrix(BaseModel):
    expressions: list[list[str]]
    latex: list[list[str]]


class AnswerWarning(BaseModel):
    """One warning: the same shape in every area. ``point``/``status`` locate a point of a calculus request,
    ``field``/``index`` an entry of an array of the answer; fields that do not apply are null."""

    code: str = Field(description="A stable slug a program can test.", examples=["non_finite"])
    detail: str = Field(description="What happened, for a person.", examples=["the function is infinite here"])
    point: int | None = Field(description="Index of the point (0 for `at`), for calculus answers.", examples=[0])
    status: PointStatus | None = Field(description="The point's status, for calculus answers.")
    field: str | None = Field(description="The array of the answer holding the value concerned.", examples=[None])
    index: int | None = Field(description="The index of the value in `field`.", examples=[None])
    left: Any = Field(
        None,
        description=(
            "A non_differentiable point (with `at`, first derivatives): the left derivatives, the shape of `value`, "
            "when the left and right ones both exist (abs(x) at 0: -1)."
        ),
    )
    right: Any = Field(None, description="Beside `left`: the right derivatives (abs(x) at 0: 1).")


class Provenance(BaseModel):
    """How an answer was computed."""

    method: str = Field(
        description=(
            "symbolic (a derivative formula), exact (exact arithmetic at an exact point, or closed forms), "
            "monte_carlo (an estimate from random draws), or numeric (floating-point algorithms)."
        ),
        examples=["symbolic"],
    )
    engine: str = Field(
        description=(
            "The library that computed it, with its version (several are comma-separated); `nabla X.Y` is the "
            "service's own matrix-calculus rules."
        ),
        examples=["symengine 0.15.0"],
    )
    cached: bool = Field(
        description="Whether the compiled function, the compiled model or the answer itself came from a cache.",
        examples=[False],
    )


class WarningsFields(BaseModel):
    """What every answer says beside its numbers."""

    warnings: list[AnswerWarning] = Field(
        description="What the numbers cannot say themselves (the first NABLA_MAX_WARNINGS of the per-value ones)."
    )
    warnings_omitted: int = Field(description="How many more warnings there were than `warnings` lists.", examples=[0])
    provenance: Provenance | None = Field(
        None,
        description=(
            "How the answer was computed: stochastic derivatives monte_carlo (numpy; cached: the worker had the "
            "compiled model), distribution statistics numeric or, with `exact`, exact (scipy; cached: the answer "
            "was remembered), fits numeric, matrix derivatives symbolic (cached: the compiled derivative), "
            "Taylor polynomials and level sets symbolic (Taylor, cached: the compiled comparison at `points`), "
            "critical points symbolic or numeric as `method` says, optimisation numeric (numpy)."
        ),
        examples=[{"method": "monte_carlo", "engine": "numpy 2.4.6", "cached": False}],
    )


class EvaluationResponse(BaseModel):
    """Fields every evaluated response shares."""

    variables: list[str]
    parameters: list[str] | None = Field(None, description="The parameter names, when there are any.")
    status: PointStatus | None = Field(
        None,
        description=(
            "With `at`: ok, or why the values are null: domain_error (the function is undefined or not real "
            "there), non_finite (infinite or beyond float64), non_differentiable (kink, cusp, jump, branch point)."
        ),
    )
    status_counts: dict[str, int] | None = Field(None, description="With `points`: how many points have each status.")
    function_value: float | list[float | None] | None = Field(
        None,
        description=(
            "With `at`: f itself there (a list, one per function, for a Jacobian); null where f is undefined or not "
            "finite."
        ),
    )
    function_values: list[float | None] | list[list[float | None]] | None = Field(
        None, description="With `points` or `grid`: f at each point (one row per point for a Jacobian)."
    )
    warnings: list[AnswerWarning] | None = Field(
        None, description="The points whose values are null, and why (the first NABLA_MAX_WARNINGS of them)."
    )
    warnings_omitted: int | None = Field(None, description="How many more warnings there were than `warnings` lists.")
    decimal: Any = Field(
        None,
        description=(
            "With `digits`: the values as decimal strings, the shape of `value`/`values` (null where not finite)."
        ),
        examples=[["0.45663698427098580137675599161"]],
    )
    check: dict[str, Any] | None = Field(
        None,
        description=(
            "With `check: true`: {value, error_estimate, agrees}, each the shape of `value` (with `points`: of "
            "`values`, one entry per point): the numeric derivative, its error estimate, and whether it agrees with "
            "the symbolic value."
        ),
        examples=[{"value": 2.0000000000000004, "error_estimate": 3e-13, "agrees": True}],
    )
    provenance: Provenance | None = Field(
        None,
        description=(
            "How the answer was computed: {method: symbolic | exact, engine: 'symengine X.Y' | 'sympy X.Y', cached "
            "(the compiled derivative came from the cache)}."
        ),
        examples=[{"method": "symbolic", "engine": "symengine 0.15.0", "cached": False}],
    )


class ErrorLocation(BaseModel):
    loc: list[str | int] = Field(description="Where the problem is, e.g. ['body', 'function'].")
    msg: str
    type: str
    position: int | None = Field(None, description="0-based character offset in an expression.")


class Problem(BaseModel):
    """An RFC 9457 problem document (media type application/problem+json)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "/problems/syntax_error",
                    "title": "Expression syntax error",
                    "status": 422,
                    "detail": "expected an operand after '**' at position 3",
                    "instance": "/v1/derivative",
                    "errors": [
                        {
                            "loc": ["body", "function"],
                            "msg": "expected an operand after '**' at position 3",
                            "type": "syntax_error",
                            "position": 3,
                        }
                    ],
                    "request_id": "4c5e0a9f3b2d4e7a8f1c6b0d9e2a7f31",
                }
            ]
        }
    )

    type: str = Field(examples=["/problems/syntax_error"])
    title: str = Field(examples=["Expression syntax error"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["expected an operand after '**' at position 3"])
    instance: str | None = Field(None, examples=["/v1/derivative"])
    errors: list[ErrorLocation] = Field(default_factory=list)
    request_id: str | None = Field(
        None,
        description="The request's id: the X-Request-ID response header, and the request_id of its log records.",
        examples=["4c5e0a9f3b2d4e7a8f1c6b0d9e2a7f31"],
    )
