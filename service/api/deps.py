"""The services, as FastAPI dependencies: a handler names the one it needs in its signature."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.compute.errors import ServiceUnavailable
from service.runtime.calculus import CalculusService
from service.runtime.distributions import DistributionService
from service.runtime.geometry import CriticalPointsService, LevelSetService, TaylorService
from service.runtime.matrix import MatrixService
from service.runtime.optimize import OptimizeService
from service.runtime.plots import PlotService
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


def _optimize(request: Request) -> OptimizeService:
    return services(request).optimize


def _plots(request: Request) -> PlotService:
    return services(request).plots


def _taylor(request: Request) -> TaylorService:
    return services(request).taylor


def _level_set(request: Request) -> LevelSetService:
    return services(request).level_set


def _critical_points(request: Request) -> CriticalPointsService:
    return services(request).critical_points


def _matrix(request: Request) -> MatrixService:
    return services(request).matrix


Calculus = Annotated[CalculusService, Depends(_calculus)]
Stochastic = Annotated[StochasticService, Depends(_stochastic)]
Distributions = Annotated[DistributionService, Depends(_distributions)]
Optimize = Annotated[OptimizeService, Depends(_optimize)]
Plots = Annotated[PlotService, Depends(_plots)]
Taylor = Annotated[TaylorService, Depends(_taylor)]
LevelSet = Annotated[LevelSetService, Depends(_level_set)]
CriticalPoints = Annotated[CriticalPointsService, Depends(_critical_points)]
Matrix = Annotated[MatrixService, Depends(_matrix)]
