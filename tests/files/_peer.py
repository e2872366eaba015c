"""An independent peer for the file tests: multipart bodies are read with the standard library's email
parser, signatures are checked with ``tests/protocol.py`` (plain ``cryptography``); no wxpay_chain code.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from ..protocol import answer_message, authorization_fields, request_message, sign, verifies

MERCHANT_SCHEME = "WECHATPAY2-SHA256-RSA2048"
BRAND_SCHEME = "WECHATPAY-BRAND-SHA256-RSA2048"


@dataclass
class FormPart:
    name: str
    filename: str | None
    content_type: str
    data: bytes


def parse_form(content_type: str, body: bytes) -> dict[str, FormPart]:
    """The parts of a multipart/form-data body, by the email package's MIME parser (RFC 2046 framing)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    assert message.is_multipart(), "not a multipart body"
    parts: dict[str, FormPart] = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        parts[name] = FormPart(name, part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
    return parts


@dataclass
class Seen:
    method: str
    raw_path: str
    headers: dict[str, str]
    body: bytes
    scheme: str
    parts: dict[str, FormPart] | None
    signature_ok: bool  # over the meta part for an upload, over the body otherwise
    whole_body_ok: bool  # the signature checked against the whole body instead

    @property
    def meta(self) -> Any:
        assert self.parts is not None
        return json.loads(self.parts["meta"].data)


@dataclass
class FilePeer:
    """Checks each request's signature from the raw request and answers as told.

    ``answer(seen)`` returns ``(status, body, headers, signed)``; by default a signed ``{"media_id": "M1"}``.
    ``cut`` makes a 2xx answer promise ``cut`` more bytes than it sends, then drop the connection.
    """

    merchant_public: rsa.RSAPublicKey
    brand_public: rsa.RSAPublicKey
    platform_key: rsa.RSAPrivateKey
    platform_serial: str
    seen: list[Seen] = field(default_factory=list)
    answer: Callable[[Seen], tuple[int, bytes, dict[str, str], bool]] | None = None
    cut: int = 0

    def _key(self, scheme: str) -> rsa.RSAPublicKey | None:
        return {MERCHANT_SCHEME: self.merchant_public, BRAND_SCHEME: self.brand_public}.get(scheme)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        scheme, params = authorization_fields(request.headers.get("Authorization", ""))
        content_type = request.headers.get("Content-Type", "")
        parts = parse_form(content_type, body) if content_type.startswith("multipart/form-data") else None
        signed = parts["meta"].data if parts is not None and "meta" in parts else body
        key = self._key(scheme)

        def ok(covered: bytes) -> bool:
            message = request_message(
                request.method, request.raw_path, params.get("timestamp", ""), params.get("nonce_str", ""), covered
            )
            return key is not None and verifies(key, message, params.get("signature", ""))

        seen = Seen(request.method, request.raw_path, dict(request.headers), body, scheme, parts, ok(signed), ok(body))
        self.seen.append(seen)
        if not seen.signature_ok:
            return web.json_response({"code": "SIGN_ERROR", "message": "signature mismatch"}, status=401)
        status, answer, headers, signed_answer = (self.answer or _default)(seen)
        headers = {"Request-ID": f"req-{len(self.seen)}", **headers}
        if signed_answer:
            headers.update(self.signature(answer, BRAND_SCHEME if scheme == BRAND_SCHEME else MERCHANT_SCHEME))
        if self.cut and 200 <= status < 300:
            partial = web.StreamResponse(status=status, headers=headers)
            partial.content_length = len(answer) + self.cut
            await partial.prepare(request)
            await partial.write(answer)
            assert request.transport is not None
            request.transport.close()
            return partial
        return web.Response(status=status, body=answer, headers=headers)

    def signature(self, body: bytes, scheme: str = MERCHANT_SCHEME) -> dict[str, str]:
        ts, nonce = str(int(time.time())), secrets.token_hex(16)
        return {
            "Wechatpay-Timestamp": ts,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": self.platform_serial,
            "Wechatpay-Signature": sign(self.platform_key, answer_message(ts, nonce, body)),
            "Wechatpay-Signature-Type": scheme,
        }

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", r"/{tail:[\s\S]*}", self.handle)
        return app


def _default(seen: Seen) -> tuple[int, bytes, dict[str, str], bool]:
    return 200, b'{"media_id":"M1"}', {"Content-Type": "application/json"}, True
