"""Correct calls through all six styles (attribute chain, item access, chain(); async and blocking).

``mypy --strict`` must accept this file as it is (tests/typed_chain/test_static.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from wxpay_chain import AsyncClient, Client, Media, Response
from wxpay_chain.models import BusifavorCouponQuery, BusifavorCouponState, ProductCouponSendRequest


async def async_styles(client: AsyncClient) -> list[Response]:
    coupons = client.v3.marketing.busifavor.users._openid_.coupons  # a partial chain, kept and reused
    first: Response = await coupons.get(openid="o-1", query={"appid": "wx1", "coupon_state": "SENDED", "limit": 10})
    model: Response = await coupons.get(openid="o-1", query=BusifavorCouponQuery(appid="wx1"))
    member: Response = await coupons.get(  # an enum member, sent as its value
        openid="o-1", query={"appid": "wx1", "coupon_state": BusifavorCouponState.USED}
    )
    item: Response = await client["v3/marketing/busifavor/users/{openid}/coupons"].get(openid="o", anything=1)
    chained: Response = await client.chain("v3/anything/at/all").post(json={"free": ["form"]})
    bill: Response = await client.v3.bill.tradebill.get(query={"bill_date": "2026-01-01", "tar_type": "GZIP"})
    pay: Response = await client.v3.pay.transactions.jsapi.post(
        json={
            "appid": "wx1",
            "mchid": "1900000001",
            "description": "Image",
            "out_trade_no": "T1",
            "notify_url": "https://example.com/notify",
            "amount": {"total": 100, "currency": "CNY"},
            "payer": {"openid": "o-1"},
        },
        timeout=5,
        headers={"X-Trace": "1"},
    )
    sent: Response = await client.v3.marketing.partner.productCoupon.users._openid_.coupons.post(
        openid="o-1",
        json=ProductCouponSendRequest(
            brand_id="b", product_coupon_id="p", stock_id="s", appid="wx1", send_request_no="n"
        ),
    )
    certificates: Response = await client.v3.certificates.get()
    deeper: Response = await client.v3.marketing["busifavor/users/{openid}/coupons"].get(openid="o")
    pages: AsyncIterator[Any] = coupons.paginate(openid="o-1", query={"appid": "wx1"})
    template: str = coupons.template
    assert template and pages
    return [first, model, member, item, chained, bill, pay, sent, certificates, deeper]


def blocking_styles(client: Client) -> list[Response]:
    coupons = client.v3.marketing.busifavor.users._openid_.coupons
    first: Response = coupons.get(openid="o-1", query={"appid": "wx1"})
    item: Response = client["v3/marketing/busifavor/users/{openid}/coupons"].get(openid="o")
    chained: Response = client.chain("sandboxnew/pay/getsignkey").post(data=b"<xml/>")
    brand: Response = client.brand.marketing.productCoupon.users._openid_.coupons.get(
        openid="o-1", query={"appid": "wx1", "page_size": 20}
    )
    v2: Response = client.v2.mmpaymkttransfers.send_coupon.post(
        xml={"coupon_stock_id": "1757", "openid_count": 1, "partner_trade_no": "T1", "openid": "o", "appid": "wx"},
        security=True,
    )
    packet: Response = client.v2.mmpaymkttransfers.sendredpack.post(  # APIv2 numbers may come as their text
        xml={"mch_billno": "1", "wxappid": "wx", "send_name": "s", "re_openid": "o", "total_amount": "1000",
             "total_num": 1, "wishing": "w", "client_ip": "127.0.0.1", "act_name": "a", "remark": "r"},
        security=True,
    )
    removed: Response = client.v3.profitsharing.receivers.delete.post(
        json={"appid": "wx1", "type": "MERCHANT_ID", "account": "1900000109"}
    )
    pages: Iterator[Any] = coupons.paginate(openid="o-1")
    assert pages
    deleted: Response = coupons.get(openid="o-1", query={"appid": "wx1", "coupon_state": "DELETED"})
    ended: Response = client.v3.payscore.users._openid_.permissions._service_id_.terminate.post(  # the path's names
        openid="o-1", service_id="s", json={"appid": "wx1", "reason": "r"}
    )
    invite: Response = client.v3.newTaxControlFapiao.fapiaomerchant.getspinviteurl.get(  # a list sent as one text
        query={"operation_type": "AUTH_BINDING", "fapiao_mode": "THIRD_OR_SELF_FAPIAO", "invite_code": "c",
               "fapiao_ability_type_list": "BASE_ABILITY"}
    )
    return [first, item, chained, brand, v2, packet, removed, deleted, ended, invite]


def bodies_uploads_and_sign_types(client: Client, brand_client: Client, png: bytes) -> list[Response]:
    """What the run time takes and the stubs used to refuse: a raw data= body alone, the brand upload, and
    sign_type on every APIv2 call (each one was an error before; the bad sample has the refused forms)."""
    remove = client.v3.profitsharing.receivers.delete
    raw: Response = remove.post(data=b'{"appid":"wx1","type":"MERCHANT_ID","account":"1900000109"}')
    text: Response = remove.post(data='{"appid":"wx1","type":"MERCHANT_ID","account":"1900000109"}', timeout=5)
    ended: Response = client.v3.payscore.users._openid_.permissions._service_id_.terminate.post(  # path + data=
        openid="o-1", service_id="s", data=b'{"appid":"wx1","reason":"r"}'
    )
    free: Response = client.v3.marketing.favor.media.imageUpload.post(media=Media(png, filename="a.png"))
    upload: Response = client.v3.merchant.media.upload.post(media=Media(png, filename="a.png"), timeout=30)
    tasks: Response = client.v3.marketing.bank.packages._package_id_.tasks.post(
        package_id="p", media=Media(b"openid\n", filename="ids.csv")
    )
    image: Response = brand_client.brand.marketing.productCoupon.media.uploadImage.post(
        media=Media(png, filename="bg.png")
    )
    stock: Response = client.v2.mmpaymkttransfers.query_coupon_stock.post(  # the README's APIv2 example
        xml={"coupon_stock_id": "1757", "appid": "wx233544546545989", "sign_type": "HMAC-SHA256"}
    )
    packets: Response = client.v2.mmpaymkttransfers.gethbinfo.post(
        xml={"mch_billno": "1", "appid": "wx", "bill_type": "MCHT", "sign_type": "MD5"}, security=True
    )
    return [raw, text, ended, free, upload, tasks, image, stock, packets]
