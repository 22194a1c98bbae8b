"""Derivatives of expectations of random functions ("stochastic derivatives"), run in a worker process.

``run(task)`` builds the model (``model``), draws it (``estimate``), averages the chosen estimator and reports the
variance of every estimator that applies (pathwise, score, measure_valued: the couplings of discrete laws in
``coupling``) on the same draws; ``exact`` adds the closed form when SymPy finds one within the budget.
"""

from service.compute.stochastic.derivative import (
    StochasticAnswer,
    StochasticQuery,
    StochasticResult,
    StochasticTask,
    run,
)
from service.compute.stochastic.model import ModelSpec, RandomSpec

__all__ = [
    "ModelSpec",
    "RandomSpec",
    "StochasticAnswer",
    "StochasticQuery",
    "StochasticResult",
    "StochasticTask",
    "run",
]
