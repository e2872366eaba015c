"""What a certificate download may change: every listed certificate verifies (whatever this clock says of its
dates), an empty list keeps the last good set, a scheduled refresh runs behind the calls instead of holding
them, and encrypt() picks among downloaded certificates by their dates."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from wxpay_chain import AsyncClient, ConfigurationError, Headers, MemoryTransport, RawResponse, Request, SignatureError

from ..protocol import answer_message, sign
from .conftest import MCHID, SERIAL
from .test_platform_keys import APIV3_KEY, make_certificate, seal
from .wire import pem_private

OAEP = padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)


@dataclass
class Listed:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    effective: str = "2024-01-01T00:00:00+08:00"
    expire: str = "2099-01-01T00:00:00+08:00"

    @property
    def serial(self) -> str:
        return format(self.cert.serial_number, "X")


def listed(days: int = 365, begins: int = -1, **times: str) -> Listed:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return Listed(key, make_certificate(key, days=days, begins=begins), **times)


@dataclass
class Listing:
    """v3/certificates lists ``certificates``, signed by the first of them (or ``signer`` if none);
    v3/things is signed by ``signer``."""

    certificates: list[Listed]
    signer: Listed
    downloads: int = 0
    failing: int = 0  # the next downloads answered 500
    hold: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def signed(self, body: bytes, by: Listed) -> RawResponse:
        ts, nonce = str(int(time.time())), secrets.token_hex(16)
        headers = {
            "Content-Type": "application/json",
            "Wechatpay-Timestamp": ts,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": sign(by.key, answer_message(ts, nonce, body)),
            "Wechatpay-Serial": by.serial,
            "Request-ID": "r-1",
        }
        return RawResponse(200, Headers(headers), body)

    async def answer(self, request: Request) -> RawResponse:
        if request.target == "/v3/certificates":
            self.downloads += 1
            self.started.set()
            if self.hold is not None:
                await self.hold.wait()
            if self.failing:
                self.failing -= 1
                return RawResponse(500, Headers({"Content-Type": "application/json"}), b'{"code":"SYSTEM_ERROR"}')
            data = [
                {
                    "serial_no": c.serial,
                    "effective_time": c.effective,
                    "expire_time": c.expire,
                    "encrypt_certificate": seal(
                        APIV3_KEY, c.cert.public_bytes(serialization.Encoding.PEM), "certificate"
                    ),
                }
                for c in self.certificates
            ]
            lister = self.certificates[0] if self.certificates else self.signer
            return self.signed(json.dumps({"data": data}).encode(), lister)
        return self.signed(b'{"ok":true}', self.signer)


def client(merchant_key: rsa.RSAPrivateKey, listing: Listing, **options: Any) -> AsyncClient:
    return AsyncClient(
        mchid=MCHID,
        serial=SERIAL,
        private_key=pem_private(merchant_key),
        apiv3_key=APIV3_KEY,
        transport=MemoryTransport(listing.answer),
        retry=1,
        **options,
    )


async def test_a_new_certificate_verifies_even_before_its_start_by_this_clock(merchant_key: rsa.RSAPrivateKey) -> None:
    # A client clock a little behind WeChat Pay's: at a rotation the new certificate starts "in 30 s" here,
    # while WeChat Pay already signs with it. Judged by its dates it was refused (and answers for a minute).
    old = listed()
    late_clock = listed(days=700, begins=0)
    listing = Listing([old], signer=old)
    async with client(merchant_key, listing, clock=lambda: time.time() - 30) as c:
        await c.v3.things.get()
        listing.certificates, listing.signer = [old, late_clock], late_clock
        assert (await c.v3.things.post(json={"send_request_no": "1"})).json() == {"ok": True}
        assert sorted(c.keys) == sorted([old.serial, late_clock.serial])
        assert c.encrypt("x").serial == old.serial  # encrypt() still goes by the dates: the one in effect here


async def test_an_empty_list_keeps_the_last_good_set(merchant_key: rsa.RSAPrivateKey) -> None:
    current = listed()
    listing = Listing([current], signer=current)
    async with client(merchant_key, listing) as c:
        await c.download_certificates()
        listing.certificates = []
        with pytest.raises(SignatureError, match="lists no certificate"):
            await c.download_certificates()
        assert sorted(c.keys) == [current.serial]
        assert (await c.v3.things.get()).json() == {"ok": True}  # the old set still verifies
        assert c.encrypt("x").serial == current.serial


async def test_a_scheduled_refresh_runs_behind_the_calls_it_is_due_for(merchant_key: rsa.RSAPrivateKey) -> None:
    current = listed()
    listing = Listing([current], signer=current)
    async with client(merchant_key, listing, certificate_refresh=0) as c:
        await c.v3.things.get()  # the first download, which the first call must wait for
        listing.hold = asyncio.Event()
        listing.started.clear()
        # Due for a refresh that does not answer: the call is answered with the keys in hand, in its own time.
        answer = await asyncio.wait_for(c.v3.things.post(json={"send_request_no": "1"}, timeout=2), 5)
        assert answer.json() == {"ok": True}
        await listing.started.wait()  # the refresh did start, behind the call
        assert listing.downloads == 2
        listing.hold.set()


async def test_an_unknown_serial_still_waits_for_the_download_that_brings_it(
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    old, new = listed(), listed()
    listing = Listing([old], signer=old)
    async with client(merchant_key, listing) as c:
        await c.v3.things.get()
        listing.certificates, listing.signer = [old, new], new  # rotation: answers signed by a new certificate
        assert (await c.v3.things.get()).json() == {"ok": True}
        assert listing.downloads == 2 and sorted(c.keys) == sorted([old.serial, new.serial])


async def test_a_download_by_hand_clears_the_failure_an_answer_would_quote(merchant_key: rsa.RSAPrivateKey) -> None:
    old, new = listed(), listed()
    listing = Listing([old], signer=old)
    async with client(merchant_key, listing) as c:
        await c.v3.things.get()
        listing.certificates, listing.signer, listing.failing = [new], new, 1
        with pytest.raises(SignatureError, match="failed"):
            await c.v3.things.get()  # the rotation's download fails (500)
        await c.download_certificates()  # by hand, now that it works: only the new certificate is listed
        listing.signer = old  # an answer signed by the certificate WeChat Pay dropped
        with pytest.raises(SignatureError) as refused:
            await c.v3.things.get()
    assert "failed less than" not in str(refused.value)  # the failure is over: not quoted as the reason


async def test_encrypt_after_a_download_takes_the_certificate_in_effect_that_expires_last(
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    # Listing times written without an offset (China time): encrypt() compared them with an aware time.
    soon, late = listed(days=30), listed(days=700)
    soon.effective = late.effective = "2024-01-01T00:00:00"
    listing = Listing([late, soon], signer=soon)
    async with client(merchant_key, listing) as c:
        await c.download_certificates()
        secret = c.encrypt("张三")
    assert secret.serial == late.serial
    assert late.key.decrypt(base64.b64decode(secret), OAEP).decode() == "张三"


@pytest.mark.parametrize("value", ["3600", -5, float("nan"), float("inf"), True])
def test_certificate_refresh_must_be_a_number_of_seconds(merchant_key: rsa.RSAPrivateKey, value: object) -> None:
    current = listed()
    with pytest.raises(ConfigurationError, match="certificate_refresh"):
        client(merchant_key, Listing([current], signer=current), certificate_refresh=value)


async def test_in_public_key_mode_a_notification_naming_a_certificate_is_refused_as_forged(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    # WeChat Pay answers v3/certificates 404 RESOURCE_NOT_EXISTS to a merchant on its public key: that merchant
    # has no certificates, so a notification naming one is a stranger's (401), not the merchant's outage (500,
    # an ERROR line a stranger could cause once a minute for ever).
    from .conftest import PUB_KEY_ID
    from .test_platform_keys import CertPeer, notification
    from .wire import pem_public

    downloads: list[str] = []

    def no_certificates(request: Request) -> RawResponse:
        downloads.append(request.target)
        body = b'{"code":"RESOURCE_NOT_EXISTS","message":"no platform certificates: use the public key"}'
        return RawResponse(404, Headers({"Content-Type": "application/json"}), body)

    async def callback(note: Any) -> None:
        raise AssertionError("a forged notification reached the callback")

    stranger = CertPeer(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    async with AsyncClient(
        mchid=MCHID,
        serial=SERIAL,
        private_key=pem_private(merchant_key),
        platform_keys={PUB_KEY_ID: pem_public(platform_key)},
        apiv3_key=APIV3_KEY,
        transport=MemoryTransport(no_certificates),
        retry=1,
    ) as c:
        answers = [(await c.handle_notification(*notification(stranger), callback))[0] for _ in range(3)]
    assert answers == [401, 401, 401] and downloads == ["/v3/certificates"]  # one download a minute at most
