"""Busifavor (商家券) user coupons: GET v3/marketing/busifavor/users/{openid}/coupons.

Seeds 000 and 001 (根据过滤条件查询用户券). Response fields are all optional except the paging
counters; enum-typed response fields also accept values this SDK does not know yet (as ``str``/``int``).
"""

from __future__ import annotations

from datetime import datetime

import attrs

from .enums import (
    BackgroundColor,
    BusifavorCodeDisplayMode,
    BusifavorCouponState,
    BusifavorStockType,
    BusifavorUseMethod,
    WeekDayNumber,
)

__all__ = [
    "BusifavorAvailableDayTime",
    "BusifavorAvailableWeek",
    "BusifavorCoupon",
    "BusifavorCouponAvailableTime",
    "BusifavorCouponPage",
    "BusifavorCouponQuery",
    "BusifavorCouponUseRule",
    "BusifavorCustomEntrance",
    "BusifavorDiscountCoupon",
    "BusifavorDisplayPatternInfo",
    "BusifavorExchangeCoupon",
    "BusifavorFinderInfo",
    "BusifavorFixedNormalCoupon",
    "BusifavorIrregularAvailableTime",
    "BusifavorMiniProgramsInfo",
]


@attrs.frozen(kw_only=True)
class BusifavorCouponQuery:
    """Query string of the busifavor user-coupon list (openid goes in the path)."""

    appid: str
    stock_id: str | None = None
    coupon_state: BusifavorCouponState | None = None
    creator_merchant: str | None = None
    belong_merchant: str | None = None
    sender_merchant: str | None = None
    offset: int | None = attrs.field(default=None, metadata={"minimum": 0})
    limit: int | None = attrs.field(default=None, metadata={"minimum": 1})


@attrs.frozen(kw_only=True)
class BusifavorAvailableDayTime:
    """A time window within a day, in seconds since midnight."""

    begin_time: int | None = None
    end_time: int | None = None


@attrs.frozen(kw_only=True)
class BusifavorAvailableWeek:
    """Weekly recurring availability: weekdays (0 = Sunday) and windows within those days."""

    week_day: list[WeekDayNumber | int] | None = None
    available_day_time: list[BusifavorAvailableDayTime] | None = None


@attrs.frozen(kw_only=True)
class BusifavorIrregularAvailableTime:
    """One irregular period in which the coupon can be used."""

    begin_time: datetime | None = None
    end_time: datetime | None = None


@attrs.frozen(kw_only=True)
class BusifavorCouponAvailableTime:
    """When a busifavor coupon can be redeemed."""

    available_begin_time: datetime | None = None
    available_end_time: datetime | None = None
    available_day_after_receive: int | None = None
    available_week: BusifavorAvailableWeek | None = None
    irregulary_avaliable_time: list[BusifavorIrregularAvailableTime] | None = None


@attrs.frozen(kw_only=True)
class BusifavorFixedNormalCoupon:
    """Rule of a fixed-amount coupon: amount off above a minimum spend (fen)."""

    discount_amount: int | None = None
    transaction_minimum: int | None = None


@attrs.frozen(kw_only=True)
class BusifavorDiscountCoupon:
    """Rule of a discount coupon: percentage off above a minimum spend (fen)."""

    discount_percent: int | None = None
    transaction_minimum: int | None = None


@attrs.frozen(kw_only=True)
class BusifavorExchangeCoupon:
    """Rule of an exchange coupon: the item's exchange price above a minimum spend (fen)."""

    exchange_price: int | None = None
    transaction_minimum: int | None = None


@attrs.frozen(kw_only=True)
class BusifavorCouponUseRule:
    """Redemption rules of a busifavor coupon: when, how much, and how it is redeemed."""

    coupon_available_time: BusifavorCouponAvailableTime | None = None
    fixed_normal_coupon: BusifavorFixedNormalCoupon | None = None
    discount_coupon: BusifavorDiscountCoupon | None = None
    exchange_coupon: BusifavorExchangeCoupon | None = None
    use_method: BusifavorUseMethod | str | None = None
    mini_programs_appid: str | None = None
    mini_programs_path: str | None = None


@attrs.frozen(kw_only=True)
class BusifavorMiniProgramsInfo:
    """The merchant mini-program entrance shown on the coupon."""

    mini_programs_appid: str | None = None
    mini_programs_path: str | None = None
    entrance_words: str | None = None
    guiding_words: str | None = None


@attrs.frozen(kw_only=True)
class BusifavorCustomEntrance:
    """Custom entrances on the coupon: mini program, official account, more-offers hall, store."""

    mini_programs_info: BusifavorMiniProgramsInfo | None = None
    appid: str | None = None
    hall_id: str | None = None
    store_id: str | None = None
    code_display_mode: BusifavorCodeDisplayMode | str | None = None


@attrs.frozen(kw_only=True)
class BusifavorFinderInfo:
    """The WeChat Channels (视频号) video linked from the coupon."""

    finder_id: str | None = None
    finder_video_id: str | None = None
    finder_video_cover_image_url: str | None = None


@attrs.frozen(kw_only=True)
class BusifavorDisplayPatternInfo:
    """How the coupon looks: notes, merchant logo and name, colour, detail image, Channels video."""

    description: str | None = None
    merchant_logo_url: str | None = None
    merchant_name: str | None = None
    background_color: BackgroundColor | str | None = None
    coupon_image_url: str | None = None
    finder_info: BusifavorFinderInfo | None = None


@attrs.frozen(kw_only=True)
class BusifavorCoupon:
    """One busifavor coupon in a user's card bag."""

    stock_name: str | None = None
    belong_merchant: str | None = None
    comment: str | None = None
    goods_name: str | None = None
    stock_type: BusifavorStockType | str | None = None
    coupon_use_rule: BusifavorCouponUseRule | None = None
    custom_entrance: BusifavorCustomEntrance | None = None
    display_pattern_info: BusifavorDisplayPatternInfo | None = None
    coupon_code: str | None = None
    coupon_state: BusifavorCouponState | str | None = None
    stock_id: str | None = None
    transferable: bool | None = None
    shareable: bool | None = None
    send_request_no: str | None = None
    use_request_no: str | None = None
    available_start_time: datetime | None = None
    expire_time: datetime | None = None
    receive_time: datetime | None = None
    use_time: datetime | None = None


@attrs.frozen(kw_only=True)
class BusifavorCouponPage:
    """One page of a user's busifavor coupons (offset/limit paging)."""

    total_count: int
    offset: int
    limit: int
    data: list[BusifavorCoupon] | None = None
