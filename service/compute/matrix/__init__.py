"""Matrix calculus: derivatives of expressions over scalars, vectors and matrices, in matrix notation.

Modules: ``syntax`` (text to tree), ``build`` (tree to typed tree, shape errors), ``expr`` (the typed tree and its
simplifying constructors), ``derive`` (the derivative rules), ``printer`` (text and LaTeX), ``evaluate`` (the
compiled NumPy evaluator), ``codegen`` (``code.numpy``), ``check`` (the entry-by-entry check with the scalar
engine), ``task`` (``run``, the worker's entry point), ``errors`` (this area's error classes).
"""

from service.compute.matrix.errors import CheckFailed, NoMatrixForm, ShapeMismatch
from service.compute.matrix.evaluate import MatrixEvaluator, MatrixValue
from service.compute.matrix.task import (
    MatrixResult,
    MatrixTask,
    bind_shape,
    check_at_from,
    evaluator,
    run,
    shapes_from_request,
    validate_at,
)

__all__ = [
    "CheckFailed",
    "MatrixEvaluator",
    "MatrixResult",
    "MatrixTask",
    "MatrixValue",
    "NoMatrixForm",
    "ShapeMismatch",
    "bind_shape",
    "check_at_from",
    "evaluator",
    "run",
    "shapes_from_request",
    "validate_at",
]
