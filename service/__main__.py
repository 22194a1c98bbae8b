"""``python -m service``: serve Nabla with uvicorn, configured by ``UVICORN_*`` and ``NABLA_*`` variables.

Logs go to stdout as JSON (``NABLA_LOG_FORMAT=plain`` for text), uvicorn's included; the service writes its own access
log (``nabla.access``: method, path, status, duration, client, request id), so uvicorn's is off. On SIGTERM uvicorn
stops accepting connections, lets in-flight requests finish for up to ``UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN`` seconds,
then runs the lifespan's shutdown, which closes the worker pool.
"""

from __future__ import annotations

import uvicorn

from service.config import ServerSettings, get_settings
from service.observability.logs import log_config


def main() -> None:
    server = ServerSettings()
    uvicorn.run(
        "service.main:app",
        host=server.host,
        port=server.port,
        workers=server.workers,
        loop="uvloop",
        http="httptools",
        log_config=log_config(get_settings()),
        access_log=False,
        timeout_keep_alive=server.timeout_keep_alive,
        timeout_graceful_shutdown=server.timeout_graceful_shutdown,
        limit_concurrency=server.limit_concurrency,
    )


if __name__ == "__main__":
    main()
