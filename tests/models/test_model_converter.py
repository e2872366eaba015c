"""The converter's rules: RFC 3339 times, strict JSON types, open enums, None dropping, error paths."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wxpay_chain._converter import converter, format_rfc3339, parse_rfc3339, structure, unstructure
from wxpay_chain._errors import StructureError
from wxpay_chain.models import (
    BusifavorAvailableWeek,
    BusifavorCouponQuery,
    BusifavorCouponState,
    CouponAvailablePeriod,
    FavorCoupon,
    FavorCouponStatus,
    IrregularAvailablePeriod,
    ProductCouponDisplayInfo,
    StockSendRule,
    UserProductCouponPage,
    WeekDayNumber,
)

CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-01T00:00+08:00", datetime(2025, 1, 1, tzinfo=CST)),
        ("2025-01-01T00:00:00+08:00", datetime(2025, 1, 1, tzinfo=CST)),
        ("2025-01-30T23:59:59+08:00", datetime(2025, 1, 30, 23, 59, 59, tzinfo=CST)),
        ("2019-12-30T13:29:35.120+08:00", datetime(2019, 12, 30, 13, 29, 35, 120000, tzinfo=CST)),
        ("2019-12-30T13:29:35.123456789+08:00", datetime(2019, 12, 30, 13, 29, 35, 123456, tzinfo=CST)),
        ("2025-07-20T05:29:35Z", datetime(2025, 7, 20, 5, 29, 35, tzinfo=timezone.utc)),
        ("2025-07-20t05:29:35z", datetime(2025, 7, 20, 5, 29, 35, tzinfo=timezone.utc)),
        ("2025-07-19T23:59-05:30", datetime(2025, 7, 19, 23, 59, tzinfo=timezone(-timedelta(hours=5.5)))),
    ],
)
def test_rfc3339_forms_parse_to_aware_datetimes_and_write_back_unchanged(text: str, expected: datetime) -> None:
    value = parse_rfc3339(text)
    assert value == expected and value.utcoffset() == expected.utcoffset()
    assert format_rfc3339(value) == text


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-01",
        "2025-01-01T00:00",  # no offset
        "2025-01-01T00:00:00+0800",
        "2025-01-01 00:00:00+08:00",
        "2025-13-01T00:00+08:00",
        "2025-02-30T00:00+08:00",
        "2025-01-01T24:00+08:00",
        "2025-01-01T00:00+24:00",
        "2025-01-01T00:00+08:99",  # no such minute: it read as +09:39
        " 2025-01-01T00:00+08:00",
        "",
    ],
)
def test_non_rfc3339_text_is_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339(text)


def test_datetimes_built_in_code_are_written_with_seconds() -> None:
    assert format_rfc3339(datetime(2025, 1, 1, tzinfo=CST)) == "2025-01-01T00:00:00+08:00"
    assert format_rfc3339(datetime(2025, 1, 1, 0, 0, 1, 5000, tzinfo=CST)) == "2025-01-01T00:00:01.005000+08:00"
    with pytest.raises(ValueError, match="naive"):
        format_rfc3339(datetime(2025, 1, 1))
    # A zone's local mean time before 1901 (Asia/Shanghai's +08:05:43): isoformat wrote the seconds.
    with pytest.raises(ValueError, match="has seconds"):
        format_rfc3339(datetime(1900, 1, 1, tzinfo=timezone(timedelta(hours=8, minutes=5, seconds=43))))


def test_a_changed_datetime_forgets_the_received_text() -> None:
    received = parse_rfc3339("2025-01-01T00:00+08:00")
    moved = received + timedelta(days=1)
    assert format_rfc3339(moved) == "2025-01-02T00:00:00+08:00"
    assert format_rfc3339(received.replace(hour=1)) == "2025-01-01T01:00:00+08:00"
    assert format_rfc3339(received.astimezone(timezone.utc)) == "2024-12-31T16:00:00+00:00"


_offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(st.datetimes(timezones=_offsets))
def test_aware_datetimes_survive_unstructure_then_structure(value: datetime) -> None:
    period = IrregularAvailablePeriod(begin_time=value, end_time=value)
    back = structure(unstructure(period), IrregularAvailablePeriod)
    assert back == period
    assert back.begin_time.utcoffset() == value.utcoffset()
    assert back.begin_time.replace(tzinfo=None) == value.replace(tzinfo=None)


@st.composite
def _rfc3339_texts(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    text = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}"
    if draw(st.booleans()):
        text += f":{moment.second:02d}"
        if draw(st.booleans()):
            text += "." + draw(st.text("0123456789", min_size=1, max_size=9))
    if draw(st.booleans()):
        return text + draw(st.sampled_from(["Z", "z"]))
    minutes = draw(st.integers(min_value=0, max_value=23 * 60 + 59))
    return text + f"{draw(st.sampled_from('+-'))}{minutes // 60:02d}:{minutes % 60:02d}"


@given(_rfc3339_texts())
def test_received_time_text_is_written_back_byte_for_byte(text: str) -> None:
    doc = {"available_begin_time": text, "available_end_time": text}
    assert unstructure(structure(doc, CouponAvailablePeriod)) == doc


@pytest.mark.parametrize(
    ("cls", "doc", "problem"),
    [
        (StockSendRule, {"max_count": "1"}, "expected an integer, got a string @ $.max_count"),
        (StockSendRule, {"max_count": True}, "expected an integer, got a boolean @ $.max_count"),
        (StockSendRule, {"max_count": 1.5}, "expected an integer, got a number @ $.max_count"),
        (StockSendRule, {"max_count": None}, "expected an integer, got null @ $.max_count"),
        (StockSendRule, {}, "required field missing @ $.max_count"),
        (FavorCoupon, {"coupon_id": 98}, "expected a string, got a number @ $.coupon_id"),
        (FavorCoupon, {"singleitem": "true"}, "expected a boolean, got a string @ $.singleitem"),
        (FavorCoupon, {"singleitem": 1}, "expected a boolean, got a number @ $.singleitem"),
        (FavorCoupon, {"status": ["USED"]}, "expected a string, got an array @ $.status"),
        (FavorCoupon, {"create_time": 1700000000}, "expected an RFC 3339 time string, got a number @ $.create_time"),
        (FavorCoupon, {"cut_to_message": "none"}, "expected an object, got a string @ $.cut_to_message"),
        (
            ProductCouponDisplayInfo,
            {"name": "n", "image_url": "i", "background_url": "b", "detail_image_url_list": "https://x"},
            "expected an array, got a string @ $.detail_image_url_list",
        ),
        (
            ProductCouponDisplayInfo,
            {"name": "n", "image_url": "i", "background_url": "b", "detail_image_url_list": ["a", 2]},
            "expected a string, got a number @ $.detail_image_url_list[1]",
        ),
        (BusifavorAvailableWeek, {"week_day": [1, "2"]}, "expected an integer, got a string @ $.week_day[1]"),
        (UserProductCouponPage, [], "expected an object, got an array @ $"),
        (UserProductCouponPage, None, "expected an object, got null @ $"),
    ],
)
def test_json_types_are_checked_not_coerced(cls: type, doc: Any, problem: str) -> None:
    with pytest.raises(StructureError) as caught:
        structure(doc, cls)
    assert caught.value.paths == (problem,)
    assert isinstance(caught.value, ValueError)


def test_open_enum_fields_take_members_known_values_and_unknown_values() -> None:
    week = structure({"week_day": [0, 6, 7]}, BusifavorAvailableWeek)
    assert week.week_day == [WeekDayNumber.SUNDAY, WeekDayNumber.SATURDAY, 7]
    assert [type(d) for d in week.week_day or []] == [WeekDayNumber, WeekDayNumber, int]
    coupon = structure({"status": "RECOVER"}, FavorCoupon)
    assert coupon.status is FavorCouponStatus.RECOVER
    assert structure({"status": "recover"}, FavorCoupon).status == "recover"
    assert unstructure(FavorCoupon(status=FavorCouponStatus.USED)) == {"status": "USED"}
    assert unstructure(FavorCoupon(status="LATER")) == {"status": "LATER"}


def test_request_enum_fields_are_closed() -> None:
    assert structure({"appid": "wx1", "coupon_state": "USED"}, BusifavorCouponQuery).coupon_state is (
        BusifavorCouponState.USED
    )
    with pytest.raises(StructureError, match=r"@ \$\.coupon_state"):
        structure({"appid": "wx1", "coupon_state": "LOST"}, BusifavorCouponQuery)


def test_unstructure_drops_none_and_keeps_false_and_zero() -> None:
    query = BusifavorCouponQuery(appid="wx1", coupon_state=BusifavorCouponState.SENDED, offset=0)
    assert unstructure(query) == {"appid": "wx1", "coupon_state": "SENDED", "offset": 0}
    assert unstructure(FavorCoupon(singleitem=False, available_balance=0)) == {
        "singleitem": False,
        "available_balance": 0,
    }
    assert unstructure([BusifavorCouponState.USED, None]) == ["USED", None]


def test_there_is_one_converter_and_it_ignores_extra_keys() -> None:
    assert converter.forbid_extra_keys is False
    assert structure({"max_count": 1, "new": True}, StockSendRule) == StockSendRule(max_count=1)


def test_a_huge_bad_time_is_quoted_short_so_the_field_path_stays_in_view() -> None:
    # A 1 MB expire_time went whole into the StructureError: its path (and a page's Request-ID) ended a
    # message of a megabyte, past where log lines are cut.
    from wxpay_chain.models import BusifavorCouponPage

    with pytest.raises(StructureError) as caught:
        page = {"data": [{"expire_time": "x" * 1_000_000}], "total_count": 1, "limit": 1, "offset": 0}
        structure(page, BusifavorCouponPage)
    message = str(caught.value)
    assert len(message) < 2_000 and "(1000000 characters)" in message
    assert any("$.data[0].expire_time" in path for path in caught.value.paths)
