"""Request and response models of the geometry endpoints: Taylor polynomials, level sets, critical points."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.compute import limits
from service.compute.critical import KINDS, CriticalQuery
from service.compute.level_set import LevelSetQuery
from service.compute.taylor import TaylorQuery
from service.schemas.common import (
    Expression,
    Parameters,
    Point,
    Points,
    SymbolicExpression,
    VariableName,
    VariablesField,
    WarningsFields,
    named_enum,
    no_parameters,
)

if TYPE_CHECKING:
    CriticalKind = str
else:
    CriticalKind = named_enum("CriticalKind", KINDS)


class _FunctionRequest(VariablesField):
    function: Expression
    parameters: Parameters = Field(default_factory=no_parameters)

    def _function_query(self) -> dict[str, Any]:
        values = tuple(self.parameters.values()) if isinstance(self.parameters, dict) else None
        return {
            "function": self.function,
            "variables": None if self.variables is None else tuple(self.variables),
            "parameters": tuple(self.parameters),
            "parameter_values": values,
        }


def _point(at: Any) -> dict[str, Any]:
    if isinstance(at, dict):
        return {"at": tuple(at.values()), "at_names": tuple(at)}
    return {"at": tuple(at), "at_names": None}


class TaylorRequest(_FunctionRequest):
    """The Taylor polynomial of a function about a point; order 1 is the tangent line or plane."""

    at: Point = Field(
        description="The point to expand about: an object {name: value} or an array in `variables` order."
    )
    order: int = Field(
        1,
        ge=0,
        le=limits.HARD_MAX_ORDER,
        description=(
            "The polynomial's degree: 0 is f(at), 1 the tangent line/plane, 2 adds the Hessian's quadratic form. "
            f"At most NABLA_MAX_ORDER (default {limits.MAX_ORDER}) and NABLA_MAX_TAYLOR_TERMS coefficients."
        ),
    )
    points: Points | None = Field(
        None, description="Points to compare at: the answer then has the polynomial's `values` and `errors` (f - T)."
    )

    @model_validator(mode="after")
    def _numbers_to_compare(self) -> TaylorRequest:
        if self.points is not None and isinstance(self.parameters, list):
            raise ValueError(
                "points need numbers for the parameters; give 'parameters' as an object {name: value}, or no points"
            )
        return self

    def to_query(self) -> TaylorQuery:
        return TaylorQuery(**self._function_query(), **_point(self.at), order=self.order, points=self.points)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"function": "x^2 + y^2", "at": {"x": 1, "y": 2}},
                {"function": "exp(x)*cos(y)", "at": [0, 0], "order": 3, "points": [[0.1, 0.1], [0.01, 0.01]]},
            ]
        }
    )


class LevelSetRequest(_FunctionRequest):
    """The level set of a function through a point: its normal, tangent space, tangent plane and slope."""

    at: Point = Field(description="The point the level set passes through.")

    def to_query(self) -> LevelSetQuery:
        return LevelSetQuery(**self._function_query(), **_point(self.at))

    model_config = ConfigDict(json_schema_extra={"examples": [{"function": "x^2 + y^2", "at": {"x": 1, "y": 2}}]})


Bound = Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2, max_length=2)]


class CriticalPointsRequest(_FunctionRequest):
    """Where the gradient vanishes, and what each such point is."""

    bounds: dict[VariableName, Bound] = Field(
        default_factory=dict,
        max_length=limits.HARD_MAX_COORDINATES,
        description=(
            "The box {name: [lo, hi]} to search numerically (default [-10, 10] for every variable without bounds); "
            "exact solutions outside it are left out when it is given."
        ),
        examples=[{"x": [-5, 5], "y": [-5, 5]}],
    )

    def to_query(self) -> CriticalQuery:
        bounds = tuple((name, float(lo), float(hi)) for name, (lo, hi) in self.bounds.items())
        return CriticalQuery(**self._function_query(), bounds=bounds)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"function": "x^4/4 - x^2 + 1/2"},
                {"function": "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", "bounds": {"x": [-5, 5], "y": [-5, 5]}},
            ]
        }
    )


Values = list[float | None]


class TaylorResponse(WarningsFields):
    variables: list[str]
    parameters: list[str] | None = Field(None, description="Parameters left as symbols in the polynomial.")
    at: list[float] = Field(description="The point expanded about, in `variables` order.")
    order: int
    polynomial: SymbolicExpression = Field(
        description="The Taylor polynomial in powers of the displacement (x - a), terms by degree; exact coefficients."
    )
    function_value: float | None = Field(description="f(at); null when symbolic parameters remain.")
    values: Values | None = Field(None, description="With `points`: the polynomial at each point.")
    errors: Values | None = Field(
        None, description="With `points`: f minus the polynomial at each point (null where f is not defined)."
    )
    function_values: Values | None = Field(None, description="With `points`: f at each point.")
    status_counts: dict[str, int] | None = Field(None, description="With `points`: how many points have each status.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "variables": ["x", "y"],
                    "at": [1.0, 2.0],
                    "order": 1,
                    "polynomial": {
                        "expression": "5 + 2*(x - 1) + 4*(y - 2)",
                        "latex": "5 + 2 \\left(x - 1\\right) + 4 \\left(y - 2\\right)",
                    },
                    "function_value": 5.0,
                    "warnings": [],
                    "warnings_omitted": 0,
                }
            ]
        }
    )


class LevelSetResponse(WarningsFields):
    variables: list[str]
    at: list[float]
    level: float = Field(description="f(at): the level of the level set through the point.")
    gradient: list[float]
    normal: list[float] | None = Field(description="grad f / |grad f|; null where the gradient is zero.")
    tangent: list[list[float]] | None = Field(
        description="An orthonormal basis of the tangent space (n - 1 rows of n); null where the gradient is zero."
    )
    tangent_plane: SymbolicExpression | None = Field(
        description="grad f(a) . (x - a): zero exactly on the tangent line/plane; null where the gradient is zero."
    )
    slope: float | None = Field(
        None,
        description="Two variables only: dy/dx = -f_x/f_y along the level curve; null where the tangent is vertical.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "variables": ["x", "y"],
                    "at": [1.0, 2.0],
                    "level": 5.0,
                    "gradient": [2.0, 4.0],
                    "normal": [0.4472135954999579, 0.8944271909999159],
                    "tangent": [[-0.8944271909999159, 0.4472135954999579]],
                    "tangent_plane": {
                        "expression": "2*(x - 1) + 4*(y - 2)",
                        "latex": "2 \\left(x - 1\\right) + 4 \\left(y - 2\\right)",
                    },
                    "slope": -0.5,
                    "warnings": [],
                    "warnings_omitted": 0,
                }
            ]
        }
    )


class CriticalPoint(BaseModel):
    """One critical point and what the second derivative test says it is."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "at": [0.0, 0.0],
                    "function_value": 0.0,
                    "gradient_norm": 0.0,
                    "eigenvalues": [-2.0, 2.0],
                    "kind": "saddle",
                }
            ]
        }
    )

    at: list[float]
    function_value: float
    gradient_norm: float = Field(description="|grad f| at `at` as given (0 for exact solutions).")
    eigenvalues: list[float] = Field(description="The Hessian's eigenvalues there, ascending.")
    kind: CriticalKind = Field(
        description=(
            "minimum, maximum, saddle, or degenerate (a zero eigenvalue: the second derivative test cannot decide)."
        )
    )


class CriticalPointsResponse(WarningsFields):
    variables: list[str]
    points: list[CriticalPoint] = Field(description="In order of coordinates.")
    method: Literal["symbolic", "numeric"]
    complete: bool = Field(
        description="True only when every critical point (in `bounds`, if given) was found symbolically."
    )
    bounds: dict[str, list[float]] = Field(description="The box searched or kept to, per variable.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "variables": ["x"],
                    "points": [
                        {
                            "at": [-1.4142135623730951],
                            "function_value": -0.5,
                            "gradient_norm": 0.0,
                            "eigenvalues": [4.0],
                            "kind": "minimum",
                        },
                        {
                            "at": [0.0],
                            "function_value": 0.5,
                            "gradient_norm": 0.0,
                            "eigenvalues": [-2.0],
                            "kind": "maximum",
                        },
                        {
                            "at": [1.4142135623730951],
                            "function_value": -0.5,
                            "gradient_norm": 0.0,
                            "eigenvalues": [4.0],
                            "kind": "minimum",
                        },
                    ],
                    "method": "symbolic",
                    "complete": True,
                    "bounds": {"x": [-10.0, 10.0]},
                    "warnings": [],
                    "warnings_omitted": 0,
                }
            ]
        }
    )
