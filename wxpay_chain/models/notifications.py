"""Typed resources of coupon notifications, and which model each (event_type, original_type) opens into.

Busifavor 领券 (COUPON.SEND, original_type ``coupon``) carries the fields of WeChat Pay's 领券事件回调通知;
favor 核销 (COUPON.USE) carries the favor coupon; the sandbox's product-coupon events
(original_type ``product_coupon``) carry the user's product coupon.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from .favor import FavorCoupon
from .product_coupon import UserProductCoupon

__all__ = ["BusifavorCouponSendAttachInfo", "BusifavorCouponSendEvent", "notification_model", "register_notification"]


@attrs.frozen(kw_only=True)
class BusifavorCouponSendAttachInfo:
    """Where a busifavor coupon was sent from (支付有礼, 摇一摇, 会员卡…), when WeChat Pay says."""

    transaction_id: str | None = None
    act_code: str | None = None
    hall_code: str | None = None
    hall_belong_mch_id: int | None = None
    card_id: str | None = None
    code: str | None = None
    activity_id: str | None = None


@attrs.frozen(kw_only=True)
class BusifavorCouponSendEvent:
    """The decrypted resource of a busifavor COUPON.SEND (领券) notification."""

    event_type: str
    coupon_code: str
    stock_id: str
    send_time: datetime | None = None
    openid: str | None = None
    unionid: str | None = None
    send_channel: str | None = None
    send_merchant: str | None = None
    attach_info: BusifavorCouponSendAttachInfo | None = None


_MODELS: dict[tuple[str, str | None], type] = {
    ("COUPON.SEND", "coupon"): BusifavorCouponSendEvent,
    ("COUPON.USE", "coupon"): FavorCoupon,
    ("COUPON.SEND", "product_coupon"): UserProductCoupon,
    ("COUPON.USE", "product_coupon"): UserProductCoupon,
}


def register_notification(event_type: str, original_type: str | None, model: type) -> None:
    """Let ``Notification.model`` open another event into ``model``."""
    _MODELS[(event_type, original_type)] = model


def notification_model(event_type: str, original_type: str | None) -> type | None:
    return _MODELS.get((event_type, original_type)) or _MODELS.get((event_type, None))
