"""Every limit of the service and its default, stated once.

``Settings`` (``service/config.py``) takes its defaults from here, the schemas quote them in their descriptions, and
the compute layer takes the parser's static limits as a ``Limits`` value. Hard ceilings (``HARD_*``) bound what the
request schemas accept at all, before any setting is consulted, so that memory stays bounded whatever the settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.compute.errors import LimitExceeded, located

# The expression language (checked while parsing).
MAX_EXPRESSION_LENGTH = 10_000
MAX_EXPRESSION_NODES = 5_000
MAX_EXPRESSION_DEPTH = 100
MAX_LITERAL_DIGITS = 3_000
MAX_LITERAL_EXPONENT = 400
MAX_POWER_BITS = 9_000
MAX_FUNCTIONS = 64
MAX_VARIABLES = 64

# Symbolic work (checked in the workers).
MAX_ORDER = 1_000
MAX_RESULT_NODES = 200_000
COMPUTE_TIMEOUT = 10.0
EXACT_TIMEOUT = 2.0
MAX_EXACT_STRINGS = 1_000
MAX_DIGITS = 1_000  # significant digits of the decimal values (`digits`)
MAX_CHECK_VALUES = 10_000_000  # coordinates of the points f is evaluated at by `check: true` (80 MB)
WORKER_MEMORY_MB = 2_048

# Numeric work (in the web process).
MAX_POINTS = 2_000_000
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024  # the request line and headers of one request (431 above)
INLINE_BATCH_VALUES = 20_000
MAX_OUTPUT_VALUES = 20_000_000  # numbers in one answer (points x entries); sized in deploy/README.md "Memory"
CACHE_SIZE = 512
REFINE_POINTS = 32
MATRIX_MAX_WORK = 60_000_000  # entries of all intermediate arrays of one matrix-derivative evaluation (~480 MB)
MAX_WARNINGS = 20

# Probability.
MAX_SAMPLES = 2_000_000
MAX_SERIES_TERMS = 1_000_000  # terms of one exact sum over a discrete model (the box of counts it walks)
MAX_DISTRIBUTION_VALUES = 1_000_000

# Optimisation (each run is one worker task).
MAX_OPTIMIZE_ITERATIONS = 10_000
# Geometry (symbolic work in the workers, within compute_timeout).
MAX_TAYLOR_TERMS = 10_000
CRITICAL_STARTS = 128
MAX_CRITICAL_POINTS = 100

# Ceilings of the request schemas: what no setting can raise.
HARD_MAX_ORDER = 100_000
HARD_MAX_DIGITS = 100_000
HARD_MAX_SAMPLES = 100_000_000
HARD_MAX_COORDINATES = 1_024
HARD_MAX_DISTRIBUTION_VALUES = 10_000_000
HARD_MAX_OPTIMIZE_ITERATIONS = 100_000


@dataclass(frozen=True)
class Limits:
    """Bounds that keep parsing and exact arithmetic cheap whatever the input."""

    max_length: int = MAX_EXPRESSION_LENGTH
    max_nodes: int = MAX_EXPRESSION_NODES
    max_depth: int = MAX_EXPRESSION_DEPTH
    max_literal_digits: int = MAX_LITERAL_DIGITS
    max_literal_exponent: int = MAX_LITERAL_EXPONENT
    max_power_bits: int = MAX_POWER_BITS


DEFAULT_LIMITS = Limits()


def check_variable_count(variables: int, parameters: int, limit: int) -> None:
    """The one check (and message) of how many names a request may have: before a worker when the names are
    given, in the worker once the function's own names are known."""
    if variables + parameters <= limit:
        return
    raise located(
        LimitExceeded,
        f"the function has {variables} variables and {parameters} parameters; together they may be at most "
        f"{limit} (NABLA_MAX_VARIABLES)",
        ("body", "variables"),
    )
