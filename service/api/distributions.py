"""Distribution endpoints: the catalogue, statistics at given parameters, and maximum-likelihood fits.

Each handler sends its validated request to the worker pool (SciPy's cost grows with some parameters: a deadline and
a memory limit bound it there) and returns the JSON body the compute layer made. The answers are deterministic, so a
small request seen before is answered from an LRU of bodies, without a worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel

from service.api.caching import cacheable
from service.api.routing import JSONRoute, json_response
from service.compute.distributions import answers
from service.config import Settings
from service.runtime.cache import LRUCache
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


_CACHED_BODY_BYTES = 16 * 1024  # larger requests (long x, q or data) are computed each time: rarely repeated


def _answers(request: Request) -> LRUCache[bytes]:
    state = request.app.state
    if not hasattr(state, "distribution_answers"):
        state.distribution_answers = LRUCache[bytes](_settings(request).cache_size)
    cache: LRUCache[bytes] = state.distribution_answers
    return cache


async def _in_worker(request: Request, function: Callable[..., dict[str, Any]], *args: Any) -> Response:
    """``function(*args)`` run in the worker pool (or its answer remembered), answered as JSON."""
    key = orjson.dumps([function.__name__, *args], default=_plain, option=orjson.OPT_SORT_KEYS)
    cache = _answers(request) if len(key) <= _CACHED_BODY_BYTES else None
    body = cache.get(key) if cache is not None else None
    if body is None:
        pool: WorkerPool = request.app.state.pool
        body = orjson.dumps(await pool.run(function, *args))
        if cache is not None:
            cache.put(key, body)
    return json_response(body)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    raise TypeError(type(value).__name__)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.head("/distributions", include_in_schema=False)
@router.get("/distributions", response_model=DistributionsResponse, summary="The distribution families")
async def distributions(request: Request) -> Response:
    return cacheable(request, orjson.dumps(answers.catalogue()), max_age=3600)  # changes only with a deploy


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
