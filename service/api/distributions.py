"""Distribution endpoints: the catalogue, statistics at given parameters, and maximum-likelihood fits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from service.api.caching import cacheable
from service.api.deps import Distributions
from service.api.routing import JSONRoute, reply
from service.present import distributions as present
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


@router.head("/distributions", include_in_schema=False)
@router.get(
    "/distributions",
    response_model=DistributionsResponse,
    summary="The distribution families",
    description=(
        "Every family with its parameters (name, constraint, description), support and convention. Cacheable: "
        "a strong `ETag` and `Cache-Control`; `If-None-Match` with the tag gets a 304."
    ),
    responses={304: {"description": "Not modified: the catalogue is the one the client holds (its ETag matched)."}},
)
async def distributions(request: Request) -> Response:
    return cacheable(request, present.catalogue(), max_age=3600)  # changes only with a deploy


@router.post(
    "/distributions/{family}/statistics",
    response_model=StatisticsResponse,
    summary="Statistics, densities, quantiles, closed forms and likelihood of one distribution",
    description=(
        "Moments, entropy, median and mode at `parameters`; with `x` the pdf or pmf, its log, the cdf and sf; with "
        "`q` the quantiles; with `exact` the closed forms; with `data` the log-likelihood, score and information."
    ),
)
async def statistics(family: Family, body: StatisticsRequest, service: Distributions) -> Response:
    return await reply(service, present.statistics_body, await service.statistics(body.to_query(family)))


@router.post(
    "/distributions/{family}/fit",
    response_model=FitResponse,
    summary="Maximum-likelihood estimate with standard errors and Fisher information",
    description=(
        "The maximum-likelihood estimate of the family's parameters from `data` (some may be `fixed`), standard "
        "errors from the inverse Fisher information, Wald intervals, and the likelihood quantities there."
    ),
)
async def fit(family: Family, body: FitRequest, service: Distributions) -> Response:
    return await reply(service, present.fit_body, await service.fit(body.to_query(family)))
