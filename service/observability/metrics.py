"""Prometheus metrics of one app, served at ``GET /metrics``.

- HTTP: ``http_requests_total`` and the ``http_request_duration_seconds`` histogram by route template (``none``
  for a path that matches no route), method and status, and ``http_requests_inprogress``: the names and labels of
  prometheus-fastapi-instrumentator, counted by ``service.middleware.Observe`` in its one pass per request.
- Runtime: compiled-function cache hits and misses, worker timeouts, crashes and pool restarts, admission rejections,
  busy workers and queue depth. A collector reads them live from the counters the worker pool and the cache already
  keep, so nothing is counted twice.
- Process: CPU, memory and file descriptors of the web process.

Each app has its own ``CollectorRegistry``: tests build many apps in one process. The figures are those of one
process; under ``UVICORN_WORKERS=N`` a scrape sees whichever process answers it (see deploy/README.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.datastructures import State

from service.runtime.cache import LRUCache
from service.runtime.services import Services
from service.runtime.workers import WorkerPool

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HttpMetrics:
    """The HTTP metrics of one app, in its own registry with the runtime and process collectors. A labelled child
    is looked up once per (route, method, status) and kept: ``labels()`` takes a lock and builds a key each time."""

    def __init__(self, state: State) -> None:
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total", "Total number of requests by method, status and handler.",
            ("method", "status", "handler"), registry=registry,
        )  # fmt: skip
        self.latency = Histogram(
            "http_request_duration_seconds", "Latency with only few buckets by handler, method and status.",
            ("handler", "method", "status"), buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.in_progress = 0  # requests being served: a plain count on the event loop, read at each scrape
        registry.register(_InProgress(self))
        registry.register(RuntimeCollector(state))
        ProcessCollector(registry=registry)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, handler: str, method: str, status: int, seconds: float) -> None:
        key = (handler, method, status)
        children = self._children.get(key)
        if children is None:
            code = str(status)
            children = self.requests.labels(method, code, handler), self.latency.labels(handler, method, code)
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


class _InProgress(Collector):
    """``http_requests_inprogress``, read from ``HttpMetrics.in_progress`` (a Gauge would take a lock twice a
    request; the count changes only on the event loop, where the scrape reads it too)."""

    def __init__(self, metrics: HttpMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("http_requests_inprogress", "HTTP requests being served.", self.metrics.in_progress)


class RuntimeCollector(Collector):
    """The worker pool's and the compiled-function cache's own counters, read when Prometheus scrapes. Nothing is
    reported before the lifespan has started them."""

    def __init__(self, state: State) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        services = getattr(self.state, "services", None)
        if isinstance(services, Services):
            yield from _pool_metrics(services.pool)
            yield from _cache_metrics("compiled", "compiled functions", services.calculus.cache)
            yield from _cache_metrics("distribution_answers", "distribution answers", services.distributions.cache)
            yield from _cache_metrics("point_plans", "single-point answer plans", services.calculus.plans)
            yield from _cache_metrics(
                "closed_form_searches", "closed-form searches that found nothing", services.stochastic.searches
            )


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _pool_metrics(pool: WorkerPool) -> Iterator[Metric]:
    yield _counter(
        "nabla_worker_timeouts", "Symbolic tasks stopped at their deadline (422 too_complex).", pool.timeouts
    )
    yield _counter("nabla_worker_crashes", "Worker processes that died during a task (503).", pool.crashes)
    yield _counter(
        "nabla_worker_pool_restarts", "Workers replaced after a kill (one each; the others run on).", pool.replacements
    )
    yield _counter(
        "nabla_admission_rejections",
        "Symbolic tasks refused at once because the queue was full (503).",
        pool.rejections,
    )
    yield _gauge("nabla_workers", "Symbolic worker processes (NABLA_WORKERS).", pool.size)
    yield _gauge("nabla_workers_busy", "Workers running a task.", pool.busy)
    yield _gauge("nabla_queue_depth", "Admitted symbolic tasks waiting for a worker.", pool.queued)
    yield _gauge("nabla_admission_capacity", "Symbolic tasks that may run or wait at once.", pool.capacity)
    yield _gauge("nabla_ready", "1 when the workers are warm and the process is not shutting down.", int(pool.ready))


def _cache_metrics(name: str, what: str, cache: LRUCache[Any]) -> Iterator[Metric]:
    yield _counter(f"nabla_{name}_cache_hits", f"Requests served from the cache of {what}.", cache.hits)
    yield _counter(
        f"nabla_{name}_cache_misses", f"Requests that needed a worker: not in the cache of {what}.", cache.misses
    )
    yield _gauge(
        f"nabla_{name}_cache_entries", f"Entries held in the cache of {what} (NABLA_CACHE_SIZE at most).", len(cache)
    )
