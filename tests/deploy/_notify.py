"""Signed, encrypted WeChat Pay notifications for the tests, made from the protocol rules (tests/protocol.py)
with plain ``cryptography`` calls, and the keys and client settings that verify them."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..core.conftest import MCHID, PUB_KEY_ID, SERIAL
from ..core.wire import pem_private, pem_public
from ..protocol import answer_message, sign

APIV3_KEY = "0123456789abcdefghijABCDEFGHIJ01"

RESOURCE = {
    "stock_id": "1265",
    "coupon_code": "CODE-7",
    "openid": "o-user-1",
    "event_type": "EVENT_TYPE_BUSICOUPON_SEND",
    "send_time": "2025-01-01T10:00:00+08:00",
}


def client_options(merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    return {
        "mchid": MCHID,
        "serial": SERIAL,
        "private_key": pem_private(merchant_key),
        "platform_keys": {PUB_KEY_ID: pem_public(platform_key)},
        "apiv3_key": APIV3_KEY,
    }


def notification(platform_key: rsa.RSAPrivateKey, event_id: str = "EV-1") -> tuple[dict[str, str], bytes]:
    """Canonical headers and the raw body of a COUPON.SEND notification signed by ``platform_key``."""
    nonce = secrets.token_hex(6)
    box = AESGCM(APIV3_KEY.encode()).encrypt(nonce.encode(), json.dumps(RESOURCE).encode(), b"coupon")
    body = json.dumps(
        {
            "id": event_id,
            "create_time": "2025-01-01T10:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "COUPON.SEND",
            "summary": "领券",
            "resource": {
                "original_type": "coupon",
                "algorithm": "AEAD_AES_256_GCM",
                "nonce": nonce,
                "associated_data": "coupon",
                "ciphertext": base64.b64encode(box).decode(),
            },
        },
        ensure_ascii=False,
    ).encode()
    stamp, sign_nonce = str(int(time.time())), secrets.token_hex(16)
    headers = {
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Nonce": sign_nonce,
        "Wechatpay-Serial": PUB_KEY_ID,
        "Wechatpay-Signature": sign(platform_key, answer_message(stamp, sign_nonce, body)),
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        "Request-ID": "notify-req-1",
    }
    return headers, body


def as_meta(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The WSGI environ (and Django request.META) a server builds for this request (PEP 3333)."""
    import io

    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/wxpay/notify",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ
