"""The timer deadline of SymPy work (service/compute/deadline.py)."""

from __future__ import annotations

import time

import pytest

from service.compute.deadline import OutOfTime, deadline


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_work_past_its_time_is_stopped() -> None:
    with pytest.raises(OutOfTime), deadline(0.01):
        _spin(1.0)


def test_work_within_its_time_finishes() -> None:
    with deadline(1.0):
        _spin(0.001)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_raise_python_discards_still_ends_the_block_out_of_time() -> None:
    class Slow:
        def __del__(self) -> None:  # the alarm lands here, where Python prints the raise and drops it
            _spin(0.01)

    with pytest.raises(OutOfTime), deadline(0.001):
        Slow()  # deleted at once; the block then ends before the alarm repeats (50 ms)


def test_an_alarm_after_the_block_is_harmless() -> None:
    with deadline(0.001):
        pass
    _spin(0.1)  # the timer is off: nothing is raised here
