"""The stochastic-derivative service: limits, a seed, and one worker task (symbolic work, draws and estimate, all
bounded by the worker's deadline and memory).

A closed-form search that found nothing (SymPy gave up, or ran out of NABLA_EXACT_TIMEOUT) is remembered here, per
model and signs of the point, for every worker: an identical request does not search again (``exact: true`` asks
for a fresh search, ``exact: false`` for none).
"""

from __future__ import annotations

import secrets
from collections.abc import Hashable

from service.compute import stochastic
from service.compute.errors import TooLarge, located
from service.compute.stochastic import ModelSpec, StochasticAnswer, StochasticQuery, StochasticTask
from service.compute.stochastic.exact import Search, signs
from service.config import Settings
from service.runtime.base import Service
from service.runtime.cache import LRUCache
from service.runtime.workers import WorkerPool


class StochasticService(Service):
    def __init__(self, settings: Settings, pool: WorkerPool) -> None:
        super().__init__(settings, pool)
        self.searches: LRUCache[Search] = LRUCache(settings.cache_size)  # closed forms not found, per model

    def task(self, query: StochasticQuery, seed: int) -> StochasticTask:
        settings = self.settings
        if query.samples > settings.max_samples:
            raise located(
                TooLarge,
                f"{query.samples} samples were asked for; at most {settings.max_samples} are allowed "
                "(NABLA_MAX_SAMPLES): ask for fewer and use the standard error to judge the precision",
                ("body", "samples"),
            )
        names = tuple(name for name, _ in query.at)
        spec = ModelSpec(query.function, query.random, names, query.wrt, settings.limits(), settings.max_result_nodes)
        remembered = self.searches.get(self._key(spec, query)) if query.exact is None else None
        return StochasticTask(
            spec,
            query.at,
            query.samples,
            seed,
            query.estimator,
            query.confidence,
            query.exact is not False,
            settings.exact_timeout,
            remembered,
            settings.max_series_terms,
        )

    def _key(self, spec: ModelSpec, query: StochasticQuery) -> Hashable:
        return spec, signs(query.at), self.settings.exact_timeout

    async def answer(self, query: StochasticQuery) -> StochasticAnswer:
        seed = query.seed if query.seed is not None else secrets.randbits(63)
        task = self.task(query, seed)
        result = await self.pool.run(stochastic.run, task)
        if result.search in ("none", "timed_out"):
            self.searches.put(self._key(task.model, query), result.search)
        elif result.search == "found":  # a fresh search (exact: true) may find what an earlier one did not
            self.searches.discard(self._key(task.model, query))
        return StochasticAnswer(result, query, seed)
