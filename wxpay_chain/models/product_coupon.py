"""Product coupons (商品券) of users, for service providers and for brands.

* POST/GET v3/marketing/partner/product-coupon/users/{openid}/coupons (seed 003): the partner API;
  requests carry ``brand_id``.
* GET/POST brand/marketing/product-coupon/users/{openid}/coupons (seed 004): the brand API; the brand
  is named by the Authorization header, so requests carry no ``brand_id``.

Both answer with the same user coupon. The product coupon and the stock inside it are defined in
:mod:`.product_coupon_stock`, and importable from here too. Fields the seeds mark as required have no
default, except ``brand_id``: seed 003 marks it required in the coupon, product coupon and stock, but the
brand API's full example (seed 004) has none of them, so it is optional everywhere.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from .enums import SendChannel, UsageDetailState, UserProductCouponState
from .product_coupon_stock import (
    ComboPackage,
    ComboPackageChoice,
    CouponAvailablePeriod,
    CouponAvailableStoreInfo,
    CouponCodeCountInfo,
    CouponDisplayInfo,
    DayPeriod,
    DiscountCoupon,
    EntranceFinder,
    EntranceMiniProgram,
    EntranceOfficialAccount,
    ExchangeCoupon,
    IrregularAvailablePeriod,
    NormalCoupon,
    NotifyConfig,
    ProductCoupon,
    ProductCouponDisplayInfo,
    ProductCouponStock,
    SentCountInfo,
    SequentialUsageInfo,
    SequentialUsageRule,
    SingleUsageInfo,
    SingleUsageRule,
    StockSendRule,
    UsageRuleDisplayInfo,
    WeeklyAvailablePeriod,
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
