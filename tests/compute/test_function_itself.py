"""Order 0 is f itself: no differentiation, whatever the variables."""

from __future__ import annotations

from service.compute.calculus import CalculusTask, run


def test_order_zero_of_one_variable() -> None:
    result = run(CalculusTask("derivative", ("x^2*sin(x)",), None, (), order=0))
    assert (result.derivatives[0].text, result.wrt) == ("x^2*sin(x)", ())


def test_order_zero_of_several_variables_needs_no_variable() -> None:
    result = run(CalculusTask("derivative", ("x*y + a",), None, ("a",), order=0))
    assert result.derivatives[0].text == "a + x*y"
    assert result.variables == ("x", "y")


def test_order_zero_of_a_constant() -> None:
    assert run(CalculusTask("derivative", ("2",), None, (), order=0)).derivatives[0].text == "2"
