"""What an optimisation run is asked to do, what it gives back, and the limits that bound it.

Plain values in (``OptimizeTask``), a frozen, picklable result out (``OptimizeResult``): a worker runs the whole
trajectory, so every step is under the worker's deadline and memory limit, and the run itself stops early (with its
trajectory so far) when its own ``time_budget`` is spent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from service.compute.limits import DEFAULT_LIMITS, MAX_OPTIMIZE_ITERATIONS, Limits
from service.compute.notes import Note
from service.compute.stochastic.model import Estimator, RandomSpec
from service.compute.trust import Provenance

Method = Literal["gradient_descent", "momentum", "nesterov", "newton", "natural_gradient", "adam", "sgd"]
LineSearch = Literal["none", "backtracking"]
Reason = Literal[
    "gradient_norm",  # converged: the gradient norm is at most the tolerance
    "step_size",  # the step became shorter than step_tolerance (relative to the point)
    "max_iterations",  # the iteration budget is spent
    "time_budget",  # the run's time budget is spent (the trajectory so far is returned)
    "diverged",  # the iterates or f grew without bound, or overflowed float64
    "left_domain",  # f (or a law's parameters) is undefined at the next iterate
    "not_differentiable",  # the gradient does not exist at the iterate (a kink)
    "line_search_failed",  # no step along the direction decreases f (a minimum to float64 precision, or a kink)
]
Coordinate = float | str  # a number or an exact string ("pi/4")
Start = tuple[Coordinate, ...] | tuple[tuple[str, Coordinate], ...]  # in variables order, or (name, value) pairs

REASONS: tuple[str, ...] = (
    "gradient_norm",
    "step_size",
    "max_iterations",
    "time_budget",
    "diverged",
    "left_domain",
    "not_differentiable",
    "line_search_failed",
)
METHODS: tuple[str, ...] = ("gradient_descent", "momentum", "nesterov", "newton", "natural_gradient", "adam", "sgd")
LINE_SEARCH_METHODS: tuple[str, ...] = ("gradient_descent", "newton", "natural_gradient")

MAX_ITERATIONS = MAX_OPTIMIZE_ITERATIONS
"""The most iterations one run may take by default (the setting NABLA_MAX_OPTIMIZE_ITERATIONS)."""
MAX_DATA = 100_000
"""Observations in one ``model.data``."""
MAX_SGD_DRAWS = 20_000_000
"""``samples`` times ``max_iterations`` for ``sgd``: the draws of a whole run."""
DEFAULT_LEARNING_RATE: Mapping[str, float] = {
    "gradient_descent": 0.1,
    "momentum": 0.01,
    "nesterov": 0.01,
    "newton": 1.0,
    "natural_gradient": 1.0,
    "adam": 0.05,
    "sgd": 0.1,
}
DIVERGED_GROWTH = 1e10
"""An iterate whose largest coordinate exceeds this times (1 + the start's largest coordinate) has diverged."""
DIVERGED_RISE = 1e8
"""f above f(start) + this times (1 + |f(start)|): the run is climbing, not descending (a learning rate too large);
below f(start) - this times (1 + |f(start)|): f looks unbounded below."""
MAX_HALVINGS = 60
"""Halvings of one step in a line search, or to keep a model's parameters valid, before giving up."""
ARMIJO = 1e-4
"""Sufficient decrease of the backtracking line search: f(x + t d) <= f(x) + ARMIJO t g.d."""


@dataclass(frozen=True)
class ModelFit:
    """``model {family, data}``: the negative log-likelihood of ``data`` in the family's parameters."""

    family: str
    data: tuple[float, ...]


@dataclass(frozen=True)
class Expectation:
    """``sgd``: E[f(X, theta)] over the random variables, estimated from ``samples`` draws per step."""

    random: tuple[RandomSpec, ...]
    samples: int
    seed: int
    estimator: Estimator = "auto"


@dataclass(frozen=True)
class OptimizeQuery:
    """A validated /v1/optimize request in plain values (no limits or seed applied yet)."""

    method: str
    start: Start
    function: str | None = None
    model: ModelFit | None = None
    variables: tuple[str, ...] | None = None
    parameters: tuple[tuple[str, Coordinate], ...] = ()  # constants: numbers or exact strings
    learning_rate: float | None = None  # None: DEFAULT_LEARNING_RATE[method]
    max_iterations: int = 1_000
    tolerance: float = 1e-6
    step_tolerance: float = 1e-12
    line_search: LineSearch = "none"
    momentum: float = 0.9  # momentum and nesterov
    beta1: float = 0.9  # adam
    beta2: float = 0.999  # adam
    epsilon: float = 1e-8  # adam
    random: tuple[RandomSpec, ...] = ()  # sgd
    samples: int = 1_000  # sgd: draws per step
    seed: int | None = None  # sgd
    estimator: Estimator = "auto"  # sgd

    @property
    def expectation(self) -> Expectation | None:
        if not self.random:
            return None
        return Expectation(self.random, self.samples, self.seed or 0, self.estimator)


@dataclass(frozen=True)
class OptimizeTask(OptimizeQuery):
    """What a worker runs: the query with its seed drawn, and the limits of the run."""

    time_budget: float | None = None  # seconds; None: only max_iterations bounds the run
    iteration_limit: int = MAX_ITERATIONS
    limits: Limits = DEFAULT_LIMITS


@dataclass(frozen=True)
class Iterate:
    """One point of the trajectory; ``step`` is the length of the step that reached it (None at the start)."""

    iteration: int
    point: tuple[float, ...]
    function_value: float
    gradient_norm: float
    step: float | None = None


@dataclass(frozen=True)
class OptimizeResult:
    method: str
    variables: tuple[str, ...]
    learning_rate: float
    trajectory: tuple[Iterate, ...]
    converged: bool
    reason: str
    detail: str
    minimum_at: tuple[float, ...]
    minimum_value: float
    minimum_note: str
    warnings: tuple[Note, ...] = field(default=())
    seed: int | None = None
    provenance: Provenance | None = None  # numeric, by NumPy

    @property
    def iterations(self) -> int:
        return self.trajectory[-1].iteration


@dataclass(frozen=True)
class OptimizeAnswer:
    result: OptimizeResult

    @property
    def size(self) -> int:
        """How many numbers the answer holds (a long trajectory is presented off the event loop)."""
        return len(self.result.trajectory) * (len(self.result.variables) + 4)
