# Nabla: a hardened image. Build: `docker build -t nabla .`; run: see "## Container" in deploy/README.md.
# BASE_IMAGE is any Debian-like image with Python 3.11+ and its venv module (CI passes a local debootstrap image).
ARG BASE_IMAGE=python:3.12-slim

# --- builder: a virtual environment with the pinned wheels, and the service, all byte-compiled ------------------------
FROM ${BASE_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/nabla
COPY deploy/requirements.lock /tmp/requirements.lock
# Every wheel is pinned by version and hash, no source builds (the final stage has no compiler either). pip and the
# packages' own test suites are not needed to serve. Byte-compiled here, once: the running container's root
# filesystem is read-only; unchecked-hash keeps the .pyc files valid whatever the copied sources' timestamps are.
RUN /opt/nabla/bin/python -m pip install --require-hashes --only-binary=:all: --no-deps -r /tmp/requirements.lock \
    && /opt/nabla/bin/python -m pip uninstall --yes --quiet pip setuptools \
    && find /opt/nabla -depth -type d -name tests -exec rm -rf {} + \
    && /opt/nabla/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/nabla
COPY service /app/service
RUN /opt/nabla/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /app

# --- final: the base image, the environment and the service; nothing else --------------------------------------------
FROM ${BASE_IMAGE}
RUN groupadd --system --gid 10001 nabla \
    && useradd --system --no-log-init --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
       --shell /usr/sbin/nologin nabla
COPY --from=builder /opt/nabla /opt/nabla
COPY --from=builder /app /app
# HOME and TMPDIR point at the tmpfs (/tmp): multiprocessing (spawned workers) and the libraries write only there.
# UVICORN_HOST stays on loopback unless the operator opens it (`-e UVICORN_HOST=0.0.0.0` with a published port).
ENV PATH=/opt/nabla/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    UVICORN_HOST=127.0.0.1 \
    UVICORN_PORT=8000 \
    UVICORN_WORKERS=1
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# Liveness with the image's own Python (no curl): /healthz on the configured port, non-zero on any failure.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('UVICORN_PORT', '8000'), timeout=4)"]
CMD ["python", "-m", "service"]
