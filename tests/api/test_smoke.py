import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_gradient_of_the_seed_example(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/gradient", json={"function": "x^2*y^3", "at": {"x": 1, "y": 2}})
    assert response.status_code == 200
    body = response.json()
    assert body["variables"] == ["x", "y"]
    assert body["value"] == [16.0, 12.0]  # (2 x y^3, 3 x^2 y^2) at (1, 2)
