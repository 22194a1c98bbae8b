"""Every error path: an application/problem+json document (RFC 9457) with the right status and a message that names
the requirement, what was received and where. One class per kind of failure, one test per scenario."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from service.config import Settings
from tests.conftest import http_client, started

pytestmark = pytest.mark.anyio

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "errors", "request_id"}
CONTRACT_FUNCTIONS = (
    "sin cos tan sec csc cot asin acos atan atan2 sinh cosh tanh asinh acosh atanh exp log ln log2 log10 sqrt cbrt "
    "abs sign erf erfc gamma loggamma sigmoid softplus min max"
).split()


def problem(response: httpx.Response, status: int, slug: str, title: str, detail: str) -> dict[str, Any]:
    """The problem document of ``response``, after checking its media type, status, type, title and detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["type"] == f"/problems/{slug}"
    assert body["title"] == title
    assert body["status"] == status
    assert body["detail"] == detail
    assert body["instance"] == response.request.url.path
    assert body["request_id"] == response.headers["x-request-id"]
    assert isinstance(body["errors"], list)
    return body


def located(body: dict[str, Any], loc: list[str | int], type_: str, position: int | None = None) -> None:
    """The problem has one located error, carrying the detail as its message."""
    item: dict[str, Any] = {"loc": loc, "msg": body["detail"], "type": type_}
    if position is not None:
        item["position"] = position
    assert body["errors"] == [item]


async def post_raw(client: httpx.AsyncClient, path: str, content: bytes) -> httpx.Response:
    return await client.post(path, content=content, headers={"content-type": "application/json"})


class TestExpressionErrors:
    async def test_syntax_error_names_the_position(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/derivative", json={"function": "x**"})
        detail = "expected an operand after '**' at position 3"
        body = problem(response, 422, "syntax_error", "Expression syntax error", detail)
        located(body, ["body", "function"], "syntax_error", position=3)

    async def test_unclosed_parenthesis(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "sin(x", "at": [1]})
        detail = "expected ')' to close the '(' at position 3, found the end of the input at position 5"
        body = problem(response, 422, "syntax_error", "Expression syntax error", detail)
        located(body, ["body", "function"], "syntax_error", position=5)

    async def test_unexpected_character(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x $ y"})
        body = problem(
            response, 422, "syntax_error", "Expression syntax error", "unexpected character '$' at position 2"
        )
        located(body, ["body", "function"], "syntax_error", position=2)

    async def test_unknown_function_lists_the_supported_ones(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/derivative", json={"function": "foo(x)"})
        assert response.status_code == 422
        detail = response.json()["detail"]
        prefix = "unknown function 'foo' at position 0; supported functions: "
        assert detail.startswith(prefix)
        supported = detail.removeprefix(prefix).split(", ")
        assert supported == sorted(supported)
        assert set(CONTRACT_FUNCTIONS) <= set(supported)
        body = problem(response, 422, "unsupported_function", "Unsupported function", detail)
        located(body, ["body", "function"], "unsupported_function", position=0)

    async def test_unknown_name_when_variables_are_given(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y+z", "variables": ["x", "y"]})
        detail = (
            "unknown name 'z' at position 4: it is not a variable, a parameter or a constant (known names: x, y); "
            "add it to 'variables' or 'parameters'"
        )
        body = problem(response, 422, "unknown_name", "Unknown name", detail)
        located(body, ["body", "function"], "unknown_name", position=4)

    async def test_the_error_is_located_in_the_right_function(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/jacobian", json={"functions": ["x*y", "x +* y"]})
        assert response.status_code == 422
        body = response.json()
        assert body["type"] == "/problems/syntax_error"
        assert [e["loc"] for e in body["errors"]] == [["body", "functions", 1]]
        assert body["errors"][0]["position"] == 3

    async def test_code_is_not_an_expression(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "__import__('os').system('echo hi')"})
        problem(response, 422, "syntax_error", "Expression syntax error", "unexpected character '_' at position 0")

    async def test_derivative_of_two_variables_needs_a_variable(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/derivative", json={"function": "x*y"})
        detail = "there are 2 variables (x, y); name the one to differentiate by in 'variable'"
        body = problem(response, 422, "invalid_input", "Invalid input", detail)
        located(body, ["body", "variable"], "invalid_input")

    async def test_expression_swell_is_too_complex(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/derivative", json={"function": "x^x^x^x^x", "order": 40})
        detail = (
            "the derivatives grew past 200000 expression nodes; ask for a lower order, fewer variables or a simpler "
            "function"
        )
        problem(response, 422, "too_complex", "Too complex", detail)

    async def test_a_huge_exact_power_is_refused_before_computing(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "9^9^9^9*x"})
        detail = "the power at position 3 would have about 1228093895 bits; exact powers may have at most 9000"
        body = problem(response, 422, "limit_exceeded", "Limit exceeded", detail)
        located(body, ["body", "function"], "limit_exceeded", position=3)


class TestPointErrors:
    async def test_an_array_point_of_the_wrong_size(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "at": [1, 2, 3]})
        detail = "at has 3 values but there are 2 variables (x, y); give one value per variable, in that order"
        body = problem(response, 422, "invalid_point", "Invalid point", detail)
        located(body, ["body", "at"], "invalid_point")

    async def test_an_object_point_with_a_missing_variable(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "at": {"x": 1}})
        detail = "at must give exactly the variables (x, y): missing y"
        body = problem(response, 422, "invalid_point", "Invalid point", detail)
        located(body, ["body", "at"], "invalid_point")

    async def test_an_object_point_with_an_unknown_name(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "at": {"x": 1, "y": 2, "w": 3}})
        problem(response, 422, "invalid_point", "Invalid point", "at must give exactly the variables (x, y): unknown w")

    async def test_a_row_of_the_wrong_size(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "points": [[1, 2], [3]]})
        detail = "points[1] has 1 value but there are 2 variables (x, y); give one value per variable, in that order"
        body = problem(response, 422, "invalid_point", "Invalid point", detail)
        located(body, ["body", "points", 1], "invalid_point")

    async def test_columns_of_different_lengths(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "points": {"x": [1, 2], "y": [1]}})
        problem(response, 422, "invalid_point", "Invalid point", "every column of points must have the same length")

    async def test_an_empty_batch(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "points": []})
        problem(response, 422, "invalid_point", "Invalid point", "points must hold at least one point")

    async def test_a_boolean_coordinate(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "at": [True, 2]})
        detail = "expected a number or an exact string at at[0], got a boolean"
        body = problem(response, 422, "invalid_point", "Invalid point", detail)
        located(body, ["body", "at", 0], "invalid_point")

    async def test_a_boolean_in_a_batch(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "points": [[1, 2], [1, False]]})
        detail = "expected a number or an exact string at points[1][1], got a boolean"
        body = problem(response, 422, "invalid_point", "Invalid point", detail)
        located(body, ["body", "points", 1, 1], "invalid_point")

    async def test_a_boolean_in_a_column(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "points": {"x": [1, True], "y": [1, 2]}})
        detail = "expected a number or an exact string at points.x[1], got a boolean"
        body = problem(response, 422, "invalid_point", "Invalid point", detail)
        located(body, ["body", "points", "x", 1], "invalid_point")

    async def test_a_null_coordinate(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "at": [None, 2]})
        detail = "expected a number or an exact string at at[0], got null"
        problem(response, 422, "invalid_point", "Invalid point", detail)

    async def test_a_boolean_parameter(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "a*x", "parameters": {"a": True}})
        detail = "body.parameters.a: expected a number or an exact string such as '1/3', got a boolean"
        body = problem(response, 422, "validation_error", "Invalid request", detail)
        assert [e["loc"] for e in body["errors"]] == [["body", "parameters", "a"]]

    async def test_a_non_real_exact_value(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "at": ["sqrt(-1)", 2]})
        body = problem(response, 422, "invalid_point", "Invalid point", "'sqrt(-1)' is not a real number (at at[0])")
        located(body, ["body", "at", 0], "invalid_point")

    async def test_an_exact_value_with_a_name(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "at": ["x", 2]})
        detail = (
            "'x' is not a number: 'x' is a name; an exact value may use numbers, pi, e and the functions "
            "(e.g. 'pi/4', 'sqrt(2)', '1/3') (at at[0])"
        )
        problem(response, 422, "invalid_point", "Invalid point", detail)

    async def test_a_point_that_is_not_a_point(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "at": 5})
        detail = "body.at: a point is an object {name: value} or an array of values"
        problem(response, 422, "validation_error", "Invalid request", detail)


class TestDirectionErrors:
    async def test_a_direction_of_the_wrong_size(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/directional-derivative", json={"function": "x*y", "at": [1, 2], "direction": [1]}
        )
        detail = "direction has 1 value but there are 2 variables (x, y); give one value per variable, in that order"
        body = problem(response, 422, "invalid_input", "Invalid input", detail)
        located(body, ["body", "direction"], "invalid_input")

    async def test_the_zero_direction(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/directional-derivative", json={"function": "x*y", "at": [1, 2], "direction": [0, 0]}
        )
        detail = (
            "direction is the zero vector, which has no unit direction; give a non-zero vector or set normalize to "
            "false"
        )
        problem(response, 422, "invalid_input", "Invalid input", detail)

    async def test_a_directional_derivative_needs_a_point(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/directional-derivative", json={"function": "x*y", "direction": [0, 1]})
        detail = "body: a directional derivative needs 'at' (or 'points', or 'grid') to evaluate at"
        problem(response, 422, "validation_error", "Invalid request", detail)


class TestMalformedBodies:
    @staticmethod
    def orjson_reason(content: bytes) -> str:
        """orjson's own words for what is wrong (they differ between releases: 3.12 added "expected a JSON value")."""
        with pytest.raises(orjson.JSONDecodeError) as error:
            orjson.loads(content)
        return str(error.value).split(": line ")[0]

    @pytest.mark.parametrize(
        ("literal", "expected"),
        [
            ("NaN", "unexpected character"),
            ("Infinity", "unexpected character"),
            ("-Infinity", "no digit after"),  # 3.10: "minus sign", 3.12: "sign"
        ],
    )
    async def test_non_finite_literals_are_malformed_json(
        self, client: httpx.AsyncClient, literal: str, expected: str
    ) -> None:
        content = f'{{"function": "x*y", "at": [{literal}, 2]}}'.encode()
        reason = self.orjson_reason(content)
        assert reason.startswith(expected)
        response = await post_raw(client, "/v1/gradient", content)
        detail = f"the body is not valid JSON ({reason}); NaN and Infinity are not JSON numbers"
        body = problem(response, 400, "malformed_json", "Malformed JSON", detail)
        assert [e["type"] for e in body["errors"]] == ["json_invalid"]

    async def test_truncated_json(self, client: httpx.AsyncClient) -> None:
        response = await post_raw(client, "/v1/gradient", b'{"function":')
        detail = "the body is not valid JSON (unexpected end of data); NaN and Infinity are not JSON numbers"
        problem(response, 400, "malformed_json", "Malformed JSON", detail)

    async def test_a_body_that_is_not_an_object(self, client: httpx.AsyncClient) -> None:
        response = await post_raw(client, "/v1/gradient", b"[1, 2]")
        detail = "body: Input should be a valid dictionary or object to extract fields from"
        problem(response, 422, "validation_error", "Invalid request", detail)

    async def test_a_missing_function(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={})
        body = problem(response, 422, "validation_error", "Invalid request", "body.function: Field required")
        assert body["errors"] == [{"loc": ["body", "function"], "msg": "Field required", "type": "missing"}]

    async def test_a_function_that_is_not_a_string(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": 5})
        problem(response, 422, "validation_error", "Invalid request", "body.function: Input should be a valid string")

    async def test_an_empty_function(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": ""})
        detail = "body.function: String should have at least 1 character"
        problem(response, 422, "validation_error", "Invalid request", detail)


class TestRequestShapeErrors:
    async def test_extra_fields_are_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "bogus": 1})
        body = problem(
            response, 422, "validation_error", "Invalid request", "body.bogus: Extra inputs are not permitted"
        )
        assert body["errors"] == [
            {"loc": ["body", "bogus"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
        ]

    async def test_several_problems_are_counted(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "bogus": 1, "other": 2})
        detail = "body.bogus: Extra inputs are not permitted (and 1 more problem)"
        body = problem(response, 422, "validation_error", "Invalid request", detail)
        assert [e["loc"] for e in body["errors"]] == [["body", "bogus"], ["body", "other"]]

    async def test_at_and_points_together(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "at": [1, 2], "points": [[1, 2]]})
        detail = "body: give either 'at' (one point) or 'points' (a batch), not both"
        body = problem(response, 422, "validation_error", "Invalid request", detail)
        assert [e["loc"] for e in body["errors"]] == [["body"]]

    async def test_wrt_with_an_order(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/derivative", json={"function": "x", "wrt": ["x"], "order": 2})
        detail = "body: give either 'wrt' or 'variable' and 'order', not both"
        problem(response, 422, "validation_error", "Invalid request", detail)

    async def test_a_repeated_variable(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "x*y", "variables": ["x", "x"]})
        problem(response, 422, "validation_error", "Invalid request", "body: variables must not repeat a name")

    async def test_a_name_that_is_a_variable_and_a_parameter(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/gradient", json={"function": "x*a", "variables": ["x", "a"], "parameters": {"a": 1}}
        )
        detail = "body: a cannot be both a variable and a parameter"
        problem(response, 422, "validation_error", "Invalid request", detail)

    async def test_a_negative_order(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/derivative", json={"function": "x", "order": -1})  # 0 is f itself
        detail = "body.order: Input should be greater than or equal to 0"
        problem(response, 422, "validation_error", "Invalid request", detail)

    async def test_order_above_the_limit(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/derivative", json={"function": "x", "order": 1001})
        detail = "order 1001 is above the limit of 1000 (NABLA_MAX_ORDER)"
        body = problem(response, 422, "limit_exceeded", "Limit exceeded", detail)
        located(body, ["body", "order"], "limit_exceeded")

    async def test_a_mixed_partial_above_the_limit(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/derivative", json={"function": "x*y", "wrt": ["x"] * 1000 + ["y"]})
        detail = "order 1001 is above the limit of 1000 (NABLA_MAX_ORDER)"
        body = problem(response, 422, "limit_exceeded", "Limit exceeded", detail)
        located(body, ["body", "wrt"], "limit_exceeded")

    async def test_an_expression_above_the_length_limit(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", json={"function": "+".join(["x"] * 6000)})
        detail = "the expression has 11999 characters; the limit is 10000"
        problem(response, 422, "limit_exceeded", "Limit exceeded", detail)


class TestHTTPErrors:
    async def test_an_unknown_path_is_a_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/nothing-here")
        detail = response.json()["detail"]
        assert detail.startswith("there is no endpoint at /v1/nothing-here; the endpoints are POST /v1/derivative, ")
        assert "GET /v1/distributions, POST /v1/distributions/{family}/statistics" in detail
        assert detail.endswith("(see /docs)")
        body = problem(response, 404, "not_found", "Not found", detail)
        located(body, ["path"], "not_found")

    async def test_a_wrong_method_is_a_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/gradient")
        detail = "/v1/gradient does not take GET; it takes POST with a JSON body (see /docs)"
        body = problem(response, 405, "method_not_allowed", "Method not allowed", detail)
        located(body, ["method"], "method_not_allowed")
        assert response.headers["allow"] == "POST"

    async def test_a_wrong_method_on_a_path_with_a_parameter(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/distributions/gamma/fit")
        detail = "/v1/distributions/gamma/fit does not take GET; it takes POST with a JSON body (see /docs)"
        problem(response, 405, "method_not_allowed", "Method not allowed", detail)


@pytest.fixture(scope="module")
async def small() -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with tiny limits: 3 points in a batch, 2 KiB in a body."""
    settings = Settings(workers=1, compute_timeout=5.0, max_points=3, max_body_bytes=2048)
    async with started(settings) as application, http_client(application) as http:
        yield http


class TestSizeLimits:
    async def test_a_batch_at_the_limit_is_fine(self, small: httpx.AsyncClient) -> None:
        response = await small.post("/v1/derivative", json={"function": "x^2", "points": [[1], [2], [3]]})
        assert response.status_code == 200
        assert response.json()["values"] == [2.0, 4.0, 6.0]

    async def test_a_batch_of_rows_above_the_limit(self, small: httpx.AsyncClient) -> None:
        response = await small.post("/v1/derivative", json={"function": "x^2", "points": [[1], [2], [3], [4]]})
        body = problem(response, 413, "too_large", "Request too large", "the batch has 4 points; the limit is 3")
        located(body, ["body", "points"], "too_large")

    async def test_a_batch_of_columns_above_the_limit(self, small: httpx.AsyncClient) -> None:
        response = await small.post("/v1/gradient", json={"function": "x*y", "points": {"x": [1] * 5, "y": [2] * 5}})
        problem(response, 413, "too_large", "Request too large", "the batch has 5 points; the limit is 3")

    async def test_a_body_above_the_limit(self, small: httpx.AsyncClient) -> None:
        content = b'{"function": "x"' + b" " * 4096 + b"}"
        response = await post_raw(small, "/v1/derivative", content)
        detail = "the request body is larger than 2048 bytes (NABLA_MAX_BODY_BYTES)"
        body = problem(response, 413, "too_large", "Request too large", detail)
        located(body, ["body"], "too_large")


class TestSameTypoSameProblem:
    async def test_an_unknown_family_is_a_validation_error_everywhere(self, client: httpx.AsyncClient) -> None:
        statistics = await client.post("/v1/distributions/gama/statistics", json={"parameters": {"shape": 2}})
        stochastic = await client.post(
            "/v1/stochastic-derivative",
            json={"function": "X", "random": {"X": {"family": "gama", "parameters": {"shape": 2}}}, "at": {"t": 1}},
        )
        for response in (statistics, stochastic):
            assert response.status_code == 422
            body = response.json()
            assert body["type"] == "/problems/validation_error"
            assert "'gamma'" in body["detail"]  # the families are listed

    async def test_a_missing_parameter_names_the_family_and_its_parameters(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/stochastic-derivative",
            json={"function": "X", "random": {"X": {"family": "gamma", "parameters": {"shape": 2}}}, "at": {"t": 1}},
        )
        body = problem(
            response,
            422,
            "validation_error",
            "Invalid request",
            "body.random.X.gamma.parameters: gamma needs the parameter 'rate' or 'scale'; its parameters are shape, "
            "rate or scale (exactly one)",
        )
        assert body["errors"][0]["loc"] == ["body", "random", "X", "gamma", "parameters"]
