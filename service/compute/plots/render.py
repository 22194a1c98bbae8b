"""One picture, from a task to its bytes: validate, sample, draw, save (SVG or PNG of the asked size).

matplotlib runs with its Agg canvas on a fresh ``Figure`` per picture (no pyplot, no display, no network); the SVG
is deterministic (fixed hash salt, no date) and draws its text as paths, so it needs no fonts where it is shown.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Mapping
from typing import Any

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from service.compute.distributions.statistics import prepare
from service.compute.errors import InvalidInput, NablaError, TooLarge, located
from service.compute.plots.figures import Scene, contour, curve, distribution, surface, vector_field
from service.compute.plots.sampling import axes, compile_function, marked, taylor_coefficients, trajectory
from service.compute.plots.task import (
    DEFAULT_GRID,
    DPI,
    FORMATS,
    GRADIENT_ARROWS,
    KINDS,
    MAX_ARROWS,
    MAX_BARS,
    MAX_CURVE_POINTS,
    MAX_GRID,
    MAX_PIXELS,
    MAX_SURFACE_GRID,
    MAX_TAYLOR_ORDER,
    MIN_PIXELS,
    OVERLAYS,
    VARIABLES,
    PlotResult,
    PlotTask,
)

__all__ = ["run"]

_MAX_RESOLUTION: Mapping[str, int] = {
    "contour": MAX_GRID,
    "curve": MAX_CURVE_POINTS,
    "surface": MAX_SURFACE_GRID,
    "vector_field": MAX_ARROWS,
}
_STYLE: Any = {"svg.hashsalt": "nabla", "svg.fonttype": "path", "font.size": 9}


def _invalid(detail: str, *loc: str | int) -> NablaError:
    return located(InvalidInput, detail, ("body", *loc))


def _validate(task: PlotTask) -> None:
    if task.kind not in KINDS:
        raise _invalid(f"'{task.kind}' is not a kind of plot; use one of {', '.join(KINDS)}", "kind")
    if task.format not in FORMATS:
        raise _invalid(f"'{task.format}' is not an image format; use svg or png", "format")
    for name, pixels in (("width", task.width), ("height", task.height)):
        if not MIN_PIXELS <= pixels <= MAX_PIXELS:
            detail = f"{name} is {pixels} pixels; it must be between {MIN_PIXELS} and {MAX_PIXELS}"
            raise located(TooLarge if pixels > MAX_PIXELS else InvalidInput, detail, ("body", name))
    for overlay in task.overlays:
        if overlay not in OVERLAYS[task.kind]:
            kinds = [k for k, names in OVERLAYS.items() if overlay in names]
            where = f"it is drawn on {', '.join(kinds)}" if kinds else f"the overlays are {_all_overlays()}"
            accepted = ", ".join(OVERLAYS[task.kind]) or "none"
            detail = f"kind '{task.kind}' cannot draw the overlay '{overlay}' ({where}); its overlays: {accepted}"
            raise _invalid(detail, "overlays")
        if overlay in ("level_set", "tangent") and task.at is None:
            raise _invalid(f"the overlay '{overlay}' is drawn through a point: give 'at'", "at")
        if overlay == "trajectory" and not task.trajectory:
            raise _invalid("the overlay 'trajectory' draws the points of 'trajectory': give them", "trajectory")
    if task.taylor_orders:
        if task.kind != "curve":
            raise _invalid("taylor_orders are drawn on kind 'curve' (a function of one variable)", "taylor_orders")
        if task.at is None:
            raise _invalid("Taylor polynomials are expanded about a point: give 'at'", "at")
        if not all(0 <= order <= MAX_TAYLOR_ORDER for order in task.taylor_orders):
            detail = f"each Taylor order must be between 0 and {MAX_TAYLOR_ORDER}, got {list(task.taylor_orders)}"
            raise _invalid(detail, "taylor_orders")
    _validate_source(task)


def _all_overlays() -> str:
    return ", ".join(sorted({name for names in OVERLAYS.values() for name in names}))


def _validate_source(task: PlotTask) -> None:
    if task.kind == "distribution":
        if task.distribution is None:
            raise _invalid("kind 'distribution' needs 'distribution' {family, parameters}", "distribution")
        if task.function is not None:
            raise _invalid("kind 'distribution' draws a distribution; leave out 'function'", "function")
        return
    if task.function is None:
        raise _invalid(f"kind '{task.kind}' draws a function: give 'function'", "function")
    if task.distribution is not None:
        raise _invalid(
            f"'distribution' is for kind 'distribution'; kind '{task.kind}' draws 'function'", "distribution"
        )
    if task.resolution is not None and not 2 <= task.resolution <= _MAX_RESOLUTION[task.kind]:
        detail = (
            f"resolution {task.resolution} for kind '{task.kind}' must be between 2 and {_MAX_RESOLUTION[task.kind]}"
        )
        raise located(TooLarge if task.resolution > 2 else InvalidInput, detail, ("body", "resolution"))


def _check_variables(task: PlotTask, variables: tuple[str, ...]) -> None:
    wanted = VARIABLES[task.kind]
    if len(variables) != wanted:
        other = "curve" if len(variables) == 1 else "contour, surface or vector_field"
        fix = f"use kind {other}" if len(variables) in (1, 2) else "fix the others with 'parameters'"
        detail = (
            f"kind '{task.kind}' draws a function of {wanted} variable{'s' if wanted > 1 else ''}; the function has "
            f"{len(variables)} ({', '.join(variables) or 'none'}): {fix}"
        )
        raise _invalid(detail, "function")


def _function_picture(task: PlotTask, figure: Figure) -> str:
    sampled = compile_function(task)
    variables = sampled.variables
    _check_variables(task, variables)
    at = marked(task, variables)
    path = trajectory(task, variables)
    scene = Scene(
        sampled=sampled,
        ranges=axes(task, variables, [at, path]),
        resolution=task.resolution or DEFAULT_GRID[task.kind],
        overlays=task.overlays,
        at=at,
        trajectory=path,
        arrows=GRADIENT_ARROWS,
    )
    if task.kind == "curve":
        order = max((*task.taylor_orders, 1 if "tangent" in task.overlays else 0))
        coefficients = taylor_coefficients(task, sampled, float(at[0]), order) if at is not None and order else None
        return curve(figure, scene, coefficients, task.taylor_orders)
    drawing = {"contour": contour, "surface": surface, "vector_field": vector_field}
    return drawing[task.kind](figure, scene)


def _distribution_picture(task: PlotTask, figure: Figure) -> str:
    assert task.distribution is not None
    try:
        law = prepare(task.distribution.family, dict(task.distribution.parameters))
    except NablaError as error:
        raise error.at("body", "distribution") from None
    ranges = {name: (lo, hi) for name, lo, hi in task.ranges}
    if set(ranges) - {"x"}:
        raise _invalid("a distribution's picture has one axis: give its range as 'ranges' {\"x\": [lo, hi]}", "ranges")
    span = axes(task, ("x",), []).get("x") if ranges else None
    at = None if task.at is None else float(marked(task, ("x",))[0])  # type: ignore[index]
    return distribution(figure, law, span, at, MAX_BARS)


def run(task: PlotTask) -> PlotResult:
    """The picture ``task`` asks for. Raises ``NablaError`` for every client mistake."""
    _validate(task)
    figure = Figure(figsize=(task.width / DPI, task.height / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # Agg: no display; SVG is written by matplotlib's own SVG backend
    with rc_context(_STYLE), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # matplotlib's notes (no contour level in range, ...) are not the client's
        if task.kind == "distribution":
            text = _distribution_picture(task, figure)
        else:
            text = _function_picture(task, figure)
        buffer = io.BytesIO()
        metadata = {"Date": None} if task.format == "svg" else {"Software": None}
        figure.savefig(buffer, format=task.format, dpi=DPI, metadata=metadata)
    image = buffer.getvalue()
    if task.format == "svg":
        image = _sized(image, task.width, task.height)
    return PlotResult(FORMATS[task.format], image, task.width, task.height, text)


_SVG_SIZE = re.compile(rb'(<svg\b[^>]*?) width="[0-9.]+pt" height="[0-9.]+pt"')


def _sized(svg: bytes, width: int, height: int) -> bytes:
    """matplotlib sizes an SVG in points (8 in at 72 pt: 768 CSS pixels for 800 asked); its viewBox is kept and its
    size set in CSS pixels, so that a browser shows it at the asked width and height."""
    return _SVG_SIZE.sub(rb'\1 width="%dpx" height="%dpx"' % (width, height), svg, count=1)
