"""End to end: the matrix derivative over real HTTP (the server of test_server.py): a textbook form, its value, and a
hostile input refused in time with the server answering normally afterwards."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from tests.e2e.test_server import assert_healthy, http, post, server

pytestmark = pytest.mark.e2e
_ = (http, server)  # fixtures


def test_the_logistic_hessian_over_http(http: httpx.Client) -> None:
    X = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]])
    w, y = np.array([0.3, -0.2]), np.array([1.0, -1.0, 1.0])
    body = {
        "function": "sum(log(vector(1) + exp(-y .* (X*w))))",
        "wrt": "w",
        "order": 2,
        "at": {"X": X.tolist(), "w": w.tolist(), "y": y.tolist()},
    }
    response = post(http, "/v1/matrix/derivative", body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["derivative"]["expression"] == (
        "X'*diag(y.^2 .* (sigmoid(-y .* (X*w)) .* (1 - sigmoid(-y .* (X*w)))))*X"
    )
    s = 1 / (1 + np.exp(y * (X @ w)))
    np.testing.assert_allclose(answer["value"], X.T @ np.diag(s * (1 - s)) @ X, rtol=1e-12)


def test_a_deep_expression_is_refused_in_time(http: httpx.Client) -> None:
    function = "x" + "'" * 9000
    response = post(http, "/v1/matrix/derivative", {"function": f"sum({function})", "wrt": "x", "shapes": {"x": ["n"]}})
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "/problems/limit_exceeded"
    assert_healthy(http)
