"""Past failures, pinned: each test is a request that once misbehaved."""

from __future__ import annotations

import math
from typing import Any

import httpx
import orjson
import pytest

from service.config import Settings
from tests.conftest import http_client, started

pytestmark = pytest.mark.anyio


async def answer(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


class TestConstantsAsVariables:
    async def test_variable_e_is_the_variable_not_eulers_number(self, client: httpx.AsyncClient) -> None:
        body = await answer(client, "/v1/derivative", {"function": "e*x", "variable": "e", "at": {"e": 2, "x": 3}})
        assert body["derivative"]["expression"] == "x"
        assert body["value"] == 3.0

    async def test_variable_pi_is_the_variable(self, client: httpx.AsyncClient) -> None:
        body = await answer(client, "/v1/derivative", {"function": "pi^2", "variable": "pi", "at": {"pi": 5}})
        assert body["derivative"]["expression"] == "2*pi"
        assert body["value"] == 10.0


class TestFunctionsWithoutVariables:
    @pytest.mark.parametrize(
        ("path", "body", "key"),
        [
            ("/v1/gradient", {"function": "1"}, "gradient"),
            ("/v1/hessian", {"function": "2", "at": []}, "hessian"),
            ("/v1/jacobian", {"functions": ["3"], "points": [[]]}, "jacobian"),
            ("/v1/jacobian", {"functions": ["a*2"], "parameters": {"a": 1}}, "jacobian"),
            ("/v1/hessian", {"function": "a*2", "parameters": {"a": 1}, "at": []}, "hessian"),
        ],
    )
    async def test_a_constant_has_empty_derivatives(
        self, client: httpx.AsyncClient, path: str, body: dict[str, Any], key: str
    ) -> None:
        result = await answer(client, path, body)
        assert result["variables"] == []
        assert result[key]["expressions"] in ([], [[]])

    async def test_an_empty_hessian_has_no_classification(self, client: httpx.AsyncClient) -> None:
        result = await answer(client, "/v1/hessian", {"function": "7", "at": []})
        assert result["eigenvalues"] == []
        assert result["classification"] is None


class TestExtremeDirections:
    async def test_a_huge_direction_is_normalised_without_overflow(self, client: httpx.AsyncClient) -> None:
        body = {"function": "x*y", "at": [1, 2], "direction": [1e200, 1e200]}
        result = await answer(client, "/v1/directional-derivative", body)
        assert result["direction"] == pytest.approx([math.sqrt(0.5)] * 2, rel=1e-15)
        assert result["value"] == pytest.approx(3 / math.sqrt(2), rel=1e-15)

    async def test_a_tiny_direction_is_not_the_zero_vector(self, client: httpx.AsyncClient) -> None:
        body = {"function": "x + y", "at": [1, 1], "direction": [1e-200, 1e-200]}
        result = await answer(client, "/v1/directional-derivative", body)
        assert result["value"] == pytest.approx(math.sqrt(2), rel=1e-15)

    async def test_a_huge_gradient_keeps_its_ascent_direction(self, client: httpx.AsyncClient) -> None:
        body = {"function": "1e300*x + 1e300*y", "at": [1, 1], "direction": [1, 1]}
        result = await answer(client, "/v1/directional-derivative", body)
        assert result["steepest_ascent"]["direction"] == pytest.approx([math.sqrt(0.5)] * 2, rel=1e-15)
        assert result["steepest_ascent"]["rate"] == pytest.approx(math.sqrt(2) * 1e300, rel=1e-15)

    async def test_an_overflowing_directional_value_says_why_it_is_null(self, client: httpx.AsyncClient) -> None:
        body = {"function": "1e308*x + 1e308*y", "at": [1, 1], "direction": [1, 1], "normalize": False}
        result = await answer(client, "/v1/directional-derivative", body)
        assert result["value"] is None
        assert result["status"] == "non_finite"
        assert result["warnings"][0]["status"] == "non_finite"


class TestExactPointsCorrectFloatRounding:
    """At the float nearest pi/2, tan is 1.6e16: finite. At pi/2 it is infinite, and an exact point says so."""

    @pytest.mark.parametrize(
        ("function", "point", "status"),
        [
            ("tan(x)", "pi/2", "non_finite"),
            ("sec(x)", "pi/2", "non_finite"),
            ("1/sin(x)", "pi", "non_finite"),
            ("1/(x^2 - 2)", "sqrt(2)", "non_finite"),
            ("log(cos(x))", "pi/2", "non_finite"),
            ("sqrt(sin(x))", "pi", "non_differentiable"),
            ("sqrt(cos(x))", "pi/2", "non_differentiable"),
        ],
    )
    async def test_a_pole_or_branch_point_is_not_ok(
        self, client: httpx.AsyncClient, function: str, point: str, status: str
    ) -> None:
        body = await answer(client, "/v1/derivative", {"function": function, "at": [point]})
        assert body["status"] == status
        assert body["value"] is None
        assert body["exact"] == {"expression": None, "latex": None}
        assert body["warnings"][0]["status"] == status

    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/v1/gradient", {"function": "tan(x)*y", "at": ["pi/2", 1]}),
            ("/v1/hessian", {"function": "tan(x)*y", "at": ["pi/2", "1"]}),
            ("/v1/jacobian", {"functions": ["sqrt(x^2 - 2)"], "at": ["sqrt(2)"]}),
            ("/v1/directional-derivative", {"function": "tan(x)*y", "direction": [1, 1], "at": ["pi/2", "1"]}),
        ],
    )
    async def test_every_endpoint_checks_exact_points(
        self, client: httpx.AsyncClient, path: str, body: dict[str, Any]
    ) -> None:
        result = await answer(client, path, body)
        assert result["status"] != "ok"

    async def test_an_exact_value_too_large_for_float64_is_still_given(self, client: httpx.AsyncClient) -> None:
        body = await answer(client, "/v1/derivative", {"function": "x^171", "order": 171, "at": ["1"]})
        assert body["status"] == "non_finite"  # 171! > 1.8e308
        assert body["value"] is None
        assert body["exact"]["expression"] == str(math.factorial(171))

    async def test_exact_values_that_take_too_long_leave_the_float_values(self, client: httpx.AsyncClient) -> None:
        body = await answer(client, "/v1/derivative", {"function": "x^x^x^x^x", "order": 6, "at": ["pi/3"]})
        assert body["status"] == "ok"
        assert body["value"] == pytest.approx(7440.352954277399, rel=1e-9)
        assert "exact" not in body
        assert "exact value was not computed" in body["warnings"][0]["detail"]

    async def test_a_decimal_parameter_is_the_decimal(self, client: httpx.AsyncClient) -> None:
        body = {"function": "2*a*x", "parameters": {"a": 0.1}, "at": ["1"]}
        result = await answer(client, "/v1/derivative", body)
        assert result["exact"]["expression"] == "1/5"


class TestKinksThatAreSmooth:
    @pytest.mark.parametrize(
        ("function", "order"), [("sign(x)*x^2", 1), ("x^2*abs(x)", 2), ("abs(x)^3", 2), ("x^3*sign(x)", 2)]
    )
    async def test_a_vanishing_delta_term_does_not_make_a_kink(
        self, client: httpx.AsyncClient, function: str, order: int
    ) -> None:
        body = await answer(client, "/v1/derivative", {"function": function, "order": order, "at": [0]})
        assert body["status"] == "ok"
        assert body["value"] == 0.0
        assert "dirac" not in body["derivative"]["expression"]

    async def test_the_sign_jump_is_still_a_kink(self, client: httpx.AsyncClient) -> None:
        body = await answer(client, "/v1/derivative", {"function": "sign(x)", "at": [0]})
        assert body["status"] == "non_differentiable"

    async def test_no_rate_of_ascent_at_a_kink(self, client: httpx.AsyncClient) -> None:
        body = {"function": "abs(x) + y", "direction": [1, 0], "at": [0, 0]}
        result = await answer(client, "/v1/directional-derivative", body)
        assert result["status"] == "non_differentiable"
        assert result["steepest_ascent"] == {"direction": [None, None], "rate": None}


class TestPolesOfGamma:
    @pytest.mark.parametrize("point", [0, -1, -2])
    async def test_every_pole_is_non_finite(self, client: httpx.AsyncClient, point: int) -> None:
        body = await answer(client, "/v1/derivative", {"function": "gamma(x)", "at": [point]})
        assert body["status"] == "non_finite"


class TestLimitsAndNames:
    async def test_variables_found_in_the_function_count_against_the_limit(self, client: httpx.AsyncClient) -> None:
        function = " + ".join(f"v{i}" for i in range(70))
        response = await client.post("/v1/gradient", json={"function": function})
        assert response.status_code == 422
        assert response.json()["detail"] == (
            "the function has 70 variables and 0 parameters; together they may be at most 64 (NABLA_MAX_VARIABLES)"
        )

    async def test_a_function_name_cannot_be_a_variable(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x", "variables": ["sin", "x"]})
        assert response.status_code == 422
        assert "'sin' is a function of the language" in response.json()["detail"]

    async def test_a_misspelt_function_gets_a_suggestion(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/derivative", json={"function": "sinn(x)"})
        assert response.json()["detail"].startswith("unknown function 'sinn' at position 0 (did you mean 'sin'?)")

    async def test_high_polygamma_orders_print_and_parse_back(self, client: httpx.AsyncClient) -> None:
        body = await answer(client, "/v1/derivative", {"function": "digamma(x)", "order": 100})
        printed = body["derivative"]["expression"]
        assert printed == "polygamma(100, x)"
        again = await answer(client, "/v1/derivative", {"function": printed, "at": [2.5]})
        assert again["status"] == "ok"


class TestCurlFriendliness:
    async def test_a_body_without_a_json_content_type_is_read_as_json(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/derivative",
            content=b'{"function": "x^2", "at": [3]}',
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200
        assert response.json()["value"] == 6.0

    async def test_head_healthz(self, client: httpx.AsyncClient) -> None:
        assert (await client.head("/healthz")).status_code == 200

    async def test_the_root_leads_to_the_docs(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/")
        assert response.status_code == 307
        assert response.headers["location"] == "/docs"

    async def test_no_negative_zero(self, client: httpx.AsyncClient) -> None:
        body = await answer(client, "/v1/derivative", {"function": "exp(-x^2)", "at": [30]})
        assert body["value"] == 0.0
        assert math.copysign(1.0, body["value"]) == 1.0


class TestLargeBatches:
    """Bodies over 256 KiB keep their batch as text, decoded in pieces off the event loop."""

    @staticmethod
    def rows(count: int) -> list[list[float]]:
        return [[i / 7, 1 - i / 11] for i in range(count)]

    async def test_values_match_the_small_path(self, client: httpx.AsyncClient) -> None:
        rows = self.rows(30_000)
        body = await answer(client, "/v1/gradient", {"function": "x^2*y", "points": rows})
        assert len(body["values"]) == 30_000
        assert body["values"][12_345] == pytest.approx([2 * rows[12_345][0] * rows[12_345][1], rows[12_345][0] ** 2])
        assert body["status_counts"] == {"ok": 30_000}

    async def test_a_boolean_deep_inside_is_refused(self, client: httpx.AsyncClient) -> None:
        rows: list[list[Any]] = [*self.rows(30_000), [True, 1]]
        response = await client.post("/v1/gradient", json={"function": "x^2*y", "points": rows})
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "points", 30_000, 0]

    async def test_nan_deep_inside_is_malformed_json(self, client: httpx.AsyncClient) -> None:
        text = orjson.dumps({"function": "x^2*y", "points": self.rows(30_000)})
        response = await client.post(
            "/v1/gradient",
            content=text.replace(b"[0.0,1.0]", b"[NaN,1.0]"),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json()["type"] == "/problems/malformed_json"


class TestFoundByFuzzingAndReview:
    @pytest.mark.parametrize("name", ["x0", "x1", "x2"])
    async def test_a_variable_named_like_a_compiler_temporary(self, client: httpx.AsyncClient, name: str) -> None:
        # SymEngine names common subexpressions x0, x1, ...: once, a variable x0 was read as one of them.
        body = {"function": f"exp(1/2)*x + {name}^2", "variables": ["x", name], "variable": "x", "at": [2, 5]}
        result = await answer(client, "/v1/derivative", body)
        assert result["value"] == pytest.approx(math.exp(0.5), rel=1e-15)
        many = {**body, "at": None, "points": [[2, 5]] * 300}
        assert (await answer(client, "/v1/derivative", many))["values"][0] == pytest.approx(math.exp(0.5), rel=1e-15)

    @pytest.mark.parametrize("point", ["2", "1/2"])
    async def test_digamma_at_an_exact_point_prints_euler_gamma(self, client: httpx.AsyncClient, point: str) -> None:
        result = await answer(client, "/v1/derivative", {"function": "gamma(x)", "at": [point]})
        assert result["status"] == "ok"
        assert "digamma(1)" in result["exact"]["expression"]

    @pytest.mark.parametrize(
        "body",
        [
            {"function": "x", "at": ["dirac(0)"]},
            {"function": "x*a", "parameters": {"a": "dirac(0)"}, "at": [1]},
            {"function": "x", "points": [["dirac(0)"]]},
            {"function": "x", "at": ["exp(exp(exp(exp(9))))"]},
        ],
    )
    async def test_an_exact_string_that_is_no_number(self, client: httpx.AsyncClient, body: dict[str, Any]) -> None:
        response = await client.post("/v1/derivative", json=body)
        assert response.status_code == 422
        assert "is not a finite real number" in response.json()["detail"]

    @pytest.mark.parametrize("text", ["polygamma(1000,1000)", "0e9999999", "sqrt(3)^1e400", "2^(10^400)"])
    async def test_costly_exact_strings_answer_at_once(self, client: httpx.AsyncClient, text: str) -> None:
        response = await client.post("/v1/derivative", json={"function": "x^2", "at": [text]})
        assert response.status_code in (200, 422)
        assert (await client.get("/healthz")).status_code == 200

    async def test_a_denormal_direction_is_normalised(self, client: httpx.AsyncClient) -> None:
        body = {"function": "x*y", "at": [1, 2], "direction": [5e-324, 5e-324]}
        result = await answer(client, "/v1/directional-derivative", body)
        assert result["direction"] == pytest.approx([math.sqrt(0.5)] * 2, rel=1e-15)
        assert result["value"] == pytest.approx(3 / math.sqrt(2), rel=1e-15)

    async def test_an_undefined_constant_is_refused_where_it_stands(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/derivative", json={"function": "log(x, 1)"})
        assert response.status_code == 422
        assert response.json()["detail"] == "log is undefined here at position 0"

    async def test_points_null_means_no_batch_whatever_the_body_size(self, client: httpx.AsyncClient) -> None:
        padded = b'{"function": "x^2", "points": null' + b" " * 300_000 + b"}"
        response = await client.post("/v1/derivative", content=padded)
        assert response.status_code == 200
        assert "values" not in response.json()

    async def test_a_chunked_body_over_the_limit_is_413(self) -> None:
        settings = Settings(workers=1, max_body_bytes=2048)
        async with started(settings) as application, http_client(application) as http:

            async def chunks() -> Any:
                for _ in range(10):
                    yield b" " * 1000

            response = await http.post("/v1/derivative", content=chunks())
            assert response.status_code == 413
            assert response.json()["type"] == "/problems/too_large"

    async def test_a_critical_point_says_why_there_is_no_ascent_direction(self, client: httpx.AsyncClient) -> None:
        body = {"function": "x^2*y^2", "at": {"x": 2, "y": 0}, "direction": [1, 0]}
        result = await answer(client, "/v1/directional-derivative", body)
        assert result["value"] == 0.0  # the course slide says 4
        assert result["steepest_ascent"] == {"direction": [None, None], "rate": 0.0}
        assert result["warnings"][0]["detail"].startswith("a critical point")


class TestTails:
    """sigmoid and softplus far in their tails: finite, on both sides, also at an exact point (issue 12)."""

    @pytest.mark.anyio
    async def test_sigmoid_and_softplus_derivatives_far_out(self, client: httpx.AsyncClient) -> None:
        for function, x, value in [("softplus(x)", 800, 1.0), ("softplus(x)", -800, 0.0), ("sigmoid(x)", "-800", 0.0)]:
            response = await client.post("/v1/derivative", json={"function": function, "at": {"x": x}})
            assert response.status_code == 200, response.text
            body = response.json()
            assert (body["value"], body["status"], body["warnings"]) == (value, "ok", [])


class TestNames:
    @pytest.mark.anyio
    async def test_xy_beside_x_and_y_is_warned_about(self, client: httpx.AsyncClient) -> None:
        body = {"function": "xy + x*y", "variable": "x", "at": {"x": 1, "y": 2, "xy": 3}}
        response = await client.post("/v1/derivative", json=body)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["value"] == 2.0
        assert [(w["code"], w["detail"]) for w in answer["warnings"]] == [
            ("ambiguous_name", "xy is one variable named xy; did you mean x*y?")
        ]

    @pytest.mark.anyio
    async def test_a_symbolic_answer_carries_the_warning_too(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "xy + x*y"})
        assert response.status_code == 200, response.text
        assert response.json()["warnings"][0]["detail"] == "xy is one variable named xy; did you mean x*y?"


class TestBranchCut:
    @pytest.mark.anyio
    async def test_atan2_on_its_cut_is_non_differentiable(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "atan2(y, x)", "at": {"x": -1, "y": 0}})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert (answer["value"], answer["status"], answer["function_value"]) == (
            [None, None],
            "non_differentiable",
            math.pi,
        )
        assert [w["code"] for w in answer["warnings"]] == ["non_differentiable"]
        assert answer["warnings"][0]["detail"] == (
            "a derivative does not exist here (a kink, cusp, jump or branch point) or is infinite"
        )
