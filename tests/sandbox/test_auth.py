"""Signature checks in both directions: requests verified from the raw bytes, answers signed per the rules."""

from __future__ import annotations

import re
import time

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wxpay_chain.sandbox import Sandbox
from wxpay_chain.sandbox._auth import parse_authorization

from ._paths import BRAND_ID, FRESH, RICH, brand_path, partner, send_body
from ._wire import Identity, Wire, sign

CERTS = "/v3/certificates"
SIGNATURE_HEADERS = (
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Signature",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
)


async def test_independently_signed_merchant_request_is_accepted_and_answer_verifies(
    sandbox: Sandbox, merchant: Wire
) -> None:
    answer = await merchant.send("GET", partner(RICH, brand_id=BRAND_ID, appid="wx233544546545989"))
    assert answer.status == 200
    assert answer.headers["Wechatpay-Serial"] == sandbox.credentials.pub_key_id
    assert answer.headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"
    assert answer.signature_verifies(sandbox.credentials.pub_key)
    assert sandbox.received[-1].caller == f"merchant:{sandbox.credentials.mchid}"


async def test_independently_signed_brand_request_is_accepted_and_answer_verifies(
    sandbox: Sandbox, brand: Wire
) -> None:
    answer = await brand.send("GET", brand_path(RICH, appid="wx233544546545989"))
    assert answer.status == 200
    assert answer.headers["Wechatpay-Serial"] == sandbox.credentials.pub_key_id
    assert answer.headers["Wechatpay-Signature-Type"] == "WECHATPAY-BRAND-SHA256-RSA2048"
    assert answer.signature_verifies(sandbox.credentials.pub_key)


async def test_every_2xx_answer_carries_the_full_signature_header_set(merchant: Wire) -> None:
    answer = await merchant.send("GET", CERTS)
    for name in SIGNATURE_HEADERS:
        assert answer.headers.get(name), name
    assert re.fullmatch(r"[0-9A-Za-z]{32}", answer.headers["Wechatpay-Nonce"])
    assert abs(int(answer.headers["Wechatpay-Timestamp"]) - time.time()) < 60
    assert answer.headers["Request-ID"]


async def test_request_ids_are_unique_on_answers_and_errors(merchant: Wire) -> None:
    ids = set()
    for target in (CERTS, CERTS, "/v3/unknown", "/v3/unknown"):
        answer = await merchant.send("GET", target)
        ids.add(answer.headers["Request-ID"])
    assert len(ids) == 4


async def test_certificate_answer_mode_signs_merchant_answers_with_the_certificate_serial(
    http: aiohttp.ClientSession,
) -> None:
    async with Sandbox(answer_mode="certificate") as sb:
        wire = Wire(http, sb.base_url, Identity.merchant(sb.credentials))
        answer = await wire.send("GET", partner(RICH, brand_id=BRAND_ID, appid="wx233544546545989"))
        assert answer.status == 200
        assert answer.headers["Wechatpay-Serial"] == sb.credentials.platform_serial
        assert answer.signature_verifies(sb.credentials.platform_certificate)


async def test_certificate_answer_mode_still_signs_brand_answers_with_the_public_key_id(
    http: aiohttp.ClientSession,
) -> None:
    async with Sandbox(answer_mode="certificate") as sb:
        wire = Wire(http, sb.base_url, Identity.brand(sb.credentials))
        answer = await wire.send("GET", brand_path(RICH, appid="wx233544546545989"))
        assert answer.headers["Wechatpay-Serial"] == sb.credentials.pub_key_id
        assert answer.signature_verifies(sb.credentials.pub_key)


async def test_authorization_parameters_in_any_order_with_spaces_are_accepted(sandbox: Sandbox, merchant: Wire) -> None:
    creds = sandbox.credentials
    stamp, once = str(int(time.time())), "abc123XYZ"
    signature = sign(creds.private_key, f"GET\n{CERTS}\n{stamp}\n{once}\n\n".encode())
    header = (
        f'WECHATPAY2-SHA256-RSA2048 signature="{signature}", serial_no="{creds.serial}" ,'
        f' timestamp="{stamp}",nonce_str="{once}", mchid="{creds.mchid}"'
    )
    answer = await merchant.send("GET", CERTS, authorization=header)
    assert answer.status == 200


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "WECHATPAY2-SHA256-RSA2048",
        'WECHATPAY2-SHA256-RSA2048 mchid="1900000001" garbage',
        'WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="1"',
        'WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="n",timestamp="1"',
    ],
    ids=["empty", "scheme-only", "garbage", "duplicate", "missing-params"],
)
async def test_missing_or_unparseable_authorization_is_sign_error(merchant: Wire, authorization: str) -> None:
    headers = {"Authorization": None} if authorization == "" else {}
    answer = await merchant.send("GET", CERTS, authorization=authorization or "x", headers=headers)
    assert (answer.status, answer.code) == (401, "SIGN_ERROR")


async def test_brand_scheme_on_a_merchant_path_is_sign_error(sandbox: Sandbox, brand: Wire) -> None:
    answer = await brand.send("GET", CERTS)
    assert (answer.status, answer.code) == (401, "SIGN_ERROR")
    assert "WECHATPAY2-SHA256-RSA2048" in answer.json()["message"]


async def test_merchant_scheme_on_a_brand_path_is_sign_error(merchant: Wire) -> None:
    answer = await merchant.send("GET", brand_path(RICH, appid="wx233544546545989"))
    assert (answer.status, answer.code) == (401, "SIGN_ERROR")


async def test_unknown_mchid_is_sign_error(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    creds = sandbox.credentials
    stranger = Identity("WECHATPAY2-SHA256-RSA2048", "mchid", "1999999999", creds.serial, creds.private_key, None)
    answer = await Wire(http, sandbox.base_url, stranger).send("GET", CERTS)
    assert (answer.status, answer.code) == (401, "SIGN_ERROR")


async def test_unknown_serial_is_sign_error(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    creds = sandbox.credentials
    wrong = Identity("WECHATPAY2-SHA256-RSA2048", "mchid", creds.mchid, "0" * 40, creds.private_key, None)
    answer = await Wire(http, sandbox.base_url, wrong).send("GET", CERTS)
    assert (answer.status, answer.code) == (401, "SIGN_ERROR")


async def test_signature_by_another_key_is_sign_error(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    creds = sandbox.credentials
    impostor = Identity("WECHATPAY2-SHA256-RSA2048", "mchid", creds.mchid, creds.serial, creds.brand_private_key, None)
    answer = await Wire(http, sandbox.base_url, impostor).send("GET", CERTS)
    assert (answer.status, answer.code) == (401, "SIGN_ERROR")


async def test_tampered_path_is_rejected(merchant: Wire) -> None:
    signed_for = partner(RICH, brand_id=BRAND_ID, appid="wx233544546545989")
    sent = partner(FRESH, brand_id=BRAND_ID, appid="wx233544546545989")
    answer = await merchant.send("GET", sent, sign_target=signed_for)
    assert (answer.status, answer.code) == (401, "SIGN_ERROR")


async def test_tampered_query_encoding_is_rejected(merchant: Wire) -> None:
    # The same query with a different (still valid) percent-encoding is a different signed message.
    signed_for = partner(RICH, brand_id=BRAND_ID, appid="wx233544546545989")
    sent = signed_for.replace("oh-394z", "oh%2D394z")
    answer = await merchant.send("GET", sent, sign_target=signed_for)
    assert (answer.status, answer.code) == (401, "SIGN_ERROR")


async def test_tampered_body_is_rejected_and_issues_nothing(sandbox: Sandbox, merchant: Wire) -> None:
    before = len(sandbox.issued_coupons())
    body = send_body("tamper-1")
    signed = send_body("tamper-2")
    import json

    answer = await merchant.send("POST", partner(), body, sign_body=json.dumps(signed).encode())
    assert (answer.status, answer.code) == (401, "SIGN_ERROR")
    assert len(sandbox.issued_coupons()) == before


async def test_stale_timestamp_is_sign_error_that_says_stale(http: aiohttp.ClientSession) -> None:
    async with Sandbox(clock=lambda: time.time() + 1000) as sb:
        wire = Wire(http, sb.base_url, Identity.merchant(sb.credentials))  # signs with the real clock
        answer = await wire.send("GET", CERTS)
        assert (answer.status, answer.code) == (401, "SIGN_ERROR")
        assert "stale" in answer.json()["message"]


async def test_timestamp_within_five_minutes_is_accepted(merchant: Wire) -> None:
    answer = await merchant.send("GET", CERTS, timestamp=str(int(time.time()) - 290))
    assert answer.status == 200


async def test_future_timestamp_beyond_five_minutes_is_sign_error(merchant: Wire) -> None:
    answer = await merchant.send("GET", CERTS, timestamp=str(int(time.time()) + 400))
    assert (answer.status, answer.code) == (401, "SIGN_ERROR")


@pytest.mark.parametrize("header", ["Accept", "User-Agent"])
async def test_missing_accept_or_user_agent_is_invalid_request(merchant: Wire, header: str) -> None:
    answer = await merchant.send("GET", CERTS, headers={header: None})
    assert (answer.status, answer.code) == (400, "INVALID_REQUEST")
    assert header in answer.json()["message"]


@pytest.mark.parametrize("serial", [None, "PUB_KEY_ID_0000000000000000000000000000"], ids=["missing", "wrong"])
async def test_brand_request_without_the_right_wechatpay_serial_is_invalid_request(
    brand: Wire, serial: str | None
) -> None:
    answer = await brand.send("GET", brand_path(RICH, appid="wx233544546545989"), headers={"Wechatpay-Serial": serial})
    assert (answer.status, answer.code) == (400, "INVALID_REQUEST")


async def test_merchant_request_with_an_unknown_wechatpay_serial_is_invalid_request(merchant: Wire) -> None:
    answer = await merchant.send("GET", CERTS, headers={"Wechatpay-Serial": "ABCDEF"})
    assert (answer.status, answer.code) == (400, "INVALID_REQUEST")


async def test_merchant_request_with_either_platform_serial_is_accepted(sandbox: Sandbox, merchant: Wire) -> None:
    for serial in (sandbox.credentials.pub_key_id, sandbox.credentials.platform_serial):
        answer = await merchant.send("GET", CERTS, headers={"Wechatpay-Serial": serial})
        assert answer.status == 200


async def test_error_answers_carry_request_id_but_no_signature(merchant: Wire) -> None:
    answer = await merchant.send("GET", CERTS, headers={"Authorization": None})
    assert answer.status == 401
    assert answer.headers["Request-ID"]
    assert "Wechatpay-Signature" not in answer.headers


async def test_probe_rate_one_makes_every_2xx_a_signtest_probe(http: aiohttp.ClientSession) -> None:
    async with Sandbox(probe_rate=1.0) as sb:
        wire = Wire(http, sb.base_url, Identity.merchant(sb.credentials))
        for _ in range(3):
            answer = await wire.send("GET", CERTS)
            assert answer.status == 200
            assert answer.headers["Wechatpay-Signature"].startswith("WECHATPAY/SIGNTEST/")
            assert not answer.signature_verifies(sb.credentials.platform_certificate)
        assert all(r.probe for r in sb.received)


async def test_probe_rate_is_a_seeded_share_of_answers(http: aiohttp.ClientSession) -> None:
    patterns = []
    for _ in range(2):
        async with Sandbox(probe_rate=0.5, seed=7) as sb:
            wire = Wire(http, sb.base_url, Identity.merchant(sb.credentials))
            for _ in range(12):
                answer = await wire.send("GET", CERTS)
                probe = answer.headers["Wechatpay-Signature"].startswith("WECHATPAY/SIGNTEST/")
                assert probe or answer.signature_verifies(sb.credentials.platform_certificate)
            patterns.append([r.probe for r in sb.received])
    assert patterns[0] == patterns[1]
    assert 0 < sum(patterns[0]) < 12


async def test_probe_rate_zero_never_probes(sandbox: Sandbox, merchant: Wire) -> None:
    for _ in range(5):
        answer = await merchant.send("GET", CERTS)
        assert answer.signature_verifies(sandbox.credentials.platform_certificate)


@given(
    st.permutations(["mchid", "nonce_str", "timestamp", "serial_no", "signature"]), st.sampled_from([",", ", ", " ,"])
)
def test_authorization_parser_reads_parameters_in_any_order(order: list[str], separator: str) -> None:
    values = {"mchid": "1900000001", "nonce_str": "N", "timestamp": "1", "serial_no": "S", "signature": "a/b+c=="}
    header = "WECHATPAY2-SHA256-RSA2048 " + separator.join(f'{name}="{values[name]}"' for name in order)
    assert parse_authorization(header) == ("WECHATPAY2-SHA256-RSA2048", values)
