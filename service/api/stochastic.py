"""The stochastic derivative: d/dθ E[f(X, θ)] with a standard error, and in closed form when SymPy finds it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.api.routing import JSONRoute, json_response
from service.runtime import stochastic
from service.schemas.stochastic import StochasticRequest, StochasticResponse

router = APIRouter(prefix="/v1", tags=["stochastic"], route_class=JSONRoute)


@router.post(
    "/stochastic-derivative",
    response_model=StochasticResponse,
    summary="Derivative of an expectation (pathwise, score function or both)",
)
async def stochastic_derivative(body: StochasticRequest, request: Request) -> Response:
    state = request.app.state
    return json_response(await stochastic.answer(body, state.settings, state.pool))
