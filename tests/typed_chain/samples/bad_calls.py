"""Mistakes ``mypy --strict`` must catch: each marked line is an error with the code in its comment.

tests/typed_chain/test_static.py checks that every marked line, and no other, is reported (by basedpyright
too, where it is installed).
"""

from __future__ import annotations

from wxpay_chain import AsyncClient, Client, Media


async def mistakes(client: AsyncClient) -> None:
    favor = client.v3.marketing.favor.users._openid_.coupons
    remove = client.v3.profitsharing.receivers.delete  # a segment named like a verb
    who = {"appid": "w", "type": "MERCHANT_ID", "account": "1"}  # a plain dict[str, str]: any key goes
    await client.v3.marketing.busifavr.users._openid_.coupons.get(openid="o")  # error: attr-defined
    await client.v4.certificates.get()  # error: attr-defined
    assert client.mdoe  # error: attr-defined
    await favor._coupon_id_.get(openid="o", query={"appid": "w"})  # error: call-arg
    await client.v3.bill.tradebill.get(query={"bill_date": "2026-01-01", "tar_type": "ZIP"})  # error: typeddict-item
    await client.v3.bill.fundflowbill.get(query={"bill_date": 20260101})  # error: typeddict-item
    # A body verb has two overloads (json= or data=): mypy names neither's mistake, only that none matches.
    await remove.post(json={"appid": "w", "type": "MERCHANT_ID", "account": "", "x": 1})  # error: call-overload
    await remove.post(json=who)  # error: call-overload
    await client.v3.bill.tradebill.get(query={"bill_date": "2026-01-01", "x": 1})  # error: typeddict-unknown-key


def blocking_mistakes(client: Client) -> None:
    coupons = client.v3.marketing.busifavor.users._openid_.coupons
    client.v3.marketing.busifavor.users._openid_.coupons.get(query={"appid": "wx1"})  # error: call-arg
    client.hk.v3.nonexistent.get()  # error: attr-defined
    client.v3.marketing.busifavor.users._openid_.coupons.get(openid="o", query={"appid": 1})  # error: arg-type
    coupons.get(openid="o", query={"appid": "w", "limit": "9"})  # error: arg-type
    coupons.get(openid="o", query={"appid": "w", "coupon_state": "GONE"})  # error: arg-type
    client.v3.marketing.favor.stocks.paginate()  # error: attr-defined
    group = client.v2.mmpaymkttransfers.sendgroupredpack  # APIv2 never sends a float: 150 or "150"
    group.post(xml={"mch_billno": "1", "wxappid": "wx", "send_name": "s", "re_openid": "o", "total_num": 3,
                    "total_amount": 1.5,  # error: typeddict-item
                    "amt_type": "ALL_RAND", "wishing": "w", "act_name": "a", "remark": "r"}, security=True)


def refused_at_run_time(client: Client, png: bytes) -> None:
    """Calls the run time refuses (InvalidRequestError before anything is sent): the stubs refuse them too."""
    image = Media(png, filename="a.png")
    upload = client.v3.merchant.media.upload
    remove = client.v3.profitsharing.receivers.delete
    raw = b'{"appid":"wx1","type":"MERCHANT_ID","account":"1900000109"}'
    upload.post(media=image, json={"sub_mchid": "1900000109"})  # error: call-arg
    upload.post(media=image, data=b"x")  # error: call-arg
    upload.post()  # error: call-arg
    client.brand.marketing.productCoupon.media.uploadImage.post(media=image, json={})  # error: call-arg
    client.v2.secapi.mch.uploadmedia.post(media=image)  # error: call-arg
    remove.post(json={"appid": "w", "type": "MERCHANT_ID", "account": "1"}, data=raw)  # error: call-overload
    remove.post(data=1)  # error: call-overload
    remove.post()  # error: call-overload
    client.v2.mmpaymkttransfers.gethbinfo.post(data=b"<xml/>")  # error: call-arg
    client.v2.mmpaymkttransfers.gethbinfo.post(  # sign_type: the two the SDK signs with (_apiv2.sign_type_of)
        xml={"mch_billno": "1", "appid": "wx", "bill_type": "MCHT", "sign_type": "SHA1"})  # error: typeddict-item


def settings_from_the_environment() -> None:
    Client.from_env(timout=10)  # error: call-arg
    Client.from_env(timeout="10")  # error: arg-type
    Client.from_env(session=None)  # error: call-arg
    AsyncClient.from_env(validate="of")  # error: arg-type
