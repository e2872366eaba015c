from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, ConfigurationError
from wxpay_chain._crypto import load_private_key

from ..vectors import VECTORS
from .conftest import PUB_KEY_ID
from .wire import pem_private, pem_public


def pkcs(key: rsa.RSAPrivateKey, fmt: serialization.PrivateFormat, password: bytes | None = None) -> bytes:
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc)


@pytest.mark.parametrize("form", ["pkcs8-text", "pkcs1-bytes", "path", "file-url", "pathlib", "object", "encrypted"])
def test_private_key_loads_from_every_documented_form(
    merchant_key: rsa.RSAPrivateKey, tmp_path: Path, form: str
) -> None:
    pem8 = pkcs(merchant_key, serialization.PrivateFormat.PKCS8)
    file = tmp_path / "apiclient_key.pem"
    file.write_bytes(pem8)
    source: Any = {
        "pkcs8-text": pem8.decode(),
        "pkcs1-bytes": pkcs(merchant_key, serialization.PrivateFormat.TraditionalOpenSSL),
        "path": str(file),
        "file-url": file.as_uri(),
        "pathlib": file,
        "object": merchant_key,
        "encrypted": pkcs(merchant_key, serialization.PrivateFormat.PKCS8, b"s3cret-pass"),
    }[form]
    loaded = load_private_key(source, "s3cret-pass" if form == "encrypted" else None)
    assert loaded.private_numbers() == merchant_key.private_numbers()


def test_key_errors_are_clear_and_never_echo_the_key(merchant_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    pem = pkcs(merchant_key, serialization.PrivateFormat.PKCS8).decode()
    cases: list[tuple[Any, str | None, str]] = [
        (pem_public(merchant_key), None, "public key or certificate"),
        (pem[: len(pem) // 2] + "\n-----END PRIVATE KEY-----\n", None, "truncated or corrupted"),
        (pkcs(merchant_key, serialization.PrivateFormat.PKCS8, b"right"), None, "encrypted; pass its passphrase"),
        (pkcs(merchant_key, serialization.PrivateFormat.PKCS8, b"right"), "wrong", "wrong passphrase"),
        (str(tmp_path / "missing.pem"), None, "cannot read"),
        (12345, None, "got int"),
    ]
    secret_line = pem.splitlines()[5]
    for source, passphrase, expected in cases:
        with pytest.raises(ConfigurationError, match=expected) as info:
            load_private_key(source, passphrase)
        assert secret_line not in str(info.value)


def base(merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    return {
        "mchid": "1900000001",
        "serial": "ABC",
        "private_key": pem_private(merchant_key),
        "platform_keys": {PUB_KEY_ID: pem_public(platform_key)},
    }


def test_construction_rejects_bad_setups_at_once(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    cert_pem = VECTORS["signed_notification"]["certificate_pem"]
    cert_serial = VECTORS["signed_notification"]["certificate_serial_hex"]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"brand_id": "120344"}, "exactly one of mchid"),
        ({"mchid": None}, "exactly one of mchid"),
        ({"serial": ""}, "serial"),
        ({"platform_keys": {PUB_KEY_ID: pem_private(platform_key)}}, "this is a private key"),
        ({"platform_keys": {"0123ABCD": cert_pem}}, f"serial is {cert_serial.upper()}"),
        ({"platform_keys": {PUB_KEY_ID: cert_pem}}, "PUB_KEY_ID names WeChat Pay's public key"),
        ({"private_key": pem_public(merchant_key)}, "public key or certificate"),
        ({"base_url": "ftp://x/"}, "http"),
    ]
    for change, expected in bad:
        options = {**base(merchant_key, platform_key), **change}
        with pytest.raises(ConfigurationError, match=expected):
            AsyncClient(**options)


def test_certificate_serial_key_matches_in_any_case(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    v = VECTORS["signed_notification"]
    options = {
        **base(merchant_key, platform_key),
        "platform_keys": {v["certificate_serial_hex"].lower(): v["certificate_pem"]},
    }
    client = AsyncClient(**options)
    assert v["certificate_serial_hex"].upper() in client.keys
    assert v["certificate_serial_hex"].lower() in client.keys


def test_brand_client_needs_a_pub_key_id(merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey) -> None:
    v = VECTORS["signed_notification"]
    options = {
        **base(merchant_key, platform_key),
        "mchid": None,
        "brand_id": "120344",
        "platform_keys": {v["certificate_serial_hex"]: v["certificate_pem"]},
    }
    with pytest.raises(ConfigurationError, match="PUB_KEY_ID"):
        AsyncClient(**options)


def test_no_secret_in_repr(make_client: Callable[..., AsyncClient], merchant_key: rsa.RSAPrivateKey) -> None:
    client = make_client()
    text = repr(client) + repr(client._config.signer)
    assert "PRIVATE" not in text and str(merchant_key.private_numbers().d)[:12] not in text
    assert "key=" not in repr(client._config.signer)


def test_a_file_url_names_a_file_on_this_machine(merchant_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    # RFC 8089: file://localhost/path is file:///path (curl reads it); another host is no file here. Before,
    # the host was glued onto the path: file://localhost/... was not found, file://etc/... was read from ./etc.
    pem = merchant_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "apiclient_key.pem").write_bytes(pem)
    loaded = load_private_key(f"file://localhost{tmp_path}/apiclient_key.pem")
    assert loaded.private_numbers() == merchant_key.private_numbers()
    with pytest.raises(ConfigurationError, match="names a file on this machine"):
        load_private_key(f"file://fileserver{tmp_path}/apiclient_key.pem")
