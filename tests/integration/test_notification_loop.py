"""The whole loop: a coupon is sent, the sandbox notifies our aiohttp handler, the SDK verifies and decrypts."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from wxpay_chain import Notification
from wxpay_chain.models import UserProductCoupon
from wxpay_chain.notifications import aiohttp_handler
from wxpay_chain.sandbox import DEMO_APPID, DEMO_OPENIDS, DEMO_STOCK_IDS, Sandbox


async def test_sent_coupon_arrives_as_a_verified_typed_notification(aiohttp_server: Any) -> None:
    received: list[Notification] = []
    holder: dict[str, Any] = {}

    async def on_notification(notification: Notification) -> None:
        received.append(notification)

    async def route(request: web.Request) -> web.StreamResponse:
        return await aiohttp_handler(holder["client"], on_notification)(request)

    app = web.Application()
    app.router.add_post("/notify", route)
    merchant_app = await aiohttp_server(app, host="127.0.0.1")
    async with (
        Sandbox(notify_url=str(merchant_app.make_url("/notify"))) as sb,
        sb.client(apiv3_key=sb.credentials.apiv3_key) as client,
    ):
        holder["client"] = client
        sent = await client.v3.marketing.partner.productCoupon.users._openid_.coupons.post(
            openid=DEMO_OPENIDS[2],
            json={
                "brand_id": "120344",
                "product_coupon_id": "1000000013",
                "stock_id": DEMO_STOCK_IDS[0],
                "appid": DEMO_APPID,
                "send_request_no": "LOOP-1",
            },
        )
        await sb.notifications_delivered(1)
    assert len(received) == 1 and received[0].event_type == "COUPON.SEND"
    coupon = received[0].model
    assert isinstance(coupon, UserProductCoupon)
    assert coupon.coupon_code == sent.parsed.coupon_code
    assert sb.notifications[0].outcome == "delivered"


async def test_a_notification_the_merchant_cannot_decrypt_is_answered_500_and_retried(aiohttp_server: Any) -> None:
    # Its signature verifies, so the wrong APIv3 key is the merchant's to mend: 500, and it comes again.
    wrong_key = "W" * 32
    attempts: list[int] = []
    holder: dict[str, Any] = {}

    async def route(request: web.Request) -> web.StreamResponse:
        response = await aiohttp_handler(holder["client"], lambda n: None)(request)
        attempts.append(response.status)
        return response

    app = web.Application()
    app.router.add_post("/notify", route)
    merchant_app = await aiohttp_server(app, host="127.0.0.1")
    async with (
        Sandbox(notify_url=str(merchant_app.make_url("/notify")), notify_retry_delays=(0.0, 0.0)) as sb,
        sb.client(apiv3_key=wrong_key) as client,
    ):
        holder["client"] = client
        await client.v3.marketing.partner.productCoupon.users._openid_.coupons.post(
            openid=DEMO_OPENIDS[2],
            json={
                "brand_id": "120344",
                "product_coupon_id": "1000000013",
                "stock_id": DEMO_STOCK_IDS[0],
                "appid": DEMO_APPID,
                "send_request_no": "LOOP-2",
            },
        )
        await sb.notifications_settled(1)
    assert attempts == [500, 500, 500]
    assert sb.notifications[0].outcome != "delivered"
