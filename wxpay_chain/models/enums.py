"""Every enumeration the coupon endpoints document, as ``str``-based enums.

Members compare equal to their wire strings (``BusifavorCouponState.SENDED == "SENDED"``), so code
written against a member keeps working when a response field holds a value this SDK does not know
yet and the field therefore carries the plain string instead.
"""

from __future__ import annotations

import enum

__all__ = [
    "BackgroundColor",
    "BusifavorCodeDisplayMode",
    "BusifavorCouponState",
    "BusifavorStockType",
    "BusifavorUseMethod",
    "CodeDisplayMode",
    "CouponCodeMode",
    "CouponUsageMethod",
    "FavorBusinessType",
    "FavorCouponStatus",
    "FavorCouponType",
    "ProductCouponScope",
    "ProductCouponState",
    "ProductCouponType",
    "SendChannel",
    "SequentialUsageType",
    "StockState",
    "StoreScope",
    "UsageDetailState",
    "UsageMode",
    "UserProductCouponState",
    "WeekDayNumber",
    "Weekday",
]


# --- shared ---------------------------------------------------------------------------------------


class BackgroundColor(str, enum.Enum):
    """Coupon background colour (busifavor display_pattern_info, product-coupon coupon_display_info)."""

    COLOR010 = "Color010"
    COLOR020 = "Color020"
    COLOR030 = "Color030"
    COLOR040 = "Color040"
    COLOR050 = "Color050"
    COLOR060 = "Color060"
    COLOR070 = "Color070"
    COLOR080 = "Color080"
    COLOR090 = "Color090"
    COLOR100 = "Color100"


# --- busifavor (商家券) ---------------------------------------------------------------------------


class BusifavorCouponState(str, enum.Enum):
    """State of a busifavor user coupon (coupon_state). Seeds 000/001 list the first three; WeChat Pay's
    current page also lists DELETED and DEACTIVATED, which a coupon list may be filtered by."""

    SENDED = "SENDED"
    USED = "USED"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"
    DEACTIVATED = "DEACTIVATED"


class BusifavorStockType(str, enum.Enum):
    """Busifavor stock type: fixed-amount, discount or exchange coupon (stock_type)."""

    NORMAL = "NORMAL"
    DISCOUNT = "DISCOUNT"
    EXCHANGE = "EXCHANGE"


class BusifavorUseMethod(str, enum.Enum):
    """How a busifavor coupon is redeemed (coupon_use_rule.use_method)."""

    OFF_LINE = "OFF_LINE"
    MINI_PROGRAMS = "MINI_PROGRAMS"
    PAYMENT_CODE = "PAYMENT_CODE"
    SELF_CONSUME = "SELF_CONSUME"


class BusifavorCodeDisplayMode(str, enum.Enum):
    """How a busifavor coupon code is shown (custom_entrance.code_display_mode): not at all, as a barcode
    or as a QR code. Product coupons spell the first ``INVISIBLE`` (:class:`CodeDisplayMode`)."""

    NOT_SHOW = "NOT_SHOW"
    BARCODE = "BARCODE"
    QRCODE = "QRCODE"


class WeekDayNumber(enum.IntEnum):
    """Busifavor weekday number (available_week.week_day): 0 is Sunday, 1 Monday, … 6 Saturday.

    The only integer enumeration in the seeds, so it is an ``IntEnum``: it travels as a JSON number.
    """

    SUNDAY = 0
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6


# --- favor (代金券) -------------------------------------------------------------------------------


class FavorCouponStatus(str, enum.Enum):
    """State of a favor (cash) coupon (status)."""

    SENDED = "SENDED"
    USED = "USED"
    EXPIRED = "EXPIRED"
    RECOVER = "RECOVER"


class FavorCouponType(str, enum.Enum):
    """Favor coupon type: fixed amount off, or cut the price to a fixed value (coupon_type)."""

    NORMAL = "NORMAL"
    CUT_TO = "CUT_TO"


class FavorBusinessType(str, enum.Enum):
    """Favor coupon business type (business_type)."""

    MULTIUSE = "MULTIUSE"


# --- product coupons (商品券) ---------------------------------------------------------------------


class UserProductCouponState(str, enum.Enum):
    """State of a user's product coupon (coupon_state), also a filter of the list query."""

    CONFIRMING = "CONFIRMING"
    PENDING = "PENDING"
    EFFECTIVE = "EFFECTIVE"
    USED = "USED"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"
    DEACTIVATED = "DEACTIVATED"


class UsageDetailState(str, enum.Enum):
    """State of one round of a sequential-usage product coupon (detail_item_list[].detail_state)."""

    PENDING = "PENDING"
    EFFECTIVE = "EFFECTIVE"
    USED = "USED"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"
    DEACTIVATED = "DEACTIVATED"


class SendChannel(str, enum.Enum):
    """Channel through which a product coupon reached the user (send_channel)."""

    API = "API"
    BRAND_MANAGE = "BRAND_MANAGE"
    MERCHANT_CARD = "MERCHANT_CARD"
    MEMBER = "MEMBER"
    SMALL_ACTIVITY = "SMALL_ACTIVITY"


class ProductCouponState(str, enum.Enum):
    """State of a product coupon (product_coupon.state)."""

    AUDITING = "AUDITING"
    EFFECTIVE = "EFFECTIVE"
    DEACTIVATED = "DEACTIVATED"


class ProductCouponScope(str, enum.Enum):
    """Whether a product coupon applies to all products or a single one (product_coupon.scope)."""

    ALL = "ALL"
    SINGLE = "SINGLE"


class ProductCouponType(str, enum.Enum):
    """Product coupon type: amount off, percentage off or exchange price (product_coupon.type)."""

    NORMAL = "NORMAL"
    DISCOUNT = "DISCOUNT"
    EXCHANGE = "EXCHANGE"


class UsageMode(str, enum.Enum):
    """Product coupon usage mode: used once, or several times in rounds (product_coupon.usage_mode)."""

    SINGLE = "SINGLE"
    SEQUENTIAL = "SEQUENTIAL"


class SequentialUsageType(str, enum.Enum):
    """How the benefit of a sequential-usage coupon evolves across rounds (sequential_usage_info.type)."""

    INCREMENTAL = "INCREMENTAL"
    EQUAL = "EQUAL"


class CouponCodeMode(str, enum.Enum):
    """How coupon codes of a product-coupon stock are assigned (stock.coupon_code_mode)."""

    WECHATPAY = "WECHATPAY"
    UPLOAD = "UPLOAD"
    API_ASSIGN = "API_ASSIGN"


class Weekday(str, enum.Enum):
    """Weekday name of a product-coupon weekly available period (weekly_available_period.day_list)."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class CouponUsageMethod(str, enum.Enum):
    """Where a product coupon can be used (usage_rule_display_info.coupon_usage_method_list)."""

    OFFLINE = "OFFLINE"
    MINI_PROGRAM = "MINI_PROGRAM"
    APP = "APP"
    PAYMENT_CODE = "PAYMENT_CODE"


class CodeDisplayMode(str, enum.Enum):
    """How a product coupon code is shown to the user (coupon_display_info.code_display_mode)."""

    INVISIBLE = "INVISIBLE"
    BARCODE = "BARCODE"
    QRCODE = "QRCODE"


class StoreScope(str, enum.Enum):
    """Which stores accept a product-coupon stock (stock.store_scope)."""

    NONE = "NONE"
    ALL = "ALL"
    SPECIFIC = "SPECIFIC"


class StockState(str, enum.Enum):
    """State of a product-coupon stock (stock.state)."""

    AUDITING = "AUDITING"
    SENDING = "SENDING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    DEACTIVATED = "DEACTIVATED"
