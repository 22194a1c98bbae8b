"""Request of /v1/plot (its answer is the image itself: SVG or PNG)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import ConfigDict, Field, model_validator

from service.compute.plots import KINDS, DistributionSpec, PlotQuery
from service.compute.plots.task import (
    DEFAULT_HEIGHT,
    DEFAULT_WIDTH,
    MAX_PIXELS,
    MAX_TAYLOR_ORDER,
    MAX_TRAJECTORY,
    MIN_PIXELS,
    OVERLAYS,
)
from service.schemas.common import Constants, Expression, Point, StrictModel, VariableName, named_enum
from service.schemas.distributions import FamilyName, ParameterValues

if TYPE_CHECKING:
    Kind = str
    Overlay = str
    ImageFormat = str
else:
    Kind = named_enum("Kind", KINDS)
    Overlay = named_enum("Overlay", sorted({name for names in OVERLAYS.values() for name in names}))
    ImageFormat = named_enum("ImageFormat", ("svg", "png"))

Finite = Annotated[float, Field(allow_inf_nan=False)]
_OVERLAYS = "; ".join(f"{kind}: {', '.join(names) or 'none'}" for kind, names in OVERLAYS.items())


class Distribution(StrictModel):
    family: FamilyName = Field(description="A family of GET /v1/distributions.", examples=["gamma"], strict=False)
    parameters: ParameterValues


def _point(value: Any) -> tuple[Any, ...]:
    return tuple(value.items()) if isinstance(value, dict) else tuple(value)


class PlotRequest(StrictModel):
    """A picture of a function or of a distribution."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "contour",
                    "function": "x^2 + x*y + 4*y^2",
                    "ranges": {"x": [-3, 3], "y": [-2, 2]},
                    "overlays": ["gradient_arrows", "level_set", "tangent"],
                    "at": [1, 1],
                    "trajectory": [[-2.5, 1.5], [-1.5, 0.4], [-0.5, -0.1], [0, 0]],
                },
                {"kind": "curve", "function": "sin(x)", "at": [1], "overlays": ["tangent"], "taylor_orders": [3, 5]},
                {"kind": "surface", "function": "x^2 - y^2", "at": [0.5, 0.5], "overlays": ["tangent"]},
                {"kind": "vector_field", "function": "x^3 - 3*x*y^2"},
                {"kind": "distribution", "distribution": {"family": "gamma", "parameters": {"shape": 2, "rate": 1}}},
            ]
        }
    )

    kind: Kind = Field(
        description=(
            "contour: level curves of f(x, y) with a colour bar. curve: f(x). surface: z = f(x, y) in 3-D. "
            "vector_field: the gradient's direction (arrows) and length (colour). distribution: pdf or pmf beside "
            "the cdf."
        ),
        strict=False,
    )
    function: Expression | None = Field(None, description="The function drawn (every kind but distribution).")
    variables: list[VariableName] | None = Field(
        None,
        max_length=2,
        description="The axes' variables, in order. Default: the function's free names, in natural order.",
    )
    parameters: Constants = Field(default_factory=dict, description="Constants {name: value} of the function.")
    distribution: Distribution | None = Field(None, description="kind distribution: the family and its parameters.")
    ranges: dict[VariableName, Annotated[list[Finite], Field(min_length=2, max_length=2)]] = Field(
        default_factory=dict,
        max_length=2,
        description=(
            "{name: [low, high]} per axis (x for a distribution). Default: [-3, 3], widened to hold `at` and the "
            "trajectory; a distribution's runs from its 0.1% to its 99.9% quantile."
        ),
        examples=[{"x": [-3, 3], "y": [-2, 2]}],
    )
    overlays: list[Annotated[Overlay, Field(strict=False)]] = Field(
        default_factory=list,
        max_length=4,
        description=f"What is drawn over the picture, per kind ({_OVERLAYS}). level_set and tangent go through `at`.",
    )
    trajectory: list[Point] = Field(
        default_factory=list,
        max_length=MAX_TRAJECTORY,
        description="Points drawn as a path (e.g. the trajectory of /v1/optimize), each like `at`.",
    )
    at: Point | Finite | None = Field(
        None, description="The point marked (and the point of level_set, tangent and the Taylor polynomials)."
    )
    taylor_orders: list[Annotated[int, Field(ge=0, le=MAX_TAYLOR_ORDER)]] = Field(
        default_factory=list, max_length=6, description="kind curve: Taylor polynomials of these orders about `at`."
    )
    format: ImageFormat | None = Field(
        None, description="svg or png; default: the one the Accept header prefers, else svg.", strict=False
    )
    width: int = Field(DEFAULT_WIDTH, ge=MIN_PIXELS, le=MAX_PIXELS, description="Pixels (CSS pixels for SVG).")
    height: int = Field(DEFAULT_HEIGHT, ge=MIN_PIXELS, le=MAX_PIXELS, description="Pixels (CSS pixels for SVG).")
    resolution: int | None = Field(
        None,
        ge=2,
        le=5_000,
        description=(
            "Samples per axis: contour 151 (at most 400), surface 60 (150), curve 600 (5000), vector_field 21 "
            "arrows (40)."
        ),
    )

    @model_validator(mode="after")
    def _ranges_in_order(self) -> PlotRequest:
        for name, (low, high) in self.ranges.items():
            if not low < high:
                raise ValueError(f"the range of {name} must be [low, high] with low < high, got [{low:g}, {high:g}]")
        return self

    def to_query(self, accept: str | None = None) -> PlotQuery:
        """The plain query the plot service takes; ``accept`` (the Accept header) picks the format if none is given."""
        at = None if self.at is None else (self.at,) if isinstance(self.at, float | int) else _point(self.at)
        distribution = self.distribution
        return PlotQuery(
            kind=str(self.kind),
            function=self.function,
            variables=None if self.variables is None else tuple(self.variables),
            parameters=tuple(self.parameters.items()),
            distribution=None
            if distribution is None
            else DistributionSpec(str(distribution.family), tuple(distribution.parameters.items())),
            ranges=tuple((name, low, high) for name, (low, high) in self.ranges.items()),
            overlays=tuple(str(o) for o in self.overlays),
            trajectory=tuple(_point(p) for p in self.trajectory),
            at=at,
            taylor_orders=tuple(self.taylor_orders),
            format=str(self.format) if self.format is not None else preferred_format(accept),
            width=self.width,
            height=self.height,
            resolution=self.resolution,
        )


def preferred_format(accept: str | None) -> str:
    """png when the Accept header names image/png before (or without) image/svg+xml; svg otherwise."""
    if not accept:
        return "svg"
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    png = kinds.index("image/png") if "image/png" in kinds else None
    svg = kinds.index("image/svg+xml") if "image/svg+xml" in kinds else None
    return "png" if png is not None and (svg is None or png < svg) else "svg"
