"""The stochastic-derivative service: limits, a seed, and one worker task (symbolic work, draws and estimate, all
bounded by the worker's deadline and memory)."""

from __future__ import annotations

import secrets

from service.compute import stochastic
from service.compute.errors import TooLarge, located
from service.compute.stochastic import ModelSpec, StochasticAnswer, StochasticQuery, StochasticTask
from service.runtime.base import Service


class StochasticService(Service):
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
        return StochasticTask(
            spec,
            query.at,
            query.samples,
            seed,
            query.estimator,
            query.confidence,
            query.exact,
            settings.exact_timeout,
        )

    async def answer(self, query: StochasticQuery) -> StochasticAnswer:
        seed = query.seed if query.seed is not None else secrets.randbits(63)
        result = await self.pool.run(stochastic.run, self.task(query, seed))
        return StochasticAnswer(result, query, seed)
