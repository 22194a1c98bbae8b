"""The app the benchmark serves: Nabla itself plus a trivial POST endpoint, the throughput baseline."""

from __future__ import annotations

from fastapi import Request, Response

from service.main import create_app

app = create_app()


@app.post("/bench/noop", include_in_schema=False)
async def noop(request: Request) -> Response:
    await request.body()
    return Response(b'{"ok":true}', media_type="application/json")
