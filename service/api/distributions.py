"""Distribution endpoints: the catalogue, statistics at given parameters, and maximum-likelihood fits.

Each handler sends its validated request to the worker pool (SciPy's cost grows with some parameters: a deadline and
a memory limit bound it there) and returns the JSON body the compute layer made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request, Response

from service.api.routing import JSONRoute, json_response
from service.compute.distributions import answers
from service.config import Settings
from service.runtime.workers import WorkerPool
from service.schemas.distributions import (
    DistributionsResponse,
    FamilyName,
    FitRequest,
    FitResponse,
    StatisticsRequest,
    StatisticsResponse,
)

router = APIRouter(prefix="/v1", tags=["distributions"], route_class=JSONRoute)
Family = Annotated[FamilyName, Path(description="The family, as listed by GET /v1/distributions.", examples=["gamma"])]


def _answer(body: dict[str, Any]) -> Response:
    return json_response(orjson.dumps(body))


async def _in_worker(request: Request, function: Callable[..., dict[str, Any]], *args: Any) -> Response:
    """``function(*args)`` run in the worker pool, answered as JSON."""
    pool: WorkerPool = request.app.state.pool
    return _answer(await pool.run(function, *args))


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/distributions", response_model=DistributionsResponse, summary="The distribution families")
async def distributions() -> Response:
    return _answer(answers.catalogue())


@router.post(
    "/distributions/{family}/statistics",
    response_model=StatisticsResponse,
    summary="Statistics, densities, quantiles, closed forms and likelihood of one distribution",
)
async def statistics(family: Family, body: StatisticsRequest, request: Request) -> Response:
    settings = _settings(request)
    values = (body.parameters, body.x, body.q, body.exact, body.data)
    limits = (settings.max_distribution_values, settings.max_warnings)
    return await _in_worker(request, answers.statistics, family, *values, *limits)


@router.post(
    "/distributions/{family}/fit",
    response_model=FitResponse,
    summary="Maximum-likelihood estimate with standard errors and Fisher information",
)
async def fit(family: Family, body: FitRequest, request: Request) -> Response:
    values = (body.data, body.fixed, body.parameterization, body.confidence)
    limit = _settings(request).max_distribution_values
    return await _in_worker(request, answers.maximum_likelihood, family, *values, limit)
