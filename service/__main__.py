"""``python -m service``: serve Nabla with uvicorn on http://127.0.0.1:8000 (UVICORN_HOST / UVICORN_PORT override)."""

from __future__ import annotations

import os

import uvicorn


def main() -> None:
    uvicorn.run(
        "service.main:app",
        host=os.environ.get("UVICORN_HOST", "127.0.0.1"),
        port=int(os.environ.get("UVICORN_PORT", "8000")),
        workers=int(os.environ.get("UVICORN_WORKERS", "1")),
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
