"""An independent WeChat-Pay-like peer for the core tests, written from the published protocol rules
with plain ``cryptography`` calls. It shares no code with wxpay_chain's signing, so a bug there cannot
hide itself here.

The same peer answers on a real aiohttp server on 127.0.0.1 (:meth:`WirePeer.app`: the wire tests, which
prove what goes out byte for byte) or in memory (:meth:`WirePeer.transport`: tests of the client's own
logic, which need no socket). Either way it judges the request exactly as the transport received it.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import Headers, MemoryTransport, RawResponse, Request

from ..protocol import answer_message, authorization_fields, request_message, sign, verifies


def pem_public(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def pem_private(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass
class Seen:
    method: str
    raw_path: str
    headers: dict[str, str]
    body: bytes
    scheme: str
    params: dict[str, str]
    signature_ok: bool


@dataclass
class WirePeer:
    """Verifies each request's signature from the raw request; answers with a signed (or tampered) reply."""

    merchant_public: rsa.RSAPublicKey
    platform_key: rsa.RSAPrivateKey
    platform_serial: str
    seen: list[Seen] = field(default_factory=list)
    status: int = 200
    body: bytes = b'{"ok":true}'
    tamper: Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]] | None = None
    clock: Callable[[], float] = time.time
    hold: Any = None  # an asyncio.Event the handler waits on before answering
    failures: list[int] = field(default_factory=list)  # statuses to answer first, in turn, unsigned as errors are
    failure_headers: dict[str, str] = field(default_factory=dict)

    def request_signature_ok(self, request_line: tuple[str, str], ts: str, nonce: str, body: bytes, sig: str) -> bool:
        method, target = request_line
        return verifies(self.merchant_public, request_message(method, target, ts, nonce, body), sig)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        status, headers, body = await self.answer(request.method, request.raw_path, request.headers, body)
        return web.Response(status=status, body=body, headers=headers)

    async def answer_in_memory(self, request: Request) -> RawResponse:
        status, headers, body = await self.answer(request.method, request.target, request.headers, request.body)
        return RawResponse(status, Headers(headers), body)

    async def answer(
        self, method: str, raw_path: str, request_headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        scheme, params = authorization_fields(request_headers.get("Authorization", ""))
        ok = self.request_signature_ok(
            (method, raw_path),
            params.get("timestamp", ""),
            params.get("nonce_str", ""),
            body,
            params.get("signature", ""),
        )
        self.seen.append(Seen(method, raw_path, dict(request_headers), body, scheme, params, ok))
        if self.hold is not None:
            await self.hold.wait()
        if not ok:
            error = json.dumps({"code": "SIGN_ERROR", "message": "signature mismatch"}).encode()
            return 401, {"Content-Type": "application/json", "Request-ID": "req-sign-error"}, error
        if self.failures:
            busy = b'{"code":"SYSTEM_ERROR","message":"busy"}'
            headers = {"Content-Type": "application/json", "Request-ID": f"fail-{len(self.seen)}"}
            return self.failures.pop(0), {**headers, **self.failure_headers}, busy
        answer = self.body
        ts = str(int(self.clock()))
        nonce = secrets.token_hex(16)
        headers = {
            "Wechatpay-Timestamp": ts,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": self.platform_serial,
            "Wechatpay-Signature": sign(self.platform_key, answer_message(ts, nonce, answer)),
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
            "Request-ID": f"req-{len(self.seen)}",
            "Content-Type": "application/json",
        }
        if self.tamper is not None:
            headers, answer = self.tamper(headers, answer)
        return self.status, headers, answer

    def transport(self) -> MemoryTransport:
        """This peer as an in-memory transport: ``AsyncClient(transport=peer.transport())``."""
        return MemoryTransport(self.answer_in_memory)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", r"/{tail:[\s\S]*}", self.handle)  # any path, newlines included
        return app

    def last_json(self) -> Any:
        return json.loads(self.seen[-1].body)
