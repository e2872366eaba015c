"""Product coupons (商品券) of users, for service providers and for brands.

* POST/GET v3/marketing/partner/product-coupon/users/{openid}/coupons (seed 003): the partner API;
  requests carry ``brand_id``.
* GET/POST brand/marketing/product-coupon/users/{openid}/coupons (seed 004): the brand API; the brand
  is named by the Authorization header, so requests carry no ``brand_id``.

Both answer with the same user coupon. Fields the seeds mark as required have no default, except
``brand_id``: seed 003 marks it required in the coupon, product coupon and stock, but the brand API's
full example (seed 004) has none of them, so it is optional everywhere.
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
    SendChannel,
    SequentialUsageType,
    StockState,
    StoreScope,
    UsageDetailState,
    UsageMode,
    UserProductCouponState,
    Weekday,
)

__all__ = [
    "AssociatedOrderInfo",
    "BrandProductCouponSendRequest",
    "BrandUserProductCouponQuery",
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
    "ProductCouponSendRequest",
    "ProductCouponStock",
    "SentCountInfo",
    "SequentialUsageDetail",
    "SequentialUsageDetailItem",
    "SequentialUsageInfo",
    "SequentialUsageRule",
    "SingleUsageDetail",
    "SingleUsageInfo",
    "SingleUsageRule",
    "StockSendRule",
    "UsageRuleDisplayInfo",
    "UserProductCoupon",
    "UserProductCouponPage",
    "UserProductCouponQuery",
    "WeeklyAvailablePeriod",
]

_PAGE_SIZE = {"minimum": 1, "maximum": 50}


# --- requests -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ProductCouponSendRequest:
    """JSON body that sends a product coupon to a user through the partner API."""

    brand_id: str
    product_coupon_id: str
    stock_id: str
    appid: str
    send_request_no: str
    coupon_code: str | None = None
    attach: str | None = None


@attrs.frozen(kw_only=True)
class BrandProductCouponSendRequest:
    """JSON body that sends a product coupon to a user through the brand API (no brand_id)."""

    product_coupon_id: str
    stock_id: str
    appid: str
    send_request_no: str
    coupon_code: str | None = None
    attach: str | None = None


@attrs.frozen(kw_only=True)
class UserProductCouponQuery:
    """Query string of the partner API's user product-coupon list (openid goes in the path)."""

    appid: str
    brand_id: str
    product_coupon_id: str | None = None
    stock_id: str | None = None
    coupon_state: UserProductCouponState | None = None
    page_size: int | None = attrs.field(default=None, metadata=_PAGE_SIZE)
    page_token: str | None = None


@attrs.frozen(kw_only=True)
class BrandUserProductCouponQuery:
    """Query string of the brand API's user product-coupon list (no brand_id)."""

    appid: str
    product_coupon_id: str | None = None
    stock_id: str | None = None
    coupon_state: UserProductCouponState | None = None
    page_size: int | None = attrs.field(default=None, metadata=_PAGE_SIZE)
    page_token: str | None = None


# --- usage details --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AssociatedOrderInfo:
    """The WeChat Pay order a coupon was redeemed on."""

    transaction_id: str | None = None
    out_trade_no: str | None = None
    mchid: str | None = None
    sub_mchid: str | None = None


@attrs.frozen(kw_only=True)
class SingleUsageDetail:
    """Redemption and return details of a single-use product coupon."""

    use_request_no: str | None = None
    use_time: datetime | None = None
    associated_order_info: AssociatedOrderInfo | None = None
    return_request_no: str | None = None
    return_time: datetime | None = None


@attrs.frozen(kw_only=True)
class SequentialUsageDetailItem:
    """One round of a sequential-usage product coupon."""

    detail_state: UsageDetailState | str | None = None
    valid_begin_time: datetime | None = None
    valid_end_time: datetime | None = None
    use_request_no: str | None = None
    use_time: datetime | None = None
    associated_order_info: AssociatedOrderInfo | None = None
    return_request_no: str | None = None
    return_time: datetime | None = None
    delete_time: datetime | None = None


@attrs.frozen(kw_only=True)
class SequentialUsageDetail:
    """Usage of a sequential-usage product coupon: counts and the rounds so far."""

    total_count: int | None = None
    used_count: int | None = None
    detail_item_list: list[SequentialUsageDetailItem] | None = None


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


# --- responses ------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class UserProductCoupon:
    """A product coupon held by a user: state, validity, usage, the product coupon and its stock."""

    coupon_code: str
    coupon_state: UserProductCouponState | str
    valid_begin_time: datetime
    valid_end_time: datetime
    receive_time: datetime
    send_request_no: str
    send_channel: SendChannel | str
    product_coupon: ProductCoupon
    stock: ProductCouponStock
    confirm_request_no: str | None = None
    confirm_time: datetime | None = None
    deactivate_request_no: str | None = None
    deactivate_time: datetime | None = None
    deactivate_reason: str | None = None
    single_usage_detail: SingleUsageDetail | None = None
    sequential_usage_detail: SequentialUsageDetail | None = None
    attach: str | None = None
    channel_custom_info: str | None = None
    brand_id: str | None = None


@attrs.frozen(kw_only=True)
class UserProductCouponPage:
    """One page of a user's product coupons (page_token paging).

    ``total_count`` comes only with the first page (the request had no page_token).
    """

    total_count: int | None = None
    user_coupon_list: list[UserProductCoupon] | None = None
    next_page_token: str | None = None
