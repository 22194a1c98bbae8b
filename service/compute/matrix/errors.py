"""Errors of the matrix area, beside the tree in ``service.compute.errors`` (subclasses, so every handler that
renders an ``InvalidExpression`` or ``InvalidInput`` renders these)."""

from __future__ import annotations

from service.compute.errors import InvalidExpression, InvalidInput


class ShapeMismatch(InvalidExpression):
    """Operands whose shapes do not fit the operator, named with their shapes and the position."""

    type = "shape_mismatch"
    title = "Shape mismatch"


class NoMatrixForm(InvalidInput):
    """A derivative of higher order than a matrix (a matrix by a vector, a vector by a matrix, ...)."""

    type = "no_matrix_form"
    title = "No matrix form"


class CheckFailed(InvalidInput):
    """The symbolic result disagreed with the component-by-component derivative: it is withheld and logged."""

    type = "check_failed"
    title = "Derivative withheld"


MATRIX_ERROR_CLASSES = (ShapeMismatch, NoMatrixForm, CheckFailed)
