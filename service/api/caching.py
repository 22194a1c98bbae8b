"""HTTP caching of answers that change only with a deploy (the distribution catalogue): a strong ``ETag`` (a hash of
the body), ``Cache-Control: public, max-age=...``, ``304 Not Modified`` for a matching ``If-None-Match``, and ``HEAD``.

For ``GET`` and ``HEAD`` handlers only: for other methods a matching ``If-None-Match`` means ``412``, not ``304``
(RFC 9110 section 13.1.2). The tag is computed from the bytes the handler gives; GZipMiddleware compresses bodies of
at least ``NABLA_GZIP_MIN_BYTES`` (64 KiB by default) without changing it, so above that size the tag names the
uncompressed representation.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from fastapi import Request, Response

_ENTITY_TAG = re.compile(r'(?:W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)')  # entity-tag, then "," or the end


def cacheable(request: Request, body: bytes, *, max_age: int, media_type: str = "application/json") -> Response:
    """``body`` answered with its ``ETag`` and ``Cache-Control``: 304 (no body, the same two headers) when the
    request's ``If-None-Match`` names the tag or is ``*``; for ``HEAD`` the 200's headers without the body."""
    tag = entity_tag(body)
    headers = {"ETag": tag, "Cache-Control": f"public, max-age={max_age}"}
    if none_match(request.headers.getlist("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        return Response(headers={**headers, "Content-Length": str(len(body))}, media_type=media_type)
    return Response(body, headers=headers, media_type=media_type)


def entity_tag(body: bytes) -> str:
    """A strong entity tag for ``body``: a quoted 128-bit BLAKE2b hash, the same for the same bytes in every
    process and every replica."""
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def none_match(fields: Iterable[str], tag: str) -> bool:
    """Whether ``If-None-Match`` (each of its header lines) matches ``tag``: ``*``, or a list of entity tags one of
    which has the same opaque part (the weak comparison RFC 9110 prescribes: ``W/"x"`` matches ``"x"``). A field
    that is not a list of entity tags matches nothing."""
    opaque = tag.strip('"')
    return any(field.strip() == "*" or opaque in _opaque_tags(field) for field in fields)


def _opaque_tags(field: str) -> list[str]:
    """The opaque parts of a list of entity tags, empty members allowed (RFC 9110 section 5.6.1); none if it is not
    one."""
    tags: list[str] = []
    position = _after_separators(field, 0)
    while position < len(field):
        found = _ENTITY_TAG.match(field, position)
        if found is None:
            return []
        tags.append(found.group(1))
        position = _after_separators(field, found.end())
    return tags


def _after_separators(field: str, position: int) -> int:
    return len(field) - len(field[position:].lstrip(" \t,"))
