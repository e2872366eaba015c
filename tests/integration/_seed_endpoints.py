"""The seed endpoints of the sandbox, each reachable in the three call styles (attribute, item, chain()).

Once the demo's table; the integration tests still walk every endpoint in every style with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from wxpay_chain._chain import Chain
from wxpay_chain.sandbox import DEMO_APPID, DEMO_FAVOR_COUPON_IDS, DEMO_OPENIDS, DEMO_STOCK_IDS

PRODUCT_COUPON_ID, STOCK_ID = "1000000013", DEMO_STOCK_IDS[0]
RICH, LIGHT, _FRESH = DEMO_OPENIDS


class Endpoint:
    """One seed endpoint: how to reach it in each style, what to send, what to show of the answer."""

    def __init__(
        self,
        label: str,
        method: str,
        template: str,
        attributes: tuple[str, ...],
        brand: bool,
        args: Callable[[str], dict[str, Any]],
        summary: Callable[[Any], str],
    ) -> None:
        self.label, self.method, self.template, self.attributes = label, method, template, attributes
        self.brand, self.args, self.summary = brand, args, summary

    def chain(self, client: Any, style: str) -> Chain[Any]:
        if style == "attribute":
            node = client
            for name in self.attributes:
                node = getattr(node, name)
            return node  # type: ignore[no-any-return]
        if style == "item":
            return client[self.template]  # type: ignore[no-any-return]
        return client.chain(self.template)  # type: ignore[no-any-return]


def _send_args(style: str, brand: bool) -> dict[str, Any]:
    body = {
        "product_coupon_id": PRODUCT_COUPON_ID,
        "stock_id": STOCK_ID,
        "appid": DEMO_APPID,
        "send_request_no": f"DEMO-{'B' if brand else 'M'}-{style}-{int(time.time())}",
    }
    if not brand:
        body["brand_id"] = "120344"
    return {"openid": f"oDemo-{style}", "json": body}


def _value(enum_or_text: Any) -> str:
    return str(getattr(enum_or_text, "value", enum_or_text))


def _amount(coupon: Any) -> str:
    info = coupon.normal_coupon_information
    return str(info.coupon_amount) if info else "-"


def _list_summary(page: Any) -> str:
    states = ",".join(sorted({_value(c.coupon_state) for c in page.user_coupon_list}))
    total = f"total={page.total_count} " if page.total_count is not None else ""
    return f"{total}page={len(page.user_coupon_list)} states={states or '-'}"


ENDPOINTS = (
    Endpoint(
        "send product coupon",
        "POST",
        "v3/marketing/partner/product-coupon/users/{openid}/coupons",
        ("v3", "marketing", "partner", "productCoupon", "users", "_openid_", "coupons"),
        False,
        lambda style: _send_args(style, brand=False),
        lambda c: f"coupon_code={c.coupon_code} state={_value(c.coupon_state)}",
    ),
    Endpoint(
        "list product coupons",
        "GET",
        "v3/marketing/partner/product-coupon/users/{openid}/coupons",
        ("v3", "marketing", "partner", "productCoupon", "users", "_openid_", "coupons"),
        False,
        lambda style: {"openid": RICH, "query": {"brand_id": "120344", "appid": DEMO_APPID, "page_size": 5}},
        _list_summary,
    ),
    Endpoint(
        "brand: send coupon",
        "POST",
        "brand/marketing/product-coupon/users/{openid}/coupons",
        ("brand", "marketing", "productCoupon", "users", "_openid_", "coupons"),
        True,
        lambda style: _send_args(style, brand=True),
        lambda c: f"coupon_code={c.coupon_code} state={_value(c.coupon_state)}",
    ),
    Endpoint(
        "brand: list coupons",
        "GET",
        "brand/marketing/product-coupon/users/{openid}/coupons",
        ("brand", "marketing", "productCoupon", "users", "_openid_", "coupons"),
        True,
        lambda style: {"openid": RICH, "query": {"appid": DEMO_APPID, "page_size": 5}},
        _list_summary,
    ),
    Endpoint(
        "busifavor coupons",
        "GET",
        "v3/marketing/busifavor/users/{openid}/coupons",
        ("v3", "marketing", "busifavor", "users", "_openid_", "coupons"),
        False,
        lambda style: {"openid": RICH, "query": {"appid": DEMO_APPID, "coupon_state": "SENDED", "limit": 10}},
        lambda p: f"total={p.total_count} stocks={','.join(sorted({c.stock_id for c in p.data}))}",
    ),
    Endpoint(
        "favor coupon detail",
        "GET",
        "v3/marketing/favor/users/{openid}/coupons/{coupon_id}",
        ("v3", "marketing", "favor", "users", "_openid_", "coupons", "_coupon_id_"),
        False,
        lambda style: {"openid": RICH, "coupon_id": DEMO_FAVOR_COUPON_IDS[0], "query": {"appid": DEMO_APPID}},
        lambda c: f"{c.coupon_name} status={_value(c.status)} amount={_amount(c)}",
    ),
)

STYLES = ("attribute", "item", "chain")
