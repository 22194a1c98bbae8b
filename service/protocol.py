"""The HTTP protocol ``python -m service`` serves with: uvicorn's httptools protocol, whose parser keeps every byte
of a header section however long it is (a 64 MB header line is read whole and holds the event loop for seconds),
with a bound. Past ``NABLA_MAX_HEADER_BYTES`` of request line and headers the request is answered 431 with a
problem document and the connection closed, the rest unread; h11 refuses at 16 KiB but parses several times slower.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.compute.errors import ErrorItem, HeadersTooLarge
from service.config import get_settings
from service.errors import problem_body


@cache
def _limit() -> int:
    return get_settings().max_header_bytes


class BoundedHttpTools(HttpToolsProtocol):
    """httptools with a bound on the size of each request's header section."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_headers = True
        self._header_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_headers = True  # what comes next on this connection is the next request's header section
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return  # refused: what else arrives is not read
        if self._in_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        if self._in_headers and self._header_bytes > _limit() and not self.transport.is_closing():
            self._refuse()

    def _refuse(self) -> None:
        limit = _limit()
        detail = (
            f"the request line and headers are larger than {limit} bytes (NABLA_MAX_HEADER_BYTES); "
            "send large data in the body"
        )
        body = problem_body(HeadersTooLarge(detail, [ErrorItem(("header",), detail, HeadersTooLarge.type)]), "")
        head = (
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/problem+json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head + body)
        self.transport.close()
