"""An independent WeChat-Pay-like peer for the core tests, written from the published protocol rules
with plain ``cryptography`` calls. It shares no code with wxpay_chain's signing, so a bug there cannot
hide itself here.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

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

    def request_signature_ok(self, request_line: tuple[str, str], ts: str, nonce: str, body: bytes, sig: str) -> bool:
        method, target = request_line
        return verifies(self.merchant_public, request_message(method, target, ts, nonce, body), sig)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        scheme, params = authorization_fields(request.headers.get("Authorization", ""))
        ok = self.request_signature_ok(
            (request.method, request.raw_path),
            params.get("timestamp", ""),
            params.get("nonce_str", ""),
            body,
            params.get("signature", ""),
        )
        self.seen.append(Seen(request.method, request.raw_path, dict(request.headers), body, scheme, params, ok))
        if self.hold is not None:
            await self.hold.wait()
        if not ok:
            return web.json_response(
                {"code": "SIGN_ERROR", "message": "signature mismatch"},
                status=401,
                headers={"Request-ID": "req-sign-error"},
            )
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
        return web.Response(status=self.status, body=answer, headers=headers)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", r"/{tail:[\s\S]*}", self.handle)  # any path, newlines included
        return app

    def last_json(self) -> Any:
        return json.loads(self.seen[-1].body)
