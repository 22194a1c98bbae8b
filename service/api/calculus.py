"""Calculus endpoints: each handler turns its validated request into a query, asks the calculus service, and
returns the presented answer."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.api.deps import Calculus
from service.api.routing import JSONRoute, reply
from service.present.calculus import body as present
from service.schemas.calculus import (
    DerivativeRequest,
    DerivativeResponse,
    DirectionalRequest,
    DirectionalResponse,
    GradientRequest,
    GradientResponse,
    HessianRequest,
    HessianResponse,
    JacobianRequest,
    JacobianResponse,
)

router = APIRouter(prefix="/v1", tags=["calculus"], route_class=JSONRoute)


@router.post(
    "/derivative",
    response_model=DerivativeResponse,
    summary="Derivative of any order, or a mixed partial",
    description=(
        "The derivative of `function` by `variable` (optional when the function has one), `order` times, or the "
        "mixed partial derivative by the names of `wrt` in turn; symbolic (text and LaTeX), and evaluated at `at` "
        'or at every point of `points`. An exact point (`"pi/4"`) also gets the exact value.'
    ),
)
async def derivative(body: DerivativeRequest, calculus: Calculus) -> Response:
    return await reply(calculus, present, await calculus.answer(body.to_query()))


@router.post(
    "/gradient",
    response_model=GradientResponse,
    summary="Gradient of a scalar function",
    description="Every partial derivative of `function`, in the order of `variables`; evaluated at `at` or `points`.",
)
async def gradient(body: GradientRequest, calculus: Calculus) -> Response:
    return await reply(calculus, present, await calculus.answer(body.to_query()))


@router.post(
    "/directional-derivative",
    response_model=DirectionalResponse,
    summary="Directional derivative and steepest ascent",
    description=(
        "The derivative of `function` along `direction` (unit length unless `normalize` is false) at `at` or "
        "`points`, with the gradient there and the direction and rate of steepest ascent."
    ),
)
async def directional_derivative(body: DirectionalRequest, calculus: Calculus) -> Response:
    return await reply(calculus, present, await calculus.answer(body.to_query()))


@router.post(
    "/jacobian",
    response_model=JacobianResponse,
    summary="Jacobian matrix of a vector function",
    description="One row per function of `functions`, one column per variable; evaluated at `at` or `points`.",
)
async def jacobian(body: JacobianRequest, calculus: Calculus) -> Response:
    return await reply(calculus, present, await calculus.answer(body.to_query()))


@router.post(
    "/hessian",
    response_model=HessianResponse,
    summary="Hessian matrix, eigenvalues and definiteness",
    description=(
        "The matrix of second partial derivatives of `function` (symmetric: the upper triangle is computed and "
        "mirrored); at a point also its eigenvalues and definiteness (`classify` for a batch)."
    ),
)
async def hessian(body: HessianRequest, calculus: Calculus) -> Response:
    return await reply(calculus, present, await calculus.answer(body.to_query()))
