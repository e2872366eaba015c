"""Coupon states follow the sandbox clock where answers are rendered; the demo data agrees with itself."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from wxpay_chain.sandbox import DEMO_APPID, DEMO_UPLOADED_CODES, Sandbox
from wxpay_chain.sandbox._clock import rfc3339
from wxpay_chain.sandbox._records import IssuedCoupon
from wxpay_chain.sandbox._rules import round_states

from ._paths import BRAND_ID, FRESH, RICH, FakeClock, busifavor, favor, partner, send_body
from ._wire import Identity, Wire

DAY = 86400.0
SEQUENTIAL = {"product_coupon_id": "1000000016", "stock_id": "1000000016001"}


class Clocked:
    """A sandbox on a clock the test moves, and a merchant signing with that clock."""

    def __init__(self, sandbox: Sandbox, wire: Wire, clock: FakeClock) -> None:
        self.sandbox, self.wire, self.clock = sandbox, wire, clock

    def move(self, days: float) -> None:
        self.clock.now += days * DAY

    async def wallet(self, openid: str = RICH, **query: str) -> list[dict[str, Any]]:
        answer = await self.wire.send("GET", partner(openid, brand_id=BRAND_ID, appid=DEMO_APPID, **query))
        assert answer.status == 200, answer.text
        coupons: list[dict[str, Any]] = answer.json()["user_coupon_list"]
        return coupons

    async def busifavor_states(self, **query: str) -> list[str]:
        body = (await self.wire.send("GET", busifavor(appid=DEMO_APPID, **query))).json()
        assert body["total_count"] == len(body["data"])
        return sorted(c["coupon_state"] for c in body["data"])

    async def favor_status(self, coupon_id: str) -> str:
        answer = await self.wire.send("GET", favor(coupon_id, appid=DEMO_APPID))
        assert answer.status == 200, answer.text
        status: str = answer.json()["status"]
        return status


@pytest.fixture
async def clocked(http: aiohttp.ClientSession) -> AsyncIterator[Clocked]:
    clock = FakeClock(time.time())
    async with Sandbox(clock=clock) as sb:
        yield Clocked(sb, Wire(http, sb.base_url, Identity.merchant(sb.credentials), clock=clock), clock)


def rounds(coupon: dict[str, Any]) -> list[str]:
    return [r["detail_state"] for r in coupon["sequential_usage_detail"]["detail_item_list"]]


def only(coupons: list[dict[str, Any]], state: str) -> dict[str, Any]:
    (found,) = [c for c in coupons if c["coupon_state"] == state]
    return found


# -- rounds of sequential product coupons -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "expected", "coupon_state"),
    [
        (1, ["EFFECTIVE", "PENDING", "PENDING"], "EFFECTIVE"),
        (9, ["EFFECTIVE", "EFFECTIVE", "PENDING"], "EFFECTIVE"),
        (15, ["EFFECTIVE", "EFFECTIVE", "EFFECTIVE"], "EFFECTIVE"),
        (49, ["EXPIRED", "EXPIRED", "EXPIRED"], "EXPIRED"),
    ],
)
async def test_rounds_of_a_sent_sequential_coupon_follow_the_clock(
    clocked: Clocked, days: float, expected: list[str], coupon_state: str
) -> None:
    sent = (await clocked.wire.send("POST", partner(FRESH), send_body("rounds-1", **SEQUENTIAL))).json()
    assert rounds(sent) == ["EFFECTIVE", "PENDING", "PENDING"]
    clocked.move(days)
    (coupon,) = await clocked.wallet(FRESH)
    assert (rounds(coupon), coupon["coupon_state"]) == (expected, coupon_state)


async def test_a_used_round_stays_used_while_the_others_follow_the_clock(clocked: Clocked) -> None:
    (seeded,) = await clocked.wallet(stock_id="1000000016001")
    assert rounds(seeded) == ["USED", "EFFECTIVE", "PENDING"]
    clocked.move(7)
    (seeded,) = await clocked.wallet(stock_id="1000000016001")
    assert rounds(seeded) == ["USED", "EFFECTIVE", "EFFECTIVE"]
    clocked.move(23)
    (seeded,) = await clocked.wallet(stock_id="1000000016001")
    assert (rounds(seeded), seeded["coupon_state"]) == (["USED", "EXPIRED", "EXPIRED"], "EXPIRED")


@pytest.mark.parametrize("days", [0, 9, 49])
@pytest.mark.parametrize("state", ["DELETED", "DEACTIVATED"])
async def test_a_deleted_or_deactivated_coupon_shows_its_rounds_in_its_state(
    clocked: Clocked, state: str, days: float
) -> None:
    clocked.move(days)
    coupon = only(await clocked.wallet(stock_id="1000000018001"), state)
    assert rounds(coupon) == [state, state]


async def test_seeded_rounds_lie_within_their_coupon(clocked: Clocked) -> None:
    for coupon in await clocked.wallet():
        for item in coupon.get("sequential_usage_detail", {}).get("detail_item_list", []):
            assert coupon["valid_begin_time"] <= item["valid_begin_time"] <= item["valid_end_time"]
            assert item["valid_end_time"] == coupon["valid_end_time"]


# -- busifavor and favor coupons --------------------------------------------------------------------------


async def test_busifavor_coupons_expire_with_the_clock(clocked: Clocked) -> None:
    assert await clocked.busifavor_states() == ["EXPIRED"] * 2 + ["SENDED"] * 3 + ["USED"] * 2
    clocked.move(49)
    body = (await clocked.wire.send("GET", busifavor(appid=DEMO_APPID))).json()
    for coupon in body["data"]:
        if coupon["coupon_state"] != "USED":
            assert coupon["coupon_state"] == "EXPIRED" and coupon["expire_time"] < rfc3339(clocked.clock.now)
    assert await clocked.busifavor_states() == ["EXPIRED"] * 5 + ["USED"] * 2


async def test_busifavor_state_filters_follow_the_clock(clocked: Clocked) -> None:
    clocked.move(49)
    assert await clocked.busifavor_states(coupon_state="SENDED") == []
    assert await clocked.busifavor_states(coupon_state="EXPIRED") == ["EXPIRED"] * 5
    assert await clocked.busifavor_states(coupon_state="USED") == ["USED"] * 2


async def test_a_busifavor_coupon_is_sended_until_its_expire_time(clocked: Clocked) -> None:
    clocked.move(19)
    assert await clocked.busifavor_states(coupon_state="SENDED") == ["SENDED"] * 3


async def test_favor_coupons_expire_with_the_clock(clocked: Clocked) -> None:
    assert await clocked.favor_status("9867041") == "SENDED"
    clocked.move(49)
    statuses = [await clocked.favor_status(c) for c in ("9867041", "9867042", "9867043", "9867044", "9867045")]
    assert statuses == ["EXPIRED", "USED", "EXPIRED", "RECOVER", "EXPIRED"]


# -- the demo data ----------------------------------------------------------------------------------------


async def test_upload_stock_codes_run_out_with_its_budget(clocked: Clocked) -> None:
    (expired,) = await clocked.wallet(stock_id="1000000015001")
    assert expired["coupon_code"] in DEMO_UPLOADED_CODES
    upload = {"product_coupon_id": "1000000015", "stock_id": "1000000015001"}
    left = expired["stock"]["coupon_code_count_info"]["available_count"]
    sent = []
    for n in range(left):
        answer = await clocked.wire.send("POST", partner(f"o-upload-{n}"), send_body(f"upload-{n}", **upload))
        assert answer.status == 200, answer.text
        sent.append(answer.json())
    last_stock = sent[-1]["stock"]
    assert last_stock["coupon_code_count_info"]["available_count"] == 0
    assert last_stock["sent_count_info"]["total_count"] == last_stock["stock_send_rule"]["max_count"]
    refused = await clocked.wire.send("POST", partner("o-upload-last"), send_body("upload-last", **upload))
    assert (refused.status, refused.json()["detail"]["issue"] in ("max_count", "NO_UPLOADED_CODE")) == (400, True)
    assert sorted([expired["coupon_code"]] + [c["coupon_code"] for c in sent]) == sorted(DEMO_UPLOADED_CODES)


# -- the round rule on its own ----------------------------------------------------------------------------


def _issued(state: str, *items: dict[str, str]) -> IssuedCoupon:
    detail = {"total_count": len(items), "used_count": 0, "detail_item_list": list(items)}
    return IssuedCoupon(
        seq=1,
        openid=FRESH,
        appid=DEMO_APPID,
        brand_id=BRAND_ID,
        product_coupon_id="1000000016",
        stock_id="1000000016001",
        coupon_code="1",
        send_request_no="1",
        send_channel="API",
        state=state,
        receive_time=0.0,
        valid_begin=0.0,
        valid_end=30 * DAY,
        extra={"sequential_usage_detail": detail},
    )


def _round(state: str, begin_days: float) -> dict[str, str]:
    return {"detail_state": state, "valid_begin_time": rfc3339(begin_days * DAY), "valid_end_time": rfc3339(30 * DAY)}


def test_rounds_of_a_confirming_coupon_are_pending() -> None:
    coupon = _issued("CONFIRMING", _round("PENDING", 0), _round("PENDING", 7))
    assert round_states(coupon, 8 * DAY) == ["PENDING", "PENDING"]


def test_a_used_round_of_a_deleted_coupon_stays_used() -> None:
    coupon = _issued("DELETED", _round("USED", 0), _round("EFFECTIVE", 7))
    assert round_states(coupon, 8 * DAY) == ["USED", "DELETED"]


def test_a_round_is_effective_from_its_begin_time_to_its_end_time_inclusive() -> None:
    coupon = _issued("EFFECTIVE", _round("PENDING", 7))
    states = [round_states(coupon, t)[0] for t in (7 * DAY - 1, 7 * DAY, 30 * DAY, 30 * DAY + 1)]
    assert states == ["PENDING", "EFFECTIVE", "EFFECTIVE", "EXPIRED"]
