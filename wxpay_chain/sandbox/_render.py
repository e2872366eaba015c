"""Records as the JSON WeChat Pay answers with: the field order and nesting of the seed examples."""

from __future__ import annotations

import copy

from ._clock import rfc3339
from ._records import BusifavorCoupon, Document, FavorCoupon, IssuedCoupon, ProductCoupon, Stock
from ._rules import busifavor_state, favor_status, round_states


def render_product_coupon(product: ProductCoupon) -> Document:
    return {
        "product_coupon_id": product.product_coupon_id,
        "state": product.state,
        "brand_id": product.brand_id,
        "type": product.type,
        "usage_mode": product.usage_mode,
        **copy.deepcopy(product.document),
    }


def render_stock(stock: Stock, *, sent: int, sent_today: int, uploaded_used: int) -> Document:
    """A stock with its counters (``sent``/``sent_today`` coupons, ``uploaded_used`` of its uploaded codes)."""
    out: Document = {
        "product_coupon_id": stock.product_coupon_id,
        "stock_id": stock.stock_id,
        "coupon_code_mode": stock.coupon_code_mode,
    }
    if stock.coupon_code_mode == "UPLOAD":
        out["coupon_code_count_info"] = {
            "total_count": len(stock.uploaded_codes),
            "available_count": len(stock.uploaded_codes) - uploaded_used,
        }
    send_rule: Document = {"max_count": stock.max_count}
    if stock.max_count_per_day is not None:
        send_rule["max_count_per_day"] = stock.max_count_per_day
    if stock.max_count_per_user is not None:
        send_rule["max_count_per_user"] = stock.max_count_per_user
    out["stock_send_rule"] = send_rule
    out.update(copy.deepcopy(stock.document))
    out["sent_count_info"] = {"total_count": sent, "today_count": sent_today}
    out["state"] = stock.state
    out["brand_id"] = stock.brand_id
    return out


def render_user_coupon(coupon: IssuedCoupon, now: float, *, product: Document, stock: Document) -> Document:
    """The user coupon as the seeds show it, with its rendered product coupon and stock."""
    out: Document = {
        "coupon_code": coupon.coupon_code,
        "coupon_state": coupon.state_at(now),
        "valid_begin_time": rfc3339(coupon.valid_begin),
        "valid_end_time": rfc3339(coupon.valid_end),
        "receive_time": rfc3339(coupon.receive_time),
        "send_request_no": coupon.send_request_no,
        "send_channel": coupon.send_channel,
    }
    extra = copy.deepcopy(coupon.extra)
    items = extra.get("sequential_usage_detail", {}).get("detail_item_list", [])
    for item, state in zip(items, round_states(coupon, now), strict=True):
        item["detail_state"] = state
    channel_info = extra.pop("channel_custom_info", None)
    out.update(extra)
    out["product_coupon"] = product
    out["stock"] = stock
    if coupon.attach is not None:
        out["attach"] = coupon.attach
    if channel_info is not None:
        out["channel_custom_info"] = channel_info
    out["brand_id"] = coupon.brand_id
    return out


def render_busifavor(coupon: BusifavorCoupon, now: float) -> Document:
    """A busifavor coupon as the list answer shows it, its ``coupon_state`` at ``now``."""
    return {**copy.deepcopy(coupon.document), "coupon_state": busifavor_state(coupon, now)}


def render_favor(coupon: FavorCoupon, now: float) -> Document:
    """A favor coupon as the detail answer shows it, its ``status`` at ``now``."""
    return {**copy.deepcopy(coupon.document), "status": favor_status(coupon, now)}
