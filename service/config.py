"""Service settings: every limit and knob, read from ``NABLA_*`` environment variables.

``get_settings()`` is cached; tests build their own ``Settings(...)`` and pass it to ``create_app``.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.compute.limits import Limits


def _default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


class Settings(BaseSettings):
    """Configuration of one Nabla process. Each field maps to ``NABLA_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="NABLA_", frozen=True)

    # Expression language (static limits, checked while parsing).
    max_expression_length: int = Field(10_000, ge=1, description="Characters in one expression.")
    max_expression_nodes: int = Field(5_000, ge=1, description="Syntax-tree nodes in one expression.")
    max_expression_depth: int = Field(100, ge=1, le=400, description="Nesting depth of one expression.")
    max_literal_digits: int = Field(
        3_000, ge=1, le=4_000, description="Significant digits in one numeric literal (1000! has 2568)."
    )
    max_literal_exponent: int = Field(400, ge=1, description="Magnitude of a literal's decimal exponent.")
    max_power_bits: int = Field(
        9_000, ge=64, description="Bits an exact number (a power, a product) may have: about 2700 digits."
    )
    max_functions: int = Field(64, ge=1, description="Functions in one Jacobian request.")
    max_variables: int = Field(64, ge=1, description="Variables (and parameters) in one request.")

    # Symbolic work (checked in the workers).
    max_order: int = Field(1_000, ge=1, description="Highest derivative order.")
    max_result_nodes: int = Field(200_000, ge=1, description="Nodes the derivatives may hold, all together.")
    compute_timeout: float = Field(10.0, gt=0, description="Seconds one symbolic task may run.")
    exact_timeout: float = Field(2.0, gt=0, description="Seconds the exact values at an exact point may take.")
    max_exact_strings: int = Field(1_000, ge=0, description="Different exact strings in one request.")
    worker_memory_mb: int = Field(2_048, ge=256, description="Address-space limit of a worker, MiB.")
    workers: int = Field(default_factory=_default_workers, ge=1, description="Symbolic worker processes.")

    # Numeric work (in the web process).
    max_points: int = Field(2_000_000, ge=1, description="Points in one batch.")
    max_body_bytes: int = Field(64 * 1024 * 1024, ge=1024, description="Bytes in one request body.")
    inline_batch_values: int = Field(
        20_000, ge=1, description="Above this many numbers a batch runs off the event loop."
    )
    cache_size: int = Field(512, ge=0, description="Compiled functions kept (LRU).")
    refine_points: int = Field(32, ge=0, description="Non-finite points re-checked at high precision per request.")
    max_warnings: int = Field(20, ge=0, description="Per-point warnings listed in one response.")

    # Stochastic derivatives (drawn and averaged in the workers, within compute_timeout and worker_memory_mb).
    max_samples: int = Field(2_000_000, ge=10, description="Monte Carlo draws in one stochastic-derivative request.")

    def limits(self) -> Limits:
        """The parser's static limits, as the compute layer takes them."""
        return Limits(
            max_length=self.max_expression_length,
            max_nodes=self.max_expression_nodes,
            max_depth=self.max_expression_depth,
            max_literal_digits=self.max_literal_digits,
            max_literal_exponent=self.max_literal_exponent,
            max_power_bits=self.max_power_bits,
        )


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
