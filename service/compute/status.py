"""The status of a point: one code, used by the float evaluation, the exact values and the presentation."""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """Why a point's values are (not) an answer. The number is what batches store; the name is what JSON says."""

    OK = 0
    DOMAIN_ERROR = 1  # a function is undefined or not real at the point
    NON_FINITE = 2  # a function is infinite there, or a value exceeds float64
    NON_DIFFERENTIABLE = 3  # a derivative does not exist there (kink, cusp, jump, branch point) or is infinite

    @property
    def label(self) -> str:
        return self.name.lower()


STATUS_DETAIL = {
    Status.DOMAIN_ERROR.label: "the function is undefined or not real at this point",
    Status.NON_FINITE.label: "the function is infinite at this point, or its value exceeds the float64 range",
    Status.NON_DIFFERENTIABLE.label: (
        "a derivative does not exist here (a kink, cusp, jump or branch point) or is infinite"
    ),
}
