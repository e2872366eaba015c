"""What a sandbox route reads (the body, within a limit) and answers with, before Request-ID and the
signature headers are added."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from aiohttp import web

from ._auth import Scheme
from ._failures import ApiFailure, invalid_request, json_bytes

__all__ = ["Answer", "error_answer", "read_body"]


@attrs.frozen
class Answer:
    status: int
    body: bytes
    scheme: Scheme | None = None  # signed with this scheme's serial; None: unsigned (a file, or an error)
    serial: str | None = None  # the serial to sign with, when not the scheme's own
    headers: Mapping[str, str] = attrs.field(factory=dict)
    code: str | None = None
    content_type: str = "application/json"


def error_answer(failure: ApiFailure) -> Answer:
    return Answer(failure.status, json_bytes(failure.payload()), headers=failure.headers, code=failure.code)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request's body, or ApiFailure: 413 past ``limit`` bytes, 400 for a body that cannot be read."""
    too_large = ApiFailure(413, "INVALID_REQUEST", f"请求体过大 (the request body is larger than {limit} bytes)")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    body = bytearray()
    while True:  # by hand: the application's own limit is for JSON bodies, and file routes take more
        try:
            chunk = await request.content.read(64 * 1024)
        except Exception as exc:  # a client that vanished or sent a broken body: never crash
            unreadable = f"请求体无法读取 (the request body could not be read: {type(exc).__name__})"
            raise invalid_request(unreadable) from None
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > limit:
            raise too_large
