"""Geometry endpoints: what the gradient is for. Taylor polynomials (tangent lines and planes), level sets and their
normals, critical points and what they are."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.api.deps import CriticalPoints, LevelSet, Taylor
from service.api.routing import JSONRoute, reply
from service.present import geometry as present
from service.schemas.geometry import (
    CriticalPointsRequest,
    CriticalPointsResponse,
    LevelSetRequest,
    LevelSetResponse,
    TaylorRequest,
    TaylorResponse,
)

router = APIRouter(prefix="/v1", tags=["geometry"], route_class=JSONRoute)


@router.post(
    "/taylor",
    response_model=TaylorResponse,
    summary="Taylor polynomial of any order (order 1: the tangent line or plane)",
    description=(
        "The Taylor polynomial of `function` about `at`, with exact coefficients, in powers of the displacement "
        "(`5 + 2*(x - 1) + 4*(y - 2)`); with `points`, its values there and the error f minus the polynomial."
    ),
)
async def taylor(body: TaylorRequest, service: Taylor) -> Response:
    return await reply(service, present.taylor, await service.answer(body.to_query()))


@router.post(
    "/level-set",
    response_model=LevelSetResponse,
    summary="Level set through a point: normal, tangent space, tangent plane, slope",
    description=(
        "The level f(at), the gradient and the unit normal grad f/|grad f| (perpendicular to the level set), an "
        "orthonormal basis of the tangent space, the tangent plane as an expression that is zero on it, and with two "
        "variables the slope dy/dx = -f_x/f_y of the level curve."
    ),
)
async def level_set(body: LevelSetRequest, service: LevelSet) -> Response:
    return await reply(service, present.level_set, await service.answer(body.to_query()))


@router.post(
    "/critical-points",
    response_model=CriticalPointsResponse,
    summary="Critical points, classified by the Hessian's eigenvalues",
    description=(
        "Solves grad f = 0: symbolically when the gradient is polynomial (then `complete` is true: every critical "
        "point is listed), else by Newton's method from many starts inside `bounds` (`complete: false`). Each point "
        "is a minimum, maximum, saddle, or degenerate (a zero eigenvalue: the second derivative test cannot decide)."
    ),
)
async def critical_points(body: CriticalPointsRequest, service: CriticalPoints) -> Response:
    return await reply(service, present.critical_points, await service.answer(body.to_query()))
