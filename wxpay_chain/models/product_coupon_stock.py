"""The product coupon (商品券) and its stock (批次) as the brand set them up: the benefit, when and where
it can be used, the sending limits and how it is shown.

These come back inside a user's product coupon (:class:`~.product_coupon.UserProductCoupon`); import them
from :mod:`.product_coupon` or :mod:`wxpay_chain.models`. Fields the seeds mark as required have no
default, except ``brand_id`` (see :mod:`.product_coupon`).
"""

from __future__ import annotations

from datetime import datetime

import attrs

from .enums import (
    BackgroundColor,
    CodeDisplayMode,
    CouponCodeMode,
    CouponUsageMethod,
    ProductCouponScope,
    ProductCouponState,
    ProductCouponType,
    SequentialUsageType,
    StockState,
    StoreScope,
    UsageMode,
    Weekday,
)

__all__ = [
    "ComboPackage",
    "ComboPackageChoice",
    "CouponAvailablePeriod",
    "CouponAvailableStoreInfo",
    "CouponCodeCountInfo",
    "CouponDisplayInfo",
    "DayPeriod",
    "DiscountCoupon",
    "EntranceFinder",
    "EntranceMiniProgram",
    "EntranceOfficialAccount",
    "ExchangeCoupon",
    "IrregularAvailablePeriod",
    "NormalCoupon",
    "NotifyConfig",
    "ProductCoupon",
    "ProductCouponDisplayInfo",
    "ProductCouponStock",
    "SentCountInfo",
    "SequentialUsageInfo",
    "SequentialUsageRule",
    "SingleUsageInfo",
    "SingleUsageRule",
    "StockSendRule",
    "UsageRuleDisplayInfo",
    "WeeklyAvailablePeriod",
]


# --- product coupon -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class NormalCoupon:
    """Amount-off rule: a fixed discount above a threshold (fen)."""

    threshold: int
    discount_amount: int


@attrs.frozen(kw_only=True)
class DiscountCoupon:
    """Percentage-off rule above a threshold (fen)."""

    threshold: int
    percent_off: int


@attrs.frozen(kw_only=True)
class ExchangeCoupon:
    """Exchange rule: a fixed price for the product above a threshold (fen)."""

    threshold: int
    exchange_price: int


@attrs.frozen(kw_only=True)
class SingleUsageInfo:
    """Benefit of a single-use product coupon."""

    normal_coupon: NormalCoupon | None = None
    discount_coupon: DiscountCoupon | None = None


@attrs.frozen(kw_only=True)
class SequentialUsageInfo:
    """Benefit schedule of a sequential-usage product coupon."""

    type: SequentialUsageType | str
    count: int
    available_days: int
    interval_days: int | None = None


@attrs.frozen(kw_only=True)
class ComboPackageChoice:
    """One item to choose from in a combo package."""

    name: str
    price: int
    count: int
    image_url: str | None = None
    mini_program_appid: str | None = None
    mini_program_path: str | None = None


@attrs.frozen(kw_only=True)
class ComboPackage:
    """A combo package: pick ``pick_count`` items from ``choice_list``."""

    name: str
    pick_count: int
    choice_list: list[ComboPackageChoice]


@attrs.frozen(kw_only=True)
class ProductCouponDisplayInfo:
    """How a product coupon is presented: name, images, original price, combo packages."""

    name: str
    image_url: str
    background_url: str
    detail_image_url_list: list[str] | None = None
    original_price: int | None = None
    combo_package_list: list[ComboPackage] | None = None


@attrs.frozen(kw_only=True)
class ProductCoupon:
    """A product coupon (the product the user's coupon is for)."""

    product_coupon_id: str
    state: ProductCouponState | str
    scope: ProductCouponScope | str
    type: ProductCouponType | str
    usage_mode: UsageMode | str
    display_info: ProductCouponDisplayInfo
    brand_id: str | None = None
    single_usage_info: SingleUsageInfo | None = None
    sequential_usage_info: SequentialUsageInfo | None = None
    out_product_no: str | None = None
    deactivate_request_no: str | None = None
    deactivate_time: datetime | None = None
    deactivate_reason: str | None = None


# --- stock ----------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CouponCodeCountInfo:
    """Codes the brand uploaded for a stock: total and still available."""

    total_count: int
    available_count: int


@attrs.frozen(kw_only=True)
class StockSendRule:
    """Sending limits of a stock: overall, per day and per user."""

    max_count: int
    max_count_per_day: int | None = None
    max_count_per_user: int | None = None


@attrs.frozen(kw_only=True)
class DayPeriod:
    """A time window within a day, in seconds since midnight."""

    begin_time: int
    end_time: int


@attrs.frozen(kw_only=True)
class WeeklyAvailablePeriod:
    """Weekly recurring availability: weekdays and windows within those days."""

    day_list: list[Weekday | str] | None = None
    day_period_list: list[DayPeriod] | None = None


@attrs.frozen(kw_only=True)
class IrregularAvailablePeriod:
    """One irregular period in which the coupon can be used."""

    begin_time: datetime
    end_time: datetime


@attrs.frozen(kw_only=True)
class CouponAvailablePeriod:
    """When coupons of a stock can be redeemed (``available_days`` only for single-use stocks)."""

    available_begin_time: datetime
    available_end_time: datetime
    available_days: int | None = None
    wait_days_after_receive: int | None = None
    weekly_available_period: WeeklyAvailablePeriod | None = None
    irregular_available_period_list: list[IrregularAvailablePeriod] | None = None


@attrs.frozen(kw_only=True)
class SingleUsageRule:
    """Usage rule of a single-use stock: availability and one benefit."""

    coupon_available_period: CouponAvailablePeriod
    normal_coupon: NormalCoupon | None = None
    discount_coupon: DiscountCoupon | None = None
    exchange_coupon: ExchangeCoupon | None = None


@attrs.frozen(kw_only=True)
class SequentialUsageRule:
    """Usage rule of a sequential-usage stock: availability and the benefit of each round."""

    coupon_available_period: CouponAvailablePeriod
    normal_coupon_list: list[NormalCoupon] | None = None
    discount_coupon_list: list[DiscountCoupon] | None = None
    exchange_coupon_list: list[ExchangeCoupon] | None = None
    special_first: bool | None = None


@attrs.frozen(kw_only=True)
class CouponAvailableStoreInfo:
    """Which stores accept the coupon, with an optional mini-program store list."""

    description: str
    mini_program_appid: str | None = None
    mini_program_path: str | None = None


@attrs.frozen(kw_only=True)
class UsageRuleDisplayInfo:
    """How the usage rules are shown: methods, jump targets, description, stores."""

    coupon_usage_method_list: list[CouponUsageMethod | str]
    usage_description: str
    mini_program_appid: str | None = None
    mini_program_path: str | None = None
    app_path: str | None = None
    coupon_available_store_info: CouponAvailableStoreInfo | None = None


@attrs.frozen(kw_only=True)
class EntranceMiniProgram:
    """The mini-program entrance shown on a user's product coupon."""

    appid: str
    path: str
    entrance_wording: str
    guidance_wording: str


@attrs.frozen(kw_only=True)
class EntranceOfficialAccount:
    """The official-account entrance shown on a user's product coupon."""

    appid: str


@attrs.frozen(kw_only=True)
class EntranceFinder:
    """The WeChat Channels (视频号) entrance shown on a user's product coupon."""

    finder_id: str
    finder_video_id: str
    finder_video_cover_image_url: str


@attrs.frozen(kw_only=True)
class CouponDisplayInfo:
    """How a user's product coupon looks: code display, colour and entrances."""

    code_display_mode: CodeDisplayMode | str | None = None
    background_color: BackgroundColor | str | None = None
    entrance_mini_program: EntranceMiniProgram | None = None
    entrance_official_account: EntranceOfficialAccount | None = None
    entrance_finder: EntranceFinder | None = None


@attrs.frozen(kw_only=True)
class NotifyConfig:
    """Event notification settings of a stock."""

    notify_appid: str | None = None


@attrs.frozen(kw_only=True)
class SentCountInfo:
    """How many coupons of a stock were sent, in total and today."""

    total_count: int
    today_count: int


@attrs.frozen(kw_only=True)
class ProductCouponStock:
    """A product-coupon stock (批次): code mode, send limits, usage rules, display and state."""

    product_coupon_id: str
    stock_id: str
    coupon_code_mode: CouponCodeMode | str
    stock_send_rule: StockSendRule
    usage_rule_display_info: UsageRuleDisplayInfo
    coupon_display_info: CouponDisplayInfo
    notify_config: NotifyConfig
    store_scope: StoreScope | str
    sent_count_info: SentCountInfo
    state: StockState | str
    remark: str | None = None
    coupon_code_count_info: CouponCodeCountInfo | None = None
    single_usage_rule: SingleUsageRule | None = None
    sequential_usage_rule: SequentialUsageRule | None = None
    deactivate_request_no: str | None = None
    deactivate_time: datetime | None = None
    deactivate_reason: str | None = None
    brand_id: str | None = None
