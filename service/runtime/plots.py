"""The plot service: one worker task draws the picture (matplotlib's Agg canvas, under the worker's deadline and
memory limit); pictures are deterministic, so small ones are kept and a repeated request touches no worker."""

from __future__ import annotations

from dataclasses import fields

from service.compute import plots
from service.compute.plots import PlotAnswer, PlotQuery, PlotResult, PlotTask
from service.config import Settings
from service.runtime.base import Service
from service.runtime.cache import LRUCache
from service.runtime.workers import WorkerPool

KEPT_PICTURES = 64
KEPT_PICTURE_BYTES = 512 * 1024
"""Pictures kept (LRU), each at most this large: a few tens of MB at worst."""


class PlotService(Service):
    def __init__(self, settings: Settings, pool: WorkerPool) -> None:
        super().__init__(settings, pool)
        self.pictures = LRUCache[PlotResult](KEPT_PICTURES if settings.cache_size else 0)

    def task(self, query: PlotQuery) -> PlotTask:
        given = {field.name: getattr(query, field.name) for field in fields(query)}
        return PlotTask(**given, limits=self.settings.limits())

    async def answer(self, query: PlotQuery) -> PlotAnswer:
        task = self.task(query)
        keep = _hashable(task)
        result = self.pictures.get(task) if keep else None
        if result is None:
            result = await self.pool.run(plots.run, task)
            if keep and len(result.image) <= KEPT_PICTURE_BYTES:
                self.pictures.put(task, result)
        return PlotAnswer(result)


def _hashable(task: PlotTask) -> bool:
    """False for a malformed point (an object inside an array): not kept, and the worker refuses it with a 422."""
    try:
        hash(task)
    except TypeError:
        return False
    return True
