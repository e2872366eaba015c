"""The sandbox's APIv2: HTTPS with its own CA, MD5/HMAC checked by its own code, the client certificate on
security endpoints, v2 coupon state, and the H5 and plugin pages that issue busifavor coupons."""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from wxpay_chain import ApiError, AsyncClient
from wxpay_chain.models import CouponInfoResult, CouponStockResult
from wxpay_chain.sandbox import DEMO_APPID, Sandbox, SandboxCredentials

from .peer import hand_sign, read_fields, xml_of

USER = "oh-394z-ApiV2TestUser000001"
STOCK = "9865001"  # a demo busifavor stock


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def secure(sb: Sandbox) -> AsyncIterator[AsyncClient]:
    async with sb.client(**sb.credentials.tls_options()) as client:
        yield client


def coupon(number: str, stock: str = "1757") -> dict[str, Any]:
    return {
        "coupon_stock_id": stock,
        "openid_count": 1,
        "partner_trade_no": number,
        "openid": USER,
        "appid": DEMO_APPID,
    }


async def test_send_coupon_over_https_keeps_v2_state_and_is_idempotent(secure: AsyncClient, sb: Sandbox) -> None:
    mmpay = secure.v2.mmpaymkttransfers
    first = (await mmpay.send_coupon.post(xml=coupon("T-1"), security=True)).xml()
    again = (await mmpay.send_coupon.post(xml=coupon("T-1"), security=True)).xml()
    assert first["result_code"] == "SUCCESS" and again["coupon_id"] == first["coupon_id"]
    assert list(sb.v2.coupons) == [first["coupon_id"]]
    query = {"coupon_id": first["coupon_id"], "openid": USER, "appid": DEMO_APPID, "stock_id": "1757"}
    info = (await mmpay.querycouponsinfo.post(xml={**query, "sign_type": "HMAC-SHA256"})).parsed
    assert isinstance(info, CouponInfoResult) and (info.coupon_state, info.coupon_value) == ("SENDED", "500")
    stock = (await mmpay.query_coupon_stock.post(xml={"coupon_stock_id": "1757", "appid": DEMO_APPID})).parsed
    assert isinstance(stock, CouponStockResult) and stock.is_send_num == "1"
    with pytest.raises(ApiError) as other:
        await mmpay.send_coupon.post(xml={**coupon("T-1"), "openid": "someone-else"}, security=True)
    assert other.value.code == "PARAM_ERROR"
    with pytest.raises(ApiError) as stopped:
        await mmpay.send_coupon.post(xml=coupon("T-2", stock="1758"), security=True)
    assert stopped.value.code == "COUPON_STOCK_NOT_ACTIVE"


async def test_sendredpack_is_idempotent_by_mch_billno(secure: AsyncClient, sb: Sandbox) -> None:
    packet = {
        "mch_billno": "RP1",
        "wxappid": DEMO_APPID,
        "send_name": "沙箱",
        "re_openid": USER,
        "total_amount": 1000,
        "total_num": 1,
        "wishing": "新年快乐",
        "client_ip": "127.0.0.1",
        "act_name": "测试",
        "remark": "-",
    }
    send = secure.v2.mmpaymkttransfers.sendredpack
    first = (await send.post(xml=packet, security=True)).parsed
    assert (await send.post(xml=packet, security=True)).parsed.send_listid == first.send_listid
    assert list(sb.v2.redpacks) == ["RP1"]
    with pytest.raises(ApiError, match="MONEY_LIMIT"):
        await send.post(xml={**packet, "mch_billno": "RP2", "total_amount": 50}, security=True)


async def test_a_security_endpoint_over_plain_http_is_refused(sb: Sandbox) -> None:
    async with sb.client(client_cert=sb.credentials.client_certificate) as plain:  # http:// carries none
        with pytest.raises(ApiError) as caught:
            await plain.v2.mmpaymkttransfers.send_coupon.post(xml=coupon("T-3"), security=True)
    assert caught.value.code == "FAIL" and "证书" in (caught.value.message or "")


def _signed(creds: SandboxCredentials, fields: dict[str, str], kind: str = "MD5") -> bytes:
    fields = {**fields, "mch_id": creds.mchid, "nonce_str": "n1"}
    if kind != "MD5":
        fields["sign_type"] = kind
    return xml_of({**fields, "sign": hand_sign(fields, creds.apiv2_key, kind)})


async def _post(creds: SandboxCredentials, path: str, body: bytes, context: ssl.SSLContext) -> dict[str, str]:
    async with aiohttp.ClientSession() as http, http.post(creds.https_base_url + path, data=body, ssl=context) as r:
        return read_fields(await r.read())


async def test_the_sandbox_checks_certificates_and_signs_with_its_own_code(sb: Sandbox, tmp_path: Path) -> None:
    creds = sb.credentials
    trust = ssl.create_default_context(cadata=creds.ca_certificate)
    with_cert = ssl.create_default_context(cadata=creds.ca_certificate)
    (tmp_path / "c.pem").write_text(creds.client_certificate)
    (tmp_path / "k.pem").write_text(creds.private_key)
    with_cert.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    fields = {k: str(v) for k, v in coupon("RAW-1").items()}
    path = "mmpaymkttransfers/send_coupon"
    no_cert = await _post(creds, path, _signed(creds, fields), trust)
    assert no_cert["return_code"] == "FAIL" and "证书" in no_cert["return_msg"]
    for kind in ("MD5", "HMAC-SHA256"):
        answer = await _post(creds, path, _signed(creds, fields, kind), with_cert)
        assert answer["result_code"] == "SUCCESS"
        assert answer["sign"] == hand_sign(answer, creds.apiv2_key, kind)  # answered with the request's sign type
    forged = _signed(creds, fields).replace(b"RAW-1", b"RAW-2")
    assert (await _post(creds, path, forged, with_cert))["return_msg"] == "签名错误"


async def test_the_h5_page_issues_a_busifavor_coupon_when_the_sign_is_right(secure: AsyncClient, sb: Sandbox) -> None:
    url = secure.sign_h5_coupon(stock_id=STOCK, out_request_no="H5-1", send_coupon_merchant=sb.keys.mchid, open_id=USER)
    local = url.replace("https://action.weixin.qq.com/", sb.base_url)
    async with aiohttp.ClientSession() as http:
        async with http.get(local) as good, http.get(local) as again:
            assert good.status == 200 and again.status == 200
        async with http.get(local.replace("out_request_no=H5-1", "out_request_no=H5-2")) as forged:
            assert forged.status == 400 and "签名错误" in await forged.text()
    wallet = await secure.v3.marketing.busifavor.users._openid_.coupons.get(openid=USER, query={"appid": DEMO_APPID})
    assert [c.stock_id for c in wallet.parsed.data] == [STOCK]  # once, though the link was opened twice


async def test_the_plugin_page_checks_the_plugin_sign(secure: AsyncClient, sb: Sandbox) -> None:
    attributes = secure.sign_coupon_plugin(
        send_coupon_params=[
            {"stock_id": STOCK, "out_request_no": "P-1"},
            {"stock_id": "9865002", "out_request_no": "P-2"},
        ],
        send_coupon_merchant=sb.keys.mchid,
    )
    async with aiohttp.ClientSession() as http:
        page = sb.base_url + "sandbox/send-coupon-plugin"
        async with http.post(page, json={**attributes, "open_id": USER}) as good:
            results = (await good.json())["send_coupon_result"]
        tampered = {**attributes, "send_coupon_params": [{"stock_id": STOCK, "out_request_no": "P-3"}]}
        async with http.post(page, json={**tampered, "open_id": USER}) as bad:
            assert bad.status == 401 and (await bad.json())["code"] == "SIGN_ERROR"
    assert [r["code"] for r in results] == ["SUCCESS", "SUCCESS"]
    wallet = await secure.v3.marketing.busifavor.users._openid_.coupons.get(openid=USER, query={"appid": DEMO_APPID})
    assert sorted(c.stock_id for c in wallet.parsed.data) == [STOCK, "9865002"]


async def test_config_json_carries_what_an_apiv2_client_needs(sb: Sandbox, tmp_path: Path) -> None:
    path = sb.write_config(tmp_path)
    config = json.loads(path.read_text())
    assert config["https_base_url"] == sb.credentials.https_base_url and len(config["apiv2_key"]) == 32
    assert Path(config["client_certificate"]).name == "apiclient_cert.pem"
    assert "BEGIN CERTIFICATE" in Path(config["ca_certificate"]).read_text()
    assert os.stat(path).st_mode & 0o077 == 0  # it holds the APIv2 key
    creds = SandboxCredentials.read_config(path)
    async with AsyncClient(**{**creds.merchant_options(), **creds.tls_options()}) as client:
        answer = await client.v2.mmpaymkttransfers.send_coupon.post(xml=coupon("CFG-1"), security=True)
    assert answer.xml()["result_code"] == "SUCCESS"
