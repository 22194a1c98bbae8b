"""A matrix-derivative request in compute terms (``MatrixQuery``), its `at` arrays read from JSON values, and the
answer the presenter writes (``MatrixAnswer``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.compute.errors import InvalidPoint, located
from service.compute.matrix.evaluate import MatrixValue, layout
from service.compute.matrix.expr import Dim
from service.compute.matrix.task import ContractShape, MatrixResult, bind_shape
from service.compute.notes import Note, Notes
from service.compute.status import STATUS_DETAIL, Status
from service.compute.trust import Provenance, versions

__all__ = ["MatrixAnswer", "MatrixQuery", "matrix_answer", "read_arrays"]


@dataclass(frozen=True)
class MatrixQuery:
    """The request's values: the function, what to differentiate by, and the shapes and arrays as sent."""

    function: str
    wrt: str
    order: int = 1
    shapes: tuple[tuple[str, tuple[Dim, ...]], ...] = ()
    at: tuple[tuple[str, Any], ...] | None = None  # JSON values: a number, a list, or a list of rows


@dataclass(frozen=True)
class MatrixAnswer:
    """What the response says: the result, its shape with the sizes `at` fixed, and the value there."""

    result: MatrixResult
    shape: ContractShape
    value: np.ndarray | None
    status: Status | None
    notes: Notes
    provenance: Provenance | None = None

    @property
    def size(self) -> int:
        return 0 if self.value is None else int(self.value.size)


def _not_a_number(name: str) -> InvalidPoint:
    return located(  # type: ignore[return-value]
        InvalidPoint,
        f"the value of '{name}' in 'at' is not a finite number, a list of numbers or a list of equal-length rows "
        "of numbers",
        ("body", "at", name),
    )


def _array(name: str, value: Any) -> np.ndarray:
    if isinstance(value, bool) or value is None:
        raise _not_a_number(name)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise _not_a_number(name)
        return np.asarray(float(value))
    if not isinstance(value, list) or not value:
        raise _not_a_number(name)
    try:
        array = np.array(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise _not_a_number(name) from None
    if array.ndim > 2 or not np.all(np.isfinite(array)) or _has_booleans(value):
        raise _not_a_number(name)
    return array


def _has_booleans(value: list[Any]) -> bool:
    first = value[0]
    rows = value if isinstance(first, list) else [value]
    return any(isinstance(x, bool) or not isinstance(x, int | float) for row in rows for x in row)


def read_arrays(at: tuple[tuple[str, Any], ...] | None) -> dict[str, np.ndarray]:
    """The `at` values as float64 arrays: a number is 0-d, a list 1-d (a vector), a list of rows 2-d (a matrix)."""
    return {} if at is None else {name: _array(name, value) for name, value in at}


def matrix_answer(
    result: MatrixResult, arrays: Mapping[str, np.ndarray], evaluated: MatrixValue | None, limit: int,
    cached: bool = False,
) -> MatrixAnswer:  # fmt: skip
    """The answer: the value (or the component values of a withheld form), its status, the warnings, and its
    provenance (symbolic, by the service's own matrix-calculus rules; ``cached``: the compiled derivative was)."""
    sizes: dict[Dim, int] = {}
    for name, variable_shape in result.variables:
        if name in arrays:
            for dim, size in zip(layout(variable_shape), np.shape(arrays[name]), strict=False):
                sizes[dim] = int(size)
    shape = bind_shape(result.shape, sizes)
    notes = list(result.warnings)
    value, status = None, None
    if evaluated is not None:
        value, status = evaluated.value, evaluated.status
    elif result.component_value is not None and arrays:
        value = np.asarray(result.component_value, dtype=np.float64).reshape([int(d) for d in shape])
        status = Status.OK if np.all(np.isfinite(value)) else Status.DOMAIN_ERROR
    if status is not None and status is not Status.OK:
        notes.append(Note(status.label, STATUS_DETAIL[status.label], point=0, status=status.label))
    made = Provenance("symbolic", versions("nabla"), cached)
    return MatrixAnswer(result, shape, value, status, Notes.of(notes, limit), made)
