"""The ASGI application: ``create_app(settings)`` builds it; ``app`` is what uvicorn serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from service import __version__
from service.api import calculus, distributions, geometry, health, matrix, optimize, plots, stochastic
from service.api.bodies import MSGPACK_TYPES
from service.api.fast import CachedCalculus
from service.config import Settings, get_settings
from service.errors import add_exception_handlers
from service.middleware import CORS, BodyLimit, Observe, Unhandled
from service.observability.metrics import HttpMetrics
from service.openapi import customise_openapi
from service.runtime.services import Services

DESCRIPTION = """Exact symbolic derivatives and their values, fast.

Send a function in Nabla's expression grammar and, optionally, a point (`at`) or a batch (`points`). Every error is
an `application/problem+json` document that says what is wrong and where."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """A Nabla application with its own settings, worker pool, cache and metrics registry (the pool and the cache
    are started by the lifespan; the pool is closed after the server has drained its requests)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.of(settings)
        app.state.services = services
        try:
            await services.pool.warm()
            yield
        finally:
            services.pool.close()

    app = FastAPIOffline(
        title="Nabla",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.settings = settings
    app.include_router(calculus.router)
    app.include_router(distributions.router)
    app.include_router(stochastic.router)
    app.include_router(optimize.router)
    app.include_router(plots.router)
    app.include_router(geometry.router)
    app.include_router(matrix.router)
    app.include_router(health.router)
    app.add_middleware(Unhandled)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    # Outermost last: request id, metrics and access log in one pass, then CORS, then gzip.
    # msgpack answers are left alone: float64 bits barely compress, and gzip would hold a copy of a streamed answer.
    app.add_middleware(
        GZipMiddleware,
        minimum_size=settings.gzip_min_bytes,
        compresslevel=settings.gzip_level,
        exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, *sorted(MSGPACK_TYPES)),
    )
    # Cache hits, outside gzip, the body limit and the last resort (service/api/fast.py says why that is the same).
    calculus_routes = [r for r in calculus.router.routes if isinstance(r, APIRoute)]
    app.add_middleware(CachedCalculus, routes=calculus_routes, settings=settings)
    if settings.cors_origins:  # inside the access log, outside every response: errors are readable cross-origin too
        app.add_middleware(CORS, origins=settings.cors_origin_list())
    metrics = HttpMetrics(app.state)
    app.state.metrics = metrics.registry
    app.add_middleware(Observe, metrics=metrics)
    add_exception_handlers(app)
    customise_openapi(app)
    return app


app = create_app()
