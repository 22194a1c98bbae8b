"""The drawings: one function per kind, on a matplotlib ``Figure`` (Agg; no pyplot, no display, no global state).

Every picture has axis labels, a title in plain words, the point ``at`` marked and the ``trajectory`` drawn when
given, and a colour bar wherever colour means a value.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from service.compute.distributions.statistics import Law
from service.compute.errors import InvalidInput, located
from service.compute.plots.sampling import Sampled

__all__ = ["Scene", "contour", "curve", "distribution", "surface", "vector_field"]

MAP = "viridis"
POINT = "#d62728"
PATH = "#ff7f0e"
LEVEL = "#e377c2"
TITLE_CHARACTERS = 80  # a function's text longer than this is shortened in the title


@dataclass(frozen=True)
class Scene:
    """What every function-of-variables picture is drawn from."""

    sampled: Sampled
    ranges: dict[str, tuple[float, float]]
    resolution: int
    overlays: tuple[str, ...]
    at: np.ndarray | None
    trajectory: np.ndarray | None
    arrows: int

    @property
    def names(self) -> tuple[str, ...]:
        return self.sampled.variables

    def signature(self) -> str:
        return f"f({', '.join(self.names)})"

    def formula(self) -> str:
        text = self.sampled.text
        short = text if len(text) <= TITLE_CHARACTERS else text[: TITLE_CHARACTERS - 3] + "..."
        return f"{self.signature()} = {short}"


def _point(values: Sequence[float] | np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in values) + ")"


def _joined(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def title(figure: Figure, main: str, extras: Sequence[str]) -> str:
    text = main + (", with " + _joined(extras) if extras else "")
    width = max(40, int(figure.get_figwidth() * 100 / 9))
    figure.suptitle(textwrap.fill(text, width), fontsize=11)
    return text


def _robust(z: np.ndarray) -> tuple[np.ndarray, bool]:
    """``z`` clipped to its 1st-99th percentiles when its full range is over ten times theirs (a pole or a steep
    wall would otherwise spend every colour on a few points); whether it was clipped."""
    finite = z[np.isfinite(z)]
    low, high = np.percentile(finite, [1, 99])
    if float(np.ptp(finite)) > 10 * max(float(high - low), 1e-300):
        return np.clip(z, low, high), True
    return z, False


def _levels(z: np.ndarray, count: int = 20) -> np.ndarray:
    """About ``count`` levels at round values covering ``z`` (a constant gets three around its value)."""
    finite = z[np.isfinite(z)]
    low, high = float(finite.min()), float(finite.max())
    if high - low <= 1e-12 * max(1.0, abs(high)):
        return np.linspace(low - 1, high + 1, 3)
    return np.asarray(MaxNLocator(count).tick_values(low, high), dtype=float)


def _frame(axes: Axes, scene: Scene) -> None:
    """Axis labels and limits; one unit is as long on both axes when their spans are comparable (within 3x), so
    that the gradient is seen perpendicular to the level curves."""
    x, y = scene.names
    axes.set_xlabel(x)
    axes.set_ylabel(y)
    axes.set_xlim(*scene.ranges[x])
    axes.set_ylim(*scene.ranges[y])
    spans = [float(np.ptp(scene.ranges[n])) for n in (x, y)]
    if max(spans) <= 3 * min(spans):
        axes.set_aspect("equal", adjustable="box")


def _f(scene: Scene, count: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    x, y = scene.names
    lines = [np.linspace(*scene.ranges[n], count) for n in (x, y)]
    grid = list(np.meshgrid(*lines, indexing="ij"))
    f, gradient = scene.sampled.at(np.column_stack([g.ravel() for g in grid]))
    if not np.isfinite(f).any():
        shown = ", ".join(f"{n} in [{lo:g}, {hi:g}]" for n, (lo, hi) in scene.ranges.items())
        detail = f"f is undefined or infinite everywhere in the ranges ({shown}); give 'ranges' where it is defined"
        raise located(InvalidInput, detail, ("body", "ranges"))
    return grid, f.reshape(grid[0].shape), gradient


def _mark_2d(axes: Axes, scene: Scene, extras: list[str]) -> None:
    if scene.trajectory is not None:
        path = scene.trajectory
        axes.plot(path[:, 0], path[:, 1], "-o", color=PATH, markersize=3, linewidth=1.5, label="trajectory")
        axes.plot(path[0, 0], path[0, 1], "s", color=PATH, markeredgecolor="black", markersize=7, label="start")
        axes.plot(path[-1, 0], path[-1, 1], "*", color=PATH, markeredgecolor="black", markersize=12, label="end")
        extras.append(f"a trajectory of {len(path)} points from {_point(path[0])} to {_point(path[-1])}")
    if scene.at is not None:
        axes.plot(*scene.at, "o", color=POINT, markeredgecolor="white", markersize=8, label=f"point {_point(scene.at)}")


def _value_at(scene: Scene) -> tuple[float, np.ndarray]:
    assert scene.at is not None
    f, gradient = scene.sampled.at(scene.at[None, :])
    return float(f[0]), gradient[0]


def _level_set(axes: Axes, scene: Scene, grid: list[np.ndarray], z: np.ndarray, extras: list[str]) -> None:
    level, _ = _value_at(scene)
    if math.isfinite(level) and np.nanmin(z) <= level <= np.nanmax(z):
        axes.contour(grid[0], grid[1], z, levels=[level], colors=LEVEL, linewidths=2.5)
    axes.plot([], [], color=LEVEL, linewidth=2.5, label=f"level set f = {level:.4g}")
    extras.append(f"the level set f = {level:.4g} through the point")


def _tangent_2d(axes: Axes, scene: Scene, extras: list[str]) -> None:
    """The tangent line of the level curve through ``at`` and the gradient there, perpendicular to it."""
    assert scene.at is not None
    _, gradient = _value_at(scene)
    norm = float(np.linalg.norm(gradient))
    if not math.isfinite(norm) or norm == 0:
        extras.append("no tangent line (the gradient is zero or undefined at the point)")
        return
    spans = [float(np.ptp(scene.ranges[n])) for n in scene.names]
    reach = 0.2 * min(spans)
    unit = gradient / norm
    along = np.array([-unit[1], unit[0]])
    ends = np.array([scene.at - reach * along, scene.at + reach * along])
    axes.plot(ends[:, 0], ends[:, 1], "--", color=POINT, linewidth=2, label="tangent line of the level curve")
    axes.annotate(
        "",
        xy=(float(scene.at[0] + reach * unit[0]), float(scene.at[1] + reach * unit[1])),
        xytext=(float(scene.at[0]), float(scene.at[1])),
        arrowprops={"arrowstyle": "-|>", "color": POINT, "linewidth": 2},
    )
    axes.plot([], [], color=POINT, linewidth=2, label="gradient (perpendicular)")
    extras.append("the tangent line and the gradient at the point")


def _arrows(axes: Axes, scene: Scene, count: int, coloured: bool) -> tuple[Any, np.ndarray]:
    """Gradient arrows on a ``count`` x ``count`` grid, all of one length (the direction), coloured by |grad f|
    when ``coloured``."""
    grid, _, gradient = _f(scene, count)
    norm = np.linalg.norm(gradient, axis=1)
    with np.errstate(all="ignore"):
        unit = np.where(norm[:, None] > 0, gradient / norm[:, None], np.nan)
    u, v = (unit[:, j].reshape(grid[0].shape) for j in (0, 1))
    magnitude = norm.reshape(grid[0].shape)
    if coloured:
        drawn = axes.quiver(grid[0], grid[1], u, v, magnitude, cmap=MAP, pivot="mid", angles="xy")
    else:
        drawn = axes.quiver(grid[0], grid[1], u, v, color="white", pivot="mid", angles="xy", alpha=0.9)
    return drawn, magnitude


def _legend(axes: Axes) -> None:
    """The legend below the picture, where it hides nothing."""
    handles, labels = axes.get_legend_handles_labels()
    if handles:
        figure = axes.get_figure()
        assert isinstance(figure, Figure)
        figure.legend(handles, labels, loc="outside lower center", ncols=min(4, len(handles)), fontsize=8)


def contour(figure: Figure, scene: Scene) -> str:
    axes = figure.add_subplot()
    grid, z, _ = _f(scene, scene.resolution)
    shown, clipped = _robust(z)
    levels = _levels(shown)
    filled = axes.contourf(grid[0], grid[1], shown, levels=levels, cmap=MAP)
    axes.contour(grid[0], grid[1], shown, levels=levels, colors="black", linewidths=0.4, alpha=0.5)
    label = scene.signature() + (" (clipped to its 1st-99th percentiles)" if clipped else "")
    figure.colorbar(filled, ax=axes, label=label)
    extras: list[str] = []
    if "gradient_arrows" in scene.overlays:
        _arrows(axes, scene, scene.arrows, coloured=False)
        axes.plot(
            [],
            [],
            color="dimgray",
            marker=r"$\rightarrow$",
            linestyle="none",
            label="gradient direction (white arrows)",
        )
        extras.append("gradient arrows")
    if "level_set" in scene.overlays:
        _level_set(axes, scene, grid, z, extras)
    if "tangent" in scene.overlays:
        _tangent_2d(axes, scene, extras)
    _mark_2d(axes, scene, extras)
    _frame(axes, scene)
    _legend(axes)
    return title(figure, f"Level curves of {scene.formula()}", extras)


def vector_field(figure: Figure, scene: Scene) -> str:
    axes = figure.add_subplot()
    grid, z, _ = _f(scene, 101)
    shown, _ = _robust(z)
    axes.contour(grid[0], grid[1], shown, levels=_levels(shown, 12), colors="grey", linewidths=0.6, alpha=0.6)
    drawn, _ = _arrows(axes, scene, scene.resolution, coloured=True)
    figure.colorbar(drawn, ax=axes, label="|∇f| (the gradient's length; arrows show its direction)")
    extras: list[str] = []
    if "level_set" in scene.overlays:
        _level_set(axes, scene, grid, z, extras)
    _mark_2d(axes, scene, extras)
    _frame(axes, scene)
    _legend(axes)
    return title(figure, f"Gradient field of {scene.formula()} over its level curves", extras)


def surface(figure: Figure, scene: Scene) -> str:
    axes = figure.add_subplot(projection="3d")
    axes.computed_zorder = False  # drawn in order: the surface, then the plane, the point and the path on top
    grid, z, _ = _f(scene, scene.resolution)
    shown, clipped = _robust(z)
    drawn = axes.plot_surface(grid[0], grid[1], shown, cmap=MAP, linewidth=0, antialiased=False, alpha=0.9)
    drawn.set_rasterized(True)  # thousands of facets: one embedded image keeps an SVG small
    label = scene.signature() + (" (clipped to its 1st-99th percentiles)" if clipped else "")
    figure.colorbar(drawn, ax=axes, shrink=0.7, pad=0.1, label=label)
    extras: list[str] = []
    if scene.at is not None:
        level, gradient = _value_at(scene)
        if "tangent" in scene.overlays and np.all(np.isfinite(gradient)):
            spans = [0.25 * float(np.ptp(scene.ranges[n])) for n in scene.names]
            px, py = np.meshgrid(*(np.linspace(c - s, c + s, 2) for c, s in zip(scene.at, spans, strict=True)))
            plane = level + gradient[0] * (px - scene.at[0]) + gradient[1] * (py - scene.at[1])
            axes.plot_surface(px, py, plane, color=POINT, alpha=0.35, zorder=2)
            extras.append("the tangent plane at the point")
        axes.scatter([scene.at[0]], [scene.at[1]], [level], color=POINT, s=50, depthshade=False, zorder=4)
        extras.append(f"the point {_point(scene.at)} marked")
    if scene.trajectory is not None:
        path = scene.trajectory
        heights, _ = scene.sampled.at(path)
        axes.plot(path[:, 0], path[:, 1], heights, "-o", color=PATH, markersize=3, zorder=3)
        extras.append(f"a trajectory of {len(path)} points")
    axes.set_xlabel(scene.names[0])
    axes.set_ylabel(scene.names[1])
    axes.set_zlabel(scene.signature())
    return title(figure, f"The surface z = {scene.formula()}", extras)


def curve(figure: Figure, scene: Scene, coefficients: Sequence[float] | None, orders: Sequence[int]) -> str:
    axes = figure.add_subplot()
    (name,) = scene.names
    x = np.linspace(*scene.ranges[name], scene.resolution)
    f, _ = scene.sampled.at(x[:, None])
    axes.plot(x, f, color="#1f77b4", linewidth=2, label=scene.signature())
    finite = f[np.isfinite(f)]
    extras: list[str] = []
    if coefficients is not None and scene.at is not None:
        a = float(scene.at[0])
        h = x - a
        if "tangent" in scene.overlays:
            axes.plot(
                x, coefficients[0] + coefficients[1] * h, "--", color=POINT, label=f"tangent line at {name} = {a:.4g}"
            )
            extras.append(f"its tangent line at {name} = {a:.4g}")
        colours = ["#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f"]
        for i, order in enumerate(sorted(set(orders))):
            polynomial = sum(c * h**k / math.factorial(k) for k, c in enumerate(coefficients[: order + 1]))
            axes.plot(x, polynomial, ":", linewidth=2, color=colours[i % len(colours)], label=f"Taylor order {order}")
        if orders:
            listed = ", ".join(str(o) for o in sorted(set(orders)))
            extras.append(f"Taylor polynomials of order {listed} about {name} = {a:.4g}")
    if scene.trajectory is not None:
        path = scene.trajectory[:, 0]
        heights, _ = scene.sampled.at(path[:, None])
        axes.plot(path, heights, "-o", color=PATH, markersize=4, label="trajectory")
        extras.append(f"a trajectory of {len(path)} points")
    if scene.at is not None:
        value, _ = _value_at(scene)
        axes.plot(
            [scene.at[0]], [value], "o", color=POINT, markersize=8, label=f"point ({scene.at[0]:.4g}, {value:.4g})"
        )
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        pad = 0.1 * (high - low) or 1.0
        axes.set_ylim(low - pad, high + pad)  # the polynomials leave the picture rather than squash the curve
    axes.set_xlim(*scene.ranges[name])
    axes.set_xlabel(name)
    axes.set_ylabel(scene.signature())
    axes.grid(alpha=0.3)
    _legend(axes)
    return title(figure, f"The curve {scene.formula()}", extras)


def distribution(figure: Figure, law: Law, span: tuple[float, float] | None, at: float | None, bars: int) -> str:
    """The pdf (or pmf) beside the cdf."""
    rv = law.frozen()
    density_axes, cdf_axes = figure.subplots(1, 2)
    discrete = law.family.discrete
    low, high = span if span is not None else (float(rv.ppf(0.001)), float(rv.ppf(0.999)))
    if discrete:
        start = math.floor(low) if span is not None else math.floor(low) - 1
        k = np.arange(start, min(math.ceil(high), start + bars - 1) + 1, dtype=float)
        density_axes.vlines(k, 0, rv.pmf(k), color="#1f77b4", linewidth=3)
        density_axes.plot(k, rv.pmf(k), "o", color="#1f77b4", markersize=4)
        steps = np.append(k, k[-1] + 1)
        cdf_axes.step(steps, rv.cdf(steps), where="post", color="#1f77b4")
        words, name = "probability mass", "probability mass P(X = x)"
    else:
        width = high - low
        x = np.linspace(low - 0.05 * width, high + 0.05 * width, 600) if span is None else np.linspace(low, high, 600)
        pdf = rv.pdf(x)
        density_axes.plot(x, pdf, color="#1f77b4", linewidth=2)
        density_axes.fill_between(x, pdf, alpha=0.2, color="#1f77b4")
        cdf_axes.plot(x, rv.cdf(x), color="#1f77b4", linewidth=2)
        words, name = "probability density", "probability density f(x)"
    extras = []
    if at is not None:
        density = float(rv.pmf(at) if discrete else rv.pdf(at))
        cumulative = float(rv.cdf(at))
        density_axes.plot([at], [density], "o", color=POINT, markersize=8, label=f"x = {at:.4g}: {density:.4g}")
        cdf_axes.plot([at], [cumulative], "o", color=POINT, markersize=8, label=f"P(X <= {at:.4g}) = {cumulative:.4g}")
        for axes in (density_axes, cdf_axes):
            axes.legend(loc="best", fontsize=8)
        extras.append(f"x = {at:.4g} marked")
    density_axes.set_title(name, fontsize=10)
    cdf_axes.set_title("cumulative distribution P(X <= x)", fontsize=10)
    for axes in (density_axes, cdf_axes):
        axes.set_xlabel("x")
        axes.grid(alpha=0.3)
    density_axes.set_ylabel("P(X = x)" if discrete else "f(x)")
    cdf_axes.set_ylabel("F(x)")
    cdf_axes.set_ylim(-0.02, 1.02)
    given = ", ".join(f"{k} = {v:g}" for k, v in law.given.items())
    return title(figure, f"The {law.family.title} distribution ({given}): {words} and cumulative distribution", extras)
