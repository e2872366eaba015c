"""Builders of seed-shaped documents, for tests and demos that add their own product coupons, stocks,
busifavor and favor coupons (``sb.add_product_coupon(product_coupon_document(...))``)."""

from __future__ import annotations

from typing import Any

from ._clock import DAY, rfc3339
from ._seed import DEMO_APPID

Document = dict[str, Any]

_IMAGE = "https://wxpaylogo.qpic.cn/wxpaylogo/sandbox/coupon.png"
_AVAILABLE_FROM = "2025-01-01T00:00:00+08:00"
_AVAILABLE_UNTIL = "2035-12-31T23:59:59+08:00"


def _rule(coupon_type: str, threshold: int, value: int) -> tuple[str, Document]:
    if coupon_type == "NORMAL":
        return "normal_coupon", {"threshold": threshold, "discount_amount": value}
    if coupon_type == "DISCOUNT":
        return "discount_coupon", {"threshold": threshold, "percent_off": value}
    return "exchange_coupon", {"threshold": threshold, "exchange_price": value}


def product_coupon_document(
    product_coupon_id: str,
    *,
    brand_id: str,
    name: str,
    type: str = "NORMAL",
    usage_mode: str = "SINGLE",
    scope: str = "ALL",
    state: str = "EFFECTIVE",
    threshold: int = 10000,
    value: int = 1000,
    sequential_type: str = "EQUAL",
    count: int = 3,
    available_days: int = 30,
    interval_days: int = 7,
) -> Document:
    """A product coupon document with every field the seeds show for its type and usage mode."""
    doc: Document = {
        "product_coupon_id": product_coupon_id,
        "state": state,
        "brand_id": brand_id,
        "scope": scope,
        "type": type,
        "usage_mode": usage_mode,
    }
    if usage_mode == "SINGLE" and type != "EXCHANGE":
        key, rule = _rule(type, threshold, value)
        doc["single_usage_info"] = {key: rule}
    if usage_mode == "SEQUENTIAL":
        doc["sequential_usage_info"] = {
            "type": sequential_type,
            "count": count,
            "available_days": available_days,
            "interval_days": interval_days,
        }
    display: Document = {
        "name": name,
        "image_url": _IMAGE,
        "background_url": _IMAGE,
        "detail_image_url_list": [_IMAGE],
        "original_price": threshold,
    }
    if type == "EXCHANGE":
        display["combo_package_list"] = [
            {
                "name": "咖啡2选1",
                "pick_count": 1,
                "choice_list": [
                    {"name": "美式", "price": 2500, "count": 1, "image_url": _IMAGE},
                    {"name": "拿铁", "price": 2800, "count": 1, "image_url": _IMAGE},
                ],
            }
        ]
    doc["display_info"] = display
    doc["out_product_no"] = f"Product_{product_coupon_id}"
    return doc


def stock_document(
    stock_id: str,
    product_coupon_id: str,
    *,
    type: str = "NORMAL",
    usage_mode: str = "SINGLE",
    max_count: int = 100,
    max_count_per_day: int | None = None,
    max_count_per_user: int | None = None,
    coupon_code_mode: str = "WECHATPAY",
    state: str = "SENDING",
    remark: str = "沙箱批次",
    threshold: int = 10000,
    value: int = 1000,
    count: int = 3,
    incremental: bool = False,
    wait_days_after_receive: int = 0,
    available_days: int | None = 30,
    available_begin_time: str = _AVAILABLE_FROM,
    available_end_time: str = _AVAILABLE_UNTIL,
) -> Document:
    """A stock document with its send rule and the usage rule for its product coupon's type and mode."""
    period: Document = {"available_begin_time": available_begin_time, "available_end_time": available_end_time}
    if wait_days_after_receive:
        period["wait_days_after_receive"] = wait_days_after_receive
    send_rule: Document = {"max_count": max_count}
    if max_count_per_day is not None:
        send_rule["max_count_per_day"] = max_count_per_day
    if max_count_per_user is not None:
        send_rule["max_count_per_user"] = max_count_per_user
    doc: Document = {
        "product_coupon_id": product_coupon_id,
        "stock_id": stock_id,
        "remark": remark,
        "coupon_code_mode": coupon_code_mode,
        "stock_send_rule": send_rule,
    }
    key, rule = _rule(type, threshold, value)
    if usage_mode == "SINGLE":
        if available_days is not None:
            period["available_days"] = available_days
        doc["single_usage_rule"] = {"coupon_available_period": period, key: rule}
    else:
        rounds = [dict(rule) for _ in range(count)]
        if incremental:
            step_key = "discount_amount" if type == "NORMAL" else "percent_off" if type == "DISCOUNT" else None
            for i, item in enumerate(rounds):
                if step_key is not None:
                    item[step_key] = value + i * max(1, value // 2)
        doc["sequential_usage_rule"] = {
            "coupon_available_period": period,
            f"{key}_list": rounds,
            "special_first": False,
        }
    doc["usage_rule_display_info"] = {
        "coupon_usage_method_list": ["OFFLINE", "MINI_PROGRAM"],
        "mini_program_appid": "wx1234567890",
        "mini_program_path": "/pages/index/product",
        "usage_description": "全场可用",
        "coupon_available_store_info": {"description": "全国门店可用"},
    }
    doc["coupon_display_info"] = {
        "code_display_mode": "QRCODE",
        "background_color": "Color010",
        "entrance_mini_program": {
            "appid": "wx1234567890",
            "path": "/pages/index/product",
            "entrance_wording": "欢迎选购",
            "guidance_wording": "获取更多优惠",
        },
    }
    doc["notify_config"] = {"notify_appid": DEMO_APPID}
    doc["store_scope"] = "ALL"
    doc["state"] = state
    return doc


def busifavor_document(
    *,
    stock_id: str,
    coupon_code: str,
    coupon_state: str,
    stock_type: str,
    belong_merchant: str,
    now: float,
    stock_name: str = "沙箱商家券",
) -> Document:
    """A busifavor (商家券) coupon as the busifavor list answer shows it."""
    rules: Document = {
        "coupon_available_time": {
            "available_begin_time": rfc3339(now - 30 * DAY),
            "available_end_time": rfc3339(now + 60 * DAY),
            "available_day_after_receive": 30,
            "available_week": {
                "week_day": [1, 2, 3, 4, 5],
                "available_day_time": [{"begin_time": 3600, "end_time": 86399}],
            },
        },
        "use_method": "OFF_LINE",
    }
    if stock_type == "NORMAL":
        rules["fixed_normal_coupon"] = {"discount_amount": 500, "transaction_minimum": 5000}
    elif stock_type == "DISCOUNT":
        rules["discount_coupon"] = {"discount_percent": 88, "transaction_minimum": 3000}
    else:
        rules["exchange_coupon"] = {"exchange_price": 990, "transaction_minimum": 0}
    doc: Document = {
        "stock_name": stock_name,
        "belong_merchant": belong_merchant,
        "comment": "沙箱数据",
        "goods_name": "全场商品",
        "stock_type": stock_type,
        "coupon_use_rule": rules,
        "custom_entrance": {
            "mini_programs_info": {
                "mini_programs_appid": "wx1234567890",
                "mini_programs_path": "/pages/index/index",
                "entrance_words": "立即使用",
                "guiding_words": "更多优惠",
            },
            "appid": DEMO_APPID,
            "code_display_mode": "BARCODE",
        },
        "display_pattern_info": {
            "description": "每人限用一张",
            "merchant_logo_url": _IMAGE,
            "merchant_name": "沙箱商户",
            "background_color": "Color020",
            "coupon_image_url": _IMAGE,
        },
        "coupon_code": coupon_code,
        "coupon_state": coupon_state,
        "stock_id": stock_id,
        "transferable": False,
        "shareable": False,
        "send_request_no": f"BUSIFAVOR_SEND_{coupon_code}",
        "available_start_time": rfc3339(now - 10 * DAY),
        "expire_time": rfc3339(now + (20 if coupon_state != "EXPIRED" else -1) * DAY),
        "receive_time": rfc3339(now - 10 * DAY),
    }
    if coupon_state == "USED":
        doc["use_request_no"] = f"BUSIFAVOR_USE_{coupon_code}"
        doc["use_time"] = rfc3339(now - 2 * DAY)
    return doc


def favor_document(
    *, coupon_id: str, status: str, mchid: str, now: float, cut_to: bool = False, stock_id: str = "9856888"
) -> Document:
    """A favor (代金券) coupon as the favor detail answer shows it."""
    doc: Document = {
        "stock_creator_mchid": mchid,
        "stock_id": stock_id,
        "coupon_id": coupon_id,
        "coupon_name": "沙箱减至券" if cut_to else "沙箱代金券",
        "status": status,
        "description": "微信支付营销代金券",
        "create_time": rfc3339(now - 5 * DAY),
        "coupon_type": "CUT_TO" if cut_to else "NORMAL",
        "start_time": rfc3339(now - 30 * DAY),
        "stop_time": rfc3339(now + 60 * DAY),
        "singleitem": cut_to,
        "available_begin_time": rfc3339(now - 5 * DAY),
        "available_end_time": rfc3339(now + (25 if status != "EXPIRED" else -1) * DAY),
        "normal_coupon_information": {"coupon_amount": 100, "transaction_minimum": 100},
        "available_balance": 0 if status in ("USED", "RECOVER") else 100,
        "business_type": "MULTIUSE",
    }
    if cut_to:
        doc["cut_to_message"] = {"single_price_max": 1000, "cut_to_price": 100}
    if status == "USED":
        doc["consume_information"] = {
            "consume_time": rfc3339(now - DAY),
            "consume_mchid": mchid,
            "transaction_id": "4200000000123456789123456789",
            "goods_detail": [{"goods_id": "a_goods1", "quantity": 1, "price": 1000, "discount_amount": 100}],
        }
    return doc
