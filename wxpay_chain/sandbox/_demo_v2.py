"""The demo's APIv2 step: a busifavor coupon through the send-coupon plugin's sign, one through an H5
link, and a 代金券 through the XML call ``v2/mmpaymkttransfers/send_coupon`` with the client certificate.

``show_v2`` is a demo step (``async def step(demo) -> None``): ``demo`` has ``sandbox`` (a running
ThreadedSandbox or Sandbox), ``client`` (a merchant AsyncClient of it), ``section`` and ``say``.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from ._seed import DEMO_APPID, DEMO_BUSIFAVOR_STOCK_IDS

__all__ = ["show_v2"]

USER = "oh-394z-PluginDemoUser0001"


async def show_v2(demo: Any) -> None:
    sb, client = demo.sandbox, demo.client
    creds = sb.credentials
    stamp = int(time.time())
    demo.section("APIv2: coupons by the plugin's sign, an H5 link, and an XML call with a certificate")
    attributes = client.sign_coupon_plugin(
        send_coupon_params=[{"stock_id": DEMO_BUSIFAVOR_STOCK_IDS[1], "out_request_no": f"PLUGIN{stamp}"}],
        send_coupon_merchant=creds.mchid,
    )
    demo.say("client.sign_coupon_plugin(send_coupon_params=[{stock_id, out_request_no}], send_coupon_merchant=mchid)")
    demo.say(f"→ sign={attributes['sign'][:16]}… (HMAC-SHA256 with the APIv2 key), for <send-coupon>", indent=4)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            sb.base_url + "sandbox/send-coupon-plugin", json={**attributes, "open_id": USER, "appid": DEMO_APPID}
        ) as answer:
            result = (await answer.json())["send_coupon_result"][0]
        demo.say(
            f"the sandbox's plugin checks the sign: {result['code']} coupon_code={result['coupon_code']}", indent=4
        )
        url = client.sign_h5_coupon(
            stock_id=DEMO_BUSIFAVOR_STOCK_IDS[2],
            out_request_no=f"H5{stamp}",
            send_coupon_merchant=creds.mchid,
            open_id=USER,
        )
        demo.say(f"client.sign_h5_coupon(...) → {url[:72]}…")
        local = url.replace("https://action.weixin.qq.com/", sb.base_url)
        async with http.get(local) as answer:
            demo.say(
                f"the sandbox's H5 page: {answer.status} {'领券成功' if answer.status == 200 else '领券失败'}", indent=4
            )
    wallet = await client.v3.marketing.busifavor.users._openid_.coupons.get(openid=USER, query={"appid": DEMO_APPID})
    demo.say(f"the user's busifavor wallet (APIv3) now lists {wallet.parsed.total_count} coupons", indent=4)
    xml = {
        "coupon_stock_id": "1757",
        "openid_count": 1,
        "partner_trade_no": f"{creds.mchid}{stamp}",
        "openid": USER,
        "appid": DEMO_APPID,
    }
    async with sb.client(**creds.tls_options()) as secure:
        demo.say("await client.v2.mmpaymkttransfers.send_coupon.post(xml={...}, security=True)")
        first = (await secure.v2.mmpaymkttransfers.send_coupon.post(xml=xml, security=True)).parsed
        demo.say(f"→ over HTTPS with apiclient_cert.pem, MD5 sign: coupon_id={first.coupon_id}", indent=4)
        again = (await secure.v2.mmpaymkttransfers.send_coupon.post(xml=xml, security=True)).parsed
        demo.say(f"the same partner_trade_no again: coupon_id={again.coupon_id} (one coupon in all)", indent=4)
