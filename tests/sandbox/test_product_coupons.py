"""Product coupons (商品券): sending under the stock rules, idempotency, listing and paging, both schemes."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from wxpay_chain.sandbox import (
    DEMO_APPID,
    DEMO_UPLOADED_CODES,
    BusifavorCoupon,
    FavorCoupon,
    Sandbox,
    product_coupon_document,
    stock_document,
)

from ._paths import BRAND_ID, FRESH, LIGHT, RICH, FakeClock, brand_path, partner, send_body
from ._wire import Identity, Wire

USER_COUPON_FIELDS = {
    "coupon_code",
    "coupon_state",
    "valid_begin_time",
    "valid_end_time",
    "receive_time",
    "send_request_no",
    "send_channel",
    "product_coupon",
    "stock",
    "brand_id",
}


def _listing(openid: str = RICH, **query: object) -> str:
    return partner(openid, brand_id=BRAND_ID, appid=DEMO_APPID, **query)


# -- sending --------------------------------------------------------------------------------------------


async def test_send_issues_a_coupon_shaped_like_the_seed(sandbox: Sandbox, merchant: Wire) -> None:
    answer = await merchant.send("POST", partner(FRESH), send_body("send-1", attach="example_attach"))
    assert answer.status == 200
    coupon = answer.json()
    assert coupon.keys() >= USER_COUPON_FIELDS
    assert coupon["coupon_state"] == "EFFECTIVE"
    assert coupon["send_channel"] == "API"
    assert coupon["attach"] == "example_attach"
    assert coupon["receive_time"].endswith("+08:00")
    assert coupon["product_coupon"]["product_coupon_id"] == "1000000013"
    assert coupon["stock"]["stock_id"] == "1000000013001"
    assert coupon["stock"]["stock_send_rule"] == {"max_count": 100, "max_count_per_day": 20, "max_count_per_user": 2}
    assert coupon["stock"]["sent_count_info"]["today_count"] >= 1
    issued = sandbox.issued_coupons()[-1]
    assert (issued.openid, issued.send_request_no, issued.coupon_code) == (FRESH, "send-1", coupon["coupon_code"])
    assert issued.issued_by == f"merchant:{sandbox.credentials.mchid}"


async def test_send_is_idempotent_on_send_request_no(sandbox: Sandbox, merchant: Wire) -> None:
    first = await merchant.send("POST", partner(FRESH), send_body("idem-1"))
    second = await merchant.send("POST", partner(FRESH), send_body("idem-1"))
    assert first.status == second.status == 200
    assert first.json()["coupon_code"] == second.json()["coupon_code"]
    numbers = [c.send_request_no for c in sandbox.issued_coupons()]
    assert numbers.count("idem-1") == 1


async def test_send_request_no_reused_with_other_parameters_is_invalid_request(
    sandbox: Sandbox, merchant: Wire
) -> None:
    await merchant.send("POST", partner(FRESH), send_body("reuse-1"))
    answer = await merchant.send("POST", partner(FRESH), send_body("reuse-1", stock_id="1000000013002"))
    assert (answer.status, answer.code) == (400, "INVALID_REQUEST")
    assert answer.json()["detail"]["field"] == "send_request_no"
    assert [c.send_request_no for c in sandbox.issued_coupons()].count("reuse-1") == 1


@pytest.mark.parametrize("field", ["brand_id", "product_coupon_id", "stock_id", "appid", "send_request_no"])
async def test_send_without_a_required_field_is_param_error_naming_it(merchant: Wire, field: str) -> None:
    body = send_body("missing-1")
    del body[field]
    answer = await merchant.send("POST", partner(FRESH), body)
    assert (answer.status, answer.code) == (400, "PARAM_ERROR")
    assert answer.json()["detail"]["field"] == field
    assert field in answer.json()["message"]


@pytest.mark.parametrize("value", [123, None, ["x"], {"a": 1}, True])
async def test_send_with_a_wrong_type_is_param_error(merchant: Wire, value: object) -> None:
    body = send_body("types-1")
    body["stock_id"] = value
    answer = await merchant.send("POST", partner(FRESH), body)
    assert (answer.status, answer.code) == (400, "PARAM_ERROR")
    assert answer.json()["detail"]["field"] == "stock_id"


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"\xff\xfe{}",
        b"[1, 2]",
        b"",
        b'"text"',
        b"[" * 5000 + b"]" * 5000,
        b'{"stock_id": 1' + b"0" * 5000 + b"}",
    ],
    ids=["malformed", "not-utf8", "array", "empty", "string", "deep", "huge-number"],
)
async def test_malformed_bodies_are_param_errors(sandbox: Sandbox, merchant: Wire, raw: bytes) -> None:
    answer = await merchant.send("POST", partner(FRESH), raw)
    assert (answer.status, answer.code) == (400, "PARAM_ERROR")
    assert sandbox.issued_coupons()[-1].issued_by == "seed"


async def test_send_for_a_brand_the_merchant_does_not_serve_is_no_auth(merchant: Wire) -> None:
    answer = await merchant.send("POST", partner(FRESH), send_body("auth-1", brand_id="999999"))
    assert (answer.status, answer.code) == (403, "NO_AUTH")


@pytest.mark.parametrize(
    "overrides",
    [{"product_coupon_id": "404"}, {"stock_id": "404"}, {"stock_id": "1000000014001"}],
    ids=["unknown-product-coupon", "unknown-stock", "stock-of-another-product-coupon"],
)
async def test_send_to_an_unknown_product_coupon_or_stock_is_not_found(
    merchant: Wire, overrides: dict[str, str]
) -> None:
    answer = await merchant.send("POST", partner(FRESH), send_body("nf-001", **overrides))
    assert (answer.status, answer.code) == (404, "NOT_FOUND")


async def test_send_from_a_paused_stock_is_invalid_request(merchant: Wire) -> None:
    body = send_body("paused-1", product_coupon_id="1000000017", stock_id="1000000017001")
    answer = await merchant.send("POST", partner(FRESH), body)
    assert (answer.status, answer.code) == (400, "INVALID_REQUEST")
    assert "SENDING" in answer.json()["message"]


async def test_max_count_per_user_stops_the_third_coupon(sandbox: Sandbox, merchant: Wire) -> None:
    for n in (1, 2):
        assert (await merchant.send("POST", partner(FRESH), send_body(f"per-user-{n}"))).status == 200
    answer = await merchant.send("POST", partner(FRESH), send_body("per-user-3"))
    assert (answer.status, answer.code) == (400, "INVALID_REQUEST")
    assert "max_count_per_user" in answer.json()["message"]
    assert answer.json()["detail"]["issue"] == "max_count_per_user"
    assert "per-user-3" not in [c.send_request_no for c in sandbox.issued_coupons()]


async def test_demo_rich_user_is_already_at_max_count_per_user(merchant: Wire) -> None:
    answer = await merchant.send("POST", partner(RICH), send_body("rich-1"))
    assert answer.json()["detail"]["issue"] == "max_count_per_user"


async def test_max_count_per_day_then_max_count_follow_the_sandbox_clock(http: aiohttp.ClientSession) -> None:
    clock = FakeClock(time.time())
    async with Sandbox(clock=clock) as sb:
        wire = Wire(http, sb.base_url, Identity.merchant(sb.credentials), clock=clock)
        tight = {"stock_id": "1000000013002"}
        users = [f"o-day-user-{n}" for n in range(4)]
        for n in (0, 1):
            assert (await wire.send("POST", partner(users[n]), send_body(f"day-00{n}", **tight))).status == 200
        blocked = await wire.send("POST", partner(users[2]), send_body("day-002", **tight))
        assert blocked.json()["detail"]["issue"] == "max_count_per_day"
        clock.now += 86400
        assert (await wire.send("POST", partner(users[2]), send_body("day-002", **tight))).status == 200
        exhausted = await wire.send("POST", partner(users[3]), send_body("day-003", **tight))
        assert (exhausted.status, exhausted.json()["detail"]["issue"]) == (400, "max_count")


async def test_api_assign_stock_requires_and_keeps_the_callers_coupon_code(merchant: Wire) -> None:
    assign = {"product_coupon_id": "1000000014", "stock_id": "1000000014001"}
    missing = await merchant.send("POST", partner(FRESH), send_body("assign-1", **assign))
    assert (missing.status, missing.code, missing.json()["detail"]["field"]) == (400, "PARAM_ERROR", "coupon_code")
    given = await merchant.send("POST", partner(FRESH), send_body("assign-1", coupon_code="MYCODE001", **assign))
    assert given.json()["coupon_code"] == "MYCODE001"
    duplicate = await merchant.send("POST", partner(LIGHT), send_body("assign-2", coupon_code="MYCODE001", **assign))
    assert (duplicate.status, duplicate.code, duplicate.json()["detail"]["issue"]) == (
        400,
        "INVALID_REQUEST",
        "DUPLICATE",
    )


async def test_wechatpay_code_stock_refuses_a_caller_coupon_code(merchant: Wire) -> None:
    answer = await merchant.send("POST", partner(FRESH), send_body("code-1", coupon_code="MINE"))
    assert (answer.status, answer.code, answer.json()["detail"]["field"]) == (400, "PARAM_ERROR", "coupon_code")


async def test_upload_stock_hands_out_uploaded_codes_in_order(merchant: Wire) -> None:
    upload = {"product_coupon_id": "1000000015", "stock_id": "1000000015001"}
    first = (await merchant.send("POST", partner("o-upload-1"), send_body("up-001", **upload))).json()
    second = (await merchant.send("POST", partner("o-upload-2"), send_body("up-002", **upload))).json()
    # The seeded EXPIRED coupon holds the first uploaded code.
    assert [first["coupon_code"], second["coupon_code"]] == list(DEMO_UPLOADED_CODES[1:3])
    assert second["stock"]["coupon_code_count_info"] == {"total_count": 5, "available_count": 2}


async def test_upload_stock_without_codes_left_is_invalid_request(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.add_stock(
        stock_document("1000000015009", "1000000015", type="EXCHANGE", coupon_code_mode="UPLOAD", max_count=10),
        uploaded_codes=["ONLY-ONE"],
    )
    upload = {"product_coupon_id": "1000000015", "stock_id": "1000000015009"}
    assert (await merchant.send("POST", partner("o-pool-1"), send_body("pool-1", **upload))).status == 200
    empty = await merchant.send("POST", partner("o-pool-2"), send_body("pool-2", **upload))
    assert (empty.status, empty.json()["detail"]["issue"]) == (400, "NO_UPLOADED_CODE")


async def test_sequential_coupon_carries_its_rounds(merchant: Wire) -> None:
    body = send_body("seq-001", product_coupon_id="1000000016", stock_id="1000000016001")
    coupon = (await merchant.send("POST", partner(FRESH), body)).json()
    detail = coupon["sequential_usage_detail"]
    assert (detail["total_count"], detail["used_count"], len(detail["detail_item_list"])) == (3, 0, 3)
    assert coupon["product_coupon"]["usage_mode"] == "SEQUENTIAL"
    assert coupon["stock"]["sequential_usage_rule"]["normal_coupon_list"]


async def test_added_product_coupon_and_stock_can_be_sent(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.add_product_coupon(
        product_coupon_document("2000000001", brand_id=BRAND_ID, name="测试券", type="DISCOUNT", value=20)
    )
    sandbox.add_stock(stock_document("2000000001001", "2000000001", type="DISCOUNT", max_count=1))
    body = send_body("added-1", product_coupon_id="2000000001", stock_id="2000000001001")
    coupon = (await merchant.send("POST", partner(FRESH), body)).json()
    assert coupon["product_coupon"]["single_usage_info"] == {"discount_coupon": {"threshold": 10000, "percent_off": 20}}


# Read with fromisoformat, a time without an offset took this machine's zone: other coupons on a UTC host.
@pytest.mark.parametrize("written", ["2025-03-12T00:00:00", "2025-03-12", "2025-03-12 00:00:00+08:00", 20250312])
def test_a_seeded_time_without_its_offset_is_refused_not_read_in_the_hosts_zone(
    sandbox: Sandbox, written: object
) -> None:
    sandbox.add_product_coupon(product_coupon_document("2000000002", brand_id=BRAND_ID, name="时区券", type="NORMAL"))
    stock = stock_document("2000000002001", "2000000002", available_begin_time=written)
    refused = r"stock '2000000002001': available_begin_time: .*e\.g\. 2025-03-12T00:00:00\+08:00"
    with pytest.raises(ValueError, match=refused):
        sandbox.add_stock(stock)
    owner = {"creator_merchant": "1", "belong_merchant": "1", "sender_merchant": "1"}
    busifavor = BusifavorCoupon(
        "o-tz", DEMO_APPID, "9865000", "SENDED", **owner, document={"coupon_code": "BFTZ1", "expire_time": written}
    )
    with pytest.raises(ValueError, match="busifavor coupon 'BFTZ1': expire_time"):
        sandbox.add_busifavor_coupon(busifavor)
    favor = FavorCoupon("o-tz", DEMO_APPID, "FTZ1", {"status": "SENDED", "available_end_time": written})
    with pytest.raises(ValueError, match="favor coupon 'FTZ1': available_end_time"):
        sandbox.add_favor_coupon(favor)
    sandbox.add_stock(stock_document("2000000002001", "2000000002", available_begin_time="2025-03-12T00:00:00+08:00"))


async def test_send_with_an_oversized_field_is_param_error(merchant: Wire) -> None:
    answer = await merchant.send("POST", partner(FRESH), send_body("x" * 129))
    assert (answer.status, answer.json()["detail"]["field"]) == (400, "send_request_no")


# -- listing --------------------------------------------------------------------------------------------


async def test_list_shows_every_state_of_the_demo_user(merchant: Wire) -> None:
    answer = await merchant.send("GET", _listing())
    body = answer.json()
    states = {c["coupon_state"] for c in body["user_coupon_list"]}
    assert states == {"CONFIRMING", "PENDING", "EFFECTIVE", "USED", "EXPIRED", "DELETED", "DEACTIVATED"}
    assert body["total_count"] == len(body["user_coupon_list"]) == 8
    assert "next_page_token" not in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"product_coupon_id": "1000000013"}, 2),
        ({"stock_id": "1000000018001"}, 2),
        ({"coupon_state": "USED"}, 1),
        ({"coupon_state": "PENDING"}, 1),
        ({"product_coupon_id": "1000000013", "coupon_state": "CONFIRMING"}, 1),
    ],
)
async def test_list_filters(merchant: Wire, query: dict[str, str], expected: int) -> None:
    body = (await merchant.send("GET", _listing(**query))).json()
    assert body["total_count"] == len(body["user_coupon_list"]) == expected
    for coupon in body["user_coupon_list"]:
        for name, value in query.items():
            assert {
                "product_coupon_id": coupon["product_coupon"]["product_coupon_id"],
                "stock_id": coupon["stock"]["stock_id"],
                "coupon_state": coupon["coupon_state"],
            }[name] == value


async def test_list_pages_to_the_end_with_next_page_token(merchant: Wire) -> None:
    seen: list[str] = []
    first = (await merchant.send("GET", _listing(page_size=3))).json()
    assert first["total_count"] == 8
    page, pages = first, 1
    seen += [c["send_request_no"] for c in page["user_coupon_list"]]
    while "next_page_token" in page:
        answer = await merchant.send("GET", _listing(page_size=3, page_token=page["next_page_token"]))
        assert answer.status == 200
        page, pages = answer.json(), pages + 1
        assert "total_count" not in page
        seen += [c["send_request_no"] for c in page["user_coupon_list"]]
    assert pages == 3
    assert len(seen) == len(set(seen)) == 8


async def test_list_page_size_defaults_to_20(sandbox: Sandbox, merchant: Wire) -> None:
    for n in range(22):
        sandbox.add_user_coupon(
            openid="o-many", stock_id="1000000013001", appid=DEMO_APPID, send_request_no=f"many-{n}"
        )
    body = (await merchant.send("GET", _listing("o-many"))).json()
    assert (body["total_count"], len(body["user_coupon_list"])) == (22, 20)
    assert "next_page_token" in body


@pytest.mark.parametrize("size", ["51", "0", "-1", "abc", "1e3", "99999999999999999999"])
async def test_list_with_a_bad_page_size_is_param_error(merchant: Wire, size: str) -> None:
    answer = await merchant.send("GET", _listing(page_size=size))
    assert (answer.status, answer.code, answer.json()["detail"]["field"]) == (400, "PARAM_ERROR", "page_size")


@pytest.mark.parametrize(
    "token", ["!!!", "MTIzMjUK", "bm90LWEtdG9rZW4="], ids=["not-base64", "seed-example", "garbage"]
)
async def test_list_with_a_foreign_page_token_is_param_error(merchant: Wire, token: str) -> None:
    answer = await merchant.send("GET", _listing(page_token=token))
    assert (answer.status, answer.code, answer.json()["detail"]["field"]) == (400, "PARAM_ERROR", "page_token")


async def test_page_token_from_another_query_is_param_error(merchant: Wire) -> None:
    token = (await merchant.send("GET", _listing(page_size=1))).json()["next_page_token"]
    answer = await merchant.send("GET", _listing(page_size=1, page_token=token, coupon_state="USED"))
    assert (answer.status, answer.code) == (400, "PARAM_ERROR")


@pytest.mark.parametrize("missing", ["brand_id", "appid"])
async def test_list_without_brand_id_or_appid_is_param_error(merchant: Wire, missing: str) -> None:
    query = {"brand_id": BRAND_ID, "appid": DEMO_APPID}
    del query[missing]
    answer = await merchant.send("GET", partner(RICH, **query))
    assert (answer.status, answer.code, answer.json()["detail"]["field"]) == (400, "PARAM_ERROR", missing)


async def test_list_with_an_unknown_coupon_state_is_param_error(merchant: Wire) -> None:
    answer = await merchant.send("GET", _listing(coupon_state="SENDED"))
    assert (answer.status, answer.code, answer.json()["detail"]["field"]) == (400, "PARAM_ERROR", "coupon_state")


async def test_list_with_a_repeated_query_parameter_is_param_error(merchant: Wire) -> None:
    answer = await merchant.send("GET", _listing() + "&appid=wx2")
    assert (answer.status, answer.code) == (400, "PARAM_ERROR")


@pytest.mark.parametrize("query", [{"product_coupon_id": "404"}, {"stock_id": "404"}])
async def test_list_filtered_by_an_unknown_product_coupon_or_stock_is_not_found(
    merchant: Wire, query: dict[str, str]
) -> None:
    answer = await merchant.send("GET", _listing(**query))
    assert (answer.status, answer.code) == (404, "NOT_FOUND")


async def test_list_for_a_foreign_brand_is_no_auth(merchant: Wire) -> None:
    answer = await merchant.send("GET", partner(RICH, brand_id="999999", appid=DEMO_APPID))
    assert (answer.status, answer.code) == (403, "NO_AUTH")


async def test_coupon_states_follow_the_clock(http: aiohttp.ClientSession) -> None:
    clock = FakeClock(time.time())
    async with Sandbox(clock=clock) as sb:
        wire = Wire(http, sb.base_url, Identity.merchant(sb.credentials), clock=clock)
        await wire.send("POST", partner(FRESH), send_body("clock-1"))
        clock.now += 31 * 86400
        body = (await wire.send("GET", partner(FRESH, brand_id=BRAND_ID, appid=DEMO_APPID))).json()
        assert [c["coupon_state"] for c in body["user_coupon_list"]] == ["EXPIRED"]


# -- brand scheme ---------------------------------------------------------------------------------------


async def test_brand_send_takes_the_brand_from_authorization(sandbox: Sandbox, brand: Wire) -> None:
    body = send_body("brand-1", brand_id=None)
    answer = await brand.send("POST", brand_path(FRESH), body)
    assert answer.status == 200
    assert answer.json()["brand_id"] == BRAND_ID
    assert sandbox.issued_coupons()[-1].issued_by == f"brand:{BRAND_ID}"


async def test_brand_send_shares_the_ledger_and_idempotency_with_the_partner_api(
    sandbox: Sandbox, merchant: Wire, brand: Wire
) -> None:
    via_partner = (await merchant.send("POST", partner(FRESH), send_body("shared-1"))).json()
    via_brand = (await brand.send("POST", brand_path(FRESH), send_body("shared-1", brand_id=None))).json()
    assert via_partner["coupon_code"] == via_brand["coupon_code"]
    assert [c.send_request_no for c in sandbox.issued_coupons()].count("shared-1") == 1


async def test_brand_list_pages_without_brand_id(brand: Wire) -> None:
    first = (await brand.send("GET", brand_path(RICH, appid=DEMO_APPID, page_size=5))).json()
    second = (
        await brand.send("GET", brand_path(RICH, appid=DEMO_APPID, page_size=5, page_token=first["next_page_token"]))
    ).json()
    assert first["total_count"] == 8
    assert len(first["user_coupon_list"]) + len(second["user_coupon_list"]) == 8
    assert "next_page_token" not in second


@pytest.mark.parametrize("query", [{"product_coupon_id": "404"}, {"stock_id": "404"}])
async def test_brand_list_with_unknown_product_coupon_or_stock_is_not_found(brand: Wire, query: dict[str, str]) -> None:
    answer = await brand.send("GET", brand_path(RICH, appid=DEMO_APPID, **query))
    assert (answer.status, answer.code) == (404, "NOT_FOUND")


async def test_brand_send_to_unknown_stock_is_not_found(brand: Wire) -> None:
    answer = await brand.send("POST", brand_path(FRESH), send_body("b-nf-01", brand_id=None, stock_id="404"))
    assert (answer.status, answer.code) == (404, "NOT_FOUND")


async def test_rate_limit_answers_429_with_retry_after(http: aiohttp.ClientSession) -> None:
    clock = FakeClock(time.time())
    async with Sandbox(rate_limit=2, clock=clock) as sb:
        wire = Wire(http, sb.base_url, Identity.brand(sb.credentials), clock=clock)
        target = brand_path(RICH, appid=DEMO_APPID)
        statuses = [(await wire.send("GET", target)).status for _ in range(2)]
        limited = await wire.send("GET", target)
        assert statuses == [200, 200]
        assert (limited.status, limited.code, limited.headers["Retry-After"]) == (429, "RATELIMIT_EXCEEDED", "1")
        clock.now += 1
        assert (await wire.send("GET", target)).status == 200


async def test_rate_limit_is_off_by_default(brand: Wire) -> None:
    statuses = {(await brand.send("GET", brand_path(RICH, appid=DEMO_APPID))).status for _ in range(10)}
    assert statuses == {200}


async def test_unknown_path_and_wrong_method_are_not_found(merchant: Wire) -> None:
    for method, target in (
        ("GET", "/v3/marketing/nothing"),
        ("DELETE", partner(FRESH)),
        ("GET", "/"),
        ("GET", partner(FRESH) + "/"),
    ):
        answer = await merchant.send(method, target)
        assert (answer.status, answer.code) == (404, "NOT_FOUND"), target


async def test_oversized_body_is_refused_with_413(sandbox: Sandbox, merchant: Wire) -> None:
    body = json.dumps(send_body("big-body", attach="x" * (1024 * 1024 + 10))).encode()
    answer = await merchant.send("POST", partner(FRESH), body)
    assert (answer.status, answer.code) == (413, "INVALID_REQUEST")
    assert "big-body" not in [c.send_request_no for c in sandbox.issued_coupons()]
