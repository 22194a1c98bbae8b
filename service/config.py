"""Service settings: every limit and knob, read from ``NABLA_*`` environment variables; how ``python -m service``
runs uvicorn, from ``UVICORN_*`` ones.

``get_settings()`` is cached; tests build their own ``Settings(...)`` and pass it to ``create_app``. The settings
tables of deploy/README.md list every field of both classes (tests/test_settings.py checks it).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.compute import limits as default
from service.compute.limits import Limits

_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s,]+")


def _default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


class Settings(BaseSettings):
    """Configuration of one Nabla process. Each field maps to ``NABLA_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="NABLA_", frozen=True)

    # Expression language (static limits, checked while parsing).
    max_expression_length: int = Field(default.MAX_EXPRESSION_LENGTH, ge=1, description="Characters in one expression.")
    max_expression_nodes: int = Field(
        default.MAX_EXPRESSION_NODES, ge=1, description="Syntax-tree nodes in one expression."
    )
    max_expression_depth: int = Field(
        default.MAX_EXPRESSION_DEPTH, ge=1, le=400, description="Nesting depth of one expression."
    )
    max_literal_digits: int = Field(
        default.MAX_LITERAL_DIGITS,
        ge=1,
        le=4_000,
        description="Significant digits in one numeric literal (1000! has 2568).",
    )
    max_literal_exponent: int = Field(
        default.MAX_LITERAL_EXPONENT, ge=1, description="Magnitude of a literal's decimal exponent."
    )
    max_power_bits: int = Field(
        default.MAX_POWER_BITS,
        ge=64,
        description="Bits an exact number (a power, a product) may have: about 2700 digits.",
    )
    max_functions: int = Field(default.MAX_FUNCTIONS, ge=1, description="Functions in one Jacobian request.")
    max_variables: int = Field(default.MAX_VARIABLES, ge=1, description="Variables (and parameters) in one request.")

    # Symbolic work (checked in the workers).
    max_order: int = Field(default.MAX_ORDER, ge=1, description="Highest derivative order.")
    max_result_nodes: int = Field(
        default.MAX_RESULT_NODES, ge=1, description="Nodes the derivatives may hold, all together."
    )
    compute_timeout: float = Field(default.COMPUTE_TIMEOUT, gt=0, description="Seconds one symbolic task may run.")
    exact_timeout: float = Field(
        default.EXACT_TIMEOUT, gt=0, description="Seconds the exact values at an exact point may take."
    )
    max_digits: int = Field(
        default.MAX_DIGITS, ge=1, le=default.HARD_MAX_DIGITS, description="Significant digits a request may ask for."
    )
    max_check_values: int = Field(
        default.MAX_CHECK_VALUES,
        ge=0,
        description="Coordinates of the points f is evaluated at by `check: true` (points x evaluations x inputs).",
    )
    max_exact_strings: int = Field(
        default.MAX_EXACT_STRINGS, ge=0, description="Different exact strings in one request."
    )
    worker_memory_mb: int = Field(default.WORKER_MEMORY_MB, ge=256, description="Address-space limit of a worker, MiB.")
    workers: int = Field(default_factory=_default_workers, ge=1, description="Symbolic worker processes.")
    max_queue: int | None = Field(
        None,
        ge=0,
        description=(
            "Symbolic tasks that may wait for a busy worker; one more gets a fast 503 with Retry-After. "
            "Default: 4 per worker."
        ),
    )
    retry_after: int = Field(
        1, ge=1, description="Seconds a 503 asks the client to wait (Retry-After): at capacity, worker died, not ready."
    )

    # Numeric work (in the web process).
    max_points: int = Field(default.MAX_POINTS, ge=1, description="Points in one batch.")
    max_output_values: int = Field(
        default.MAX_OUTPUT_VALUES, ge=1, description="Numbers in one answer: points x entries (a Hessian has n x n)."
    )
    max_body_bytes: int = Field(default.MAX_BODY_BYTES, ge=1024, description="Bytes in one request body.")
    max_header_bytes: int = Field(
        default.MAX_HEADER_BYTES, ge=1024, description="Bytes of one request's request line and headers (431 above)."
    )
    inline_batch_values: int = Field(
        default.INLINE_BATCH_VALUES, ge=1, description="Above this many numbers a batch runs off the event loop."
    )
    cache_size: int = Field(
        default.CACHE_SIZE, ge=0, description="Compiled functions kept (LRU); also models without a closed form."
    )
    matrix_max_work: int = Field(
        default.MATRIX_MAX_WORK, ge=1, description="Entries of all intermediate arrays of one matrix evaluation."
    )
    fast_path: bool = Field(
        True, description="Answer small repeated calculus requests on the lean path (service/api/fast.py)."
    )
    refine_points: int = Field(
        default.REFINE_POINTS, ge=0, description="Non-finite points re-checked at high precision per request."
    )
    max_warnings: int = Field(default.MAX_WARNINGS, ge=0, description="Per-point warnings listed in one response.")

    # Stochastic derivatives (drawn and averaged in the workers, within compute_timeout and worker_memory_mb).
    max_samples: int = Field(
        default.MAX_SAMPLES, ge=10, description="Monte Carlo draws in one stochastic-derivative request."
    )
    max_series_terms: int = Field(
        default.MAX_SERIES_TERMS, ge=1, description="Terms of one exact sum over a discrete model."
    )

    # Optimisation (/v1/optimize: one worker task per run, within compute_timeout).
    max_optimize_iterations: int = Field(
        default.MAX_OPTIMIZE_ITERATIONS,
        ge=1,
        le=default.HARD_MAX_OPTIMIZE_ITERATIONS,
        description="Iterations one /v1/optimize run may take (max_iterations above it is a 413).",
    )

    # Geometry (Taylor polynomials and critical points, in the workers within compute_timeout).
    max_taylor_terms: int = Field(
        default.MAX_TAYLOR_TERMS, ge=1, description="Coefficients of one Taylor polynomial (n + k choose k)."
    )
    critical_starts: int = Field(
        default.CRITICAL_STARTS, ge=2, le=4_096, description="Starts of the numeric search for critical points."
    )
    max_critical_points: int = Field(
        default.MAX_CRITICAL_POINTS, ge=1, description="Critical points listed in one answer."
    )

    # Distributions.
    max_distribution_values: int = Field(
        default.MAX_DISTRIBUTION_VALUES,
        ge=1,
        description="Values in one of x, q or data of a distribution request (413 above).",
    )

    # Operations.
    gzip_min_bytes: int = Field(
        65_536,
        ge=0,
        description=(
            "Responses at least this large are gzipped for clients that accept gzip (smaller ones cost more CPU "
            "to compress than they save on a fast network)."
        ),
    )
    gzip_level: int = Field(
        1, ge=1, le=9, description="gzip level: 1 packs a 6 MB batch response to 49% in 0.15 s, 9 to 46% in 1.3 s."
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="Level of the service's and uvicorn's logs."
    )
    log_format: Literal["json", "plain"] = Field("json", description="One JSON object per log line, or plain text.")
    cors_origins: str = Field(
        "",
        description=(
            "Origins whose browser pages may call the API (CORS): a comma-separated list such as "
            "'https://app.example,http://localhost:3000', or '*' for any origin. Empty (the default): CORS is off."
        ),
    )

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        """The list without blanks; each entry ``*`` or ``scheme://host[:port]``, as browsers send ``Origin``."""
        origins = [origin.strip() for origin in value.split(",") if origin.strip()]
        for origin in origins:
            if origin != "*" and _ORIGIN.fullmatch(origin) is None:
                raise ValueError(
                    f"{origin!r} is not an origin: give scheme://host[:port] with no path and no trailing slash "
                    "(https://app.example), or * for any origin"
                )
        return ",".join(origins)

    def cors_origin_list(self) -> list[str]:
        """The origins CORS allows (none: CORS is off)."""
        return self.cors_origins.split(",") if self.cors_origins else []

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


class ServerSettings(BaseSettings):
    """How ``python -m service`` runs uvicorn. Each field maps to ``UVICORN_<FIELD>``, the variables uvicorn's own
    command line reads too."""

    model_config = SettingsConfigDict(env_prefix="UVICORN_", frozen=True)

    host: str = Field("127.0.0.1", description="Address to listen on (0.0.0.0 in a container).")
    port: int = Field(8000, ge=0, le=65_535, description="TCP port.")
    workers: int = Field(1, ge=1, description="Web processes, each with its own NABLA_WORKERS symbolic workers.")
    timeout_keep_alive: int = Field(
        5, ge=1, description="Seconds an idle keep-alive connection stays open after a response."
    )
    timeout_graceful_shutdown: int = Field(
        20, ge=1, description="Seconds in-flight requests may take to finish after SIGTERM before they are cancelled."
    )
    limit_concurrency: int | None = Field(
        None, ge=1, description="Connections plus tasks above which uvicorn answers 503 at once (default: no limit)."
    )


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
