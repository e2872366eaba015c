"""APIv2 edges: a non-ASCII sign (answer and request), text UTF-8 cannot encode, the bills' file answers,
and the sandbox plugin's per-coupon results."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from wxpay_chain import (
    ApiError,
    AsyncClient,
    Headers,
    InvalidRequestError,
    MemoryTransport,
    RawResponse,
    SignatureError,
    StructureError,
)
from wxpay_chain.sandbox import DEMO_APPID, Sandbox

from .peer import MCHID, read_fields, xml_of

NOT_ASCII_SIGNS = ["é" * 32, "中" * 64]
SURROGATE = "it holds a lone surrogate, which UTF-8 cannot encode"
CSV = "交易时间,公众账号ID,商户号\r\n`2014-11-10 16:33:45,`wx2421b1c4370ec43b,`10000100\r\n".encode()
STOCK_QUERY = {"coupon_stock_id": "1757", "appid": "wx1"}
BILL = {"appid": "wx1", "bill_date": "20141110", "bill_type": "ALL"}


def answering(body: bytes, content_type: str = "text/xml") -> MemoryTransport:
    return MemoryTransport(lambda request: RawResponse(200, Headers({"Content-Type": content_type}), body))


def client(options: dict[str, Any], transport: MemoryTransport) -> AsyncClient:
    return AsyncClient(**{**options, "ssl_context": None}, transport=transport)


# -- 1. a sign that is not ASCII is a sign that does not match --------------------------------------------


@pytest.mark.parametrize("given", NOT_ASCII_SIGNS, ids=["latin-32", "han-64"])
async def test_an_answer_with_a_non_ascii_sign_raises_signature_error(options: dict[str, Any], given: str) -> None:
    fields = {"return_code": "SUCCESS", "result_code": "SUCCESS", "mch_id": MCHID, "nonce_str": "n", "sign": given}
    async with client(options, answering(xml_of(fields))) as c:
        with pytest.raises(SignatureError, match="does not match"):
            await c.v2.mmpaymkttransfers.query_coupon_stock.post(xml=STOCK_QUERY)


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


async def test_the_sandbox_answers_a_non_ascii_sign_like_any_wrong_sign(sb: Sandbox) -> None:
    fields = {"coupon_stock_id": "1757", "appid": DEMO_APPID, "mch_id": sb.keys.mchid, "nonce_str": "abc"}
    plugin = {
        "send_coupon_params": [{"stock_id": "9865001", "out_request_no": "a"}],
        "send_coupon_merchant": "1",
        "open_id": "o",
    }
    async with aiohttp.ClientSession() as http:
        for given in [*NOT_ASCII_SIGNS, "A" * 32]:  # the last: an ASCII wrong sign, to compare with
            url = sb.base_url + "mmpaymkttransfers/query_coupon_stock"
            async with http.post(url, data=xml_of({**fields, "sign": given})) as answer:
                assert answer.status == 200
                assert read_fields(await answer.read())["return_msg"] == "签名错误"
            query = {"stock_id": "9865001", "out_request_no": "a", "send_coupon_merchant": "1", "open_id": "o"}
            async with http.get(sb.base_url + "busifavor/getcouponinfo", params={**query, "sign": given}) as page:
                assert page.status == 400 and "签名错误" in await page.text()
            async with http.post(sb.base_url + "sandbox/send-coupon-plugin", json={**plugin, "sign": given}) as p:
                assert p.status == 401 and (await p.json())["code"] == "SIGN_ERROR"
        # A JSON escape can carry a lone surrogate, which no sign covers: a wrong sign too, not a 500.
        item = '{"stock_id": "9865001", "out_request_no": "a\\ud800"}'
        raw = f'{{"send_coupon_params": [{item}], "send_coupon_merchant": "1", "open_id": "o", "sign": "{"A" * 64}"}}'
        async with http.post(sb.base_url + "sandbox/send-coupon-plugin", data=raw.encode()) as p:
            assert p.status == 401 and (await p.json())["code"] == "SIGN_ERROR"


# -- 2. text UTF-8 cannot encode: InvalidRequestError naming the field, nothing sent ----------------------


@pytest.mark.parametrize("field", ["appid", "coupon_stock_id"])
async def test_a_lone_surrogate_in_xml_is_refused_before_sending(options: dict[str, Any], field: str) -> None:
    transport = answering(b"")
    async with client(options, transport) as c:
        with pytest.raises(InvalidRequestError) as caught:
            await c.v2.mmpaymkttransfers.query_coupon_stock.post(xml={**STOCK_QUERY, field: "wx1\ud800"})
    assert caught.value.problems == ((f"xml.{field}", SURROGATE),)
    assert transport.requests == []


async def test_the_sign_helpers_name_the_field_with_a_lone_surrogate(options: dict[str, Any]) -> None:
    async with client(options, answering(b"")) as c:
        calls = {
            "appid": lambda: c.sign_jsapi(appid="wx\ud800", prepay_id="p"),
            "prepay_id": lambda: c.sign_app(appid="wx", prepay_id="p\udfff"),
            "send_coupon_params[0].stock_id": lambda: c.sign_coupon_plugin(
                send_coupon_params=[{"stock_id": "1\udc00", "out_request_no": "a"}], send_coupon_merchant=MCHID
            ),
            "send_coupon_merchant": lambda: c.sign_coupon_plugin(
                send_coupon_params=[{"stock_id": "1", "out_request_no": "a"}], send_coupon_merchant="1\ud800"
            ),
            "out_request_no": lambda: c.sign_h5_coupon(
                stock_id="1", out_request_no="a\ud800", send_coupon_merchant=MCHID, open_id="o"
            ),
            "coupon_code": lambda: c.sign_h5_coupon(
                stock_id="1", out_request_no="a", send_coupon_merchant=MCHID, open_id="o", coupon_code="\udbff"
            ),
        }
        for field, call in calls.items():
            with pytest.raises(InvalidRequestError) as caught:
                call()
            assert caught.value.problems == ((field, SURROGATE),)


# -- 3. the bills: a file on success, XML on failure ------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "body"),
    [
        ("downloadbill", CSV),
        ("downloadbill", gzip.compress(CSV)),
        (
            "downloadfundflow",
            "记账时间,微信支付业务单号\r\n`2018-02-01 04:21:23,`50000305742018020103387128253\r\n".encode(),
        ),
    ],
    ids=["bill-csv", "bill-gzip", "fundflow-csv"],
)
async def test_a_bill_answer_is_the_body_as_it_came(options: dict[str, Any], template: str, body: bytes) -> None:
    async with client(options, answering(body, "text/plain")) as c:
        answer = await getattr(c.v2.pay, template).post(xml=BILL)
    assert answer.status == 200 and answer.body == body
    # Not XML, and not tampered with either: .xml() says so, instead of a SignatureError about the answer.
    with pytest.raises(StructureError, match=r"the answer is not .*: a v3 answer is JSON .*v2 bill download the file"):
        answer.xml()


async def test_a_bill_failure_is_still_an_api_error(options: dict[str, Any]) -> None:
    failure = xml_of({"return_code": "FAIL", "return_msg": "No Bill Exist", "error_code": "20002"})
    async with client(options, answering(b"\r\n  " + failure)) as c:
        with pytest.raises(ApiError) as caught:
            await c.v2.pay.downloadbill.post(xml=BILL)
    assert caught.value.code == "FAIL" and caught.value.message == "No Bill Exist"
    business = {
        "return_code": "SUCCESS",
        "result_code": "FAIL",
        "err_code": "SYSTEMERROR",
        "err_code_des": "账单不存在",
    }
    async with client(options, answering(xml_of(business))) as c:
        with pytest.raises(ApiError) as caught:
            await c.v2.pay.downloadfundflow.post(xml={**BILL, "account_type": "Basic"})
    assert caught.value.code == "SYSTEMERROR"


async def test_only_the_file_endpoints_pass_a_body_that_is_not_xml(options: dict[str, Any]) -> None:
    async with client(options, answering(CSV, "text/plain")) as c:
        with pytest.raises(SignatureError, match="not well-formed XML"):
            await c.v2.mmpaymkttransfers.query_coupon_stock.post(xml=STOCK_QUERY)
    async with client(options, answering(b"")) as c:  # an empty answer is no bill
        with pytest.raises(SignatureError, match="not well-formed XML"):
            await c.v2.pay.downloadbill.post(xml=BILL)


# -- 4. the sandbox plugin reports each coupon's own result -----------------------------------------------


async def test_the_plugin_page_answers_each_coupon_on_its_own(sb: Sandbox) -> None:
    user = "oh-394z-PluginPartialUser01"
    async with sb.client() as c:
        attributes = c.sign_coupon_plugin(
            send_coupon_params=[
                {"stock_id": "9865001", "out_request_no": "PP-1"},
                {"stock_id": "123", "out_request_no": "PP-2"},
                {"stock_id": "9865002", "out_request_no": "PP-3"},
            ],
            send_coupon_merchant=sb.keys.mchid,
        )
        async with aiohttp.ClientSession() as http:
            url = sb.base_url + "sandbox/send-coupon-plugin"
            async with http.post(url, json={**attributes, "open_id": user}) as answer:
                assert answer.status == 200
                payload = await answer.json()
        wallet = await c.v3.marketing.busifavor.users._openid_.coupons.get(openid=user, query={"appid": DEMO_APPID})
    assert payload["errcode"] == "OK"
    results = payload["send_coupon_result"]
    assert [(r["stock_id"], r["code"]) for r in results] == [
        ("9865001", "SUCCESS"),
        ("123", "FAILED"),
        ("9865002", "SUCCESS"),
    ]
    assert "批次不存在" in results[1]["message"] and "coupon_code" not in results[1]
    held = {coupon["coupon_code"] for coupon in wallet.json()["data"]}
    assert held == {results[0]["coupon_code"], results[2]["coupon_code"]}


async def test_an_in_doubt_apiv2_error_names_the_apiv2_request_numbers(options: dict[str, Any]) -> None:
    # The hint named APIv3's send_request_no and out_trade_no only; send_coupon and sendredpack are
    # resent by partner_trade_no and mch_billno.
    transport = MemoryTransport(lambda request: RawResponse(503, Headers(), b"busy"))
    async with client(options, transport) as c:
        with pytest.raises(ApiError, match=r"same request number .*partner_trade_no, mch_billno"):
            await c.v2.mmpaymkttransfers.query_coupon_stock.post(xml=STOCK_QUERY)
