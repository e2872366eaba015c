"""An independent APIv3 caller for the sandbox tests.

Signs requests and checks answer signatures with the protocol rules of ``tests/protocol.py`` (plain
``cryptography`` calls), and sends the exact bytes it signed; it shares no code with the client or the
sandbox.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import secrets
import string
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import attrs
import yarl
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from multidict import CIMultiDictProxy

from wxpay_chain.sandbox import SandboxCredentials

from .. import protocol

_ALNUM = string.ascii_letters + string.digits


def nonce(length: int = 32) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


@functools.lru_cache(maxsize=16)
def private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def sign(private_key_pem: str, message: bytes) -> str:
    return protocol.sign(private_key(private_key_pem), message)


@functools.lru_cache(maxsize=16)
def public_key(pem: str) -> rsa.RSAPublicKey:
    key: object = (
        x509.load_pem_x509_certificate(pem.encode()).public_key()
        if "CERTIFICATE" in pem
        else serialization.load_pem_public_key(pem.encode())
    )
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def verifies(public_pem: str, message: bytes, signature_b64: str) -> bool:
    return protocol.verifies(public_key(public_pem), message, signature_b64)


def decrypt(apiv3_key: str, nonce_text: str, associated_data: str, ciphertext_b64: str) -> bytes:
    return AESGCM(apiv3_key.encode()).decrypt(
        nonce_text.encode(), base64.b64decode(ciphertext_b64), associated_data.encode()
    )


@attrs.frozen
class Answer:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str | None:
        try:
            value = self.json().get("code")
        except ValueError:
            return None
        return value if isinstance(value, str) else None

    def signature_verifies(self, public_pem: str) -> bool:
        """The answer's signature over ``TIMESTAMP\\nNONCE\\nBODY\\n`` checks out with ``public_pem``."""
        headers = self.headers
        message = protocol.answer_message(headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], self.body)
        return verifies(public_pem, message, self.headers["Wechatpay-Signature"])


@attrs.frozen
class Identity:
    scheme: str
    id_param: str
    identity: str
    serial: str
    private_key: str = attrs.field(repr=False)
    wechatpay_serial: str | None

    @classmethod
    def merchant(cls, creds: SandboxCredentials) -> Identity:
        return cls("WECHATPAY2-SHA256-RSA2048", "mchid", creds.mchid, creds.serial, creds.private_key, None)

    @classmethod
    def brand(cls, creds: SandboxCredentials) -> Identity:
        return cls(
            "WECHATPAY-BRAND-SHA256-RSA2048",
            "brand_id",
            creds.brand_id,
            creds.brand_serial,
            creds.brand_private_key,
            creds.pub_key_id,
        )


_UNSET: Any = object()


class Wire:
    """Signs and sends one request at a time; every piece of the signature can be overridden to break it."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        identity: Identity,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.identity = identity
        self.clock = clock

    def authorization(
        self,
        method: str,
        target: str,
        body: bytes,
        *,
        timestamp: str | None = None,
        nonce_str: str | None = None,
    ) -> str:
        stamp = timestamp or str(int(self.clock()))
        once = nonce_str or nonce()
        message = protocol.request_message(method, target, stamp, once, body)
        signature = sign(self.identity.private_key, message)
        ident = self.identity
        return (
            f'{ident.scheme} {ident.id_param}="{ident.identity}",nonce_str="{once}",'
            f'timestamp="{stamp}",serial_no="{ident.serial}",signature="{signature}"'
        )

    async def send(
        self,
        method: str,
        target: str,
        body: bytes | Mapping[str, Any] | None = None,
        *,
        authorization: str | None = None,
        sign_target: str | None = None,
        sign_body: bytes | None = None,
        timestamp: str | None = None,
        headers: Mapping[str, str | None] | None = None,
        timeout: float = 10.0,
    ) -> Answer:
        """Send ``method target`` with ``body``; ``headers`` values of None remove a default header."""
        raw = json.dumps(body, ensure_ascii=False).encode() if isinstance(body, Mapping) else (body or b"")
        auth = authorization or self.authorization(
            method,
            sign_target if sign_target is not None else target,
            sign_body if sign_body is not None else raw,
            timestamp=timestamp,
        )
        sent: dict[str, str] = {
            "Authorization": auth,
            "Accept": "application/json",
            "User-Agent": "wxpay-chain-sandbox-tests/1.0",
        }
        if raw:
            sent["Content-Type"] = "application/json"
        if self.identity.wechatpay_serial is not None:
            sent["Wechatpay-Serial"] = self.identity.wechatpay_serial
        for name, value in (headers or {}).items():
            if value is None:
                sent.pop(name, None)
            else:
                sent[name] = value
        url = yarl.URL(self.base_url + target, encoded=True)
        async with self.session.request(
            method,
            url,
            data=(io.BytesIO(raw) if len(raw) > 1024 * 1024 else raw) if raw else None,
            headers=sent,
            skip_auto_headers=("User-Agent", "Accept", "Content-Type"),
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            payload = await response.read()
            return Answer(response.status, response.headers, payload)
