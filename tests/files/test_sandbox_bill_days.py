"""Which days the sandbox has bills for, as WeChat Pay: from 10:00 (China time) the next day, for three
months, and only for a day with trades (trade bill) or fund movements in the account asked (fund flow)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest

from wxpay_chain import ApiError, AsyncClient
from wxpay_chain.sandbox import Sandbox, bill_ready_time
from wxpay_chain.sandbox._bills import check_bill_day
from wxpay_chain.sandbox._failures import ApiFailure

CHINA = timezone(timedelta(hours=8))
# 2026-05-31 08:00 in China: the day after a month's last day, whose three-month limit has no 31st.
NOW = datetime(2026, 5, 31, 8, 0, tzinfo=CHINA).timestamp()
DAY = 86400.0
SUB_MERCHANT = {"sub_mchid": "1900000109", "algorithm": "AEAD_AES_256_GCM"}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def client(clock: Clock) -> AsyncIterator[AsyncClient]:
    # The demo data's coupons were received at NOW and 1, 2, 3, 4, 5, 8, 40 and 60 days before it.
    async with Sandbox(clock=clock) as sb, sb.client() as merchant:
        assert {c.receive_time for c in sb.issued_coupons()} == {NOW - n * DAY for n in (0, 1, 2, 3, 4, 5, 8, 40, 60)}
        yield merchant


def _china(day: str, hour: int, minute: int = 0, second: int = 0) -> float:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, second=second, tzinfo=CHINA).timestamp()


async def _code(client: AsyncClient, path: str, **query: str) -> str:
    bills = {"trade": client.v3.bill.tradebill, "fund": client.v3.bill.fundflowbill}
    endpoint = bills.get(path, client.v3.bill.subMerchantFundflowbill)
    try:
        answer = await endpoint.get(query=query)
    except ApiError as exc:
        assert exc.status == 400
        return exc.code
    assert answer.status == 200
    return "OK"


def test_a_days_bill_is_ready_at_ten_the_next_morning_in_china() -> None:
    assert bill_ready_time("2026-05-30") == _china("2026-05-31", 10)
    assert datetime.fromtimestamp(bill_ready_time("2026-12-31"), CHINA).isoformat() == "2027-01-01T10:00:00+08:00"


async def test_todays_bill_is_being_made(client: AsyncClient) -> None:
    today = "2026-05-31"
    assert await _code(client, "trade", bill_date=today) == "STATEMENT_CREATING"
    assert await _code(client, "fund", bill_date=today, account_type="BASIC") == "STATEMENT_CREATING"
    assert await _code(client, "sub", bill_date=today, account_type="BASIC", **SUB_MERCHANT) == "STATEMENT_CREATING"


async def test_yesterdays_bill_comes_at_ten_china_time(client: AsyncClient, clock: Clock) -> None:
    yesterday = "2026-05-30"
    clock.now = _china("2026-05-31", 9, 59, 59)
    assert await _code(client, "trade", bill_date=yesterday) == "STATEMENT_CREATING"
    assert await _code(client, "fund", bill_date=yesterday) == "STATEMENT_CREATING"
    clock.now = _china("2026-05-31", 10)
    assert await _code(client, "trade", bill_date=yesterday) == "OK"
    assert await _code(client, "fund", bill_date=yesterday, account_type="BASIC") == "OK"
    assert await _code(client, "sub", bill_date=yesterday, account_type="BASIC", **SUB_MERCHANT) == "OK"


async def test_a_day_without_trades_or_fund_movements_has_no_bill(client: AsyncClient, clock: Clock) -> None:
    clock.now = _china("2026-05-31", 12)
    assert await _code(client, "trade", bill_date="2026-05-20") == "NO_STATEMENT_EXIST"
    assert await _code(client, "fund", bill_date="2026-05-20") == "NO_STATEMENT_EXIST"
    for account in ("OPERATION", "FEES"):  # the day has a trade, but only the BASIC account moved
        assert await _code(client, "fund", bill_date="2026-05-30", account_type=account) == "NO_STATEMENT_EXIST"
    sub = {"bill_date": "2026-05-30", "account_type": "FEES", **SUB_MERCHANT}
    assert await _code(client, "sub", **sub) == "NO_STATEMENT_EXIST"
    assert await _code(client, "trade", bill_date="2026-05-30", bill_type="REFUND") == "OK"  # a day with trades


async def test_bills_are_kept_for_three_months(client: AsyncClient) -> None:
    # Three months before 2026-05-31 is 2026-02-28 (February has no 31st): that day is served, the one before not.
    assert await _code(client, "trade", bill_date="2026-02-28") == "NO_STATEMENT_EXIST"
    with pytest.raises(ApiError) as caught:
        await client.v3.bill.tradebill.get(query={"bill_date": "2026-02-27"})
    assert (caught.value.status, caught.value.code) == (400, "INVALID_REQUEST")
    assert "bill_date" in caught.value.message and "three months" in caught.value.message
    assert await _code(client, "fund", bill_date="2026-02-27") == "INVALID_REQUEST"


async def test_a_future_day_or_a_day_that_does_not_exist_is_refused(client: AsyncClient) -> None:
    assert await _code(client, "trade", bill_date="2026-06-01") == "INVALID_REQUEST"
    assert await _code(client, "trade", bill_date="2026-02-30") == "PARAM_ERROR"


async def test_the_answers_carry_wechat_pays_messages(client: AsyncClient, clock: Clock) -> None:
    with pytest.raises(ApiError) as creating:
        await client.v3.bill.tradebill.get(query={"bill_date": "2026-05-31"})
    assert creating.value.message.startswith("账单生成中")
    clock.now = _china("2026-05-31", 10)
    with pytest.raises(ApiError) as missing:
        await client.v3.bill.fundflowbill.get(query={"bill_date": "2026-05-30", "account_type": "FEES"})
    assert missing.value.message.startswith("请求的账单文件不存在") and "FEES" in missing.value.message


@pytest.mark.parametrize(
    ("today", "oldest"),
    [("2026-05-15", "2026-02-15"), ("2026-01-31", "2025-10-31"), ("2024-05-31", "2024-02-29")],
)
def test_the_three_months_are_calendar_months(today: str, oldest: str) -> None:
    now = _china(today, 12)
    check_bill_day(oldest, now)  # served
    before = (datetime.fromisoformat(oldest) - timedelta(days=1)).date().isoformat()
    with pytest.raises(ApiFailure) as caught:
        check_bill_day(before, now)
    assert caught.value.code == "INVALID_REQUEST"
