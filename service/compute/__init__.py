"""The engine: text to trees, trees to derivatives, derivatives to numbers. No web framework is imported here.

Modules: ``language`` (syntax, build, printer), ``engine`` (SymEngine or SymPy per expression), ``calculus``
(symbolic results, run in workers), ``numeric`` (compiled kernels and statuses), ``exact`` (exact points),
``points`` (JSON values to matrices), ``geometry`` (directions, definiteness), ``errors`` (the error tree).
"""

from service.compute.calculus import CalculusResult, CalculusTask, run
from service.compute.errors import NablaError
from service.compute.numeric import Evaluation, Evaluator, compile_evaluator

__all__ = [
    "CalculusResult",
    "CalculusTask",
    "Evaluation",
    "Evaluator",
    "NablaError",
    "compile_evaluator",
    "run",
]
