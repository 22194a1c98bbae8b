"""Request and response models of the calculus endpoints."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.compute import limits
from service.compute.calculus import CalculusQuery
from service.compute.critical import CRITICAL_POINT_KINDS
from service.compute.geometry import CLASSIFICATIONS
from service.schemas import examples
from service.schemas.common import (
    EvaluationFields,
    EvaluationResponse,
    ExactExpression,
    ExactMatrix,
    ExactVector,
    Expression,
    Point,
    SymbolicExpression,
    SymbolicMatrix,
    SymbolicVector,
    VariableName,
    VariablesField,
    named_enum,
)

if TYPE_CHECKING:
    Classification = str
else:
    Classification = named_enum("Classification", CLASSIFICATIONS)


class _Request(EvaluationFields, VariablesField):
    """What every calculus request has besides its function(s)."""

    digits: int | None = Field(
        None,
        ge=1,
        le=limits.HARD_MAX_DIGITS,
        description=(
            "Also return the values as decimal strings (`decimal`, the shape of `value`/`values`) correct to this "
            "many significant digits, computed with MPFR/mpmath from the symbolic derivative (a float coordinate is "
            f"taken as its exact binary value); at most NABLA_MAX_DIGITS, default {limits.MAX_DIGITS}."
        ),
        examples=[50],
    )
    check: bool = Field(
        False,
        description=(
            "Also return `check {value, error_estimate, agrees}`: an independent numeric derivative (central "
            "differences of f extrapolated by Richardson, as numdifftools does) the shape of `value`, its error "
            "estimate, and whether it agrees with the symbolic value (a `check_disagrees` warning when not). With "
            "`at`, or for every point of `points`/`grid` (a list, one per point), up to NABLA_MAX_CHECK_VALUES "
            "coordinates evaluated; derivatives of order above 4 are not checked (null)."
        ),
    )

    @model_validator(mode="after")
    def _check_needs_points(self) -> _Request:
        if self.check and self.at is None and self.points is None and self.grid is None:
            raise ValueError("'check' compares values at points: give 'at', 'points' or 'grid'")
        return self


def _query(request: _Request, operation: str, functions: tuple[str, ...]) -> CalculusQuery:
    return CalculusQuery(
        operation=operation,
        functions=functions,
        variables=None if request.variables is None else tuple(request.variables),
        parameters=request.parameter_values(),
        at=request.at,
        points=request.points,
        grid=request.grid,
        digits=request.digits,
        check=request.check,
    )


class CalculusRequest(_Request):
    function: Expression

    def to_query(self, operation: str) -> CalculusQuery:
        """The plain query the runtime takes."""
        return _query(self, operation, (self.function,))


class DerivativeRequest(CalculusRequest):
    """The derivative of one function by one variable, of any order, or a mixed partial derivative."""

    _exclusive: ClassVar[tuple[tuple[str, str], ...]] = (
        ("at", "points"),
        ("at", "grid"),
        ("points", "grid"),
        ("wrt", "variable"),
        ("wrt", "order"),
    )

    variable: VariableName | None = Field(
        None, description="The variable to differentiate by; optional when the function has one variable."
    )
    order: int | None = Field(
        None,
        ge=0,
        le=limits.HARD_MAX_ORDER,
        description=(
            "How many times to differentiate (default 1; 0 is f itself; at most NABLA_MAX_ORDER, default "
            f"{limits.MAX_ORDER})."
        ),
    )
    wrt: list[VariableName] | None = Field(
        None,
        min_length=1,
        max_length=limits.HARD_MAX_ORDER,
        description="A mixed partial derivative: differentiate by these variables in turn (instead of variable/order).",
        examples=[["x", "y"]],
    )

    @model_validator(mode="after")
    def _one_way(self) -> DerivativeRequest:
        if self.wrt is not None and (self.variable is not None or self.order is not None):
            raise ValueError("give either 'wrt' or 'variable' and 'order', not both")
        return self

    def to_query(self, operation: str = "derivative") -> CalculusQuery:
        query = super().to_query(operation)
        order = 1 if self.order is None else self.order
        wrt = tuple(self.wrt) if self.wrt else (self.variable,) * order if self.variable else ()
        return replace(query, wrt=wrt, order=order)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"function": "x^2*sin(x)", "order": 2, "at": {"x": 1}},
                {"function": "x^x", "variable": "x", "at": ["pi/4"]},
            ]
        }
    )


class GradientRequest(CalculusRequest):
    """The gradient of a scalar function."""

    def to_query(self, operation: str = "gradient") -> CalculusQuery:
        return super().to_query(operation)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"function": "2^(x*y) + z*cos(x)", "at": {"x": 1, "y": 2, "z": 3}},
                {"function": "a*x^2 + y", "parameters": {"a": 3}, "points": [[1, 2], [3, 4]]},
            ]
        }
    )


class DirectionalRequest(CalculusRequest):
    """The derivative of a scalar function along a direction, and the direction of steepest ascent."""

    _one_of_required: ClassVar[tuple[str, ...]] = ("at", "points", "grid")

    direction: Point = Field(
        description=(
            "The direction vector: an object {name: component} or an array in `variables` order; components may "
            "be exact strings."
        ),
    )
    normalize: bool = Field(True, description="Scale the direction to unit length first (the usual definition).")

    @model_validator(mode="after")
    def _needs_point(self) -> DirectionalRequest:
        if self.at is None and self.points is None and self.grid is None:
            raise ValueError("a directional derivative needs 'at' (or 'points', or 'grid') to evaluate at")
        return self

    def to_query(self, operation: str = "directional") -> CalculusQuery:
        return replace(super().to_query(operation), direction=self.direction, normalize=self.normalize)

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"function": "x^2*y^2", "at": {"x": 2, "y": 0}, "direction": [1, 0]}]}
    )


class JacobianRequest(_Request):
    """The Jacobian matrix of a vector function: one row per function, one column per variable."""

    functions: list[Expression] = Field(
        min_length=1,
        max_length=limits.HARD_MAX_COORDINATES,
        description=f"The component functions (at most NABLA_MAX_FUNCTIONS, default {limits.MAX_FUNCTIONS}).",
    )

    def to_query(self, operation: str = "jacobian") -> CalculusQuery:
        return _query(self, operation, tuple(self.functions))

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"functions": ["2*x^2", "x*sqrt(y)"], "at": {"x": 1, "y": 4}}]}
    )


class HessianRequest(CalculusRequest):
    """The Hessian matrix of a scalar function, with eigenvalues and definiteness at a point."""

    classify: bool | None = Field(
        None,
        description=(
            "Compute eigenvalues and definiteness. Default: yes with `at`, no with `points` (an eigendecomposition "
            "per point costs more than the Hessian itself)."
        ),
    )

    def to_query(self, operation: str = "hessian") -> CalculusQuery:
        classify = self.classify if self.classify is not None else self.at is not None
        return replace(super().to_query(operation), classify=classify)

    model_config = ConfigDict(json_schema_extra={"examples": [{"function": "x^2*y^3", "at": {"x": 1, "y": 2}}]})


Values = list[float | None]


class DerivativeResponse(EvaluationResponse):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.DERIVATIVE]})

    variable: str | None = Field(description="The variable differentiated by (null for a mixed partial).")
    order: int
    wrt: list[str] = Field(description="The variables differentiated by, in turn.")
    derivative: SymbolicExpression
    value: float | None = None
    values: Values | None = None
    exact: ExactExpression | None = Field(
        None, description="With an exact point (strings): the exact value (null where the derivative is undefined)."
    )


class GradientResponse(EvaluationResponse):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.GRADIENT]})

    gradient: SymbolicVector
    value: Values | None = None
    values: list[Values] | None = None
    exact: ExactVector | None = None


class SteepestAscent(BaseModel):
    direction: Values | None = Field(None, description="Unit vector of steepest ascent (null at a critical point).")
    rate: float | None = Field(None, description="The rate of steepest ascent: the gradient's norm.")
    directions: list[Values] | None = None
    rates: Values | None = None


class DirectionalResponse(EvaluationResponse):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.DIRECTIONAL]})

    gradient_expressions: SymbolicVector
    exact_gradient: ExactVector | None = Field(None, description="With an exact point: the exact gradient.")
    value: float | None = Field(None, description="With `at`: the directional derivative.")
    values: Values | None = Field(None, description="With `points`: the directional derivative at each point.")
    gradient: Values | list[Values] | None = Field(
        None,
        description=(
            "The gradient's values, shaped as /v1/gradient's `value` (with `at`) or `values` (with `points`, one row "
            "per point)."
        ),
    )
    gradients: list[Values] | None = Field(
        None,
        description="Deprecated alias of `gradient` with `points` (one row per point); it goes in the next release.",
        deprecated=True,
    )
    direction: list[float] = Field(description="The direction as used (unit length when normalize is true).")
    steepest_ascent: SteepestAscent | None = None


class JacobianResponse(EvaluationResponse):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.JACOBIAN]})

    jacobian: SymbolicMatrix
    value: list[Values] | None = None
    values: list[list[Values]] | None = None
    exact: ExactMatrix | None = None


if TYPE_CHECKING:
    CriticalPointKind = str
else:
    CriticalPointKind = named_enum("CriticalPointKind", CRITICAL_POINT_KINDS)


class CriticalPointTest(BaseModel):
    """The second derivative test at the point."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"is_critical": True, "kind": "saddle"}]})

    is_critical: bool = Field(description="The gradient is zero there (up to the rounding of the point itself).")
    kind: CriticalPointKind | None = Field(
        description=(
            "minimum, maximum or saddle by the Hessian's eigenvalues; inconclusive when one is zero (the test cannot "
            "decide: x^3 at 0); null when the point is not critical."
        )
    )


class HessianResponse(EvaluationResponse):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.HESSIAN]})

    hessian: SymbolicMatrix
    symmetric: bool = Field(
        description="True: the lower triangle mirrors the upper one (mixed partials are equal, Schwarz's theorem)."
    )
    value: list[Values] | None = None
    values: list[list[Values]] | None = None
    eigenvalues: Annotated[
        Values | list[Values] | None, Field(description="Ascending; one list per point with `points`.")
    ] = None
    classification: Classification | None = None
    classifications: list[Classification | None] | None = None
    critical_point: CriticalPointTest | None = Field(
        None, description="With `at` (and classify): the second derivative test."
    )
    exact: ExactMatrix | None = None
