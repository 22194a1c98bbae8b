"""Shared fixtures: one in-process app (lifespan started, workers warm) and an httpx client bound to it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from service.config import Settings
from service.main import create_app
from tests.contract import CheckedTransport


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port another socket listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port: int = sock.getsockname()[1]
        yield port


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(workers=2, compute_timeout=5.0, cache_size=64)


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[FastAPI]:
    """An app with its lifespan running (workers started and warm)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def http_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling ``app`` in-process; every 200 answer is checked against its OpenAPI schema."""
    transport = CheckedTransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://nabla.test", timeout=60) as http:
        yield http


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with started(settings) as application:
        yield application


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as http:
        yield http
