"""Property tests: our signatures verify with independent code, and independent signatures verify with ours."""

from __future__ import annotations

import base64
import secrets

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wxpay_chain import SignatureError
from wxpay_chain._crypto import load_public_key
from wxpay_chain._signing import Signer, verify_signed_message
from wxpay_chain.notifications import parse_notification

from .wire import sign

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
    target=st.text(min_size=1),
    body=st.binary(max_size=300),
    timestamp=st.integers(0, 2**31),
    nonce=st.text(min_size=1, max_size=40),
)
def test_request_signature_verifies_with_independent_code(
    merchant_key: rsa.RSAPrivateKey, method: str, target: str, body: bytes, timestamp: int, nonce: str
) -> None:
    signer = Signer(mode="merchant", identity="1900000001", serial="ABC", key=merchant_key)
    header = signer.authorization(method, target, body, timestamp, nonce)
    signature = header.rsplit('signature="', 1)[1][:-1]
    message = f"{method}\n{target}\n{timestamp}\n{nonce}\n".encode() + body + b"\n"
    merchant_key.public_key().verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())


@SETTINGS
@given(body=st.binary(max_size=300), skew=st.integers(-300, 300))
def test_independently_signed_answers_verify_and_any_flipped_byte_fails(
    platform_key: rsa.RSAPrivateKey, body: bytes, skew: int
) -> None:
    now = 1_700_000_000
    ts, nonce = str(now + skew), secrets.token_hex(16)
    headers = {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": "PUB_KEY_ID_1",
        "Wechatpay-Signature": sign(platform_key, f"{ts}\n{nonce}\n".encode() + body + b"\n"),
    }
    keys = {"PUB_KEY_ID_1": platform_key.public_key()}
    assert verify_signed_message(headers, body, keys, now) == "PUB_KEY_ID_1"
    if body:
        flipped = bytes([body[0] ^ 1]) + body[1:]
        with pytest.raises(SignatureError):
            verify_signed_message(headers, flipped, keys, now)


def test_public_keys_load_from_pkcs1_and_spki(platform_key: rsa.RSAPrivateKey) -> None:
    public = platform_key.public_key()
    for fmt in (serialization.PublicFormat.PKCS1, serialization.PublicFormat.SubjectPublicKeyInfo):
        pem = public.public_bytes(serialization.Encoding.PEM, fmt)
        key, serial = load_public_key(pem)
        assert key.public_numbers() == public.public_numbers() and serial is None


@pytest.mark.parametrize(
    ("kind", "ok"),
    [("WECHATPAY2-SHA256-RSA2048", True), ("WECHATPAY-BRAND-SHA256-RSA2048", True), ("HMAC-SHA256", False)],
)
def test_notification_signature_types(platform_key: rsa.RSAPrivateKey, kind: str, ok: bool) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = "k" * 32
    box = base64.b64encode(AESGCM(key.encode()).encrypt(b"n" * 12, b'{"a":1}', b"coupon")).decode()
    body = (
        '{"id":"1","event_type":"COUPON.SEND","resource_type":"encrypt-resource","summary":"s","resource":'
        f'{{"algorithm":"AEAD_AES_256_GCM","nonce":"{"n" * 12}","associated_data":"coupon","ciphertext":"{box}"}}}}'
    )
    ts, nonce = "1700000000", "x" * 32
    headers = {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": "PUB_KEY_ID_1",
        "Wechatpay-Signature-Type": kind,
        "Wechatpay-Signature": sign(platform_key, f"{ts}\n{nonce}\n{body}\n".encode()),
    }
    keys = {"PUB_KEY_ID_1": platform_key.public_key()}
    if ok:
        assert parse_notification(headers, body, keys=keys, apiv3_key=key, now=1_700_000_000).resource == {"a": 1}
    else:
        with pytest.raises(SignatureError, match="Signature-Type"):
            parse_notification(headers, body, keys=keys, apiv3_key=key, now=1_700_000_000)
