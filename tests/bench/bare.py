"""The baseline of the throughput targets: a bare FastAPI POST endpoint with a pydantic body of two floats, served
by the same uvicorn with the same flags as Nabla."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Pair(BaseModel):
    x: float
    y: float


@app.post("/bare")
async def bare(body: Pair) -> dict[str, float]:
    return {"sum": body.x + body.y}
