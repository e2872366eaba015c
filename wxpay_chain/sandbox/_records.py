"""The records the sandbox keeps: product coupons, their stocks, the ledger of issued coupons, and the older
busifavor (商家券) and favor (代金券) coupons held by users. Plain frozen values; storage is in ``_store``."""

from __future__ import annotations

from typing import Any

import attrs

Document = dict[str, Any]

USER_COUPON_STATES = ("CONFIRMING", "PENDING", "EFFECTIVE", "USED", "EXPIRED", "DELETED", "DEACTIVATED")
PRODUCT_COUPON_TYPES = ("NORMAL", "DISCOUNT", "EXCHANGE")
PRODUCT_COUPON_STATES = ("AUDITING", "EFFECTIVE", "DEACTIVATED")
USAGE_MODES = ("SINGLE", "SEQUENTIAL")
CODE_MODES = ("WECHATPAY", "UPLOAD", "API_ASSIGN")
STOCK_STATES = ("AUDITING", "SENDING", "PAUSED", "STOPPED", "DEACTIVATED")
SEND_CHANNELS = ("API", "BRAND_MANAGE", "MERCHANT_CARD", "MEMBER", "SMALL_ACTIVITY")
BUSIFAVOR_STATES = ("SENDED", "USED", "EXPIRED")
# A coupon list may also be filtered by these (WeChat Pay's page lists them); no sandbox coupon is in either.
BUSIFAVOR_QUERY_STATES = (*BUSIFAVOR_STATES, "DELETED", "DEACTIVATED")
FAVOR_STATES = ("SENDED", "USED", "EXPIRED", "RECOVER")


@attrs.frozen
class ProductCoupon:
    """A 商品券: the fields the sandbox reasons about, plus the rest of its document as shown to callers."""

    product_coupon_id: str
    brand_id: str
    state: str
    type: str
    usage_mode: str
    document: Document = attrs.field(eq=False)


@attrs.frozen
class Stock:
    """A 商品券批次 and its send rules."""

    stock_id: str
    product_coupon_id: str
    brand_id: str
    state: str
    coupon_code_mode: str
    max_count: int
    max_count_per_day: int | None
    max_count_per_user: int | None
    document: Document = attrs.field(eq=False)
    uploaded_codes: tuple[str, ...] = ()


@attrs.frozen
class IssuedCoupon:
    """One user product coupon in the ledger, in issue order (``seq``).

    ``state`` is the stored state; PENDING and EFFECTIVE coupons move to EFFECTIVE and EXPIRED by the clock.
    ``issued_by`` is ``merchant:<mchid>``, ``brand:<brand_id>`` or ``seed``.
    """

    seq: int
    openid: str
    appid: str
    brand_id: str
    product_coupon_id: str
    stock_id: str
    coupon_code: str
    send_request_no: str
    send_channel: str
    state: str
    receive_time: float
    valid_begin: float
    valid_end: float
    attach: str | None = None
    issued_by: str = "seed"
    extra: Document = attrs.field(factory=dict, eq=False)

    def state_at(self, now: float) -> str:
        if self.state not in ("PENDING", "EFFECTIVE"):
            return self.state
        return window_state(now, self.valid_begin, self.valid_end)


def is_past(now: float, end: float) -> bool:
    """Whether a validity ending at ``end`` (inclusive, as WeChat Pay writes end times) is over."""
    return now > end


def window_state(now: float, begin: float, end: float) -> str:
    """PENDING, EFFECTIVE or EXPIRED: where ``now`` falls in a coupon's (or a round's) validity."""
    if now < begin:
        return "PENDING"
    return "EXPIRED" if is_past(now, end) else "EFFECTIVE"


@attrs.frozen
class BusifavorCoupon:
    """A 商家券 in a user's wallet; ``document`` is what the list answer shows, its state as of now."""

    openid: str
    appid: str
    stock_id: str
    coupon_state: str
    creator_merchant: str
    belong_merchant: str
    sender_merchant: str
    document: Document = attrs.field(eq=False)


@attrs.frozen
class FavorCoupon:
    """A 代金券; ``document`` is what the detail answer shows, its ``status`` as of now."""

    openid: str
    appid: str
    coupon_id: str
    document: Document = attrs.field(eq=False)
