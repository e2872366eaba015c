"""The business rules, as pure functions over records: what a valid document is, when a stock may send,
its send limits, how a request number replays, how long an issued coupon is valid, and the state a coupon
(or a round of one) shows at a given time."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from ._clock import DAY, parse_rfc3339, rfc3339
from ._failures import ApiFailure, invalid_request, not_found, param_error
from ._records import (
    CODE_MODES,
    PRODUCT_COUPON_STATES,
    PRODUCT_COUPON_TYPES,
    STOCK_STATES,
    USAGE_MODES,
    BusifavorCoupon,
    Document,
    FavorCoupon,
    IssuedCoupon,
    ProductCoupon,
    Stock,
    is_past,
    window_state,
)

# Fields kept in their own columns; the rest of a document is stored (and shown) as given.
_STOCK_COMPUTED = (
    "product_coupon_id",
    "stock_id",
    "brand_id",
    "state",
    "coupon_code_mode",
    "stock_send_rule",
    "sent_count_info",
    "coupon_code_count_info",
)
_PRODUCT_COUPON_COMPUTED = ("product_coupon_id", "brand_id", "state", "type", "usage_mode")


def positive_int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def optional_positive_int(value: object, name: str) -> int | None:
    return None if value is None else positive_int(value, name)


def choice(value: object, allowed: Iterable[str], name: str) -> str:
    options = tuple(allowed)
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    assert isinstance(value, str)
    return value


# -- validity of seeded documents ---------------------------------------------------------------------


def product_coupon_from(document: Mapping[str, Any]) -> ProductCoupon:
    """A product coupon from a seed-shaped document; raises ValueError if malformed."""
    doc = copy.deepcopy(dict(document))
    usage_mode = choice(doc.get("usage_mode"), USAGE_MODES, "usage_mode")
    if usage_mode == "SEQUENTIAL":
        info = doc.get("sequential_usage_info")
        if not isinstance(info, dict):
            raise ValueError("a SEQUENTIAL product coupon needs sequential_usage_info")
        positive_int(info.get("count"), "sequential_usage_info.count")
        positive_int(info.get("available_days"), "sequential_usage_info.available_days")
    return ProductCoupon(
        product_coupon_id=str(doc["product_coupon_id"]),
        brand_id=str(doc["brand_id"]),
        state=choice(doc.get("state", "EFFECTIVE"), PRODUCT_COUPON_STATES, "state"),
        type=choice(doc.get("type"), PRODUCT_COUPON_TYPES, "type"),
        usage_mode=usage_mode,
        document={k: v for k, v in doc.items() if k not in _PRODUCT_COUPON_COMPUTED},
    )


def seeded_time(document: Mapping[str, Any], name: str, what: str, *, required: bool = False) -> None:
    """ValueError unless ``document[name]`` is an RFC 3339 time with its offset (or absent, if allowed)."""
    value = document.get(name)
    if value is None and not required:
        return
    try:
        if not isinstance(value, str):
            raise ValueError(f"expected RFC 3339 text, got {type(value).__name__}")
        parse_rfc3339(value)
    except ValueError as exc:
        example = "2025-03-12T00:00:00+08:00"
        raise ValueError(f"{what}: {name}: {exc}; write it as WeChat Pay does, e.g. {example}") from None


def stock_from(document: Mapping[str, Any], product: ProductCoupon | None, uploaded_codes: Iterable[str]) -> Stock:
    """A stock of ``product`` from a seed-shaped document; raises ValueError if malformed."""
    doc = copy.deepcopy(dict(document))
    if product is None:
        raise ValueError(f"stock {doc.get('stock_id')!r}: add its product coupon first")
    rule_key = "single_usage_rule" if product.usage_mode == "SINGLE" else "sequential_usage_rule"
    period = doc.get(rule_key, {}).get("coupon_available_period", {})
    for name in ("available_begin_time", "available_end_time"):
        seeded_time(period, name, f"stock {doc.get('stock_id')!r}", required=True)
    send_rule = doc.get("stock_send_rule", {})
    return Stock(
        stock_id=str(doc["stock_id"]),
        product_coupon_id=product.product_coupon_id,
        brand_id=product.brand_id,
        state=choice(doc.get("state", "SENDING"), STOCK_STATES, "state"),
        coupon_code_mode=choice(doc.get("coupon_code_mode", "WECHATPAY"), CODE_MODES, "coupon_code_mode"),
        max_count=positive_int(send_rule.get("max_count"), "max_count"),
        max_count_per_day=optional_positive_int(send_rule.get("max_count_per_day"), "max_count_per_day"),
        max_count_per_user=optional_positive_int(send_rule.get("max_count_per_user"), "max_count_per_user"),
        document={k: v for k, v in doc.items() if k not in _STOCK_COMPUTED},
        uploaded_codes=tuple(uploaded_codes),
    )


# -- sending ------------------------------------------------------------------------------------------


def check_replay(
    previous: IssuedCoupon,
    *,
    openid: str,
    appid: str,
    product_coupon_id: str,
    stock_id: str,
    coupon_code: str | None,
    attach: str | None,
) -> None:
    """A reused ``send_request_no`` replays the first coupon only for the same user, stock, code and attach."""
    # An absent attach and an empty one both mean "none", so a retry serialised either way still replays.
    same = (previous.openid, previous.appid, previous.product_coupon_id, previous.stock_id, previous.attach or "") == (
        openid,
        appid,
        product_coupon_id,
        stock_id,
        attach or "",
    )
    if not same or (coupon_code is not None and coupon_code != previous.coupon_code):
        raise invalid_request(
            "send_request_no 已用于另一次不同参数的发券 (this send_request_no was already used "
            "with different parameters; use a new number for a new coupon)",
            detail={"field": "send_request_no", "location": "body", "issue": "REUSED"},
        )


def check_sendable(
    product: ProductCoupon | None, stock: Stock | None, *, brand_id: str, product_coupon_id: str, stock_id: str
) -> tuple[ProductCoupon, Stock]:
    if product is None or product.brand_id != brand_id:
        raise not_found(f"未找到 product_coupon_id 对应的商品券 (no product coupon {product_coupon_id})")
    if stock is None or stock.product_coupon_id != product_coupon_id:
        raise not_found(f"未找到 stock_id 对应的商品券批次 (no stock {stock_id} in this product coupon)")
    if product.state != "EFFECTIVE":
        raise invalid_request(f"商品券状态为 {product.state}，不可发放 (the product coupon is not EFFECTIVE)")
    if stock.state != "SENDING":
        raise invalid_request(f"批次状态为 {stock.state}，不可发放 (the stock is not SENDING)")
    return product, stock


def check_requested_code(stock: Stock, requested: str | None) -> None:
    """Only API_ASSIGN stocks take (and need) the caller's coupon_code."""
    if stock.coupon_code_mode == "API_ASSIGN":
        if requested is None:
            raise param_error(
                "coupon_code", "is required when the stock's coupon_code_mode is API_ASSIGN", location="body"
            )
    elif requested is not None:
        raise param_error(
            "coupon_code",
            f"is only accepted when coupon_code_mode is API_ASSIGN (this stock is {stock.coupon_code_mode})",
            location="body",
        )


def duplicate_code() -> ApiFailure:
    return invalid_request(
        "coupon_code 在该批次中已被使用 (this coupon_code was already issued in this stock)",
        detail={"field": "coupon_code", "location": "body", "issue": "DUPLICATE"},
    )


def no_uploaded_code() -> ApiFailure:
    return invalid_request(
        "批次预上传的券Code已用完 (no uploaded coupon codes left in this stock)",
        detail={"field": "stock_id", "location": "body", "issue": "NO_UPLOADED_CODE"},
    )


def check_limits(stock: Stock, *, sent: int, sent_today: int, sent_to_user: int) -> None:
    """The stock's send rules, in the order WeChat Pay checks them."""
    checks: list[tuple[str, int | None, int, str]] = [
        ("max_count", stock.max_count, sent, "批次发放总数已达上限"),
        ("max_count_per_day", stock.max_count_per_day, sent_today, "批次当日发放数已达上限"),
        ("max_count_per_user", stock.max_count_per_user, sent_to_user, "用户领取次数已达批次每人限领上限"),
    ]
    for rule, limit, used, text in checks:
        if limit is not None and used >= limit:
            raise ApiFailure(
                400,
                "INVALID_REQUEST",
                f"{text} ({rule} reached: {used} of {limit})",
                detail={"field": "stock_id", "location": "body", "value": stock.stock_id, "issue": rule},
            )


def validity(product: ProductCoupon, stock: Stock, received: float) -> tuple[float, float, Document]:
    """``(valid_begin, valid_end, extra)`` of a coupon received at ``received``; sequential ones get their rounds."""
    single = product.usage_mode == "SINGLE"
    rule = stock.document["single_usage_rule" if single else "sequential_usage_rule"]
    period = rule["coupon_available_period"]
    start = parse_rfc3339(period["available_begin_time"])
    stop = parse_rfc3339(period["available_end_time"])
    begin = max(received + DAY * int(period.get("wait_days_after_receive") or 0), start)
    if single:
        days = period.get("available_days")
        end = min(stop, begin + DAY * int(days) - 1) if days else stop
        return begin, end, {}
    info = product.document["sequential_usage_info"]
    end = min(stop, begin + DAY * int(info["available_days"]) - 1)
    interval = DAY * int(info.get("interval_days") or 0)
    # Only a round's use is kept; the state it shows comes from the clock when rendered (round_states).
    rounds = [
        {
            "detail_state": "PENDING",
            "valid_begin_time": rfc3339(min(begin + i * interval, end)),
            "valid_end_time": rfc3339(end),
        }
        for i in range(int(info["count"]))
    ]
    detail = {"total_count": int(info["count"]), "used_count": 0, "detail_item_list": rounds}
    return begin, end, {"sequential_usage_detail": detail}


# -- states at a time ---------------------------------------------------------------------------------

# A coupon that ends this way takes its rounds that were not used along with it.
_ENDING_ROUNDS = ("EXPIRED", "DELETED", "DEACTIVATED")


def round_states(coupon: IssuedCoupon, now: float) -> list[str]:
    """The ``detail_state`` of each round of a sequential coupon at ``now`` (empty for a single-use one)."""
    coupon_state = coupon.state_at(now)
    items = coupon.extra.get("sequential_usage_detail", {}).get("detail_item_list", [])
    return [_round_state(item, coupon_state, now) for item in items]


def _round_state(item: Document, coupon_state: str, now: float) -> str:
    stored = str(item.get("detail_state", "PENDING"))
    if stored not in ("PENDING", "EFFECTIVE"):
        return stored
    if coupon_state in _ENDING_ROUNDS:
        return coupon_state
    if coupon_state == "CONFIRMING":
        return "PENDING"
    return window_state(now, parse_rfc3339(item["valid_begin_time"]), parse_rfc3339(item["valid_end_time"]))


def busifavor_state(coupon: BusifavorCoupon, now: float) -> str:
    """``coupon_state`` at ``now``: an unused (SENDED) coupon past its ``expire_time`` is EXPIRED."""
    return _expired_if_past(coupon.coupon_state, coupon.document.get("expire_time"), now)


def favor_status(coupon: FavorCoupon, now: float) -> str:
    """``status`` at ``now``: an unused (SENDED) coupon past its ``available_end_time`` is EXPIRED."""
    document = coupon.document
    return _expired_if_past(str(document.get("status")), document.get("available_end_time"), now)


def _expired_if_past(state: str, end: object, now: float) -> str:
    if state == "SENDED" and isinstance(end, str) and is_past(now, parse_rfc3339(end)):
        return "EXPIRED"
    return state
