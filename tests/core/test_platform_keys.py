"""Platform certificates (automatic mode), notifications and sensitive fields, against an independent peer.

The peer answers in memory (the certificate logic is the client's own); the command line and the aiohttp
notification handler go over 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from wxpay_chain import (
    AsyncClient,
    ConfigurationError,
    EncryptedField,
    Headers,
    InvalidRequestError,
    Media,
    MemoryTransport,
    RawResponse,
    Request,
    SignatureError,
    TransportError,
)
from wxpay_chain._signing import KeyStore
from wxpay_chain._verifier import REFRESH_INTERVAL
from wxpay_chain.models import BusifavorCouponSendEvent
from wxpay_chain.notifications import aiohttp_handler, handle_notification, parse_notification

from ..protocol import answer_message, sign
from ..vectors import VECTORS
from .conftest import MCHID, SERIAL
from .wire import pem_private

APIV3_KEY = "0123456789abcdefghijABCDEFGHIJ01"


def make_certificate(key: rsa.RSAPrivateKey, days: int = 365, begins: int = -1) -> x509.Certificate:
    """A self-signed platform certificate in effect from ``begins`` days from now until ``days`` from now."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA test")])
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=begins))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )


def seal(key: str, plaintext: bytes, aad: str) -> dict[str, str]:
    nonce = secrets.token_hex(6)
    box = AESGCM(key.encode()).encrypt(nonce.encode(), plaintext, aad.encode())
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "nonce": nonce,
        "associated_data": aad,
        "ciphertext": base64.b64encode(box).decode(),
    }


class CertPeer:
    """Serves v3/certificates and a signed v3/things, both signed by the current platform certificate.

    In memory (:meth:`transport`) for the certificate logic; on 127.0.0.1 (:meth:`app`) for the command line.
    """

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key
        self.cert = make_certificate(key)
        self.downloads = 0
        self.fail_downloads = False
        self.apiv3_key = APIV3_KEY
        self.hold: asyncio.Event | None = None
        self.download_started = asyncio.Event()

    @property
    def serial(self) -> str:
        return format(self.cert.serial_number, "X")

    def signed(self, body: bytes, serial: str | None = None) -> tuple[int, dict[str, str], bytes]:
        ts, nonce = str(int(time.time())), secrets.token_hex(16)
        signature = sign(self.key, answer_message(ts, nonce, body))
        headers = {
            "Content-Type": "application/json",
            "Wechatpay-Timestamp": ts,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": signature,
            "Wechatpay-Serial": serial or self.serial,
            "Request-ID": "r-1",
        }
        return 200, headers, body

    async def certificates(self) -> tuple[int, dict[str, str], bytes]:
        self.downloads += 1
        self.download_started.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.fail_downloads:
            return 400, {"Content-Type": "application/json"}, b'{"code":"SYSTEM_ERROR","message":"down"}'
        from cryptography.hazmat.primitives import serialization

        pem = self.cert.public_bytes(serialization.Encoding.PEM)
        data = [
            {
                "serial_no": self.serial,
                "effective_time": "2024-01-01T00:00:00+08:00",
                "expire_time": "2099-01-01T00:00:00+08:00",
                "encrypt_certificate": seal(self.apiv3_key, pem, "certificate"),
            }
        ]
        return self.signed(json.dumps({"data": data}).encode())

    async def answer(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if method == "GET" and path == "/v3/certificates":
            return await self.certificates()
        if path == "/v3/things":
            self.last_headers = dict(headers)
            self.last_body = body
            return self.signed(b'{"ok":true}')
        return 404, {}, b"not found"

    async def handle(self, request: web.Request) -> web.Response:
        status, headers, body = await self.answer(request.method, request.path, request.headers, await request.read())
        return web.Response(status=status, body=body, headers=headers)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    def transport(self) -> MemoryTransport:
        async def answer(request: Request) -> RawResponse:
            path = request.target.partition("?")[0]
            status, headers, body = await self.answer(request.method, path, request.headers, request.body)
            return RawResponse(status, Headers(headers), body)

        return MemoryTransport(answer)


@pytest.fixture
def certs(platform_key: rsa.RSAPrivateKey) -> CertPeer:
    return CertPeer(platform_key)


@pytest.fixture
async def cert_server(certs: CertPeer, aiohttp_server: Any) -> str:
    server = await aiohttp_server(certs.app(), host="127.0.0.1")
    return str(server.make_url("/"))


@pytest.fixture
def auto_client(merchant_key: rsa.RSAPrivateKey, certs: CertPeer) -> Callable[..., AsyncClient]:
    def make(**kw: Any) -> AsyncClient:
        options = {
            "mchid": MCHID,
            "serial": SERIAL,
            "private_key": pem_private(merchant_key),
            "apiv3_key": APIV3_KEY,
            "transport": certs.transport(),
            "retry": 1,
            **kw,
        }
        return AsyncClient(**options)

    return make


async def test_automatic_mode_downloads_certificates_before_the_first_verification(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    peer = certs
    async with auto_client() as client:
        assert (await client.v3.things.get()).json() == {"ok": True}
        await client.v3.things.get()
        assert peer.downloads == 1
        assert [c.serial for c in client.certificates] == [peer.serial]
        assert peer.serial in client.keys


async def test_unknown_serial_triggers_one_download_shared_by_all_waiters(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    peer = certs
    async with auto_client() as client:
        await client.v3.things.get()
        peer.cert = make_certificate(peer.key)  # WeChat Pay rotates its certificate
        peer.hold = asyncio.Event()
        peer.download_started.clear()
        calls = [asyncio.ensure_future(client.v3.things.get()) for _ in range(5)]
        await peer.download_started.wait()  # the one refresh has reached the server; all five wait on it
        peer.hold.set()
        results = await asyncio.gather(*calls)
    assert all(r.status == 200 for r in results)
    assert peer.downloads == 2


async def refreshed(client: AsyncClient) -> None:
    """Wait for the scheduled refresh a call started behind itself (it does not wait for it)."""
    task = client._verifier._refreshing
    if task is not None:
        await asyncio.wait([task])


async def test_a_failed_refresh_keeps_the_last_good_certificates(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    peer = certs
    async with auto_client(certificate_refresh=0) as client:
        await client.v3.things.get()
        peer.fail_downloads = True
        assert (await client.v3.things.get()).status == 200  # schedule says refresh; it fails; old set verifies
        await refreshed(client)
        assert peer.downloads == 2


async def test_a_failed_scheduled_refresh_is_tried_again_after_the_interval_not_on_every_call(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    peer, now = certs, [time.time()]
    async with auto_client(certificate_refresh=0, clock=lambda: now[0]) as client:
        await client.v3.things.get()
        peer.fail_downloads = True
        for _ in range(5):  # each call is due for a refresh; only the first tries while v3/certificates fails
            now[0] += 1
            assert (await client.v3.things.get()).status == 200
            await refreshed(client)
        assert peer.downloads == 2
        now[0] += REFRESH_INTERVAL + 1
        assert (await client.v3.things.get()).status == 200
        await refreshed(client)
        assert peer.downloads == 3
        peer.fail_downloads = False
        now[0] += REFRESH_INTERVAL + 1
        assert (await client.v3.things.get()).status == 200
        await refreshed(client)
        assert peer.downloads == 4 and [c.serial for c in client.certificates] == [peer.serial]


async def test_wrong_apiv3_key_cannot_open_the_certificates(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    async with auto_client(apiv3_key="x" * 32) as client:
        with pytest.raises(TransportError, match=r"Nothing was sent.*wrong APIv3 key") as raised:
            await client.v3.things.get()
    assert isinstance(raised.value.__cause__, SignatureError)


def test_apiv3_key_length_is_checked_at_construction(auto_client: Callable[..., AsyncClient]) -> None:
    with pytest.raises(ConfigurationError, match="32-character"):
        auto_client(apiv3_key="short")
    with pytest.raises(ConfigurationError, match="platform_keys"):
        auto_client(apiv3_key=None)


async def test_sensitive_fields_are_encrypted_for_the_key_whose_serial_is_sent(
    auto_client: Callable[..., AsyncClient], certs: CertPeer, merchant_key: rsa.RSAPrivateKey
) -> None:
    peer = certs
    async with auto_client() as client:
        await client.download_certificates()
        secret = client.encrypt("张三")
        await client.v3.things.post(json={"name": secret})
    assert peer.last_headers["Wechatpay-Serial"] == peer.serial
    sent = json.loads(peer.last_body)["name"]
    plain = peer.key.decrypt(base64.b64decode(sent), padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None))
    assert plain.decode() == "张三"
    theirs = base64.b64encode(
        merchant_key.public_key().encrypt(
            b"13800138000", padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)
        )
    ).decode()
    assert client.decrypt(theirs) == "13800138000"


async def test_an_encrypted_value_in_the_query_or_an_uploads_meta_is_sent_with_its_serial(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    # WeChat Pay needs Wechatpay-Serial to decrypt a sensitive field wherever it is sent (a bank account
    # number in a GET's query, a phone number in an upload's meta), not only in a JSON body.
    peer = certs
    async with auto_client() as client:
        await client.download_certificates()
        await client.v3.things.get(query={"account_number": client.encrypt("6222000000000000")})
        assert peer.last_headers["Wechatpay-Serial"] == peer.serial
        await client.v3.things.post(media=Media(b"\x89PNG\r\n", "a.png", meta={"phone": client.encrypt("138")}))
        assert peer.last_headers["Wechatpay-Serial"] == peer.serial
        await client.v3.things.get(query={"account_number": "plain"})
        assert "Wechatpay-Serial" not in peer.last_headers  # certificate mode: only an encrypted field names one


async def test_encrypted_values_for_two_keys_in_one_call_are_refused(auto_client: Callable[..., AsyncClient]) -> None:
    async with auto_client() as client:
        with pytest.raises(InvalidRequestError, match="different WeChat Pay keys"):
            options = {"json": {"a": EncryptedField("x", "AAAA")}, "query": {"b": EncryptedField("y", "BBBB")}}
            client.prepare("POST", "v3/things", (), options)


def test_published_notification_vector_parses() -> None:
    v = VECTORS["signed_notification"]
    keys = KeyStore.load({v["certificate_serial_hex"]: v["certificate_pem"]})
    note = parse_notification(
        v["headers"], v["body"], keys=keys, apiv3_key=v["key"], now=int(v["headers"]["Wechatpay-Timestamp"])
    )
    assert note.event_type == "PAYSCORE.USER_OPEN_SERVICE" and note.resource == json.loads(v["plaintext"])
    assert note.create_time is not None and note.create_time.utcoffset() == dt.timedelta(hours=8)


def notification(peer: CertPeer, *, key: str = APIV3_KEY, ts: int | None = None) -> tuple[dict[str, str], bytes]:
    resource = {
        "event_type": "EVENT_TYPE_BUSICOUPON_SEND",
        "coupon_code": "9",
        "stock_id": "1",
        "send_time": "2025-01-01T10:00:00+08:00",
        "openid": "o-1",
        "send_channel": "BUSICOUPON_SEND_CHANNEL_API",
        "send_merchant": "1900000001",
    }
    body = json.dumps(
        {
            "id": "EV-1",
            "create_time": "2025-01-01T10:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "COUPON.SEND",
            "summary": "发券",
            "resource": {"original_type": "coupon", **seal(key, json.dumps(resource).encode(), "coupon")},
        },
        ensure_ascii=False,
    ).encode()
    stamp, nonce = str(ts or int(time.time())), secrets.token_hex(16)
    headers = {
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": peer.serial,
        "Wechatpay-Signature": sign(peer.key, answer_message(stamp, nonce, body)),
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        "Content-Type": "application/json",
    }
    return headers, body


@pytest.mark.parametrize("bad_key", ["0123456789abcdefghijABCDEFGHIJ0", b"x" * 33, 5])
def test_a_malformed_apiv3_key_is_a_configuration_error_not_a_forged_notification(
    certs: CertPeer, bad_key: Any
) -> None:
    from wxpay_chain import crypto

    headers, body = notification(certs)
    keys = KeyStore.load({certs.serial: certs.cert})
    with pytest.raises(ConfigurationError, match="32-character APIv3 key") as raised:
        parse_notification(headers, body, keys=keys, apiv3_key=bad_key, now=time.time())
    assert not isinstance(raised.value, SignatureError) and str(bad_key) not in str(raised.value)
    box = seal(APIV3_KEY, b"plain", "aad")
    with pytest.raises(ConfigurationError, match="32-character APIv3 key"):
        crypto.aes_gcm_decrypt(bad_key, box["nonce"], "aad", box["ciphertext"])
    assert crypto.aes_gcm_decrypt(APIV3_KEY, box["nonce"], "aad", box["ciphertext"]) == b"plain"


@pytest.mark.parametrize(
    "case", ["ok", "tampered", "stale", "unknown serial", "wrong key", "signtest", "callback fails"]
)
async def test_aiohttp_notification_handler(
    case: str, auto_client: Callable[..., AsyncClient], certs: CertPeer, aiohttp_client: Any
) -> None:
    peer = certs
    received: list[Any] = []

    def on_event(note: Any) -> None:
        if case == "callback fails":
            raise RuntimeError("database down")
        received.append(note)

    async with auto_client() as client:
        await client.download_certificates()
        app = web.Application()
        app.router.add_post("/notify", aiohttp_handler(client, on_event))
        http = await aiohttp_client(app)
        headers, body = notification(
            peer,
            key="y" * 32 if case == "wrong key" else APIV3_KEY,
            ts=int(time.time()) - 400 if case == "stale" else None,
        )
        if case == "tampered":
            body = body.replace(b"EV-1", b"EV-2")
        if case == "unknown serial":
            headers["Wechatpay-Serial"] = "PUB_KEY_ID_0999"
        if case == "signtest":
            headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
        answer = await http.post("/notify", data=body, headers=headers)
        text = await answer.text()
    # A wrong APIv3 key is the merchant's to mend (the signature verified): 500, so it comes again.
    expected = {"ok": 204, "callback fails": 500, "wrong key": 500}.get(case, 401)
    assert answer.status == expected, text
    if case == "ok":
        assert received[0].event_type == "COUPON.SEND" and received[0].resource["coupon_code"] == "9"
        event = received[0].model
        assert isinstance(event, BusifavorCouponSendEvent) and event.send_time.utcoffset() == dt.timedelta(hours=8)
        assert text == ""
    else:
        assert received == [] and json.loads(text)["code"] == "FAIL"


async def test_a_client_without_the_apiv3_key_answers_500_so_the_notification_comes_again(
    auto_client: Callable[..., AsyncClient], certs: CertPeer, caplog: pytest.LogCaptureFixture
) -> None:
    received: list[Any] = []
    async with auto_client(apiv3_key=None, platform_keys={certs.serial: certs.cert}) as client:
        status, answer = await handle_notification(client, *notification(certs), received.append)
    assert status == 500 and "please retry" in json.loads(answer)["message"] and received == []
    assert any(r.levelname == "ERROR" and "apiv3_key" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("headers", "body"), [(None, b"{}"), ("x", b"{}"), ([("a", "b")], b"{}"), ({}, None)])
async def test_headers_or_a_body_of_the_wrong_type_are_refused_typed(
    auto_client: Callable[..., AsyncClient], headers: Any, body: Any
) -> None:
    async with auto_client() as client:
        with pytest.raises(SignatureError, match=r"Not a notification: (headers|body) must be"):
            await client.parse_notification(headers, body)
        with pytest.raises(SignatureError, match="Not a notification"):
            parse_notification(headers, body, keys=KeyStore.load({}), apiv3_key=APIV3_KEY, now=time.time())
        assert (await handle_notification(client, headers, body, lambda note: None))[0] == 401


def test_aes_key_from_environment_is_never_in_errors() -> None:
    key = os.urandom(16).hex()
    with pytest.raises(SignatureError) as info:
        parse_notification({}, b"{}", keys={}, apiv3_key=key, now=0)
    assert key not in str(info.value)


async def test_certificates_command_writes_verified_pem_files(
    certs: CertPeer,
    cert_server: str,
    merchant_key: rsa.RSAPrivateKey,
    tmp_path: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cryptography.hazmat.primitives import serialization

    from wxpay_chain.__main__ import main

    peer, base_url = certs, cert_server
    key_file = tmp_path / "apiclient_key.pem"
    key_file.write_text(pem_private(merchant_key))
    argv = [
        "certificates",
        "-m",
        MCHID,
        "-s",
        SERIAL,
        "-f",
        str(key_file),
        "-k",
        APIV3_KEY,
        "-o",
        str(tmp_path / "certs"),
        "-u",
        base_url,
    ]
    assert await asyncio.to_thread(main, argv) == 0
    written = tmp_path / "certs" / f"wechatpay_{peer.serial}.pem"
    assert written.read_bytes() == peer.cert.public_bytes(serialization.Encoding.PEM)
    out = capsys.readouterr().out
    assert peer.serial in out and "2099-01-01" in out
    argv[argv.index("-k") + 1] = "z" * 32
    assert await asyncio.to_thread(main, argv) == 1
    assert "APIv3 key" in capsys.readouterr().err


# -- forged notifications cost nothing (issue 15, finding 8) ------------------------------------------------


async def post_notifications(
    client: AsyncClient, aiohttp_client: Any, deliveries: list[tuple[dict[str, str], bytes]], **handler: Any
) -> list[int]:
    """Each delivery through the aiohttp handler on 127.0.0.1, as WeChat Pay would post it."""
    from wxpay_chain.notifications import aiohttp_handler as handler_for

    app = web.Application()
    app.router.add_post("/notify", handler_for(client, handler.pop("on_event", lambda note: None), **handler))
    http = await aiohttp_client(app)
    statuses = []
    for headers, body in deliveries:
        answer = await http.post("/notify", data=body, headers=headers)
        await answer.read()
        statuses.append(answer.status)
    return statuses


async def handle_notifications(
    client: AsyncClient, deliveries: list[tuple[dict[str, str], bytes]], **handler: Any
) -> list[int]:
    """Each delivery through handle_notification, the framework-neutral core of every handler."""
    on_event = handler.pop("on_event", lambda note: None)
    return [(await handle_notification(client, h, body, on_event, **handler))[0] for h, body in deliveries]


@pytest.mark.parametrize("stamp", ["1", "9" * 400, "-5", "１２３", "", "1e9"])
async def test_a_forged_notification_with_a_bad_timestamp_downloads_nothing(
    stamp: str, auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    peer = certs
    async with auto_client() as client:
        await client.download_certificates()
        headers, body = notification(peer)
        headers.update({"Wechatpay-Timestamp": stamp, "Wechatpay-Serial": "5157F09EFDC096DE15EBE81A47057A72"})
        assert await handle_notifications(client, [(headers, body)] * 3) == [401] * 3
    assert peer.downloads == 1


@pytest.mark.parametrize("request_id", [5, ["r-1"], None])
async def test_a_request_id_that_is_not_text_is_left_out_of_the_error(
    request_id: Any, auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    async with auto_client() as client:
        await client.download_certificates()
        headers, body = notification(certs)
        forged = {**headers, "Wechatpay-Timestamp": "1", "Request-ID": request_id}
        with pytest.raises(SignatureError) as raised:
            await client.parse_notification(forged, body)
        assert raised.value.request_id is None and "Request-ID" not in str(raised.value)
        assert await handle_notifications(client, [(forged, body)]) == [401]
        assert (await client.parse_notification({**headers, "Request-ID": request_id}, body)).id == "EV-1"


async def test_a_forged_notification_with_a_malformed_serial_downloads_nothing(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    peer = certs
    async with auto_client() as client:
        await client.download_certificates()
        headers, body = notification(peer)
        headers["Wechatpay-Serial"] = "A" * 5000
        assert await handle_notifications(client, [(headers, body)]) == [401]
    assert peer.downloads == 1


async def test_many_notifications_naming_unknown_serials_cause_one_download_a_minute(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    peer = certs
    offset = [0.0]
    async with auto_client(clock=lambda: time.time() + offset[0]) as client:
        await client.download_certificates()
        forged = []
        for i in range(20):
            headers, body = notification(peer)
            headers["Wechatpay-Serial"] = f"{i:032X}"
            forged.append((headers, body))
        assert await handle_notifications(client, forged) == [401] * 20
        assert peer.downloads == 2  # the first forged serial was looked up once; the other 19 were not
        offset[0] = 61.0  # a minute later one more look-up is allowed, and again only one
        assert await handle_notifications(client, forged[:5]) == [401] * 5
        assert peer.downloads == 3
        # A genuine notification from the known certificate is still accepted meanwhile.
        assert await handle_notifications(client, [notification(peer)]) == [204]
    assert peer.downloads == 3


async def test_a_real_rotation_is_still_found_after_a_forgery(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    peer = certs
    async with auto_client() as client:
        await client.v3.things.get()
        peer.cert = make_certificate(peer.key)  # WeChat Pay rotates its certificate: the download finds it
        assert (await client.v3.things.get()).status == 200
        assert await handle_notifications(client, [notification(peer)]) == [204]
    assert peer.downloads == 2


async def test_recent_notifications_call_the_callback_once_per_id(
    auto_client: Callable[..., AsyncClient], certs: CertPeer, aiohttp_client: Any
) -> None:
    from wxpay_chain.notifications import RecentNotifications

    peer = certs
    handled: list[str] = []
    fail = [True]

    def on_event(note: Any) -> None:
        if fail[0]:
            fail[0] = False
            raise RuntimeError("database down")
        handled.append(note.id)

    async with auto_client() as client:
        await client.download_certificates()
        delivery = notification(peer)
        statuses = await post_notifications(
            client, aiohttp_client, [delivery] * 4, on_event=on_event, recent=RecentNotifications()
        )
    assert statuses == [500, 204, 204, 204]  # a failure is handed over again; then a replay is only answered
    assert handled == ["EV-1"]


@pytest.mark.parametrize("recent", [5, "recent", {}, [], True])
async def test_a_recent_that_is_not_a_store_is_refused_before_the_notification_is_read(
    auto_client: Callable[..., AsyncClient], certs: CertPeer, recent: Any
) -> None:
    # It escaped as AttributeError, and only once a notification had verified (after its callback was due).
    from wxpay_chain.notifications import handle_notification_sync

    class NotRead:
        def parse_notification(self, headers: Any, body: Any) -> Any:
            raise AssertionError("the notification was read before recent= was checked")

    handled: list[Any] = []
    expected = "recent must be a RecentNotifications"
    async with auto_client() as client:
        await client.download_certificates()
        headers, body = notification(certs)
        with pytest.raises(ConfigurationError, match=expected):
            await client.handle_notification(headers, body, handled.append, recent=recent)
        with pytest.raises(ConfigurationError, match=expected):
            await handle_notification(NotRead(), headers, body, handled.append, recent=recent)
        with pytest.raises(ConfigurationError, match=expected):
            handle_notification_sync(NotRead(), headers, body, handled.append, recent=recent)
        with pytest.raises(ConfigurationError, match=expected):
            aiohttp_handler(client, handled.append, recent=recent)  # when the app is set up, not per request
    assert handled == []


async def test_the_same_notification_delivered_ten_times_at_once_runs_the_callback_once(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    from wxpay_chain.notifications import RecentNotifications

    handled: list[str] = []
    inside, finish = asyncio.Event(), asyncio.Event()

    async def on_event(note: Any) -> None:
        inside.set()
        await finish.wait()  # the first delivery is still being handled while the others arrive
        handled.append(note.id)

    recent = RecentNotifications()
    async with auto_client() as client:
        await client.download_certificates()
        headers, body = notification(certs)
        first = asyncio.ensure_future(handle_notification(client, headers, body, on_event, recent=recent))
        await inside.wait()
        deliveries = (handle_notification(client, headers, body, on_event, recent=recent) for _ in range(9))
        others = [await asyncio.wait_for(delivery, 5) for delivery in deliveries]  # a callback never ends here
        finish.set()
        assert (await first)[0] == 204
        again = await handle_notification(client, headers, body, on_event, recent=recent)
    assert handled == ["EV-1"]
    assert [status for status, _ in others] == [503] * 9  # asked to come again: the first has not finished
    assert again == (204, b"")  # and once it has, a repeat is only answered


def test_blocking_handlers_on_many_threads_run_the_callback_once(
    certs: CertPeer, merchant_key: rsa.RSAPrivateKey
) -> None:
    from wxpay_chain import Client
    from wxpay_chain.notifications import RecentNotifications

    handled: list[str] = []
    inside, finish = threading.Event(), threading.Event()

    def on_event(note: Any) -> None:
        inside.set()
        assert finish.wait(2)  # only the first delivery's callback may get here
        handled.append(note.id)

    recent = RecentNotifications()
    options = {
        "mchid": MCHID,
        "serial": SERIAL,
        "private_key": pem_private(merchant_key),
        "apiv3_key": APIV3_KEY,
        "platform_keys": {certs.serial: certs.cert},
        "transport": certs.transport(),
    }
    with Client(**options) as client:
        headers, body = notification(certs)

        def deliver() -> int:
            return client.handle_notification(headers, body, on_event, recent=recent)[0]

        answers: list[int] = []
        first = threading.Thread(target=lambda: answers.append(deliver()))
        first.start()
        assert inside.wait(10)
        others = [deliver() for _ in range(5)]  # while the first thread is still in its callback
        finish.set()
        first.join(10)
    assert handled == ["EV-1"] and answers == [204] and others == [503] * 5


def test_recent_notifications_forget_after_the_window_and_stay_bounded() -> None:
    from wxpay_chain.notifications import RecentNotifications

    now = [0.0]
    recent = RecentNotifications(window=300, max_entries=3, clock=lambda: now[0])
    for name in "abcd":
        recent.add(name)
    assert "a" not in recent and all(n in recent for n in "bcd") and len(recent) == 3
    now[0] = 301.0
    assert "d" not in recent and len(recent) == 0
    with pytest.raises(ValueError):
        RecentNotifications(window=float("nan"))


async def test_a_copy_from_with_options_shares_the_certificates_it_downloads(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    peer = certs
    async with auto_client() as client:
        quick = client.with_options(timeout=5)
        await quick.v3.things.get()  # the copy downloads the certificates ...
        await client.v3.things.get()  # ... and the original verifies with them, without a second download
        assert peer.downloads == 1
        assert client.certificates == quick.certificates and peer.serial in client.keys


async def test_the_certificate_lines_name_the_merchant(
    auto_client: Callable[..., AsyncClient], certs: CertPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wxpay_chain")
    async with auto_client(certificate_refresh=0) as client:
        await client.v3.things.get()
        certs.fail_downloads = True
        await client.v3.things.get()  # due for a refresh, which fails: the old set verifies
        await refreshed(client)
    lines = [r.getMessage() for r in caplog.records if "platform certificate" in r.getMessage()]
    assert lines[0].startswith("platform certificates of mchid=1900000001 now ")
    assert lines[1].startswith("platform certificate refresh of mchid=1900000001 (")
    assert "keeping the last good set" in lines[1] and len(lines) == 2
