"""The only module that talks to aiohttp's client: ``send(Request) -> RawResponse``.

The URL is handed to aiohttp pre-encoded (``yarl.URL(..., encoded=True)``) and the body as the exact
bytes that were signed, so nothing is re-quoted or re-serialised on the way out.
"""

from __future__ import annotations

import asyncio
from typing import NamedTuple

import aiohttp
from yarl import URL

from ._errors import TransportError, TransportTimeoutError
from ._models import Headers, Request

__all__ = ["AiohttpTransport", "RawResponse"]


class RawResponse(NamedTuple):
    status: int
    headers: Headers
    body: bytes

    def __repr__(self) -> str:
        return f"RawResponse(status={self.status}, body=<{len(self.body)} bytes>)"


class AiohttpTransport:
    """Sends requests through one pooled ``aiohttp.ClientSession``.

    It closes the session only if it created it: a session passed in stays the caller's.
    """

    def __init__(self, session: aiohttp.ClientSession | None = None, *, pool_limit: int = 100) -> None:
        self._session = session
        self._owns_session = session is None
        self._pool_limit = pool_limit
        self._closed = False
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}

    @property
    def closed(self) -> bool:
        return self._closed

    def check_open(self) -> None:
        if self._closed:
            raise TransportError("The client is closed; create a new one to send more requests")

    def _ensure_session(self) -> aiohttp.ClientSession:
        self.check_open()
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._pool_limit, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=True)
        return self._session

    async def open(self) -> None:
        self._ensure_session()

    async def send(self, request: Request) -> RawResponse:
        session = self._session
        if session is None or self._closed:
            session = self._ensure_session()
        limits = request.timeout
        key = (limits.total, limits.connect)  # a plain tuple hashes in C; the attrs class would call Python
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(total=limits.total, connect=limits.connect)
            if len(self._timeouts) < 64:  # a program uses a handful of timeouts; never let this grow
                self._timeouts[key] = timeout
        try:
            async with session.request(
                request.method,
                URL(request.url, encoded=True),
                headers=request.headers.items_list(),
                data=request.body or None,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                body = await response.read()
                headers = Headers.view(response.headers)  # an immutable proxy: lookups stay in multidict's C code
                return RawResponse(response.status, headers, body)
        except asyncio.TimeoutError:
            raise TransportTimeoutError(
                f"{_where(request)} timed out after {limits.total} s; the request may have reached WeChat Pay, "
                "so retry with the same request number (send_request_no / out_trade_no) to stay idempotent"
            ) from None
        except aiohttp.ClientConnectorError as exc:
            raise TransportError(
                f"{_where(request)}: cannot connect to {exc.host}:{exc.port} ({exc.os_error})", connect_failed=True
            ) from exc
        except aiohttp.ClientError as exc:
            if self._closed:
                raise TransportError(f"{_where(request)} was cut off because the client was closed") from exc
            raise TransportError(
                f"{_where(request)} failed before a complete answer arrived ({type(exc).__name__}: {exc}); "
                "the request may have reached WeChat Pay, so retry with the same request number"
            ) from exc

    async def aclose(self) -> None:
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()


def _where(request: Request) -> str:
    return f"{request.method} {request.target}"
