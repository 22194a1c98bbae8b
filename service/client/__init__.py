"""The Python client of Nabla: ``Client(url)`` and ``AsyncClient(url)``, one method per endpoint named after its
path, NumPy arrays in and out, ``ProblemError`` for a problem answer. It imports no part of the server."""

from __future__ import annotations

from service.client.clients import AsyncClient, Client, Image
from service.client.codec import Answer
from service.client.problems import Location, ProblemError

__all__ = ["Answer", "AsyncClient", "Client", "Image", "Location", "ProblemError"]
