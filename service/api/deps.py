"""The services, as FastAPI dependencies: a handler names the one it needs in its signature."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.compute.errors import ServiceUnavailable
from service.runtime.calculus import CalculusService
from service.runtime.distributions import DistributionService
from service.runtime.matrix import MatrixService
from service.runtime.services import Services
from service.runtime.stochastic import StochasticService


def services(request: Request) -> Services:
    """The application's services (started by its lifespan)."""
    found: Services | None = getattr(request.app.state, "services", None)
    if found is None:
        raise ServiceUnavailable("the service is starting", headers={"Retry-After": "1"})
    return found


def _calculus(request: Request) -> CalculusService:
    return services(request).calculus


def _stochastic(request: Request) -> StochasticService:
    return services(request).stochastic


def _distributions(request: Request) -> DistributionService:
    return services(request).distributions


def _matrix(request: Request) -> MatrixService:
    return services(request).matrix


Calculus = Annotated[CalculusService, Depends(_calculus)]
Stochastic = Annotated[StochasticService, Depends(_stochastic)]
Distributions = Annotated[DistributionService, Depends(_distributions)]
Matrix = Annotated[MatrixService, Depends(_matrix)]
