"""``Client`` (sync) and ``AsyncClient`` over httpx: one method per endpoint, named after its path.

Both share ``Endpoints``: a method builds the request (``prepare``) and the transport sends it, retrying a 503 as
its ``Retry-After`` says (``retry_delay``), and reads the answer (``read``). Batches (a request with ``points``) go as
msgpack when ``binary`` is True, or when it is None (auto) and the server's OpenAPI document lists
``application/msgpack`` for the path; otherwise, and for everything else, JSON.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
import orjson

from service.client.codec import JSON, MSGPACK, Answer, decode_json, decode_msgpack, encode_json, encode_msgpack
from service.client.problems import problem_of

A = TypeVar("A")
I = TypeVar("I")  # noqa: E741 (the image type, beside A and T)
T = TypeVar("T")
RETRIES = 3  # 503 answers retried before the last one is raised
MAX_DELAY = 30.0  # seconds: a longer Retry-After is cut to this
DEFAULT_DELAY = 0.5  # seconds, doubled per attempt, when a 503 has no Retry-After
TIMEOUT = 60.0


@dataclass(frozen=True)
class Image:
    """A picture from ``plot``: its media type (``image/svg+xml`` or ``image/png``) and bytes."""

    media_type: str
    data: bytes


@dataclass(frozen=True)
class Prepared:
    method: str
    path: str
    content: bytes | None
    headers: dict[str, str]


def prepare(method: str, path: str, fields: Mapping[str, Any] | None, binary: bool) -> Prepared:
    """The request: fields given as None are left out; msgpack when ``binary``."""
    if fields is None:
        return Prepared(method, path, None, {})
    body = {name: value for name, value in fields.items() if value is not None}
    if binary:
        accept = f"{MSGPACK}, application/problem+json"
        return Prepared(method, path, encode_msgpack(body), {"content-type": MSGPACK, "accept": accept})
    return Prepared(method, path, encode_json(body), {"content-type": JSON})


def read(response: httpx.Response) -> Any:
    """The answer of a 2xx response (msgpack, JSON, an image or text); a ``ProblemError`` for any other."""
    if not response.is_success:
        raise problem_of(response)
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if media_type == MSGPACK:
        return decode_msgpack(response.content)
    if media_type.endswith("json"):
        return decode_json(response.content)
    if media_type.startswith("image/"):
        return Image(media_type, response.content)
    return response.text


def retry_delay(response: httpx.Response, attempt: int, retries: int = RETRIES) -> float | None:
    """Seconds to wait before retrying ``response``, or None when it is not retried (not a 503, or the last try).
    ``Retry-After`` is seconds or an HTTP date; without it, 0.5 s doubled per attempt; at most ``MAX_DELAY``."""
    if response.status_code != 503 or attempt >= retries:
        return None
    header = response.headers.get("retry-after", "").strip()
    if header.isdigit():
        return min(float(header), MAX_DELAY)
    try:
        when = email.utils.parsedate_to_datetime(header) if header else None
    except ValueError:  # neither seconds nor a date: as if absent
        when = None
    if when is not None:
        return min(max(float(when.timestamp()) - time.time(), 0.0), MAX_DELAY)
    return min(DEFAULT_DELAY * 2.0**attempt, MAX_DELAY)


def msgpack_paths(document: Any) -> frozenset[str]:
    """The paths whose request body the OpenAPI document says may be ``application/msgpack``."""
    paths = document.get("paths", {}) if isinstance(document, Mapping) else {}
    return frozenset(
        path
        for path, operations in paths.items()
        for operation in operations.values()
        if isinstance(operation, Mapping) and MSGPACK in operation.get("requestBody", {}).get("content", {})
    )


class Endpoints(Generic[A, I, T]):
    """The API's endpoints; ``A`` is what an answer comes as, ``I`` a picture, ``T`` text (each awaitable or not)."""

    def _send(self, method: str, path: str, fields: Mapping[str, Any] | None) -> Any:
        raise NotImplementedError

    def derivative(self, function: str | None = None, **fields: Any) -> A:
        """POST /v1/derivative: ``function``, ``variable`` or ``wrt``, ``order``, ``at`` / ``points`` / ``grid``..."""
        return self._send("POST", "/v1/derivative", {"function": function, **fields})  # type: ignore[no-any-return]

    def gradient(self, function: str | None = None, **fields: Any) -> A:
        """POST /v1/gradient: ``function``, ``variables``, ``parameters``, ``at`` / ``points`` / ``grid``..."""
        return self._send("POST", "/v1/gradient", {"function": function, **fields})  # type: ignore[no-any-return]

    def directional_derivative(self, function: str | None = None, **fields: Any) -> A:
        """POST /v1/directional-derivative: ``function``, ``direction``, ``normalize``, ``at`` / ``points``..."""
        fields = {"function": function, **fields}
        return self._send("POST", "/v1/directional-derivative", fields)  # type: ignore[no-any-return]

    def jacobian(self, functions: list[str] | None = None, **fields: Any) -> A:
        """POST /v1/jacobian: ``functions``, ``variables``, ``parameters``, ``at`` / ``points`` / ``grid``..."""
        return self._send("POST", "/v1/jacobian", {"functions": functions, **fields})  # type: ignore[no-any-return]

    def hessian(self, function: str | None = None, **fields: Any) -> A:
        """POST /v1/hessian: ``function``, ``variables``, ``parameters``, ``at`` / ``points``, ``classify``..."""
        return self._send("POST", "/v1/hessian", {"function": function, **fields})  # type: ignore[no-any-return]

    def taylor(self, function: str | None = None, **fields: Any) -> A:
        """POST /v1/taylor: ``function``, ``variables``, ``at``, ``order``, ``points`` to compare at."""
        return self._send("POST", "/v1/taylor", {"function": function, **fields})  # type: ignore[no-any-return]

    def level_set(self, function: str | None = None, **fields: Any) -> A:
        """POST /v1/level-set: ``function``, ``variables``, ``at``."""
        return self._send("POST", "/v1/level-set", {"function": function, **fields})  # type: ignore[no-any-return]

    def critical_points(self, function: str | None = None, **fields: Any) -> A:
        """POST /v1/critical-points: ``function``, ``variables``, ``bounds``."""
        fields = {"function": function, **fields}
        return self._send("POST", "/v1/critical-points", fields)  # type: ignore[no-any-return]

    def matrix_derivative(self, function: str | None = None, **fields: Any) -> A:
        """POST /v1/matrix/derivative: ``function``, ``wrt``, ``order``, ``shapes``, ``at``."""
        fields = {"function": function, **fields}
        return self._send("POST", "/v1/matrix/derivative", fields)  # type: ignore[no-any-return]

    def optimize(self, **fields: Any) -> A:
        """POST /v1/optimize: ``function`` or ``model``, ``variables``, ``start``, ``method``, ``learning_rate``..."""
        return self._send("POST", "/v1/optimize", fields)  # type: ignore[no-any-return]

    def stochastic_derivative(self, function: str | None = None, **fields: Any) -> A:
        """POST /v1/stochastic-derivative: ``function``, ``random``, ``wrt``, ``at``, ``samples``, ``seed``..."""
        fields = {"function": function, **fields}
        return self._send("POST", "/v1/stochastic-derivative", fields)  # type: ignore[no-any-return]

    def distributions(self) -> A:
        """GET /v1/distributions: the families, their parameters and supports."""
        return self._send("GET", "/v1/distributions", None)  # type: ignore[no-any-return]

    def statistics(self, family: str, **fields: Any) -> A:
        """POST /v1/distributions/{family}/statistics: ``parameters``, ``x``, ``q``, ``exact``, ``data``."""
        return self._send("POST", f"/v1/distributions/{family}/statistics", fields)  # type: ignore[no-any-return]

    def fit(self, family: str, **fields: Any) -> A:
        """POST /v1/distributions/{family}/fit: ``data``, ``fixed``."""
        return self._send("POST", f"/v1/distributions/{family}/fit", fields)  # type: ignore[no-any-return]

    def plot(self, **fields: Any) -> I:
        """POST /v1/plot: the picture (``Image``), by ``kind``, ``function`` or ``distribution``, ``format``..."""
        return self._send("POST", "/v1/plot", fields)  # type: ignore[no-any-return]

    def healthz(self) -> A:
        """GET /healthz: ``{"status": "ok"}``."""
        return self._send("GET", "/healthz", None)  # type: ignore[no-any-return]

    def readyz(self) -> A:
        """GET /readyz: ready once the workers are warm (a 503 while starting is retried, then raised)."""
        return self._send("GET", "/readyz", None)  # type: ignore[no-any-return]

    def metrics(self) -> T:
        """GET /metrics: the Prometheus text."""
        return self._send("GET", "/metrics", None)  # type: ignore[no-any-return]


def _binary(choice: bool | None, fields: Mapping[str, Any] | None, speaks: frozenset[str] | None, path: str) -> bool:
    if fields is None or fields.get("points") is None:
        return False
    return choice if choice is not None else path in (speaks or frozenset())


class Client(Endpoints[Answer, Image, str]):
    """A synchronous client: ``Client("http://127.0.0.1:8000").gradient("x*y", at=[1, 2]).value``.

    ``binary``: True sends batches as msgpack, False as JSON, None (default) msgpack where the server documents it.
    ``retries``: how many 503 answers are retried. ``transport`` is httpx's (a ``MockTransport`` in tests). A client is
    a context manager; ``close()`` ends its connections."""

    def __init__(
        self,
        url: str,
        *,
        binary: bool | None = None,
        retries: int = RETRIES,
        timeout: float = TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.binary, self.retries = binary, retries
        self._http = httpx.Client(base_url=url, timeout=timeout, transport=transport)
        self._speaks: frozenset[str] | None = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, fields: Mapping[str, Any] | None) -> Any:
        if self.binary is None and fields is not None and fields.get("points") is not None and self._speaks is None:
            self._speaks = msgpack_paths(orjson.loads(self._http.get("/openapi.json").content))
        request = prepare(method, path, fields, _binary(self.binary, fields, self._speaks, path))
        attempt = 0
        while True:
            response = self._http.request(request.method, path, content=request.content, headers=request.headers)
            delay = retry_delay(response, attempt, self.retries)
            if delay is None:
                return read(response)
            time.sleep(delay)
            attempt += 1


class AsyncClient(Endpoints[Awaitable[Answer], Awaitable[Image], Awaitable[str]]):
    """The asynchronous client: ``await AsyncClient(url).gradient("x*y", at=[1, 2])``; options as ``Client``'s;
    ``async with`` it, or ``await aclose()``."""

    def __init__(
        self,
        url: str,
        *,
        binary: bool | None = None,
        retries: int = RETRIES,
        timeout: float = TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.binary, self.retries = binary, retries
        self._http = httpx.AsyncClient(base_url=url, timeout=timeout, transport=transport)
        self._speaks: frozenset[str] | None = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, method: str, path: str, fields: Mapping[str, Any] | None) -> Any:
        if self.binary is None and fields is not None and fields.get("points") is not None and self._speaks is None:
            self._speaks = msgpack_paths(orjson.loads((await self._http.get("/openapi.json")).content))
        request = prepare(method, path, fields, _binary(self.binary, fields, self._speaks, path))
        attempt = 0
        while True:
            response = await self._http.request(request.method, path, content=request.content, headers=request.headers)
            delay = retry_delay(response, attempt, self.retries)
            if delay is None:
                return read(response)
            await asyncio.sleep(delay)
            attempt += 1
