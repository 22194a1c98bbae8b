"""What the API tests of the geometry areas expect of an answer: a 200 JSON body, or a located problem."""

from __future__ import annotations

from typing import Any

import httpx


async def ok(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    answer: dict[str, Any] = response.json()
    return answer


async def problem(client: httpx.AsyncClient, path: str, body: dict[str, Any], status: int, slug: str) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    answer: dict[str, Any] = response.json()
    assert answer["type"] == f"/problems/{slug}"
    assert answer["detail"].endswith(answer["errors"][0]["msg"])  # a validation error's detail starts "body: "
    return answer
