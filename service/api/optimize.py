"""Optimisation: the trajectory of an optimiser from a start, and why it stopped."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.api.deps import Optimize
from service.api.routing import JSONRoute, reply
from service.present.optimize import body as present
from service.schemas.optimize import OptimizeRequest, OptimizeResponse

router = APIRouter(prefix="/v1", tags=["optimize"], route_class=JSONRoute)


@router.post(
    "/optimize",
    response_model=OptimizeResponse,
    summary="Minimise: gradient descent, momentum, Nesterov, Newton, Adam, natural gradient or SGD",
    description=(
        "The trajectory of one method from `start` (each iterate with f and |∇f|), whether it converged and why it "
        "stopped (`reason`, with the numbers in `detail`), and the best point. A `model` {family, data} minimises "
        "the negative log-likelihood (natural_gradient uses the Fisher information as metric); `random` with sgd "
        "minimises E[f(X, θ)] along stochastic-derivative estimates, reproducibly by `seed`. A divergent run is an "
        "answer with reason `diverged` and its finite trajectory, not an error."
    ),
)
async def optimize(body: OptimizeRequest, optimize: Optimize) -> Response:
    return await reply(optimize, present, await optimize.answer(body.to_query()))
