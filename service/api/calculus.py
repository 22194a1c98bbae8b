"""Calculus endpoints: each handler passes its validated request to the runtime and returns the JSON it made."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.api.routing import JSONRoute, json_response
from service.runtime.calculus import Calculus, CalculusQuery
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


async def _answer(request: Request, query: CalculusQuery) -> Response:
    calculus: Calculus = request.app.state.calculus
    return json_response(await calculus.answer(query))


@router.post("/derivative", response_model=DerivativeResponse, summary="Derivative of any order, or a mixed partial")
async def derivative(body: DerivativeRequest, request: Request) -> Response:
    return await _answer(request, body.to_query())


@router.post("/gradient", response_model=GradientResponse, summary="Gradient of a scalar function")
async def gradient(body: GradientRequest, request: Request) -> Response:
    return await _answer(request, body.to_query("gradient"))


@router.post(
    "/directional-derivative",
    response_model=DirectionalResponse,
    summary="Directional derivative and steepest ascent",
)
async def directional_derivative(body: DirectionalRequest, request: Request) -> Response:
    return await _answer(request, body.to_query())


@router.post("/jacobian", response_model=JacobianResponse, summary="Jacobian matrix of a vector function")
async def jacobian(body: JacobianRequest, request: Request) -> Response:
    return await _answer(request, body.to_query())


@router.post("/hessian", response_model=HessianResponse, summary="Hessian matrix, eigenvalues and definiteness")
async def hessian(body: HessianRequest, request: Request) -> Response:
    return await _answer(request, body.to_query("hessian"))
