"""Matrix calculus: derivatives of expressions over scalars, vectors and matrices, in matrix notation.

Modules: ``syntax`` (text to tree), ``build`` (tree to typed tree, shape errors), ``expr`` (the typed tree and its
simplifying constructors), ``derive`` (the derivative rules), ``printer`` (text and LaTeX), ``evaluate`` (the
compiled NumPy evaluator), ``codegen`` (``code.numpy``), ``check`` (the entry-by-entry check with the scalar
engine), ``task`` (``run``, the worker's entry point), ``answer`` (the query and the answer of a request).
"""

from service.compute.errors import CheckFailed, NoMatrixForm, ShapeMismatch
from service.compute.matrix.answer import MatrixAnswer, MatrixQuery, matrix_answer, read_arrays
from service.compute.matrix.evaluate import MatrixEvaluator, MatrixValue
from service.compute.matrix.task import (
    MAX_CHECK_AT_ENTRIES,
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
    "MAX_CHECK_AT_ENTRIES",
    "CheckFailed",
    "MatrixAnswer",
    "MatrixEvaluator",
    "MatrixQuery",
    "MatrixResult",
    "MatrixTask",
    "MatrixValue",
    "NoMatrixForm",
    "ShapeMismatch",
    "bind_shape",
    "check_at_from",
    "evaluator",
    "matrix_answer",
    "read_arrays",
    "run",
    "shapes_from_request",
    "validate_at",
]
