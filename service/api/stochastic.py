"""The stochastic derivative: d/dθ E[f(X, θ)] with a standard error, and in closed form when SymPy finds it."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.api.deps import Stochastic
from service.api.routing import JSONRoute, reply
from service.present.stochastic import body as present
from service.schemas.stochastic import StochasticRequest, StochasticResponse

router = APIRouter(prefix="/v1", tags=["stochastic"], route_class=JSONRoute)


@router.post(
    "/stochastic-derivative",
    response_model=StochasticResponse,
    summary="Derivative of an expectation (pathwise, score function or both)",
    description=(
        "d/dθ E[f(X, θ)] where the laws of the random variables in `random` depend on the names of `at`: a Monte "
        "Carlo estimate with its standard error and confidence interval, the variance of every estimator that "
        "applies on the same draws, and the closed form when one is found."
    ),
)
async def stochastic_derivative(body: StochasticRequest, stochastic: Stochastic) -> Response:
    return await reply(stochastic, present, await stochastic.answer(body.to_query()))
