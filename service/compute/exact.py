"""Exact values of derivatives at a point given exactly (``"pi/4"``, ``"1/3"``, integers)."""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from service.compute.engine import EngineExpr, to_sympy
from service.compute.language.printer import to_latex, to_text


def exact_values(
    exprs: Sequence[EngineExpr], inputs: Sequence[str], point: Sequence[sp.Expr]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Each expression with ``inputs`` replaced by the exact ``point``, as text and as LaTeX.

    Only SymPy's automatic evaluation is applied (``sin(pi/4)`` is ``sqrt(2)/2``): cheap and deterministic.
    """
    mapping = {sp.Symbol(n, real=True): v for n, v in zip(inputs, point, strict=True)}
    texts, latex = [], []
    for expr in exprs:
        value = to_sympy(expr).xreplace(mapping)
        texts.append(to_text(value))
        latex.append(to_latex(value))
    return tuple(texts), tuple(latex)
