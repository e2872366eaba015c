"""Favor (代金券) coupon detail: GET v3/marketing/favor/users/{openid}/coupons/{coupon_id}.

Seed 002 (查询代金券详情). The seed marks no top-level response field as required, so all are optional.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from .enums import FavorBusinessType, FavorCouponStatus, FavorCouponType

__all__ = [
    "FavorConsumeInformation",
    "FavorCoupon",
    "FavorCouponQuery",
    "FavorCutToMessage",
    "FavorGoodsDetail",
    "FavorNormalCouponInformation",
]


@attrs.frozen(kw_only=True)
class FavorCouponQuery:
    """Query string of the favor coupon detail (openid and coupon_id go in the path)."""

    appid: str


@attrs.frozen(kw_only=True)
class FavorCutToMessage:
    """Terms of a cut-to (减至) coupon: the highest eligible unit price and the price it is cut to."""

    single_price_max: int | None = None
    cut_to_price: int | None = None


@attrs.frozen(kw_only=True)
class FavorNormalCouponInformation:
    """Terms of a fixed-amount coupon: face value and minimum spend (fen)."""

    coupon_amount: int
    transaction_minimum: int


@attrs.frozen(kw_only=True)
class FavorGoodsDetail:
    """One item of the order a coupon was redeemed on."""

    goods_id: str | None = None
    quantity: int | None = None
    price: int | None = None
    discount_amount: int | None = None


@attrs.frozen(kw_only=True)
class FavorConsumeInformation:
    """Where and when a favor coupon was redeemed."""

    consume_time: datetime | None = None
    consume_mchid: str | None = None
    transaction_id: str | None = None
    goods_detail: list[FavorGoodsDetail] | None = None


@attrs.frozen(kw_only=True)
class FavorCoupon:
    """A favor (cash) coupon with its stock, state, terms and redemption details."""

    stock_creator_mchid: str | None = None
    stock_id: str | None = None
    coupon_id: str | None = None
    coupon_name: str | None = None
    status: FavorCouponStatus | str | None = None
    description: str | None = None
    create_time: datetime | None = None
    coupon_type: FavorCouponType | str | None = None
    start_time: datetime | None = None
    stop_time: datetime | None = None
    singleitem: bool | None = None
    cut_to_message: FavorCutToMessage | None = None
    available_begin_time: datetime | None = None
    available_end_time: datetime | None = None
    normal_coupon_information: FavorNormalCouponInformation | None = None
    consume_information: FavorConsumeInformation | None = None
    available_balance: int | None = None
    business_type: FavorBusinessType | str | None = None
