"""What gradients and Hessians say about a function's shape: directional rates, steepest ascent, definiteness."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.compute.errors import InvalidInput, located

CLASSIFICATIONS = (
    "positive definite",
    "negative definite",
    "indefinite",
    "positive semidefinite",
    "negative semidefinite",
)


@dataclass(frozen=True)
class Directional:
    """Directional derivatives along one direction, and the steepest ascent, at N points."""

    values: np.ndarray  # (N,)
    unit: np.ndarray  # (n,) the direction as used
    ascent: np.ndarray  # (N, n) unit vectors of steepest ascent; NaN at a critical point
    rates: np.ndarray  # (N,) the gradient's norm


@dataclass(frozen=True)
class Definiteness:
    """Eigenvalues (ascending) and definiteness of N symmetric Hessians; NaN and None where not finite."""

    eigenvalues: np.ndarray  # (N, n)
    classes: tuple[str | None, ...]


def unit_direction(direction: Sequence[float], normalize: bool) -> np.ndarray:
    """The direction as used (one component per variable: ``points.read_vector`` checked it), scaled to unit length
    when ``normalize``; the zero vector has no unit direction."""
    vector = np.asarray(direction, dtype=float)
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


def directional(gradients: np.ndarray, unit: np.ndarray) -> Directional:
    """Directional derivatives along ``unit`` (from ``unit_direction``) and the steepest-ascent direction and rate at
    each point.

    ``gradients`` is N x n. The rate of steepest ascent is the gradient's norm, along the normalised gradient; at a
    critical point (zero gradient) there is no ascent direction and it is NaN.
    """
    rates = _norms(gradients)
    with np.errstate(all="ignore"):
        values = gradients @ unit
        scaled = gradients / np.abs(gradients).max(axis=1, initial=0.0)[:, None]
        ascent = np.where(rates[:, None] > 0, scaled / np.linalg.norm(scaled, axis=1)[:, None], np.nan)
    return Directional(values, unit, ascent, rates)


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


def classify_hessians(hessians: np.ndarray) -> Definiteness:
    """Eigenvalues (ascending) and definiteness of each symmetric N x n x n Hessian; null where not finite.

    An eigenvalue within n * eps * max|eigenvalue| of zero counts as zero. The zero matrix is reported as
    positive semidefinite (it is negative semidefinite as well).
    """
    finite = np.isfinite(hessians).all(axis=(1, 2))
    eigenvalues = np.full(hessians.shape[:2], np.nan)
    if finite.any():
        eigenvalues[finite] = np.linalg.eigvalsh(hessians[finite])
    classes = _classify(eigenvalues) if hessians.shape[1] else [None] * len(hessians)
    return Definiteness(eigenvalues, tuple(classes))
