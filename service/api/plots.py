"""Pictures: contours, curves, surfaces, gradient fields and distributions, as SVG or PNG."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from service.api.deps import Plots
from service.api.routing import JSONRoute, image_reply
from service.present.plots import media_type, present
from service.schemas.plots import PlotRequest

router = APIRouter(prefix="/v1", tags=["plots"], route_class=JSONRoute)
Accept = Annotated[
    str | None, Header(description="image/svg+xml or image/png picks the format when `format` is absent.")
]


@router.post(
    "/plot",
    summary="A picture: contour, curve, surface, gradient field or distribution (SVG or PNG)",
    description=(
        "Draws with matplotlib in a worker (no display, no network): level curves with gradient arrows, the level "
        "set and the tangent line through `at` and a `trajectory` (from /v1/optimize, say); a curve with its "
        "tangent line and Taylor polynomials; a surface with its tangent plane; a gradient field; a distribution's "
        "pdf or pmf beside its cdf. Axis labels, a colour bar where colour means a value, the point marked and a "
        "title in words. The answer is the image: image/svg+xml (default) or image/png, by `format` or `Accept`."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "The picture.",
            "content": {
                "image/svg+xml": {"schema": {"type": "string"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def plot(body: PlotRequest, plots: Plots, accept: Accept = None) -> Response:
    return await image_reply(present, media_type, await plots.answer(body.to_query(accept)))
