"""A picture's answer is the image itself: its bytes and its media type."""

from __future__ import annotations

from service.compute.plots import PlotAnswer


def present(answer: PlotAnswer) -> bytes:
    return answer.result.image


def media_type(answer: PlotAnswer) -> str:
    return answer.result.media_type
