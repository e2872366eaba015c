"""Which platform key ``encrypt()`` picks: WeChat Pay decrypts a sensitive field only with a key in effect,
so an expired certificate among several configured must not be the one chosen."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wxpay_chain import AsyncClient, Client, ConfigurationError, MemoryTransport, RawResponse, Request
from wxpay_chain._certificates import decrypt_certificates

from .conftest import MCHID, SERIAL
from .test_platform_keys import make_certificate
from .wire import pem_private

OAEP = padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)


def certificate(begins_days: int, ends_days: int) -> tuple[rsa.RSAPrivateKey, str, str]:
    """A platform certificate in effect from begins_days to ends_days from now: key, serial, PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = make_certificate(key, days=ends_days, begins=begins_days)
    return key, format(cert.serial_number, "X"), cert.public_bytes(serialization.Encoding.PEM).decode()


def client(merchant_key: rsa.RSAPrivateKey, platform_keys: dict[str, str], sent: list[Request]) -> AsyncClient:
    async def answer(request: Request) -> RawResponse:
        sent.append(request)
        return RawResponse(204, {}, b"")

    return AsyncClient(
        mchid=MCHID,
        serial=SERIAL,
        private_key=pem_private(merchant_key),
        platform_keys=platform_keys,
        transport=MemoryTransport(answer),
        retry=1,
    )


def opened(key: rsa.RSAPrivateKey, ciphertext: str) -> str:
    return key.decrypt(base64.b64decode(ciphertext), OAEP).decode()


async def test_an_expired_certificate_listed_first_is_passed_over(merchant_key: rsa.RSAPrivateKey) -> None:
    _, old_serial, old_pem = certificate(-400, -10)
    new_key, new_serial, new_pem = certificate(-5, 360)
    async with client(merchant_key, {old_serial: old_pem, new_serial: new_pem}, []) as c:
        secret = c.encrypt("张三")
        assert secret.serial == new_serial and opened(new_key, secret) == "张三"
        request = c.sign(c.prepare("POST", "v3/things", kwargs={"json": {"name": secret}}))
    assert request.headers["Wechatpay-Serial"] == new_serial


def test_of_two_current_certificates_the_one_expiring_last_is_chosen(merchant_key: rsa.RSAPrivateKey) -> None:
    _, soon_serial, soon_pem = certificate(-300, 30)
    late_key, late_serial, late_pem = certificate(-1, 720)
    keys = {soon_serial: soon_pem, late_serial: late_pem}
    with Client(
        mchid=MCHID,
        serial=SERIAL,
        private_key=pem_private(merchant_key),
        platform_keys=keys,
        transport=MemoryTransport(lambda request: RawResponse(204, {}, b"")),
    ) as blocking:
        secret = blocking.encrypt("13800138000")
    assert secret.serial == late_serial and opened(late_key, secret) == "13800138000"


async def test_a_certificate_not_yet_in_effect_is_passed_over(merchant_key: rsa.RSAPrivateKey) -> None:
    current_key, current_serial, current_pem = certificate(-30, 330)
    _, future_serial, future_pem = certificate(5, 1000)
    async with client(merchant_key, {future_serial: future_pem, current_serial: current_pem}, []) as c:
        secret = c.encrypt("x")
    assert secret.serial == current_serial and opened(current_key, secret) == "x"


async def test_when_no_certificate_is_in_effect_encrypt_says_so_and_nothing_is_sent(
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    _, old_serial, old_pem = certificate(-800, -400)
    _, older_serial, older_pem = certificate(-900, -30)
    sent: list[Request] = []
    async with client(merchant_key, {old_serial: old_pem, older_serial: older_pem}, sent) as c:
        with pytest.raises(ConfigurationError, match="No platform certificate is in effect") as caught:
            c.encrypt("张三")
    message = str(caught.value)
    assert old_serial in message and older_serial in message and "PUB_KEY_ID" in message
    assert sent == []


async def test_a_bare_key_under_a_certificate_serial_still_encrypts(merchant_key: rsa.RSAPrivateKey) -> None:
    # A public key given without its certificate has no dates to judge: it is used as before.
    key, serial, _ = certificate(-800, -400)
    spki = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    async with client(merchant_key, {serial: spki.decode()}, []) as c:
        secret = c.encrypt("x")
    assert secret.serial == serial and opened(key, secret) == "x"


def test_listed_times_without_an_offset_are_china_time() -> None:
    # An offset-less time compared with an aware one raised TypeError in encrypt(); WeChat Pay's are +08:00.
    _, serial, pem = certificate(-1, 100)
    apiv3_key = "0123456789abcdefghijABCDEFGHIJ01"
    nonce = "0123456789ab"
    sealed = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), pem.encode(), b"certificate")
    listing = {
        "data": [
            {
                "serial_no": serial,
                "effective_time": "2020-01-01T00:00:00",
                "expire_time": "2030-01-01T00:00:00",
                "encrypt_certificate": {
                    "algorithm": "AEAD_AES_256_GCM",
                    "nonce": nonce,
                    "associated_data": "certificate",
                    "ciphertext": base64.b64encode(sealed).decode(),
                },
            }
        ]
    }
    (cert,) = decrypt_certificates(json.dumps(listing).encode(), apiv3_key)
    china = dt.timezone(dt.timedelta(hours=8))
    assert cert.effective_time == dt.datetime(2020, 1, 1, tzinfo=china)
    assert cert.expire_time == dt.datetime(2030, 1, 1, tzinfo=china)
    assert cert.valid_at(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
