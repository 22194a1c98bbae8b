"""POST /v1/matrix/derivative over the app: the contract's fields, values against NumPy, the cache, every problem."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from service.config import Settings
from tests.conftest import http_client, started

pytestmark = pytest.mark.anyio

PATH = "/v1/matrix/derivative"
LOSS = "sum(log(vector(1) + exp(-y .* (X*w))))"


def problem_of(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    return body


async def post(client: httpx.AsyncClient, **request: Any) -> dict[str, Any]:
    response = await client.post(PATH, json=request)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestSymbolic:
    @pytest.mark.parametrize(
        ("function", "wrt", "shapes", "expression", "shape"),
        [
            ("b'*a", "a", {"a": ["n"], "b": ["n"]}, "b", ["n"]),
            ("b'*A*a", "a", {"a": ["n"], "b": ["n"], "A": ["n", "n"]}, "A'*b", ["n"]),
            ("norm2(a)^2", "a", {"a": ["n"]}, "2*a", ["n"]),
            ("(w'*x + b - y)^2", "w", {"w": ["n"], "x": ["n"], "b": [], "y": []}, "2*(w'*x + b - y)*x", ["n"]),
            (
                "sigmoid(w'*x + b)",
                "w",
                {"w": ["n"], "x": ["n"], "b": []},
                "sigmoid(w'*x + b)*(1 - sigmoid(w'*x + b))*x",
                ["n"],
            ),
            ("x'*A*x", "x", {"x": ["n"], "A": ["n", "n"]}, "A*x + A'*x", ["n"]),
            ("det(X)", "X", {"X": ["n", "n"]}, "det(X)*inv(X)'", ["n", "n"]),
            ("log(det(X))", "X", {"X": ["n", "n"]}, "inv(X)'", ["n", "n"]),
            ("tr(A*X*B)", "X", {"A": ["n", "n"], "X": ["n", "n"], "B": ["n", "n"]}, "A'*B'", ["n", "n"]),
            ("norm2(A*x - y)^2", "x", {"A": ["m", "n"], "x": ["n"], "y": ["m"]}, "2*A'*(A*x - y)", ["n"]),
            ("log(sum(exp(x)))", "x", {"x": ["n"]}, "exp(x)/sum(exp(x))", ["n"]),
            ("A*x", "x", {"A": ["m", "n"], "x": ["n"]}, "A", ["m", "n"]),
            (
                "x'*A*x + c*sin(y)'*x",
                "x",
                {"x": ["n"], "A": ["n", "n"], "y": ["n"], "c": []},
                "A*x + A'*x + c*sin(y)",
                ["n"],
            ),
        ],
    )
    async def test_textbook_forms(
        self,
        client: httpx.AsyncClient,
        function: str,
        wrt: str,
        shapes: dict[str, Any],
        expression: str,
        shape: list[Any],
    ) -> None:
        body = await post(client, function=function, wrt=wrt, shapes=shapes)
        assert body["derivative"]["expression"] == expression
        assert body["derivative"]["shape"] == shape
        assert (body["value"], body["status"], body["warnings"], body["warnings_omitted"]) == (None, None, [], 0)
        assert body["code"]["numpy"].startswith("import numpy as np\n\n\ndef derivative(")

    async def test_hessians(self, client: httpx.AsyncClient) -> None:
        body = await post(client, function="x'*A*x", wrt="x", order=2, shapes={"x": ["n"], "A": ["n", "n"]})
        assert (body["derivative"]["expression"], body["derivative"]["latex"]) == ("A + A'", "A + {A}^\\top")
        loss = await post(client, function=LOSS, wrt="w", order=2, shapes={"X": ["m", "n"], "w": ["n"], "y": ["m"]})
        assert loss["derivative"]["expression"] == (
            "X'*diag(y.^2 .* (sigmoid(-y .* (X*w)) .* (1 - sigmoid(-y .* (X*w)))))*X"
        )
        assert loss["derivative"]["shape"] == ["n", "n"]


class TestValues:
    async def test_logistic_loss_gradient_and_hessian_against_numpy(self, client: httpx.AsyncClient) -> None:
        rng = np.random.default_rng(3)
        X, w, y = rng.normal(size=(30, 4)), rng.normal(size=4), np.sign(rng.normal(size=30))
        at = {"X": X.tolist(), "w": w.tolist(), "y": y.tolist()}
        s = 1 / (1 + np.exp(y * (X @ w)))  # sigmoid(-y .* (X*w))
        gradient = await post(client, function=LOSS, wrt="w", at=at)
        np.testing.assert_allclose(gradient["value"], X.T @ (-y * s), rtol=1e-12)
        assert (gradient["status"], gradient["derivative"]["shape"]) == ("ok", [4])
        hessian = await post(client, function=LOSS, wrt="w", order=2, at=at)
        np.testing.assert_allclose(hessian["value"], X.T @ np.diag(s * (1 - s)) @ X, rtol=1e-12)
        assert hessian["derivative"]["shape"] == [4, 4]

    async def test_matrix_gradient_at_a_small_matrix(self, client: httpx.AsyncClient) -> None:
        X = np.array([[2.0, 1.0], [1.0, 3.0]])
        body = await post(client, function="log(det(X))", wrt="X", at={"X": X.tolist()})
        np.testing.assert_allclose(body["value"], np.linalg.inv(X).T, rtol=1e-12)
        assert body["derivative"]["shape"] == [2, 2]

    async def test_shapes_from_at_with_a_scalar(self, client: httpx.AsyncClient) -> None:
        body = await post(client, function="t^2*x", wrt="t", at={"t": 3, "x": [1, 2, 3]})
        assert body["derivative"]["expression"] == "2*t*x"
        assert body["value"] == [6.0, 12.0, 18.0]

    async def test_a_domain_error(self, client: httpx.AsyncClient) -> None:
        body = await post(client, function="sum(log(x))", wrt="x", at={"x": [1, -1]})
        assert body["status"] == "domain_error"
        assert body["warnings"][0]["code"] == "domain_error"

    async def test_generated_code_matches_the_value(self, client: httpx.AsyncClient) -> None:
        at = {"A": [[1.0, 2.0], [3.0, 4.0]], "x": [1.0, -1.0]}
        body = await post(client, function="x'*A*x", wrt="x", at=at)
        namespace: dict[str, Any] = {}
        exec(compile(body["code"]["numpy"], "<code.numpy>", "exec"), namespace)
        np.testing.assert_allclose(namespace["derivative"](np.array(at["A"]), np.array(at["x"])), body["value"])

    async def test_a_repeated_request_is_a_cache_hit(self, app: Any, client: httpx.AsyncClient) -> None:
        request = {"function": "x'*B*x + sum(x)", "wrt": "x", "shapes": {"x": ["k"], "B": ["k", "k"]}}
        cache = app.state.services.matrix.cache
        await post(client, **request)
        hits = cache.hits
        await post(client, **request, at={"x": list(range(20)), "B": np.eye(20).tolist()})
        assert cache.hits == hits + 1


class TestProblems:
    async def test_shape_mismatch_names_operands_and_position(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PATH, json={"function": "A*x", "wrt": "x", "shapes": {"A": [3, 2], "x": [3]}})
        body = problem_of(response, 422, "shape_mismatch")
        assert body["detail"] == (
            "A*x at position 1: A has 2 columns but x has 3 rows (A is a matrix of 3 rows and 2 columns, x is a "
            "vector of length 3); use .* for an elementwise product or ' to transpose"
        )
        assert body["errors"][0]["loc"] == ["body", "function"]
        assert body["errors"][0]["position"] == 1

    async def test_b_caret_t(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PATH, json={"function": "b^T A a", "wrt": "a"})
        body = problem_of(response, 422, "syntax_error")
        assert body["detail"] == (
            "expected an operator or the end of the expression at position 4, found 'A' (write x' for the "
            "transpose of x, not x^T)"
        )

    async def test_a_matrix_by_a_matrix(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PATH, json={"function": "inv(X)", "wrt": "X", "shapes": {"X": ["n", "n"]}})
        body = problem_of(response, 422, "no_matrix_form")
        assert body["detail"] == (
            "the derivative of a matrix of n rows and n columns by the matrix X has more than two indices; no "
            "matrix form exists (differentiate a scalar function by a matrix, or by a vector or a scalar)"
        )

    async def test_order_three(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PATH, json={"function": "x'*x", "wrt": "x", "order": 3, "shapes": {"x": ["n"]}})
        body = problem_of(response, 422, "invalid_input")
        assert body["detail"] == "'order' is 3; it must be 1 (gradient or Jacobian) or 2 (Hessian)"
        assert body["errors"][0]["loc"] == ["body", "order"]

    async def test_shapes_disagree_with_at(self, client: httpx.AsyncClient) -> None:
        request = {"function": "x'*x", "wrt": "x", "shapes": {"x": [2]}, "at": {"x": [1, 2, 3]}}
        body = problem_of(await client.post(PATH, json=request), 422, "invalid_input")
        assert body["detail"] == (
            "'x' has the shape [2] in 'shapes' but its value in 'at' has the shape [3]; make them agree"
        )

    async def test_a_name_without_shape(self, client: httpx.AsyncClient) -> None:
        body = problem_of(
            await client.post(PATH, json={"function": "x'*y", "wrt": "x", "shapes": {"x": ["n"]}}), 422, "unknown_name"
        )
        assert body["detail"] == (
            "'y' at position 3 has no shape: give it in 'shapes' (e.g. \"y\": [\"n\"] for a vector, [] for a "
            "scalar) or its value in 'at'"
        )

    async def test_an_unnamed_value(self, client: httpx.AsyncClient) -> None:
        request = {"function": "x'*x", "wrt": "x", "at": {"x": [1, 2], "q": 1}}
        body = problem_of(await client.post(PATH, json=request), 422, "invalid_point")
        assert (
            body["detail"]
            == "'at' gives 'q', which the function does not use (its names: x); remove it or check its spelling"
        )

    async def test_a_ragged_matrix(self, client: httpx.AsyncClient) -> None:
        request = {"function": "sum(X)", "wrt": "X", "at": {"X": [[1, 2], [3]]}}
        body = problem_of(await client.post(PATH, json=request), 422, "invalid_point")
        assert body["detail"] == (
            "the value of 'X' in 'at' is not a finite number, a list of numbers or a list of equal-length rows of "
            "numbers"
        )

    async def test_a_function_name_as_variable(self, client: httpx.AsyncClient) -> None:
        body = problem_of(await client.post(PATH, json={"function": "tr(X)", "wrt": "tr"}), 422, "validation_error")
        assert body["errors"][0]["loc"] == ["body", "wrt"]
        assert body["errors"][0]["msg"] == "'tr' is a function of the matrix language and cannot name a variable"

    async def test_a_jacobian_through_a_matrix_of_the_variable(self, client: httpx.AsyncClient) -> None:
        request = {"function": "x*x'*x", "wrt": "x", "at": {"x": [1.0, 2.0]}}
        body = problem_of(await client.post(PATH, json=request), 422, "no_matrix_form")
        assert body["detail"] == (
            "the Jacobian by the vector x passes through x*x' (a matrix of 2 rows and 2 columns that depends on x), "
            "whose derivative would have three indices; no matrix form is found for it. Write the function so that "
            "matrices depending on x appear only inside scalar results (as in x'*A*x), or differentiate a scalar "
            "function"
        )

    async def test_work_above_the_limit_is_413(self) -> None:
        async with started(Settings(workers=1, matrix_max_work=1000)) as app, http_client(app) as client:
            request = {"function": "x'*A*x", "wrt": "x", "order": 2, "at": {"x": [1.0] * 30, "A": np.eye(30).tolist()}}
            body = problem_of(await client.post(PATH, json=request), 413, "too_large")
        assert body["detail"] == (
            "evaluating this derivative at these arrays needs 2700 intermediate entries; the limit is 1000 "
            "(NABLA_MATRIX_MAX_WORK): use smaller arrays"
        )
