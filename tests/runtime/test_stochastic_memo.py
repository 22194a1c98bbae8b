"""The stochastic service remembers a closed-form search that found nothing, per model, for every worker: a spy in
place of the search counts how often identical requests search (an in-process pool runs the worker's task)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from service.compute.stochastic import RandomSpec, StochasticQuery, derivative
from service.compute.stochastic.exact import OutOfBudget
from service.config import Settings
from service.runtime.stochastic import StochasticService

pytestmark = pytest.mark.anyio


class InProcess:
    """A worker pool that runs the task here (so that a monkeypatched search is the one called)."""

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        return function(*args)


class Search:
    """Counts searches; times out while ``timing_out``, then finds nothing (as SymPy does when it returns None)."""

    def __init__(self) -> None:
        self.calls = 0
        self.timing_out = True

    def __call__(self, *args: Any) -> None:
        self.calls += 1
        if self.timing_out:
            raise OutOfBudget


def query(exact: bool | None = None, lam: float = 3.0) -> StochasticQuery:
    random = (RandomSpec("X", "poisson", (("lam", "lam"),)),)
    return StochasticQuery("sqrt(X)", random, (("lam", lam),), ("lam",), 2_000, seed=1, exact=exact)


@pytest.fixture
def search(monkeypatch: pytest.MonkeyPatch) -> Search:
    spy = Search()
    monkeypatch.setattr(derivative, "_closed_form", spy)
    return spy


@pytest.fixture
def service() -> StochasticService:
    return StochasticService(Settings(workers=1), InProcess())  # type: ignore[arg-type]


def codes(answer: Any) -> list[str]:
    return [n.code for n in answer.result.warnings]


class TestMemo:
    async def test_the_second_identical_request_does_not_search(self, search: Search, service: Any) -> None:
        first = await service.answer(query())
        second = await service.answer(query())
        assert search.calls == 1
        assert (first.result.search, second.result.search) == ("timed_out", None)
        assert "no_closed_form" in codes(first)
        assert "no_closed_form" in codes(second)
        assert second.result.exact == first.result.exact  # the sum, both times
        assert (service.searches.hits, len(service.searches)) == (1, 1)

    async def test_another_point_of_the_same_signs_is_the_same_model(self, search: Search, service: Any) -> None:
        await service.answer(query(lam=3.0))
        await service.answer(query(lam=7.5))
        assert search.calls == 1

    async def test_exact_true_searches_afresh_and_false_not_at_all(self, search: Search, service: Any) -> None:
        await service.answer(query())
        await service.answer(query(exact=True))
        assert search.calls == 2
        off = await service.answer(query(exact=False))
        assert search.calls == 2
        assert off.result.exact is None
        assert "no_closed_form" not in codes(off)

    async def test_a_fresh_search_replaces_the_memory(self, search: Search, service: Any) -> None:
        await service.answer(query())
        search.timing_out = False  # SymPy now answers at once that there is none
        await service.answer(query(exact=True))
        await service.answer(query())
        assert search.calls == 2
        assert service.searches.peek(service._key(service.task(query(), 1).model, query())) == "none"
