"""COUPON.SEND notifications: signed, encrypted, retried with backoff, awaited without sleeping."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import aiohttp
import attrs
import pytest
from aiohttp import web

from wxpay_chain.sandbox import Sandbox

from ._paths import FRESH, brand_path, partner, send_body
from ._wire import Identity, Wire, decrypt, verifies


@attrs.define
class Receiver:
    """A merchant notify endpoint on 127.0.0.1 that answers with scripted statuses (then 200)."""

    url: str
    statuses: list[int]
    received: list[tuple[dict[str, str], bytes]] = attrs.field(factory=list)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    box = Receiver(url="", statuses=[])

    async def notify(request: web.Request) -> web.Response:
        box.received.append((dict(request.headers), await request.read()))
        status = box.statuses.pop(0) if box.statuses else 200
        return web.json_response({"code": "SUCCESS" if status == 200 else "FAIL"}, status=status)

    app = web.Application()
    app.router.add_post("/notify", notify)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    box.url = f"http://127.0.0.1:{runner.addresses[0][1]}/notify"
    try:
        yield box
    finally:
        await runner.cleanup()


async def test_notification_is_signed_encrypted_and_carries_the_coupon(
    receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    async with Sandbox(notify_url=receiver.url, notify_retry_delays=(0.01,)) as sb:
        creds = sb.credentials
        answer = await Wire(http, sb.base_url, Identity.merchant(creds)).send(
            "POST", partner(FRESH), send_body("notify-1")
        )
        await sb.notifications_delivered(1)
    headers, body = receiver.received[0]
    message = f"{headers['Wechatpay-Timestamp']}\n{headers['Wechatpay-Nonce']}\n".encode() + body + b"\n"
    assert verifies(creds.pub_key, message, headers["Wechatpay-Signature"])
    assert headers["Wechatpay-Serial"] == creds.pub_key_id
    assert headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"
    envelope = json.loads(body)
    assert (envelope["event_type"], envelope["resource_type"]) == ("COUPON.SEND", "encrypt-resource")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", envelope["create_time"])
    assert envelope["id"] and envelope["summary"]
    resource = envelope["resource"]
    assert (resource["original_type"], resource["algorithm"]) == ("product_coupon", "AEAD_AES_256_GCM")
    plaintext = decrypt(creds.apiv3_key, resource["nonce"], resource["associated_data"], resource["ciphertext"])
    coupon = json.loads(plaintext)
    assert coupon["openid"] == FRESH
    assert {k: v for k, v in coupon.items() if k != "openid"} == answer.json()


async def test_notification_is_retried_until_acknowledged(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    receiver.statuses = [500, 503]
    async with Sandbox(notify_url=receiver.url, notify_retry_delays=(0.01, 0.02, 0.03)) as sb:
        await Wire(http, sb.base_url, Identity.merchant(sb.credentials)).send(
            "POST", partner(FRESH), send_body("notify-2")
        )
        await sb.notifications_delivered(1)
        record = sb.notifications[0]
    assert len(receiver.received) == 3
    assert record.attempts == ["500", "503", "200"]
    assert record.outcome == "delivered"
    bodies = {body for _, body in receiver.received}
    assert len(bodies) == 1  # every retry carries the same notification


async def test_notification_to_an_unreachable_url_is_abandoned_after_the_last_retry(
    http: aiohttp.ClientSession,
) -> None:
    closed = web.AppRunner(web.Application())
    await closed.setup()
    site = web.TCPSite(closed, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{closed.addresses[0][1]}/notify"
    await closed.cleanup()  # nothing listens there any more
    async with Sandbox(notify_url=url, notify_retry_delays=(0.01, 0.01)) as sb:
        await Wire(http, sb.base_url, Identity.merchant(sb.credentials)).send(
            "POST", partner(FRESH), send_body("notify-3")
        )
        await sb.notifications_settled(1)
        record = sb.notifications[0]
    assert record.outcome == "abandoned"
    assert len(record.attempts) == 3
    assert all(not attempt.isdigit() for attempt in record.attempts)


async def test_idempotent_replay_does_not_notify_again(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    async with Sandbox(notify_url=receiver.url) as sb:
        wire = Wire(http, sb.base_url, Identity.merchant(sb.credentials))
        for _ in range(3):
            await wire.send("POST", partner(FRESH), send_body("notify-4"))
        await sb.notifications_delivered(1)
        assert len(sb.notifications) == 1


async def test_brand_send_notification_uses_the_brand_scheme(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    async with Sandbox(notify_url=receiver.url, answer_mode="certificate") as sb:
        wire = Wire(http, sb.base_url, Identity.brand(sb.credentials))
        await wire.send("POST", brand_path(FRESH), send_body("notify-5", brand_id=None))
        await sb.notifications_delivered(1)
    headers, _ = receiver.received[0]
    assert headers["Wechatpay-Signature-Type"] == "WECHATPAY-BRAND-SHA256-RSA2048"
    assert headers["Wechatpay-Serial"] == sb.credentials.pub_key_id


async def test_waiting_for_more_notifications_than_sent_times_out(receiver: Receiver) -> None:
    async with Sandbox(notify_url=receiver.url) as sb:
        with pytest.raises(TimeoutError, match="1 notification"):
            await sb.notifications_delivered(1, timeout=0.05)


async def test_waiting_without_a_notify_url_is_an_error(sandbox: Sandbox) -> None:
    with pytest.raises(RuntimeError, match="notify_url"):
        await sandbox.notifications_delivered(1)


async def test_the_sandbox_client_handles_the_sandbox_notifications(
    receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    # What a test of one's own notify endpoint does: the sandbox's client decrypts what the sandbox sent.
    async with Sandbox(notify_url=receiver.url, notify_retry_delays=(0.01,)) as sb, sb.client() as client:
        await Wire(http, sb.base_url, Identity.merchant(sb.credentials)).send(
            "POST", partner(FRESH), send_body("notify-1")
        )
        await sb.notifications_delivered(1)
        handled: list[str] = []
        headers, body = receiver.received[0]
        answer = await client.handle_notification(headers, body, lambda note: handled.append(note.event_type))
    assert answer == (204, b"") and handled == ["COUPON.SEND"]
