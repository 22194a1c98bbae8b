"""The calculus endpoints over HTTP: one class per endpoint, one test per scenario.

Numbers are checked against independent truth: closed forms worked by hand, mpmath at 50 digits, identities
(Schwarz's theorem, the Hessian of x^T A x is A + A^T, the polar Jacobian has determinant r, the steepest-ascent rate
is the gradient's norm), and the service's own output fed back to it (a returned expression parses back and has the
same values and derivatives).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx
import mpmath
import numpy as np
import pytest

from tests.api.answers import ok

pytestmark = pytest.mark.anyio

REL = 1e-12


def mp_derivative(f: Callable[..., Any], point: float | tuple[float, ...], orders: int | tuple[int, ...]) -> float:
    """A derivative by mpmath at 50 digits, rounded to float."""
    with mpmath.workdps(50):
        return float(mpmath.diff(f, point, orders))


def approx(value: Any, rel: float = REL, abs_: float = 1e-12) -> Any:
    """pytest.approx, for nested lists too (as arrays)."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        value = np.array(value, dtype=float)
    return pytest.approx(value, rel=rel, abs=abs_)


class TestDerivative:
    async def test_second_order_at_an_object_point_matches_mpmath(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "x^2*sin(x)", "order": 2, "at": {"x": 1}})
        assert (body["variable"], body["order"], body["wrt"]) == ("x", 2, ["x", "x"])
        assert body["value"] == approx(mp_derivative(lambda x: x**2 * mpmath.sin(x), 1, 2))
        assert body["status"] == "ok"
        assert body["warnings"] == []

    async def test_point_as_an_array_equals_point_as_an_object(self, client: httpx.AsyncClient) -> None:
        as_object = await ok(client, "/v1/derivative", {"function": "exp(x)*cos(x)", "at": {"x": 0.5}})
        as_array = await ok(client, "/v1/derivative", {"function": "exp(x)*cos(x)", "at": [0.5]})
        # (e^x cos x)' = e^x (cos x - sin x)
        assert as_array["value"] == as_object["value"] == approx(math.exp(0.5) * (math.cos(0.5) - math.sin(0.5)))

    async def test_points_as_rows_and_as_columns_give_the_same_values(self, client: httpx.AsyncClient) -> None:
        xs = [0.0, 1.0, 2.5, -3.0]
        rows = await ok(client, "/v1/derivative", {"function": "sin(x)", "points": [[x] for x in xs]})
        columns = await ok(client, "/v1/derivative", {"function": "sin(x)", "points": {"x": xs}})
        assert rows["values"] == columns["values"] == approx([math.cos(x) for x in xs])
        assert rows["status_counts"] == {"ok": len(xs)}
        assert "value" not in rows

    async def test_parameters_stay_symbolic_and_are_substituted_in_values(self, client: httpx.AsyncClient) -> None:
        body = await ok(
            client, "/v1/derivative", {"function": "a*x^2", "variable": "x", "parameters": {"a": 3}, "at": [2]}
        )
        assert body["derivative"]["expression"] == "2*a*x"
        assert body["variables"] == ["x"]
        assert body["parameters"] == ["a"]
        assert body["value"] == 12.0  # 2 * 3 * 2

    async def test_exact_string_point_gives_the_exact_value(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "x^x", "variable": "x", "at": ["pi/4"]})
        truth = mp_derivative(lambda x: x**x, mpmath.pi / 4, 1)
        assert body["value"] == approx(truth)
        exact = body["exact"]["expression"]
        assert "pi" in exact
        assert body["exact"]["latex"]
        # The exact value is a constant in the grammar: x*(exact) has it as its derivative.
        again = await ok(client, "/v1/derivative", {"function": f"x*({exact})", "at": [1]})
        assert again["value"] == approx(truth)

    async def test_exact_rational_point_gives_a_rational(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "x^2", "at": ["1/3"]})
        assert body["exact"]["expression"] == "2/3"
        assert body["value"] == approx(2 / 3)

    async def test_numbers_only_give_no_exact_field(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "x^2", "at": [0.5]})
        assert body["value"] == 1.0
        assert "exact" not in body

    async def test_mixed_partial_by_wrt(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "x^3*y^2", "wrt": ["x", "y"], "at": {"x": 1, "y": 2}})
        assert body["variable"] is None
        assert body["order"] == 2
        assert body["wrt"] == ["x", "y"]
        assert body["value"] == 12.0  # d2/dxdy x^3 y^2 = 6 x^2 y

    async def test_mixed_partials_commute(self, client: httpx.AsyncClient) -> None:
        function, at = "sin(x*y)*exp(x-y^2)", {"x": 0.3, "y": -0.7}
        xy = await ok(client, "/v1/derivative", {"function": function, "wrt": ["x", "y"], "at": at})
        yx = await ok(client, "/v1/derivative", {"function": function, "wrt": ["y", "x"], "at": at})
        truth = mp_derivative(lambda x, y: mpmath.sin(x * y) * mpmath.exp(x - y**2), (0.3, -0.7), (1, 1))
        assert xy["value"] == approx(truth)
        assert yx["value"] == approx(truth)

    async def test_third_order_mixed_partial(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "x^2*y^3*z", "wrt": ["x", "y", "z"], "at": [1, 2, 3]})
        assert body["value"] == 24.0  # 2x * 3y^2 * 1

    async def test_repeated_wrt_is_an_order(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "x^2*y^3*z", "wrt": ["y", "y"], "at": [1, 2, 3]})
        assert (body["variable"], body["order"]) == ("y", 2)
        assert body["value"] == 36.0  # 6 x^2 y z

    async def test_one_variable_needs_no_variable_and_order_defaults_to_one(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "t^3"})
        assert (body["variable"], body["order"], body["variables"]) == ("t", 1, ["t"])
        assert body["derivative"]["expression"] == "3*t^2"
        assert "value" not in body
        assert "values" not in body

    async def test_order_one_thousand_of_sine(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "sin(x)", "order": 1000, "at": [1]})
        assert body["derivative"]["expression"] == "sin(x)"  # 1000 is a multiple of 4
        assert body["value"] == approx(math.sin(1))

    async def test_log_below_zero_is_null_with_a_warning(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "log(x)", "at": [-1]})
        assert body["derivative"]["expression"] == "1/x"
        assert body["value"] is None
        assert body["status"] == "domain_error"
        assert body["warnings"] == [
            {
                "code": "domain_error",
                "detail": "the function is undefined or not real at this point",
                "point": 0,
                "status": "domain_error",
                "field": None,
                "index": None,
            }
        ]

    async def test_abs_at_its_kink_is_null_with_a_warning(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "abs(x)", "at": [0]})
        assert body["value"] is None
        assert body["status"] == "non_differentiable"
        assert body["warnings"] == [
            {
                "code": "non_differentiable",
                "detail": "a derivative does not exist here (a kink, cusp, jump or branch point) or is infinite",
                "point": 0,
                "status": "non_differentiable",
                "field": None,
                "index": None,
                "left": -1.0,
                "right": 1.0,
            }
        ]

    async def test_abs_away_from_its_kink_has_one_sided_values(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "abs(x)", "points": [[-2], [3]]})
        assert body["values"] == [-1.0, 1.0]
        assert body["warnings"] == []

    async def test_a_batch_reports_each_bad_point(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/derivative", {"function": "log(x)", "points": [[-1], [2], [0]]})
        assert body["values"] == [None, 0.5, None]
        assert body["status_counts"] == {"ok": 1, "domain_error": 1, "non_finite": 1}
        assert [(w["point"], w["status"]) for w in body["warnings"]] == [(0, "domain_error"), (2, "non_finite")]

    @pytest.mark.parametrize(
        ("function", "x"),
        [
            ("x^x", 1.3),
            ("atan2(x, 2)", 0.4),
            ("log(x, 2)*sqrt(x)", 2.0),
            ("sigmoid(x)*erf(x)", 0.3),
            ("abs(x)^3", -1.5),
        ],
    )
    async def test_the_returned_expression_parses_back(
        self, client: httpx.AsyncClient, function: str, x: float
    ) -> None:
        first = await ok(client, "/v1/derivative", {"function": function, "order": 1, "at": [x]})
        second = await ok(client, "/v1/derivative", {"function": function, "order": 2, "at": [x]})
        reposted = await ok(client, "/v1/derivative", {"function": first["derivative"]["expression"], "at": [x]})
        assert reposted["value"] == approx(second["value"], rel=1e-10)
        # ... and the reposted expression has the first derivative's values.
        again = await ok(
            client,
            "/v1/derivative",
            {"function": f"y*({first['derivative']['expression']})", "variable": "y", "at": {"x": x, "y": 1}},
        )
        assert again["value"] == approx(first["value"], rel=1e-10)


class TestGradient:
    @staticmethod
    def truth(x: float, y: float, z: float) -> list[float]:
        # f = 2^(x y) + z cos x
        return [y * math.log(2) * 2 ** (x * y) - z * math.sin(x), x * math.log(2) * 2 ** (x * y), math.cos(x)]

    async def test_at_an_object_point(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/gradient", {"function": "2^(x*y) + z*cos(x)", "at": {"x": 1, "y": 2, "z": 3}})
        assert body["variables"] == ["x", "y", "z"]
        assert body["value"] == approx(self.truth(1, 2, 3))
        assert len(body["gradient"]["expressions"]) == len(body["gradient"]["latex"]) == 3

    async def test_at_an_array_point_in_variables_order(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/gradient", {"function": "2^(x*y) + z*cos(x)", "at": [1, 2, 3]})
        assert body["value"] == approx(self.truth(1, 2, 3))

    async def test_points_as_rows_and_as_columns(self, client: httpx.AsyncClient) -> None:
        points = [(1.0, 2.0), (2.0, 3.0), (-0.5, 0.25)]
        rows = await ok(client, "/v1/gradient", {"function": "x^2*y^3", "points": [list(p) for p in points]})
        columns = await ok(
            client,
            "/v1/gradient",
            {"function": "x^2*y^3", "points": {"y": [p[1] for p in points], "x": [p[0] for p in points]}},
        )
        truth = [[2 * x * y**3, 3 * x**2 * y**2] for x, y in points]
        assert rows["values"] == columns["values"] == approx(truth)
        assert rows["status_counts"] == {"ok": 3}

    async def test_default_variables_are_in_natural_order(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/gradient", {"function": "x10 + x2^2 + x1^3"})
        assert body["variables"] == ["x1", "x2", "x10"]
        assert body["gradient"]["expressions"] == ["3*x1^2", "2*x2", "1"]

    async def test_explicit_variables_fix_the_order(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/gradient", {"function": "y*x + z", "variables": ["z", "y", "x"], "at": [1, 2, 3]})
        assert body["variables"] == ["z", "y", "x"]
        assert body["value"] == [1.0, 3.0, 2.0]  # (1, x, y) at z=1, y=2, x=3

    async def test_parameters_are_not_variables(self, client: httpx.AsyncClient) -> None:
        body = await ok(
            client, "/v1/gradient", {"function": "a*x^2 + y", "parameters": {"a": 3}, "points": [[1, 2], [3, 4]]}
        )
        assert body["variables"] == ["x", "y"]
        assert body["parameters"] == ["a"]
        assert body["gradient"]["expressions"] == ["2*a*x", "1"]
        assert body["values"] == [[6.0, 1.0], [18.0, 1.0]]

    async def test_symbolic_only_without_a_point(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/gradient", {"function": "x*y"})
        assert body["gradient"] == {"expressions": ["y", "x"], "latex": ["y", "x"]}
        assert not {"value", "values", "status", "warnings"} & set(body)

    async def test_exact_point(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/gradient", {"function": "sin(x)*y", "at": {"x": "pi/4", "y": "sqrt(2)"}})
        assert body["exact"]["expressions"] == ["1", "sqrt(2)/2"]  # (y cos x, sin x)
        assert body["value"] == approx([1.0, math.sqrt(2) / 2])

    async def test_e_is_a_variable_when_declared(self, client: httpx.AsyncClient) -> None:
        constant = await ok(client, "/v1/gradient", {"function": "e^x*y", "at": [1, 1]})
        assert constant["variables"] == ["x", "y"]
        assert constant["value"] == approx([math.e, math.e])
        variable = await ok(client, "/v1/gradient", {"function": "e*x", "variables": ["e", "x"], "at": [2, 5]})
        assert variable["value"] == [5.0, 2.0]

    async def test_expressions_parse_back(self, client: httpx.AsyncClient) -> None:
        at = {"x": 0.8, "y": 1.7}
        gradient = await ok(client, "/v1/gradient", {"function": "atan2(y, x)*log(x*y)", "at": at})
        hessian = await ok(client, "/v1/hessian", {"function": "atan2(y, x)*log(x*y)", "at": at})
        for row, expression in enumerate(gradient["gradient"]["expressions"]):
            again = await ok(client, "/v1/gradient", {"function": expression, "variables": ["x", "y"], "at": at})
            assert again["value"] == approx(hessian["value"][row], rel=1e-10)


class TestDirectionalDerivative:
    async def test_the_course_slide_example_is_zero(self, client: httpx.AsyncClient) -> None:
        # grad(x^2 y^2) = (2 x y^2, 2 x^2 y) = (0, 0) at (2, 0): every directional derivative there is 0, not 4.
        body = await ok(
            client,
            "/v1/directional-derivative",
            {"function": "x^2*y^2", "at": {"x": 2, "y": 0}, "direction": [1, 0]},
        )
        assert body["value"] == 0.0
        assert body["gradient"] == [0.0, 0.0]
        assert body["steepest_ascent"] == {"direction": [None, None], "rate": 0.0}

    async def test_the_direction_is_normalised(self, client: httpx.AsyncClient) -> None:
        body = await ok(
            client, "/v1/directional-derivative", {"function": "x^2 + 3*y", "at": [1, 2], "direction": [3, 4]}
        )
        assert body["direction"] == approx([0.6, 0.8])
        assert body["gradient"] == [2.0, 3.0]
        assert body["value"] == approx(2 * 0.6 + 3 * 0.8)
        assert body["gradient_expressions"]["expressions"] == ["2*x", "3"]

    async def test_without_normalising(self, client: httpx.AsyncClient) -> None:
        body = await ok(
            client,
            "/v1/directional-derivative",
            {"function": "x^2*y", "at": [1, 2], "direction": [3, 4], "normalize": False},
        )
        assert body["direction"] == [3.0, 4.0]
        assert body["value"] == 16.0  # (2 x y, x^2) . (3, 4) = (4, 1) . (3, 4)

    async def test_steepest_ascent_rate_is_the_gradient_norm(self, client: httpx.AsyncClient) -> None:
        request = {"function": "sin(x)*exp(y) + x*y", "at": [0.4, -0.3], "direction": [1, 1]}
        body = await ok(client, "/v1/directional-derivative", request)
        gx = math.cos(0.4) * math.exp(-0.3) - 0.3
        gy = math.sin(0.4) * math.exp(-0.3) + 0.4
        rate = math.hypot(gx, gy)
        assert body["gradient"] == approx([gx, gy])
        assert body["steepest_ascent"]["rate"] == approx(rate)
        assert body["steepest_ascent"]["direction"] == approx([gx / rate, gy / rate])
        # Along the steepest-ascent direction the directional derivative is the rate, and no direction beats it.
        along = await ok(
            client, "/v1/directional-derivative", {**request, "direction": body["steepest_ascent"]["direction"]}
        )
        assert along["value"] == approx(rate)
        assert abs(body["value"]) <= rate

    async def test_points_give_one_value_per_point(self, client: httpx.AsyncClient) -> None:
        body = await ok(
            client,
            "/v1/directional-derivative",
            {"function": "x^2*y", "points": [[1, 2], [0, 0]], "direction": [1, 1]},
        )
        unit = 1 / math.sqrt(2)
        assert body["values"] == approx([(4 + 1) * unit, 0.0])
        assert body["gradients"] == [[4.0, 1.0], [0.0, 0.0]]
        assert body["steepest_ascent"]["rates"] == approx([math.sqrt(17), 0.0])
        assert body["steepest_ascent"]["directions"][1] == [None, None]


class TestJacobian:
    async def test_rows_are_functions_and_columns_are_variables(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/jacobian", {"functions": ["2*x^2", "x*sqrt(y)"], "at": {"x": 1, "y": 4}})
        assert body["variables"] == ["x", "y"]
        # [[4x, 0], [sqrt(y), x / (2 sqrt(y))]]
        assert body["value"] == [[4.0, 0.0], [2.0, 0.25]]
        assert len(body["jacobian"]["expressions"]) == 2
        assert all(len(row) == 2 for row in body["jacobian"]["latex"])

    async def test_polar_coordinates_have_determinant_r(self, client: httpx.AsyncClient) -> None:
        body = await ok(
            client,
            "/v1/jacobian",
            {"functions": ["r*cos(t)", "r*sin(t)"], "variables": ["r", "t"], "at": [2, "pi/3"]},
        )
        assert np.linalg.det(np.array(body["value"])) == approx(2.0)
        assert body["exact"]["expressions"] == [["1/2", "-sqrt(3)"], ["sqrt(3)/2", "1"]]

    async def test_parameters_and_columns_of_points(self, client: httpx.AsyncClient) -> None:
        body = await ok(
            client,
            "/v1/jacobian",
            {"functions": ["a*x*y", "x + y"], "parameters": {"a": 2}, "points": {"x": [1, 2], "y": [3, 4]}},
        )
        assert body["jacobian"]["expressions"] == [["a*y", "a*x"], ["1", "1"]]
        assert body["values"] == [[[6.0, 2.0], [1.0, 1.0]], [[8.0, 4.0], [1.0, 1.0]]]

    async def test_an_exact_parameter(self, client: httpx.AsyncClient) -> None:
        body = await ok(
            client, "/v1/jacobian", {"functions": ["a*x*y", "x + y"], "parameters": {"a": "1/3"}, "at": [3, 1]}
        )
        assert body["exact"]["expressions"] == [["1/3", "1"], ["1", "1"]]
        assert body["value"] == approx([[1 / 3, 1.0], [1.0, 1.0]])

    async def test_matches_the_gradients_of_its_rows(self, client: httpx.AsyncClient) -> None:
        functions, at = ["exp(x*y)", "atan(x - y)", "x*cbrt(y)"], [0.7, 1.9]
        jacobian = await ok(client, "/v1/jacobian", {"functions": functions, "at": at})
        for function, row in zip(functions, jacobian["value"], strict=True):
            gradient = await ok(client, "/v1/gradient", {"function": function, "variables": ["x", "y"], "at": at})
            assert gradient["value"] == approx(row)


class TestHessian:
    async def test_a_bowl_is_positive_definite(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/hessian", {"function": "x^2 + y^2", "at": [1, 1]})
        assert body["value"] == [[2.0, 0.0], [0.0, 2.0]]
        assert body["eigenvalues"] == [2.0, 2.0]
        assert body["classification"] == "positive definite"
        assert body["symmetric"] is True

    async def test_a_saddle_is_indefinite(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/hessian", {"function": "x^2 - y^2", "at": [1, 1]})
        assert body["eigenvalues"] == [-2.0, 2.0]
        assert body["classification"] == "indefinite"

    @pytest.mark.parametrize(
        ("function", "classification"),
        [
            ("-x^2 - y^2", "negative definite"),
            ("x^4 + y^2", "positive semidefinite"),
            ("-x^4 - y^2", "negative semidefinite"),
        ],
    )
    async def test_other_classifications_at_the_origin(
        self, client: httpx.AsyncClient, function: str, classification: str
    ) -> None:
        body = await ok(client, "/v1/hessian", {"function": function, "at": [0, 0]})
        assert body["classification"] == classification

    async def test_the_hessian_of_a_quadratic_form_is_a_plus_a_transpose(self, client: httpx.AsyncClient) -> None:
        a = np.array([[1.0, 2.0, -1.0], [5.0, 3.0, 0.5], [0.0, -4.0, 2.0]])
        names = ["x", "y", "z"]
        terms = [f"({a[i, j]})*{names[i]}*{names[j]}" for i in range(3) for j in range(3)]
        body = await ok(client, "/v1/hessian", {"function": " + ".join(terms), "at": [0.3, -1.2, 2.0]})
        expected = a + a.T
        assert body["value"] == approx(expected.tolist())
        assert body["eigenvalues"] == approx(np.linalg.eigvalsh(expected).tolist(), rel=1e-10)

    async def test_values_and_eigenvalues_at_a_point(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/hessian", {"function": "x^2*y^3", "at": {"x": 1, "y": 2}})
        # [[2 y^3, 6 x y^2], [6 x y^2, 6 x^2 y]]
        assert body["value"] == [[16.0, 24.0], [24.0, 12.0]]
        trace, det = 28.0, 16.0 * 12.0 - 24.0**2
        root = math.sqrt(trace**2 / 4 - det)
        assert body["eigenvalues"] == approx([trace / 2 - root, trace / 2 + root])
        assert body["classification"] == "indefinite"

    async def test_points_without_classify_have_no_eigenvalues(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/hessian", {"function": "x^2 - y^2", "points": [[1, 2]]})
        assert "eigenvalues" not in body
        assert "classifications" not in body

    async def test_points_give_classifications(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/hessian", {"function": "x^2*y^3", "points": [[1, 2], [0, 0]], "classify": True})
        assert body["values"] == [[[16.0, 24.0], [24.0, 12.0]], [[0.0, 0.0], [0.0, 0.0]]]
        assert body["classifications"] == ["indefinite", "positive semidefinite"]
        assert body["eigenvalues"][1] == [0.0, 0.0]

    async def test_exact_point(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/hessian", {"function": "sin(x)*y", "at": ["pi/6", 2]})
        assert body["exact"]["expressions"] == [["-1", "sqrt(3)/2"], ["sqrt(3)/2", "0"]]
        assert body["value"] == approx([[-1.0, math.sqrt(3) / 2], [math.sqrt(3) / 2, 0.0]])

    async def test_mixed_entries_match_mpmath(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/hessian", {"function": "exp(x*y)*cos(x + y^2)", "at": [0.2, 0.9]})

        def f(x: Any, y: Any) -> Any:
            return mpmath.exp(x * y) * mpmath.cos(x + y**2)

        truth = [
            [mp_derivative(f, (0.2, 0.9), (2, 0)), mp_derivative(f, (0.2, 0.9), (1, 1))],
            [mp_derivative(f, (0.2, 0.9), (1, 1)), mp_derivative(f, (0.2, 0.9), (0, 2))],
        ]
        assert body["value"] == approx(truth, rel=1e-10)

    async def test_undefined_point_has_no_eigenvalues(self, client: httpx.AsyncClient) -> None:
        body = await ok(client, "/v1/hessian", {"function": "log(x) + y^2", "at": [-1, 0]})
        assert body["status"] == "domain_error"
        assert body["value"] == [[None, None], [None, None]]
        assert body["eigenvalues"] == [None, None]
        assert body["classification"] is None
        assert [w["status"] for w in body["warnings"]] == ["domain_error"]
