"""Pictures of functions and distributions: contours with gradient arrows, level sets and trajectories; curves with
tangent lines and Taylor polynomials; surfaces; gradient fields; a distribution's pdf or pmf beside its cdf.

``run(task)`` runs in a worker (matplotlib's Agg canvas, no display, no network) and returns the image's bytes.
"""

from service.compute.plots.render import run
from service.compute.plots.task import (
    FORMATS,
    KINDS,
    OVERLAYS,
    DistributionSpec,
    PlotAnswer,
    PlotQuery,
    PlotResult,
    PlotTask,
)

__all__ = [
    "FORMATS",
    "KINDS",
    "OVERLAYS",
    "DistributionSpec",
    "PlotAnswer",
    "PlotQuery",
    "PlotResult",
    "PlotTask",
    "run",
]
