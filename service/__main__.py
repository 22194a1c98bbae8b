"""``python -m service``: serve Nabla with uvicorn; the same command as ``nabla serve`` (``service/cli.py``), options
over ``UVICORN_*`` variables, limits from ``NABLA_*`` ones (``--help`` lists the options).

Logs go to stdout as JSON (``NABLA_LOG_FORMAT=plain`` for text), uvicorn's included; the service writes its own access
log (``nabla.access``: method, path, status, duration, client, request id), so uvicorn's is off. On SIGTERM uvicorn
stops accepting connections, lets in-flight requests finish for up to ``UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN`` seconds,
then runs the lifespan's shutdown, which closes the worker pool.
"""

from __future__ import annotations

from service.cli import serve_main

if __name__ == "__main__":
    raise SystemExit(serve_main())
