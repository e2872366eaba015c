from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization

from wxpay_chain import SignatureError
from wxpay_chain._crypto import (
    aes_gcm_decrypt,
    aes_gcm_encrypt,
    certificate_serial,
    load_certificate,
    load_private_key,
    load_public_key,
    rsa_oaep_decrypt,
    rsa_oaep_encrypt,
    rsa_sign,
    rsa_verify,
)
from wxpay_chain._http import Headers
from wxpay_chain._signing import (
    KeyStore,
    Signer,
    request_message,
    response_message,
    verify_signed_message,
)

from ..vectors import VECTORS


def test_rsa_sha256_signature_matches_the_published_vector() -> None:
    v = VECTORS["rsa_sha256_sign"]
    key = load_private_key(v["private_key_pem"])
    assert rsa_sign(key, v["message"].encode()) == v["signature_base64"]
    assert rsa_verify(key.public_key(), v["message"].encode(), v["signature_base64"])


def test_request_message_layout_matches_the_published_example() -> None:
    example = VECTORS["message_layout"]["example_request_message"]
    method, target, ts, nonce, *_ = example.split("\n")
    assert request_message(method, target, int(ts), nonce, b"") == example.encode()


@pytest.mark.parametrize(
    ("mode", "scheme", "id_field"),
    [
        ("merchant", "WECHATPAY2-SHA256-RSA2048", "mchid"),
        ("brand", "WECHATPAY-BRAND-SHA256-RSA2048", "brand_id"),
    ],
)
def test_signer_header_is_the_protocol_authorization_header(mode: str, scheme: str, id_field: str) -> None:
    key = load_private_key(VECTORS["rsa_sha256_sign"]["private_key_pem"])
    signer = Signer(mode=mode, identity="1900000001", serial="5157F09EFDC096DE15EBE81A47057A72", key=key)  # type: ignore[arg-type]
    header = signer.header(b"ignored", "593BEC0C930BF1AFEB40B4A08C8FB242", 1554208460, "c2lnbmF0dXJl")
    assert header == (
        f'{scheme} {id_field}="1900000001",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",timestamp="1554208460",'
        'serial_no="5157F09EFDC096DE15EBE81A47057A72",signature="c2lnbmF0dXJl"'
    )


def test_response_message_layout_for_empty_body() -> None:
    assert response_message("1", "n", b"") == b"1\nn\n\n"


def notification() -> tuple[Headers, bytes, KeyStore, int]:
    v = VECTORS["signed_notification"]
    headers = Headers(v["headers"])
    keys = KeyStore.load({v["certificate_serial_hex"]: v["certificate_pem"]})
    return headers, v["body"].encode(), keys, int(headers["Wechatpay-Timestamp"])


def test_signed_notification_verifies_with_its_certificate() -> None:
    headers, body, keys, sent_at = notification()
    assert verify_signed_message(headers, body, keys, now=sent_at).upper() == headers["Wechatpay-Serial"].upper()


def test_signed_notification_fails_when_body_altered_or_stale() -> None:
    headers, body, keys, sent_at = notification()
    with pytest.raises(SignatureError, match="does not verify"):
        verify_signed_message(headers, body.replace(b"{", b"{ ", 1), keys, now=sent_at)
    with pytest.raises(SignatureError, match="300 s"):
        verify_signed_message(headers, body, keys, now=sent_at + 301)
    verify_signed_message(headers, body, keys, now=sent_at + 300)


def test_signed_notification_resource_decrypts() -> None:
    v = VECTORS["signed_notification"]
    resource = json.loads(v["body"])["resource"]
    plain = aes_gcm_decrypt(v["key"], resource["nonce"], resource["associated_data"], resource["ciphertext"])
    assert json.loads(plain) == (json.loads(v["plaintext"]) if isinstance(v["plaintext"], str) else v["plaintext"])


def test_certificate_serial_is_upper_hex() -> None:
    v = VECTORS["signed_notification"]
    cert = load_certificate(v["certificate_pem"].encode())
    assert certificate_serial(cert) == v["certificate_serial_hex"].upper()
    key, serial = load_public_key(v["certificate_pem"])
    assert serial == v["certificate_serial_hex"].upper()
    signer = load_private_key(VECTORS["rsa_sha256_sign"]["private_key_pem"])
    assert key.public_numbers() == signer.public_key().public_numbers()


def test_aes_256_gcm_vector_both_ways() -> None:
    v = VECTORS["aes_256_gcm"]
    assert aes_gcm_encrypt(v["key"], v["nonce"], v["associated_data"], v["plaintext"]) == v["ciphertext_base64"]
    assert (
        aes_gcm_decrypt(v["key"], v["nonce"], v["associated_data"], v["ciphertext_base64"]) == v["plaintext"].encode()
    )


def test_aes_gcm_wrong_key_or_tampering_raises_signature_error() -> None:
    v = VECTORS["aes_256_gcm"]
    with pytest.raises(SignatureError, match="APIv3 key"):
        aes_gcm_decrypt("x" * 32, v["nonce"], v["associated_data"], v["ciphertext_base64"])
    with pytest.raises(SignatureError):
        aes_gcm_decrypt(v["key"], v["nonce"], "other", v["ciphertext_base64"])


def test_rsa_oaep_sha1_decrypt_vector_and_round_trip() -> None:
    v = VECTORS["rsa_oaep_sha1_decrypt"]
    key = load_private_key(v["private_key_pem"])
    assert rsa_oaep_decrypt(key, v["ciphertext_base64"]) == v["plaintext"]
    assert rsa_oaep_decrypt(key, rsa_oaep_encrypt(key.public_key(), "张三")) == "张三"


def test_certificates_response_decrypts_to_the_listed_serials() -> None:
    v = VECTORS["certificates_response"]
    for item in json.loads(v["body"])["data"]:
        box = item["encrypt_certificate"]
        pem = aes_gcm_decrypt(v["apiv3_key"], box["nonce"], box["associated_data"], box["ciphertext"])
        assert certificate_serial(load_certificate(pem)) == item["serial_no"].upper()


def test_private_key_vector_loads_in_pkcs1_too() -> None:
    key = load_private_key(VECTORS["rsa_sha256_sign"]["private_key_pem"])
    pkcs1 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    assert b"BEGIN RSA PRIVATE KEY" in pkcs1
    assert load_private_key(pkcs1).private_numbers() == key.private_numbers()
