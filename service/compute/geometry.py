"""What gradients and Hessians say about a function's shape: directional rates, steepest ascent, definiteness."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from service.compute.errors import InvalidInput, count, located

CLASSIFICATIONS = (
    "positive definite",
    "negative definite",
    "indefinite",
    "positive semidefinite",
    "negative semidefinite",
)


def _validate_direction(direction: Sequence[float], variables: Sequence[str], normalize: bool) -> np.ndarray:
    vector = np.asarray(direction, dtype=float)
    if vector.shape != (len(variables),):
        raise located(
            InvalidInput,
            f"direction has {count(len(vector), 'component')} but there {'is' if len(variables) == 1 else 'are'} "
            f"{count(len(variables), 'variable')} ({', '.join(variables)}); give one component per variable, in "
            "that order",
            ("body", "direction"),
        )
    norm = _norms(vector[None, :])[0]
    if normalize and norm == 0.0:
        raise located(
            InvalidInput,
            "direction is the zero vector, which has no unit direction; give a non-zero vector or set "
            "normalize to false",
            ("body", "direction"),
        )
    if not normalize:
        return vector
    scaled = vector / np.abs(vector).max()  # components in [-1, 1]: neither overflow nor underflow below
    unit: np.ndarray = scaled / np.linalg.norm(scaled)
    return unit


def _norms(rows: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row, scaled first so that huge or tiny components neither overflow nor underflow."""
    with np.errstate(all="ignore"):
        scale = np.abs(rows).max(axis=1, initial=0.0)
        safe = np.where(scale > 0, scale, 1.0)
        norms = np.where(scale > 0, scale * np.linalg.norm(rows / safe[:, None], axis=1), 0.0)
        finite: np.ndarray = np.where(np.isfinite(rows).all(axis=1), norms, np.nan)
        return finite


def directional(
    gradients: np.ndarray, direction: Sequence[float], normalize: bool, variables: Sequence[str], single: bool
) -> dict[str, Any]:
    """Directional derivatives along ``direction`` and the steepest-ascent direction and rate at each point.

    ``gradients`` is N x n. The rate of steepest ascent is the gradient's norm, along the normalised gradient; at a
    critical point (zero gradient) there is no ascent direction and it is null.
    """
    unit = _validate_direction(direction, variables, normalize)
    rates = _norms(gradients)
    with np.errstate(all="ignore"):
        values = gradients @ unit
        scaled = gradients / np.abs(gradients).max(axis=1, initial=0.0)[:, None]
        ascent = np.where(rates[:, None] > 0, scaled / np.linalg.norm(scaled, axis=1)[:, None], np.nan)
    if single:
        return {
            "value": values[0],
            "gradient": gradients[0],
            "direction": unit,
            "steepest_ascent": {"direction": ascent[0], "rate": rates[0]},
        }
    return {
        "values": values,
        "gradients": gradients,
        "direction": unit,
        "steepest_ascent": {"directions": ascent, "rates": rates},
    }


def _classify(eigenvalues: np.ndarray) -> list[str | None]:
    """Definiteness of each row of eigenvalues, vectorised; None where a row is not finite."""
    finite = np.isfinite(eigenvalues).all(axis=1)
    safe = np.where(finite[:, None], eigenvalues, 0.0)
    tolerance = eigenvalues.shape[1] * np.finfo(float).eps * np.abs(safe).max(axis=1, initial=0.0)
    positive = (safe > tolerance[:, None]).any(axis=1)
    negative = (safe < -tolerance[:, None]).any(axis=1)
    zero = (np.abs(safe) <= tolerance[:, None]).any(axis=1)
    code = np.select(
        [~finite, positive & negative, negative & zero, negative, zero],
        [-1, 2, 4, 1, 3],
        default=0,
    )
    return [None if c < 0 else CLASSIFICATIONS[c] for c in code.tolist()]


def classify_hessians(hessians: np.ndarray, single: bool) -> dict[str, Any]:
    """Eigenvalues (ascending) and definiteness of each symmetric N x n x n Hessian; null where not finite.

    An eigenvalue within n * eps * max|eigenvalue| of zero counts as zero. The zero matrix is reported as
    positive semidefinite (it is negative semidefinite as well).
    """
    finite = np.isfinite(hessians).all(axis=(1, 2))
    eigenvalues = np.full(hessians.shape[:2], np.nan)
    if finite.any():
        eigenvalues[finite] = np.linalg.eigvalsh(hessians[finite])
    classes = _classify(eigenvalues) if hessians.shape[1] else [None] * len(hessians)
    if single:
        return {"eigenvalues": eigenvalues[0], "classification": classes[0]}
    return {"eigenvalues": eigenvalues, "classifications": classes}
