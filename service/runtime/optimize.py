"""The optimisation service: limits, a seed for sgd, and one worker task that runs the whole trajectory (compiled
once, every step under the worker's deadline and memory limit, and within its own time budget)."""

from __future__ import annotations

import secrets
from dataclasses import fields

from service.compute import optimize
from service.compute.errors import TooLarge, located
from service.compute.optimize import OptimizeAnswer, OptimizeQuery, OptimizeTask
from service.runtime.base import Service

TIME_BUDGET_SHARE = 0.8
"""The share of NABLA_COMPUTE_TIMEOUT a run may spend iterating: it then stops with its trajectory so far (reason
``time_budget``) rather than being killed with nothing to show."""


class OptimizeService(Service):
    def task(self, query: OptimizeQuery) -> OptimizeTask:
        settings = self.settings
        if query.max_iterations > settings.max_optimize_iterations:
            raise located(
                TooLarge,
                f"max_iterations is {query.max_iterations}; at most {settings.max_optimize_iterations} are allowed "
                "(NABLA_MAX_OPTIMIZE_ITERATIONS)",
                ("body", "max_iterations"),
            )
        if query.random and query.samples > settings.max_samples:
            raise located(
                TooLarge,
                f"{query.samples} samples per step were asked for; at most {settings.max_samples} are allowed "
                "(NABLA_MAX_SAMPLES)",
                ("body", "samples"),
            )
        seed = query.seed if query.seed is not None or not query.random else secrets.randbits(63)
        given = {field.name: getattr(query, field.name) for field in fields(query)} | {"seed": seed}
        return OptimizeTask(
            **given,
            time_budget=TIME_BUDGET_SHARE * settings.compute_timeout,
            iteration_limit=settings.max_optimize_iterations,
            limits=settings.limits(),
        )

    async def answer(self, query: OptimizeQuery) -> OptimizeAnswer:
        return OptimizeAnswer(await self.pool.run(optimize.run, self.task(query)))
