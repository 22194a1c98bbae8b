"""Partial derivatives that exist at a point where f is not differentiable: said exactly, from the directional
derivatives along the diagonals (``trust.frechet``).

The class: f = (a*u^3 + b*v^3 + c*u^2*v)/(u^2 + v^2), extended by 0 at u = v = 0 (``0^(u^2 + v^2)`` is 1 only
there), with u = x - p, v = y - q. It is homogeneous of degree 1 about (p, q), so its partials there are (a, b) in
closed form, and it is differentiable there exactly when it is linear: a = 0 and c = b (then f = b*v). Otherwise its
directional derivative along (1, 1)/sqrt(2) or (1, -1)/sqrt(2), f(d), differs from a*d_x + b*d_y.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.compute.calculus import CalculusTask, run
from service.compute.numeric import compile_evaluator
from service.compute.trust import Frechet, frechet, frechet_note, one_sided, partials_exist


def _test(
    function: str, point: tuple[float, float]
) -> tuple[str, tuple[tuple[float, ...], ...] | None, Frechet | None]:
    """The point's status, its one-sided partials (left, right), and the directional test where they agree."""
    result = run(CalculusTask("gradient", (function,), ("x", "y"), ()))
    evaluator = compile_evaluator(result.variables, result.functions, [d.expr for d in result.derivatives])
    matrix = np.array([point], dtype=float)
    status = evaluator.evaluate(matrix).status_of(0)

    def evaluate(m: np.ndarray) -> np.ndarray:
        return evaluator.evaluate(m).functions

    sides = one_sided(evaluate, matrix[0], [(0, 0), (0, 1)])
    if sides is None or not partials_exist(*sides):
        return status, sides, None
    return status, sides, frechet(evaluate, matrix[0], 2, (np.array([sides[0]]) + np.array([sides[1]])) / 2)


def _homogeneous(a: int, b: int, c: int, p: int, q: int) -> str:
    u, v = f"(x - {p})", f"(y - {q})"
    r2 = f"({u}^2 + {v}^2)"
    return f"({a}*{u}^3 + {b}*{v}^3 + {c}*{u}^2*{v})/({r2} + 0^{r2})"


_SMALL = st.integers(-3, 3)


@settings(max_examples=60, deadline=None)
@given(a=_SMALL, b=_SMALL, c=_SMALL, p=st.integers(-2, 2), q=st.integers(-2, 2))
@example(a=1, b=0, c=0, p=0, q=0)  # x^3/(x^2 + y^2): partials (1, 0), along the diagonal 1/(2*sqrt(2))
@example(a=0, b=2, c=2, p=1, q=-1)  # 2*v: linear, differentiable
def test_homogeneous_functions_of_degree_one(a: int, b: int, c: int, p: int, q: int) -> None:
    status, sides, found = _test(_homogeneous(a, b, c, p, q), (p, q))
    if status == "ok":  # SymPy simplified f to a polynomial (a = b = c = 0)
        assert a == b == c == 0
        return
    assert status == "non_differentiable"  # the formula is 0/0 there
    assert sides is not None
    assert np.allclose(sides, [[a, b], [a, b]], rtol=0, atol=1e-8)  # the partials, from both sides, in closed form
    assert found is not None
    linear = a == 0 and c == b
    if linear:
        assert found.direction is None  # no direction contradicts: undecided (it is differentiable)
        return
    assert found.direction is not None
    d = np.array(found.direction)
    along = a * d[0] ** 3 + b * d[1] ** 3 + c * d[0] ** 2 * d[1]  # f(d): degree one, so its directional derivative
    assert found.found == pytest.approx((along, along), abs=1e-7)
    assert found.expected == pytest.approx(a * d[0] + b * d[1], abs=1e-9)


@pytest.mark.parametrize(
    ("function", "partials", "along"),
    [
        ("sqrt(abs(x*y))", (0.0, 0.0), (-1 / math.sqrt(2), 1 / math.sqrt(2))),  # |t|/sqrt(2): a kink on the diagonal
        ("x*y/(x^2 + y^2 + 0^(x^2 + y^2))", (0.0, 0.0), ("unbounded", "unbounded")),  # 1/2 on the diagonal
    ],
)
def test_the_examples_that_found_it(function: str, partials: tuple[float, float], along: tuple) -> None:
    status, sides, found = _test(function, (0, 0))
    assert status == "non_differentiable"
    assert sides == (partials, partials)
    assert found is not None
    assert found.direction == pytest.approx((1 / math.sqrt(2), 1 / math.sqrt(2)))
    assert found.found == (along if isinstance(along[0], str) else pytest.approx(along))
    note = frechet_note(found, ("x", "y"), 1)
    assert note.code == "partials_not_differentiable"
    words = "unbounded (the difference quotients grow)"
    detail = f"{words} and {words}" if isinstance(along[0], str) else "-0.707107 and 0.707107"
    assert note.detail == (
        "the partial derivatives exist here (equal from both sides: see left and right), but f is not "
        "differentiable: along the direction (0.707107, 0.707107) in (x, y) its one-sided derivatives (from "
        f"behind, from ahead) are {detail}, where the partials give 0"
    )


def test_a_differentiable_function_with_an_undefined_formula_is_undecided() -> None:
    status, sides, found = _test("sqrt(x^4 + y^4)", (0, 0))  # differentiable at 0 with gradient 0; the formula is 0/0
    assert status == "non_differentiable"
    assert sides == ((0.0, 0.0), (0.0, 0.0))
    assert found is not None
    assert found.direction is None
    note = frechet_note(found, ("x", "y"), 1)
    assert note.code == "differentiability_undecided"
    assert note.detail == (
        "the partial derivatives exist here (equal from both sides: see left and right) and the directional "
        "derivatives along the diagonals agree with them, but the derivative formula is undefined here: f may be "
        "differentiable, with these partials as its derivative; not decided"
    )


def test_a_kink_in_a_partial_is_not_tested() -> None:
    status, sides, found = _test("abs(x) + y", (0, 0))
    assert status == "non_differentiable"
    assert sides == ((-1.0, 1.0), (1.0, 1.0))
    assert found is None


@pytest.mark.parametrize(
    "function",
    [
        # the documented reach: 1/2 along y = x^3, so not even continuous at 0, yet f(t*d)/t -> 0 on every line
        "x^3*y/(x^6 + y^2 + 0^(x^6 + y^2))",
        # differentiable at 0 (it is o(r)); on the diagonal its quotients, t*log(t^2/2)/2, approach 0 too slowly to
        # settle: that is no evidence against differentiability
        "x*y*log(abs(x*y) + 0^abs(x*y))",
    ],
)
def test_no_evidence_is_undecided(function: str) -> None:
    status, sides, found = _test(function, (0, 0))
    assert status == "non_differentiable"
    assert sides == ((0.0, 0.0), (0.0, 0.0))
    assert found is not None
    assert found.direction is None


def test_a_side_where_f_is_not_real_is_a_proof() -> None:
    # x^y at (0, 1): the partials exist (1 and 0: 0^y = 0 for y > 0), but f is not real for x < 0 near the point
    status, sides, found = _test("x^y", (0, 1))
    assert status == "non_differentiable"
    assert sides == ((1.0, 0.0), (1.0, 0.0))
    assert found is not None
    assert found.found is not None
    assert found.found[0] == "undefined"
