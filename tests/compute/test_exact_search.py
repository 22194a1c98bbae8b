"""The exact part of a stochastic answer: closed form or sum, how it was found, and a search that is remembered."""

from __future__ import annotations

from typing import Any

import mpmath
import pytest

from service.compute.limits import DEFAULT_LIMITS
from service.compute.stochastic import ModelSpec, RandomSpec, StochasticTask, derivative, run
from service.compute.stochastic.exact import ClosedForm, OutOfBudget

SQRT_POISSON = ("sqrt(X)", {"X": ("poisson", {"lam": "lam"})}, {"lam": 3.0})
SEARCHED_NONE = (
    "sympy.stats found no closed form; the outcome is remembered for this model, so identical requests do not "
    'search again (send "exact": true to search afresh, "exact": false to skip it)'
)
TIMED_OUT = (
    "no closed form was found within 2 s (NABLA_EXACT_TIMEOUT); the outcome is remembered for this model, so "
    'identical requests do not search again (send "exact": true to search afresh, "exact": false to skip it)'
)
REMEMBERED_TIMEOUT = (
    "no closed form was found within 2 s (NABLA_EXACT_TIMEOUT) in an earlier request for this model; it is "
    'remembered, so this request did not search again (send "exact": true to search afresh, "exact": false to '
    "skip it)"
)


def task(
    function: str, random: dict[str, tuple[str, dict[str, Any]]], at: dict[str, float], **kw: Any
) -> StochasticTask:
    laws = tuple(RandomSpec(name, family, tuple(params.items())) for name, (family, params) in random.items())
    spec = ModelSpec(function, laws, tuple(at), tuple(at), DEFAULT_LIMITS, 200_000)
    return StochasticTask(spec, tuple(at.items()), 2_000, 1, "auto", 0.95, kw.pop("exact", True), 2.0, **kw)


def sqrt_poisson_truth() -> tuple[Any, Any]:
    """E[sqrt(X)] and its derivative in lam for X ~ Poisson(3): mpmath at 40 digits over 0..299 (the rest < 1e-200)."""
    with mpmath.workdps(40):
        lam = mpmath.mpf(3)
        pmf = [mpmath.exp(k * mpmath.log(lam) - lam - mpmath.loggamma(k + 1)) for k in range(300)]
        value = mpmath.fsum(mpmath.sqrt(k) * pmf[k] for k in range(300))
        slope = mpmath.fsum(mpmath.sqrt(k) * (k / lam - 1) * pmf[k] for k in range(300))
        return value, slope


class Spy:
    """Stands in for the closed-form search: counts the searches and answers as told."""

    def __init__(self, answer: ClosedForm | type[Exception] | None) -> None:
        self.calls = 0
        self.answer = answer

    def __call__(self, *args: Any) -> ClosedForm | None:
        self.calls += 1
        if isinstance(self.answer, type):
            raise self.answer
        return self.answer


class TestMethod:
    def test_a_discrete_model_without_a_closed_form_is_summed(self) -> None:
        result = run(task(*SQRT_POISSON))
        value, slope = sqrt_poisson_truth()
        assert result.exact is not None
        assert float(abs(result.exact[0] - slope) / slope) <= 1e-12
        assert result.expected_value is not None
        assert float(abs(result.expected_value - value) / value) <= 1e-12
        assert (result.exact_method, result.search, result.expectation) == ("summation", "none", None)
        assert [(n.code, n.detail) for n in result.warnings if n.code == "no_closed_form"] == [
            ("no_closed_form", SEARCHED_NONE)
        ]

    def test_a_closed_form_says_so_with_its_value(self) -> None:
        # E[X^2] = lam + lam^2 for X ~ Poisson(lam).
        result = run(task("X^2", {"X": ("poisson", {"lam": "lam"})}, {"lam": 3.0}))
        assert (result.exact, result.exact_method, result.expected_value) == ((7.0,), "closed_form", 12.0)
        assert result.search == "found"
        assert not [n for n in result.warnings if n.code in ("no_closed_form", "no_exact_sum")]

    def test_a_continuous_model_without_a_closed_form_says_both_whys(self) -> None:
        result = run(task("X^2*theta", {"X": ("student_t", {"df": "theta"})}, {"theta": 5.0}))
        notes = {n.code: n.detail for n in result.warnings}
        assert (result.exact, result.exact_method) == (None, None)
        assert notes["no_closed_form"] == SEARCHED_NONE
        assert notes["no_exact_sum"] == (
            "the exact value was not summed either: summation needs every random variable discrete, and 'X' is "
            "student_t"
        )

    def test_exact_false_looks_for_nothing(self, monkeypatch: pytest.MonkeyPatch) -> None:
        spy = Spy(None)
        monkeypatch.setattr(derivative, "_closed_form", spy)
        result = run(task(*SQRT_POISSON, exact=False))
        assert (result.exact, result.exact_method, result.search, spy.calls) == (None, None, None, 0)
        assert not [n for n in result.warnings if n.code in ("no_closed_form", "no_exact_sum")]


class TestRemembered:
    def test_a_timeout_is_said_and_reported_for_the_memo(self, monkeypatch: pytest.MonkeyPatch) -> None:
        spy = Spy(OutOfBudget)
        monkeypatch.setattr(derivative, "_closed_form", spy)
        result = run(task(*SQRT_POISSON))
        assert (spy.calls, result.search, result.exact_method) == (1, "timed_out", "summation")
        assert [n.detail for n in result.warnings if n.code == "no_closed_form"] == [TIMED_OUT]

    def test_a_remembered_timeout_does_not_search_again(self, monkeypatch: pytest.MonkeyPatch) -> None:
        spy = Spy(OutOfBudget)
        monkeypatch.setattr(derivative, "_closed_form", spy)
        result = run(task(*SQRT_POISSON, remembered="timed_out"))
        assert (spy.calls, result.search, result.exact_method) == (0, None, "summation")
        assert [n.detail for n in result.warnings if n.code == "no_closed_form"] == [REMEMBERED_TIMEOUT]
        assert result.exact is not None
        assert float(abs(result.exact[0] - sqrt_poisson_truth()[1])) <= 1e-12 * 0.33
