"""Optimisation along gradients: trajectories of gradient descent (fixed step or backtracking line search),
momentum, Nesterov, Newton (safeguarded), Adam, the natural gradient of a likelihood (Fisher scoring at rate 1) and
stochastic gradient descent on an expectation. A worker runs ``optimize(task)``; no web framework is imported here.
"""

from service.compute.optimize.optimizer import run
from service.compute.optimize.task import (
    DEFAULT_LEARNING_RATE,
    MAX_ITERATIONS,
    METHODS,
    Expectation,
    Iterate,
    ModelFit,
    OptimizeAnswer,
    OptimizeQuery,
    OptimizeResult,
    OptimizeTask,
)

__all__ = [
    "DEFAULT_LEARNING_RATE",
    "MAX_ITERATIONS",
    "METHODS",
    "Expectation",
    "Iterate",
    "ModelFit",
    "OptimizeAnswer",
    "OptimizeQuery",
    "OptimizeResult",
    "OptimizeTask",
    "run",
]
