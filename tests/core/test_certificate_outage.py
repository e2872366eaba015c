"""When the merchant's side cannot verify: a failed certificate download, a wrong APIv3 key, replays.

A 2xx answer that cannot be verified because the certificates cannot be downloaded may still have been
carried out, and must say so; a notification that cannot be verified for the same reason, or that
verifies but does not decrypt, is the merchant's to mend (500, so that WeChat Pay sends it again), not
the sender's fault (4xx)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import (
    ApiError,
    AsyncClient,
    ConfigurationError,
    Headers,
    MemoryTransport,
    RawResponse,
    Request,
    SignatureError,
    TransportError,
)
from wxpay_chain._signing import MAX_CLOCK_SKEW
from wxpay_chain.notifications import RecentNotifications, aiohttp_handler, handle_notification

from ..protocol import answer_message, sign
from .conftest import PUB_KEY_ID
from .test_platform_keys import APIV3_KEY, CertPeer, auto_client, certs, make_certificate, notification
from .wire import pem_public

__all__ = ["auto_client", "certs"]  # fixtures, imported to be used here


async def test_a_first_post_whose_certificates_cannot_be_downloaded_is_not_sent(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    # It went out first, and its answer could then not be checked: a coupon sent, reported in doubt.
    certs.fail_downloads = True
    async with auto_client() as client:
        with pytest.raises(TransportError, match=r"^Nothing was sent: the platform certificates") as raised:
            await client.v3.things.post(json={"send_request_no": "S-000001"})
    assert raised.value.connect_failed and isinstance(raised.value.__cause__, ApiError)
    assert not hasattr(certs, "last_body")  # v3/things was never asked
    assert certs.downloads == 1


async def test_a_post_answered_2xx_while_the_certificates_cannot_be_downloaded_may_have_been_done(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    async with auto_client() as client:
        await client.download_certificates()
        certs.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        certs.cert = make_certificate(certs.key)  # rotated: the answer names a serial the client has not seen
        certs.fail_downloads = True
        with pytest.raises(SignatureError) as raised:
            await client.v3.things.post(json={"send_request_no": "S-000001"})
    message = str(raised.value)
    assert "the download that could bring it failed" in message and "SYSTEM_ERROR" in message  # and why
    assert "may have been carried out" in message and "same request number" in message
    assert not isinstance(raised.value, TransportError)  # which would claim that nothing was sent


async def test_a_call_after_a_failed_first_download_tries_the_download_again(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    async with auto_client(retry=1) as client:
        certs.fail_downloads = True
        with pytest.raises(TransportError, match="could not be downloaded"):
            await client.v3.things.get()
        certs.fail_downloads = False  # WeChat Pay is back a moment later
        assert (await client.v3.things.get()).json() == {"ok": True}
    assert certs.downloads == 2


async def test_a_notification_that_cannot_be_verified_for_want_of_certificates_is_answered_500(
    auto_client: Callable[..., AsyncClient], certs: CertPeer, caplog: pytest.LogCaptureFixture
) -> None:
    certs.fail_downloads = True
    received: list[Any] = []
    async with auto_client() as client:
        with caplog.at_level(logging.WARNING, logger="wxpay_chain.notifications"):
            first = await handle_notification(client, *notification(certs), received.append)
            again = await handle_notification(client, *notification(certs), received.append)
    for status, answer in (first, again):
        assert status == 500 and "please retry" in json.loads(answer)["message"]
    assert received == [] and certs.downloads == 1  # anyone can send one: one download a minute at most
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert (
        len(errors) == 2
        and "certificates failed" in errors[0]
        and "the download that could bring it failed" in errors[1]
    )
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]  # nothing blames the sender


async def test_a_notification_that_verifies_but_does_not_decrypt_blames_the_apiv3_key(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    async with auto_client() as client:
        await client.download_certificates()
        headers, body = notification(certs, key="y" * 32)  # sealed with a key this client does not hold
        with pytest.raises(ConfigurationError, match="does not decrypt with this client's apiv3_key") as raised:
            await client.parse_notification(headers, body)
        status, _ = await handle_notification(client, headers, body, lambda n: None)
    assert status == 500 and APIV3_KEY not in str(raised.value) and "y" * 32 not in str(raised.value)


async def test_a_list_valued_signature_type_is_refused_like_any_bad_header(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    async with auto_client() as client:
        await client.download_certificates()
        headers: dict[str, Any] = dict(notification(certs)[0])
        headers["Wechatpay-Signature-Type"] = ["WECHATPAY2-SHA256-RSA2048"]  # an API gateway's multiValueHeaders
        with pytest.raises(SignatureError, match="Unsupported Wechatpay-Signature-Type list"):
            await client.parse_notification(headers, notification(certs)[1])


async def test_aiohttp_handler_answers_a_body_over_the_apps_limit_with_a_fail_document(
    auto_client: Callable[..., AsyncClient], aiohttp_client: Any
) -> None:
    async with auto_client() as client:
        app = web.Application(client_max_size=1024)
        app.router.add_post("/notify", aiohttp_handler(client, lambda n: None))
        http = await aiohttp_client(app)
        answer = await http.post("/notify", data=b"{" + b" " * 2048 + b"}")
        assert answer.status == 413 and answer.content_type == "application/json"
        assert (await answer.json())["code"] == "FAIL"


async def test_recent_notifications_outlast_the_whole_span_one_signature_is_accepted(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    # WeChat Pay's clock runs 290 s ahead of ours: its notification passes at once and still 580 s later.
    sent_at = int(time.time())
    now = [sent_at - MAX_CLOCK_SKEW + 10.0]
    calls: list[str] = []
    recent = RecentNotifications(clock=lambda: now[0])
    async with auto_client(clock=lambda: now[0]) as client:
        await client.download_certificates()
        delivery = notification(certs, ts=sent_at)
        for at in (sent_at - MAX_CLOCK_SKEW + 10.0, sent_at + MAX_CLOCK_SKEW - 10.0):  # both inside the window
            now[0] = at
            status, _ = await handle_notification(client, *delivery, lambda n: calls.append(n.id), recent=recent)
            assert status == 204
    assert calls == ["EV-1"]


async def test_a_certificate_the_last_download_no_longer_lists_is_no_longer_trusted(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    async with auto_client() as client:
        await client.download_certificates()
        old = (certs.key, certs.cert)
        certs.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        certs.cert = make_certificate(certs.key)  # WeChat Pay has replaced its certificate
        await client.download_certificates()
        assert [c.serial for c in client.certificates] == [certs.serial]
        certs.key, certs.cert = old  # an answer signed with the replaced one
        certs.fail_downloads = True
        with pytest.raises(SignatureError):
            await client.v3.things.get()
        assert certs.serial not in client.keys


class MovingPeer(CertPeer):
    """A merchant moving to WeChat Pay's public key: answers to requests naming it are signed with it,
    the certificate list included, while notifications may still come signed by a certificate."""

    def __init__(self, key: rsa.RSAPrivateKey, public: rsa.RSAPrivateKey) -> None:
        super().__init__(key)
        self.public = public

    async def certificates(self) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = await super().certificates()
        ts, nonce = headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"]
        signature = sign(self.public, answer_message(ts, nonce, body))
        return status, {**headers, "Wechatpay-Serial": PUB_KEY_ID, "Wechatpay-Signature": signature}, body


async def test_while_moving_to_the_public_key_a_certificate_signed_notification_verifies(
    auto_client: Callable[..., AsyncClient], platform_key: rsa.RSAPrivateKey
) -> None:
    public = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    peer = MovingPeer(platform_key, public)
    received: list[Any] = []
    options = {"platform_keys": {PUB_KEY_ID: pem_public(public)}, "transport": peer.transport()}
    async with auto_client(**options) as client:
        status, answer = await handle_notification(client, *notification(peer), received.append)
    assert (status, answer) == (204, b"") and [n.id for n in received] == ["EV-1"] and peer.downloads == 1


async def test_a_notification_naming_a_new_certificate_while_the_download_fails_is_answered_500(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    async with auto_client() as client:
        await client.download_certificates()
        certs.fail_downloads = True
        headers, body = notification(certs)
        headers["Wechatpay-Serial"] = "5157F09EFDC096DE15EBE81A47057A7232F0ACD1"  # rotated in, not yet seen
        status, answer = await handle_notification(client, headers, body, lambda n: None)
    assert status == 500 and "please retry" in json.loads(answer)["message"]


async def test_a_call_that_gives_up_on_the_shared_download_leaves_it_to_the_others(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    certs.hold = asyncio.Event()  # the download stalls until released
    async with auto_client() as client:
        leader = asyncio.ensure_future(client.v3.things.get())
        await certs.download_started.wait()
        follower = asyncio.ensure_future(client.v3.things.post(json={"send_request_no": "S-000001"}))
        quick = asyncio.ensure_future(client.v3.things.get(timeout=0.05))
        with pytest.raises(TransportError, match="still being downloaded when the call's timeout ran out"):
            await asyncio.wait_for(quick, 5)  # it waits within its own time, not the download's
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader
        certs.hold.set()
        assert (await follower).json() == {"ok": True}  # the download the leader started still served it
        assert (await client.v3.things.get()).json() == {"ok": True}
    assert certs.downloads == 1


async def test_a_download_that_times_out_is_reported_as_such_and_held_off_a_minute(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    async def timing_out() -> Any:
        certs.downloads += 1
        raise TimeoutError  # the download's own timeout, not the waiting call's

    certs.certificates = timing_out  # type: ignore[method-assign]
    async with auto_client() as client:
        with pytest.raises(TransportError, match=r"could not be downloaded \(GET v3/certificates timed out"):
            await client.v3.things.get()
        for _ in range(3):  # anyone can send a notification: they must not each start a download
            status, _ = await handle_notification(client, *notification(certs), lambda n: None)
            assert status == 500
    assert certs.downloads == 1


async def test_a_waiting_call_that_is_cancelled_does_not_hold_off_the_next_one(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    async with auto_client(offload_crypto="never") as client:  # signing inline: no thread to wait for
        await client.download_certificates()
        certs.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        certs.cert = make_certificate(certs.key)  # rotated: answers now name a serial the client has not seen
        certs.hold, certs.download_started = asyncio.Event(), asyncio.Event()
        first = asyncio.ensure_future(client.v3.things.get())
        await certs.download_started.wait()
        first.cancel()  # gives up while the download it started is still running
        with pytest.raises(asyncio.CancelledError):
            await first
        second = asyncio.ensure_future(client.v3.things.get())
        for _ in range(50):  # turns of the loop, not time: enough for it to reach the download
            await asyncio.sleep(0)
        assert not second.done()  # it joined the download still in flight, not refused at once
        certs.hold.set()
        assert (await second).json() == {"ok": True}
    assert certs.downloads == 2


async def test_a_copys_call_shares_the_clients_own_download(
    auto_client: Callable[..., AsyncClient], certs: CertPeer
) -> None:
    certs.hold = asyncio.Event()
    timeouts: list[float | None] = []

    async def answer(request: Request) -> RawResponse:
        path = request.target.partition("?")[0]
        if path == "/v3/certificates":
            timeouts.append(request.timeout.total)
        status, headers, body = await certs.answer(request.method, path, request.headers, request.body)
        return RawResponse(status, Headers(headers), body)

    async with auto_client(transport=MemoryTransport(answer)) as client:
        quick = client.with_options(timeout=0.05)
        with pytest.raises(TransportError, match="still being downloaded"):
            await quick.v3.things.get()  # starts the download, then gives up within its 0.05 s
        waiting = asyncio.ensure_future(client.v3.things.get())  # the client's own 30 s
        certs.hold.set()
        assert (await asyncio.wait_for(waiting, 5)).json() == {"ok": True}
    assert certs.downloads == 1 and timeouts == [30.0]  # the client's own timeout, not the copy's 0.05 s


async def test_aclose_still_stops_the_signing_worker_when_closing_fails(
    auto_client: Callable[..., AsyncClient], certs: CertPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = auto_client(offload_crypto="always")
    await client.download_certificates()

    def broken() -> None:
        raise RuntimeError("Event loop is closed")

    monkeypatch.setattr(client._pipeline, "closing", broken)
    with pytest.raises(RuntimeError):
        await client.aclose()
    assert client._authorizer._worker is not None and client._authorizer._worker._stopped
