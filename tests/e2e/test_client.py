"""The Python client against a real server: answers as NumPy, problems raised as ProblemError, sync and async."""

from __future__ import annotations

import math
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from service.client import AsyncClient, Client, ProblemError
from tests.e2e.test_server import server  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[Client]:  # noqa: F811
    with Client(server) as nabla:
        yield nabla


class TestSync:
    def test_a_gradient_at_a_numpy_point(self, client: Client) -> None:
        answer = client.gradient("sin(x*y) + z*cos(x)", at=np.array([1.0, 2.0, 3.0]))
        assert answer.variables == ("x", "y", "z")
        expected = [2 * math.cos(2) - 3 * math.sin(1), math.cos(2), math.cos(1)]
        np.testing.assert_allclose(answer.value, expected, rtol=1e-13)

    def test_a_hessian_batch(self, client: Client) -> None:
        points = np.array([[0.0, 1.0], [1.0, 2.0]])
        answer = client.hessian("x^2*y", points=points)
        expected = [[[2 * y, 2 * x], [2 * x, 0.0]] for x, y in points]
        np.testing.assert_array_equal(answer.values, expected)

    def test_an_undefined_value_is_nan(self, client: Client) -> None:
        answer = client.gradient("log(x)", points=[[0.0], [1.0]])
        assert math.isnan(answer.values[0, 0])
        assert answer.values[1, 0] == 1.0
        assert answer.warnings[0].code == "non_finite"

    def test_statistics(self, client: Client) -> None:
        answer = client.statistics("normal", parameters={"mu": 0, "sigma": 1}, x=np.array([0.0]))
        assert answer.pdf[0] == pytest.approx(1 / math.sqrt(2 * math.pi), rel=1e-15)

    def test_a_problem_is_raised_with_its_message_and_location(self, client: Client) -> None:
        with pytest.raises(ProblemError) as raised:
            client.gradient("sin(x", at=[1])
        problem = raised.value
        message = "expected ')' to close the '(' at position 3, found the end of the input at position 5"
        assert (problem.status, problem.type, problem.detail) == (422, "/problems/syntax_error", message)
        assert problem.errors[0].loc == ("body", "function")
        assert problem.errors[0].position == 5
        assert str(problem) == f"422 Expression syntax error: {message}"

    def test_a_plot_is_an_image(self, client: Client) -> None:
        image = client.plot(kind="curve", function="sin(x)", ranges={"x": [0, 3]})
        assert image.media_type == "image/svg+xml"
        assert image.data.startswith(b"<?xml")


class Recorded(httpx.HTTPTransport):
    """A real transport that remembers the content type of every request it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.types: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.types.append(request.headers.get("content-type", ""))
        return super().handle_request(request)


class TestBinary:
    """Batches as msgpack (asked for, or chosen because the server's OpenAPI document lists it) and as JSON give the
    same numbers; a batch above the inline size is streamed by the server."""

    POINTS = np.random.default_rng(7).uniform(-2, 2, size=(60_000, 3))

    def expected(self) -> np.ndarray:
        x, y, z = self.POINTS.T
        return np.column_stack([y * np.cos(x * y) - z * np.sin(x), x * np.cos(x * y), np.cos(x)])

    @pytest.mark.parametrize(("binary", "sent"), [(True, "application/msgpack"), (None, "application/msgpack"),
                                                   (False, "application/json")])  # fmt: skip
    def test_a_large_gradient_batch(self, server: str, binary: bool | None, sent: str) -> None:  # noqa: F811
        transport = Recorded()
        with Client(server, binary=binary, transport=transport) as nabla:
            answer = nabla.gradient("sin(x*y) + z*cos(x)", points=self.POINTS)
        assert transport.types[-1] == sent
        assert answer.values.shape == (60_000, 3)
        np.testing.assert_allclose(answer.values, self.expected(), rtol=1e-12, atol=1e-15)

    def test_a_hessian_batch_as_msgpack(self, server: str) -> None:  # noqa: F811
        with Client(server, binary=True) as nabla:
            answer = nabla.hessian("x^2*y + z^3", points=self.POINTS[:1000])
        x, y, z = self.POINTS[:1000].T
        zero = np.zeros_like(x)
        expected = np.stack([[2 * y, 2 * x, zero], [2 * x, zero, zero], [zero, zero, 6 * z]]).transpose(2, 0, 1)
        np.testing.assert_allclose(answer.values, expected, rtol=1e-13)


async def test_the_async_client_sends_batches_as_msgpack(server: str) -> None:  # noqa: F811
    async with AsyncClient(server, binary=True) as nabla:
        answer = await nabla.gradient("x*y", points=np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(answer.values, [[2.0, 1.0], [4.0, 3.0]])


async def test_the_async_client(server: str) -> None:  # noqa: F811
    async with AsyncClient(server) as nabla:
        answer = await nabla.derivative("sin(x)", order=2, at={"x": 1})
        assert answer.value == pytest.approx(-math.sin(1), rel=1e-15)
        with pytest.raises(ProblemError) as raised:
            await nabla.gradient("x*y", at=[1])
        assert raised.value.detail == (
            "at has 1 value but there are 2 variables (x, y); give one value per variable, in that order"
        )
