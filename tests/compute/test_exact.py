"""Exact derivative values at an exact point, and the status they give the point."""

from __future__ import annotations

import pytest

from service.compute.calculus import CalculusTask, run
from service.compute.exact import DOMAIN_ERROR, NON_DIFFERENTIABLE, NON_FINITE, OK, ExactValues, exact_values
from service.compute.points import exact_value


def _exact(operation: str, text: str, *point: str) -> ExactValues:
    result = run(CalculusTask(operation, (text,), None, ()))
    derivatives = [d.expr for d in result.derivatives]
    return exact_values(result.functions, derivatives, result.variables, [exact_value(v) for v in point])


class TestValues:
    def test_automatic_evaluation(self) -> None:
        exact = _exact("derivative", "sin(x)", "pi/4")
        assert (exact.texts, exact.latex, exact.status, exact.undefined) == (
            ("sqrt(2)/2",),
            (r"\frac{\sqrt{2}}{2}",),
            OK,
            (False,),
        )

    def test_gradient(self) -> None:
        exact = _exact("gradient", "x*y + exp(y)", "1/3", "log(2)")
        assert exact.texts == ("log(2)", "7/3")
        assert exact.status == OK

    def test_hessian_entries_in_row_major_order(self) -> None:
        assert _exact("hessian", "x^3*y", "1", "2").texts == ("12", "3", "3", "0")


class TestStatuses:
    @pytest.mark.parametrize(
        ("text", "point", "status"),
        [
            ("tan(x)", "pi/2", NON_FINITE),  # the float nearest pi/2 hides this pole
            ("1/x", "0", NON_FINITE),
            ("log(x)", "-1", DOMAIN_ERROR),
            ("asin(x)", "2", DOMAIN_ERROR),
            ("sqrt(x)", "0", NON_DIFFERENTIABLE),
        ],
    )
    def test_undefined_points(self, text: str, point: str, status: int) -> None:
        exact = _exact("derivative", text, point)
        assert exact.status == status
        assert exact.texts == (None,)
        assert exact.latex == (None,)
        assert exact.undefined == (True,)

    def test_only_the_undefined_entries_are_withheld(self) -> None:
        exact = _exact("gradient", "sqrt(x) + y^2", "0", "3")
        assert exact.status == NON_DIFFERENTIABLE
        assert exact.texts == (None, "6")
        assert exact.undefined == (True, False)
