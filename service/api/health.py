"""Operations: liveness (``/healthz``), readiness (``/readyz``) and Prometheus metrics (``/metrics``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from service.compute.errors import ServiceUnavailable
from service.runtime.services import Services
from service.schemas.operations import Health

router = APIRouter(tags=["operations"])

_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "Not ready: the workers are starting, or the process is shutting down.",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}
_METRICS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Prometheus text exposition format (OpenMetrics when the scraper asks for it).",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/healthz",
    response_model=Health,
    summary="Liveness: the process answers",
    description="200 while the process serves HTTP; it never looks at the workers (see /readyz). Also HEAD.",
)
async def healthz() -> Health:
    return Health(status="ok")


@router.head("/healthz", include_in_schema=False)
async def healthz_head() -> Response:
    return Response(media_type="application/json")


@router.get(
    "/readyz",
    response_model=Health,
    responses=_NOT_READY,
    summary="Readiness: the workers are started and warm",
    description="200 once every symbolic worker has started and imported the engine; 503 before and while shutting "
    "down. Also HEAD.",
)
async def readyz(request: Request) -> Health:
    _check_ready(request)
    return Health(status="ready")


@router.head("/readyz", include_in_schema=False)
async def readyz_head(request: Request) -> Response:
    _check_ready(request)
    return Response(media_type="application/json")


def _check_ready(request: Request) -> None:
    services: Services | None = getattr(request.app.state, "services", None)
    pool = None if services is None else services.pool
    if pool is not None and pool.ready:
        return
    state = "shutting down" if pool is not None and pool.closing else "starting its workers"
    retry = pool.retry_after if pool is not None else request.app.state.settings.retry_after
    raise ServiceUnavailable(f"not ready: the process is {state}", headers={"Retry-After": str(retry)})


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses=_METRICS,
    summary="Prometheus metrics",
    description="Requests, latencies, the worker pool and the caches of this process, in Prometheus text format.",
)
async def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.metrics
    encode, media_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(registry), media_type=media_type)


@router.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    return RedirectResponse("/docs")
