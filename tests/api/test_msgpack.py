"""application/msgpack bodies and answers, the 415 for other types, and the output-values limit."""

from __future__ import annotations

import httpx
import msgspec
import numpy as np
import pytest

pytestmark = pytest.mark.anyio
MSGPACK = {"content-type": "application/msgpack", "accept": "application/msgpack"}


def _wire(values: np.ndarray) -> dict[str, object]:
    return {"dtype": "<f8", "shape": list(values.shape), "data": values.astype("<f8").tobytes()}


class TestMsgpack:
    async def test_gradient_round_trip_matches_numpy(self, client: httpx.AsyncClient) -> None:
        points = np.random.default_rng(1).normal(size=(30_000, 3))
        body = msgspec.msgpack.encode({"function": "x*y*z", "variables": ["x", "y", "z"], "points": _wire(points)})
        response = await client.post("/v1/gradient", content=body, headers=MSGPACK)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/msgpack"
        values = msgspec.msgpack.decode(response.content)["values"]
        got = np.frombuffer(values["data"], "<f8").reshape(values["shape"])
        x, y, z = points.T
        np.testing.assert_allclose(got, np.stack([y * z, x * z, x * y], axis=1), rtol=1e-15)

    async def test_columns_as_wire_arrays(self, client: httpx.AsyncClient) -> None:
        x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 4.0])
        body = msgspec.msgpack.encode({"function": "x^2*y", "points": {"y": _wire(y), "x": _wire(x)}})
        response = await client.post("/v1/gradient", content=body, headers=MSGPACK)
        assert response.status_code == 200
        values = msgspec.msgpack.decode(response.content)["values"]
        got = np.frombuffer(values["data"], "<f8").reshape(values["shape"])
        np.testing.assert_array_equal(got, np.stack([2 * x * y, x**2], axis=1))

    async def test_columns_of_different_lengths_are_refused(self, client: httpx.AsyncClient) -> None:
        body = msgspec.msgpack.encode({"function": "x*y", "points": {"x": _wire(np.ones(3)), "y": _wire(np.ones(2))}})
        response = await client.post("/v1/gradient", content=body, headers=MSGPACK)
        assert response.status_code == 422
        assert response.json()["detail"] == (
            "points.y has shape [2]; every column must be one array of the same length"
        )

    async def test_xml_is_415(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/gradient", content=b"<a/>", headers={"content-type": "application/xml"})
        assert response.status_code == 415
        assert response.json()["detail"] == (
            "a body of type application/xml is not read here; send application/json or application/msgpack "
            "(a body with no type, form encoding or text/plain is read as JSON)"
        )
