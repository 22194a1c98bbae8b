"""POST /v1/plot over the app: the image itself (SVG by default, PNG by `format` or Accept) at the asked size, a
repeated picture served without a worker, and problems as problem documents."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import httpx
import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.anyio

PATH = "/v1/plot"
CURVE = {"kind": "curve", "function": "sin(x)", "at": [1], "overlays": ["tangent"], "taylor_orders": [3]}


class TestImage:
    async def test_svg_by_default(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PATH, json=CURVE)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/svg+xml"
        root = ET.fromstring(response.content)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert (root.attrib["width"], root.attrib["height"]) == ("800px", "600px")

    async def test_png_by_accept_at_the_asked_size(self, client: httpx.AsyncClient) -> None:
        body = CURVE | {"width": 500, "height": 300}
        response = await client.post(PATH, json=body, headers={"Accept": "image/png"})
        assert response.headers["content-type"] == "image/png"
        assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", response.content[16:24]) == (500, 300)

    async def test_format_wins_over_accept(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PATH, json=CURVE | {"format": "svg"}, headers={"Accept": "image/png"})
        assert response.headers["content-type"] == "image/svg+xml"

    async def test_a_distribution(self, client: httpx.AsyncClient) -> None:
        body = {"kind": "distribution", "distribution": {"family": "poisson", "parameters": {"lam": 3}}, "at": 2}
        response = await client.post(PATH, json=body)
        assert response.status_code == 200, response.text
        ET.fromstring(response.content)

    async def test_a_repeated_picture_touches_no_worker(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        pictures = app.state.services.plots.pictures
        body = CURVE | {"taylor_orders": [2, 4]}
        first = await client.post(PATH, json=body)
        hits = pictures.hits
        again = await client.post(PATH, json=body)
        assert again.content == first.content
        assert pictures.hits == hits + 1


class TestProblems:
    async def test_an_overlay_the_kind_cannot_draw(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PATH, json=CURVE | {"overlays": ["gradient_arrows"]})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        detail = "kind 'curve' cannot draw the overlay 'gradient_arrows' (it is drawn on contour); its overlays: "
        assert response.json()["detail"] == detail + "tangent, trajectory"
        assert response.json()["errors"][0]["loc"] == ["body", "overlays"]

    async def test_too_many_variables(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PATH, json={"kind": "curve", "function": "x*y"})
        assert response.status_code == 422
        assert response.json()["detail"] == (
            "kind 'curve' draws a function of 1 variable; the function has 2 (x, y): use kind contour, surface or "
            "vector_field"
        )

    async def test_a_size_beyond_the_limit(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PATH, json=CURVE | {"width": 5000})
        assert response.status_code == 422
        assert response.json()["type"] == "/problems/validation_error"
        assert "width" in response.json()["detail"]

    async def test_a_malformed_point(self, client: httpx.AsyncClient) -> None:
        response = await client.post(PATH, json=CURVE | {"trajectory": [[{"x": 1}]]})
        assert response.status_code == 422, response.text
        assert response.json()["detail"] == ("expected a number or an exact string at trajectory[0][0], got an object")
