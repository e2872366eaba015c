"""Busifavor (商家券) listing, favor (代金券) detail and the platform certificate download."""

from __future__ import annotations

import json
from typing import Literal

import aiohttp
import pytest
from cryptography import x509

from wxpay_chain.sandbox import DEMO_APPID, DEMO_FAVOR_COUPON_IDS, Sandbox

from ._paths import LIGHT, RICH, busifavor, favor
from ._wire import Identity, Wire, decrypt

# -- busifavor ------------------------------------------------------------------------------------------


async def test_busifavor_list_answers_the_seed_shape(sandbox: Sandbox, merchant: Wire) -> None:
    answer = await merchant.send("GET", busifavor(appid=DEMO_APPID))
    assert answer.status == 200
    assert answer.signature_verifies(sandbox.credentials.pub_key)
    body = answer.json()
    assert (body["total_count"], body["offset"], body["limit"], len(body["data"])) == (7, 0, 20, 7)
    coupon = body["data"][0]
    for field in (
        "stock_name",
        "stock_type",
        "coupon_use_rule",
        "coupon_code",
        "coupon_state",
        "stock_id",
        "receive_time",
    ):
        assert field in coupon
    assert {c["coupon_state"] for c in body["data"]} == {"SENDED", "USED", "EXPIRED"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stock_id": "9865000"}, 3),
        ({"coupon_state": "SENDED"}, 3),
        ({"coupon_state": "USED"}, 2),
        ({"coupon_state": "EXPIRED"}, 2),
        ({"creator_merchant": "1000000001"}, 5),
        ({"belong_merchant": "1000000002"}, 3),
        ({"sender_merchant": "1900000001"}, 2),
        ({"stock_id": "9865002", "coupon_state": "EXPIRED"}, 1),
        ({"stock_id": "0"}, 0),
    ],
)
async def test_busifavor_filters(merchant: Wire, query: dict[str, str], expected: int) -> None:
    body = (await merchant.send("GET", busifavor(appid=DEMO_APPID, **query))).json()
    assert body["total_count"] == len(body["data"]) == expected
    for coupon in body["data"]:
        if "stock_id" in query:
            assert coupon["stock_id"] == query["stock_id"]
        if "coupon_state" in query:
            assert coupon["coupon_state"] == query["coupon_state"]
        if "belong_merchant" in query:
            assert coupon["belong_merchant"] == query["belong_merchant"]


async def test_busifavor_pages_to_the_end_with_offset_and_limit(merchant: Wire) -> None:
    codes: list[str] = []
    offset = 0
    while True:
        body = (await merchant.send("GET", busifavor(appid=DEMO_APPID, offset=offset, limit=2))).json()
        assert (body["total_count"], body["offset"], body["limit"]) == (7, offset, 2)
        if not body["data"]:
            break
        codes += [c["coupon_code"] for c in body["data"]]
        offset += 1
    assert offset == 4
    assert len(codes) == len(set(codes)) == 7


async def test_busifavor_of_another_user_is_separate(merchant: Wire) -> None:
    body = (await merchant.send("GET", busifavor(LIGHT, appid=DEMO_APPID))).json()
    assert body["total_count"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "appid"),
        ({"appid": DEMO_APPID, "limit": "0"}, "limit"),
        ({"appid": DEMO_APPID, "offset": "-1"}, "offset"),
        ({"appid": DEMO_APPID, "coupon_state": "EFFECTIVE"}, "coupon_state"),
    ],
)
async def test_busifavor_bad_query_is_param_error(merchant: Wire, query: dict[str, str], field: str) -> None:
    answer = await merchant.send("GET", busifavor(**query))
    assert (answer.status, answer.code, answer.json()["detail"]["field"]) == (400, "PARAM_ERROR", field)


# -- favor ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coupon_id", "status"),
    [("9867041", "SENDED"), ("9867042", "USED"), ("9867043", "EXPIRED"), ("9867044", "RECOVER")],
)
async def test_favor_detail_in_each_status(sandbox: Sandbox, merchant: Wire, coupon_id: str, status: str) -> None:
    answer = await merchant.send("GET", favor(coupon_id, appid=DEMO_APPID))
    assert answer.status == 200
    assert answer.signature_verifies(sandbox.credentials.pub_key)
    coupon = answer.json()
    assert (coupon["coupon_id"], coupon["status"], coupon["business_type"]) == (coupon_id, status, "MULTIUSE")
    assert ("consume_information" in coupon) == (status == "USED")


async def test_favor_cut_to_coupon_has_its_message(merchant: Wire) -> None:
    coupon = (await merchant.send("GET", favor("9867045", appid=DEMO_APPID))).json()
    assert coupon["coupon_type"] == "CUT_TO"
    assert coupon["cut_to_message"] == {"single_price_max": 1000, "cut_to_price": 100}


@pytest.mark.parametrize(
    ("coupon_id", "openid", "appid"),
    [("404", RICH, DEMO_APPID), (DEMO_FAVOR_COUPON_IDS[-1], RICH, DEMO_APPID), ("9867041", RICH, "wx0000")],
    ids=["unknown", "someone-elses", "other-appid"],
)
async def test_favor_detail_not_found(merchant: Wire, coupon_id: str, openid: str, appid: str) -> None:
    answer = await merchant.send("GET", favor(coupon_id, openid, appid=appid))
    assert (answer.status, answer.code) == (404, "NOT_FOUND")


async def test_favor_detail_without_appid_is_param_error(merchant: Wire) -> None:
    answer = await merchant.send("GET", favor("9867041"))
    assert (answer.status, answer.code, answer.json()["detail"]["field"]) == (400, "PARAM_ERROR", "appid")


# -- certificates ---------------------------------------------------------------------------------------


async def test_certificates_decrypt_to_the_platform_certificate(sandbox: Sandbox, merchant: Wire) -> None:
    answer = await merchant.send("GET", "/v3/certificates")
    entry = answer.json()["data"][0]
    sealed = entry["encrypt_certificate"]
    assert (sealed["algorithm"], sealed["associated_data"], len(sealed["nonce"])) == (
        "AEAD_AES_256_GCM",
        "certificate",
        12,
    )
    pem = decrypt(sandbox.credentials.apiv3_key, sealed["nonce"], sealed["associated_data"], sealed["ciphertext"])
    assert pem.decode() == sandbox.credentials.platform_certificate
    certificate = x509.load_pem_x509_certificate(pem)
    assert entry["serial_no"] == format(certificate.serial_number, "X") == sandbox.credentials.platform_serial
    assert entry["effective_time"].endswith("+08:00") and entry["expire_time"].endswith("+08:00")


async def test_certificates_answer_is_signed_by_the_certificate_in_either_mode(http: aiohttp.ClientSession) -> None:
    modes: tuple[Literal["pubkey", "certificate"], ...] = ("pubkey", "certificate")
    for mode in modes:
        async with Sandbox(answer_mode=mode) as sb:
            answer = await Wire(http, sb.base_url, Identity.merchant(sb.credentials)).send("GET", "/v3/certificates")
            assert answer.headers["Wechatpay-Serial"] == sb.credentials.platform_serial
            assert answer.signature_verifies(sb.credentials.platform_certificate)
            assert json.loads(answer.body)["data"][0]["serial_no"] == sb.credentials.platform_serial
