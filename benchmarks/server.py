"""The replay server every client calls: a minimal HTTP/1.1 server on 127.0.0.1 in its own process.

It answers every request with the same pre-signed 200 answer. The answer (headers and body) is
re-signed with the platform key once per ``--refresh`` seconds by a background task, so the per-request
cost is finding the end of the request head and writing ready-made bytes. Request signatures are not
checked. Keep-alive, pipelining and ``Connection: close`` are honoured.

Run by the orchestrator as ``python -m benchmarks.server --keys DIR``; it prints ``READY <port>`` once
listening, and exits on SIGTERM/SIGINT, when its parent process goes away, or after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import signal
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ._common import HOST, PUB_KEY_ID, Keys, answer_body


class Answer:
    """The current pre-signed answer, rebuilt by :meth:`refresh`."""

    def __init__(self, key: rsa.RSAPrivateKey, serial: str, body: bytes) -> None:
        self._key = key
        self._serial = serial
        self._body = body
        self.wire = b""
        self.close_wire = b""
        self.refresh()

    def refresh(self) -> None:
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        message = f"{timestamp}\n{nonce}\n".encode() + self._body + b"\n"
        signature = base64.b64encode(self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
        head = (
            "HTTP/1.1 200 OK\r\n"
            "Server: wxpay-bench-replay\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(self._body)}\r\n"
            f"Request-ID: 08F78BB5AF0610D302{timestamp}\r\n"
            f"Wechatpay-Nonce: {nonce}\r\n"
            f"Wechatpay-Signature: {signature}\r\n"
            f"Wechatpay-Timestamp: {timestamp}\r\n"
            f"Wechatpay-Serial: {self._serial}\r\n"
            "Wechatpay-Signature-Type: WECHATPAY2-SHA256-RSA2048\r\n"
        )
        self.wire = (head + "Connection: keep-alive\r\n\r\n").encode() + self._body
        self.close_wire = (head + "Connection: close\r\n\r\n").encode() + self._body


class Replay(asyncio.Protocol):
    """One connection: answer each complete request head (plus its Content-Length body) with the answer."""

    answer: Answer

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        transport = self._transport
        assert transport is not None
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > 65536:  # not HTTP: drop the connection
                    transport.close()
                return
            head = bytes(buffer[:end]).lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop >= 0 else len(head)].strip() or b"0")
            total = end + 4 + length
            if len(buffer) < total:
                return
            del buffer[:total]
            if b"\r\nconnection: close" in head:
                transport.write(self.answer.close_wire)
                transport.close()
                return
            transport.write(self.answer.wire)


async def serve(keys: Keys, port: int, refresh: float, max_seconds: float) -> None:
    key = serialization.load_pem_private_key(keys.platform_key.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    Replay.answer = Answer(key, PUB_KEY_ID, answer_body())
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()

    def request_stop() -> None:
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop)
    server = await loop.create_server(Replay, HOST, port, backlog=1024, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"READY {bound}\n")
    sys.stdout.flush()
    parent = os.getppid()
    deadline = time.monotonic() + max_seconds
    try:
        while not stop.done():
            await asyncio.wait([stop], timeout=refresh)
            Replay.answer.refresh()
            if os.getppid() != parent or time.monotonic() > deadline:
                break
    finally:
        server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", required=True, help="directory made by benchmarks._common.generate_keys")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--refresh", type=float, default=1.0, help="seconds between re-signing the answer")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="exit after this long, whatever happens")
    args = parser.parse_args(argv)
    asyncio.run(serve(Keys.load(args.keys), args.port, args.refresh, args.max_seconds))


if __name__ == "__main__":
    main()
