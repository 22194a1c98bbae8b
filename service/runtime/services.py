"""The services of one application, built by its lifespan over one worker pool."""

from __future__ import annotations

from dataclasses import dataclass

from service.config import Settings
from service.runtime.calculus import CalculusService
from service.runtime.distributions import DistributionService
from service.runtime.geometry import CriticalPointsService, LevelSetService, TaylorService
from service.runtime.matrix import MatrixService
from service.runtime.optimize import OptimizeService
from service.runtime.plots import PlotService
from service.runtime.stochastic import StochasticService
from service.runtime.workers import WorkerPool


@dataclass(frozen=True)
class Services:
    """One service object per area, all sharing the pool."""

    pool: WorkerPool
    calculus: CalculusService
    stochastic: StochasticService
    distributions: DistributionService
    optimize: OptimizeService
    plots: PlotService
    taylor: TaylorService
    level_set: LevelSetService
    critical_points: CriticalPointsService
    matrix: MatrixService

    @classmethod
    def of(cls, settings: Settings) -> Services:
        pool = WorkerPool(
            settings.workers,
            settings.compute_timeout,
            settings.worker_memory_mb,
            max_queue=settings.max_queue,
            retry_after=settings.retry_after,
        )
        return cls(
            pool,
            CalculusService(settings, pool),
            StochasticService(settings, pool),
            DistributionService(settings, pool),
            OptimizeService(settings, pool),
            PlotService(settings, pool),
            TaylorService(settings, pool),
            LevelSetService(settings, pool),
            CriticalPointsService(settings, pool),
            MatrixService(settings, pool),
        )
