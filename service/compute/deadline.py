"""A deadline for SymPy work that cannot be interrupted from outside: a timer signal raises inside it.

SymPy's integrators and solvers may run for minutes on a small input. The worker pool kills a task past the request's
deadline, but a task that wants to try something else when one step is too slow (a closed form, then a numeric
estimate; a symbolic solve, then a numeric search) bounds that step itself with ``deadline``. The signal is delivered
to the main thread only: this runs in a worker process's main thread (or a test's).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["OutOfTime", "deadline"]


class OutOfTime(Exception):
    """Raised inside the ``deadline`` block when its time is up."""


_armed = [False]  # whether an alarm may raise: a signal that arrives while the deadline is being disarmed must not
_fired = [False]  # whether the time ran out: a raise Python discarded still means the block overran


def _alarm(signum: int, frame: FrameType | None) -> None:
    if _armed[0]:
        _fired[0] = True
        raise OutOfTime


_REPEAT = 0.05  # s: a raise that lands where Python discards it (a __del__, a gc callback) is tried again


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise ``OutOfTime`` inside the block once ``seconds`` have passed (and every 50 ms after, until it ends); a
    block that ends after its time ran out, because the raise landed where Python discards it, raises it at its
    end."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    _fired[0] = False
    _armed[0] = True
    signal.setitimer(signal.ITIMER_REAL, seconds, _REPEAT)
    try:
        yield
    finally:
        _armed[0] = False  # first: from here on an alarm is a no-op, wherever it lands
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if _fired[0]:
        raise OutOfTime
