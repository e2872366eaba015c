"""Request targets and bodies the sandbox tests share."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from wxpay_chain.sandbox import DEMO_APPID, DEMO_OPENIDS

RICH, LIGHT, FRESH = DEMO_OPENIDS
BRAND_ID = "120344"


def partner(openid: str = FRESH, **query: Any) -> str:
    return _with_query(f"/v3/marketing/partner/product-coupon/users/{quote(openid, safe='')}/coupons", query)


def brand_path(openid: str = FRESH, **query: Any) -> str:
    return _with_query(f"/brand/marketing/product-coupon/users/{quote(openid, safe='')}/coupons", query)


def busifavor(openid: str = RICH, **query: Any) -> str:
    return _with_query(f"/v3/marketing/busifavor/users/{quote(openid, safe='')}/coupons", query)


def favor(coupon_id: str, openid: str = RICH, **query: Any) -> str:
    return _with_query(f"/v3/marketing/favor/users/{quote(openid, safe='')}/coupons/{quote(coupon_id, safe='')}", query)


def _with_query(path: str, query: dict[str, Any]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def send_body(send_request_no: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "brand_id": BRAND_ID,
        "product_coupon_id": "1000000013",
        "stock_id": "1000000013001",
        "appid": DEMO_APPID,
        "send_request_no": send_request_no,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


class FakeClock:
    """A sandbox clock tests move by hand."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now
