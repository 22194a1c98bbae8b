"""What a picture is asked to show, what comes back, and the limits that bound its size and its work."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from service.compute.limits import DEFAULT_LIMITS, Limits

Coordinate = float | str
Point = tuple[Coordinate, ...] | tuple[tuple[str, Coordinate], ...]  # in variables order, or (name, value) pairs

KINDS: tuple[str, ...] = ("contour", "curve", "surface", "vector_field", "distribution")
FORMATS: Mapping[str, str] = {"svg": "image/svg+xml", "png": "image/png"}
OVERLAYS: Mapping[str, tuple[str, ...]] = {
    "contour": ("gradient_arrows", "level_set", "tangent", "trajectory"),
    "curve": ("tangent", "trajectory"),
    "surface": ("tangent", "trajectory"),
    "vector_field": ("level_set", "trajectory"),
    "distribution": (),
}
"""The overlays each kind can draw. The points of ``trajectory`` and ``at`` are fields of their own; naming
``trajectory`` here is optional (the field alone draws it)."""
VARIABLES: Mapping[str, int] = {"contour": 2, "curve": 1, "surface": 2, "vector_field": 2}

DPI = 100
MIN_PIXELS = 200
MAX_PIXELS = 2_400
"""Width and height of an image, in pixels (PNG) or in CSS pixels (SVG: points times 4/3)."""
DEFAULT_WIDTH, DEFAULT_HEIGHT = 800, 600
MAX_GRID = 400
"""Grid points per axis of a contour plot (resolution); curves take up to MAX_CURVE_POINTS."""
MAX_SURFACE_GRID = 150
"""Grid points per axis of a surface: its facets are drawn one by one."""
MAX_CURVE_POINTS = 5_000
MAX_ARROWS = 40
"""Arrows per axis of a vector field or of gradient arrows."""
MAX_TRAJECTORY = 10_000
MAX_TAYLOR_ORDER = 10
MAX_BARS = 500
"""Values of a discrete distribution drawn as bars."""
DEFAULT_GRID: Mapping[str, int] = {"contour": 151, "curve": 600, "surface": 60, "vector_field": 21}
GRADIENT_ARROWS = 15
"""Arrows per axis of the ``gradient_arrows`` overlay."""
DEFAULT_RANGE = (-3.0, 3.0)


@dataclass(frozen=True)
class DistributionSpec:
    family: str
    parameters: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class PlotQuery:
    """A validated /v1/plot request in plain values."""

    kind: str
    function: str | None = None
    variables: tuple[str, ...] | None = None
    parameters: tuple[tuple[str, Coordinate], ...] = ()  # constants: numbers or exact strings
    distribution: DistributionSpec | None = None
    ranges: tuple[tuple[str, float, float], ...] = ()
    overlays: tuple[str, ...] = ()
    trajectory: tuple[Point, ...] = ()
    at: Point | None = None
    taylor_orders: tuple[int, ...] = ()
    format: str = "svg"
    width: int = DEFAULT_WIDTH
    height: int = DEFAULT_HEIGHT
    resolution: int | None = None  # None: DEFAULT_GRID[kind]


@dataclass(frozen=True)
class PlotTask(PlotQuery):
    """What a worker draws (hashable: also the key of the service's cache of pictures)."""

    limits: Limits = DEFAULT_LIMITS


@dataclass(frozen=True)
class PlotResult:
    """The image itself, its media type, its size in pixels and the title drawn on it."""

    media_type: str
    image: bytes
    width: int
    height: int
    title: str


@dataclass(frozen=True)
class PlotAnswer:
    result: PlotResult

    @property
    def size(self) -> int:
        return 0
