"""Static limits of the expression language, checked while text becomes a tree."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Bounds that keep parsing and exact arithmetic cheap whatever the input."""

    max_length: int = 10_000
    max_nodes: int = 5_000
    max_depth: int = 100
    max_literal_digits: int = 3_000
    max_literal_exponent: int = 400
    max_power_bits: int = 9_000


DEFAULT_LIMITS = Limits()
