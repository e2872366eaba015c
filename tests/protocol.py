"""The WeChat Pay APIv3 signature rules, written once for the tests from the published protocol, with
plain ``cryptography`` calls. The tests' independent peers (``core/wire.py``, a server, and
``sandbox/_wire.py``, a caller) and the tests that forge answers build on these; none of it shares code
with wxpay_chain, so a bug there cannot hide itself here.
"""

from __future__ import annotations

import base64
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')


def request_message(method: str, target: str, timestamp: str | int, nonce: str, body: bytes) -> bytes:
    """``METHOD\\nPATH_AND_QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n``: what a request's signature covers."""
    return f"{method}\n{target}\n{timestamp}\n{nonce}\n".encode() + body + b"\n"


def answer_message(timestamp: str | int, nonce: str, body: bytes) -> bytes:
    """``TIMESTAMP\\nNONCE\\nBODY\\n``: what an answer's or a notification's signature covers."""
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64."""
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verifies(key: rsa.RSAPublicKey, message: bytes, signature_b64: str) -> bool:
    try:
        key.verify(base64.b64decode(signature_b64, validate=True), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def authorization_fields(header: str) -> tuple[str, dict[str, str]]:
    """``(scheme, {mchid|brand_id, nonce_str, timestamp, serial_no, signature})`` of an Authorization header."""
    scheme, _, rest = header.partition(" ")
    return scheme, dict(_AUTH_FIELD.findall(rest))
