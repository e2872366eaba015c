"""A small HTTP forward proxy on 127.0.0.1 for the tests, written from RFC 9110/9112 with asyncio streams.

It forwards absolute-form requests (``GET http://host:port/path HTTP/1.1``: what a client sends a proxy
for an http:// URL) and tunnels CONNECT (for https:// URLs), and records each request line and its
Proxy-Authorization header. With ``credentials`` it answers 407 to any request without them; a CONNECT
to a host it cannot reach is answered 502. It shares nothing with wxpay_chain or aiohttp's client.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Passed:
    method: str
    target: str  # as the client wrote it: absolute-form, or host:port for CONNECT
    proxy_authorization: str | None


@dataclass
class ForwardProxy:
    credentials: tuple[str, str] | None = None
    seen: list[Passed] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_with(self, user: str, password: str) -> str:
        return f"http://{user}:{password}@127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def _authorized(self, header: str | None) -> bool:
        if self.credentials is None:
            return True
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        return header == f"Basic {expected}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._one(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            await _close(writer)

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if line]
        auth = next((v for k, v in headers if k.lower() == "proxy-authorization"), None)
        self.seen.append(Passed(method, target, auth))
        if not self._authorized(auth):
            writer.write(
                b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n'
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            try:
                up_reader, up_writer = await asyncio.open_connection(host, int(port))
            except OSError:  # as squid does: the client learns that no tunnel was made
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                return
            try:
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                await _close(up_writer)
            return
        # Absolute-form: forward one request in origin-form on a fresh connection, then close both.
        parts = urlsplit(target)
        length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
        body = await reader.readexactly(length)
        origin = parts.path + (f"?{parts.query}" if parts.query else "")
        kept = [
            (k, v) for k, v in headers if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")
        ]
        out = (
            f"{method} {origin} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept) + "Connection: close\r\n\r\n"
        )
        up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            up_writer.write(out.encode("latin-1") + body)
            await up_writer.drain()
            answer = await up_reader.read()  # the origin closes after its answer (Connection: close)
        finally:
            await _close(up_writer)
        answer_head, _, answer_body = answer.partition(b"\r\n\r\n")
        status, *answer_headers = answer_head.split(b"\r\n")
        answer_headers = [h for h in answer_headers if not h.lower().startswith((b"connection:", b"keep-alive:"))]
        writer.write(b"\r\n".join([status, *answer_headers, b"Connection: close"]) + b"\r\n\r\n" + answer_body)
        await writer.drain()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    except ConnectionError:
        pass
    finally:
        with contextlib.suppress(Exception):
            sink.write_eof()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        await writer.wait_closed()
