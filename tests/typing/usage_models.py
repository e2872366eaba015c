"""Typed use of the coupon models, checked with ``mypy --strict`` (tests/test_quality.py runs it).

The ``type: ignore[...]`` lines prove mistakes are caught: with ``warn_unused_ignores`` (part of
--strict) mypy fails if any of them stops being an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from wxpay_chain._converter import structure, unstructure
from wxpay_chain.models import (
    BackgroundColor,
    BrandProductCouponSendRequest,
    BrandUserProductCouponQuery,
    BusifavorCoupon,
    BusifavorCouponPage,
    BusifavorCouponQuery,
    BusifavorCouponState,
    EndpointSpec,
    FavorCoupon,
    FavorCouponQuery,
    FavorCouponStatus,
    ProductCouponSendRequest,
    UserProductCoupon,
    UserProductCouponPage,
    UserProductCouponQuery,
    UserProductCouponState,
    WeekDayNumber,
    lookup,
    next_page,
    request_to_wire,
    validate_request,
)


def unused_busifavor_codes(raw: object) -> list[str]:
    """Codes of the coupons a user has not used yet, from one busifavor page."""
    page: BusifavorCouponPage = structure(raw, BusifavorCouponPage)
    total: int = page.total_count + page.offset + page.limit
    assert total >= 0
    coupons: list[BusifavorCoupon] = page.data or []
    return [
        c.coupon_code for c in coupons if c.coupon_state == BusifavorCouponState.SENDED and c.coupon_code is not None
    ]


def busifavor_weekdays(coupon: BusifavorCoupon) -> list[WeekDayNumber | int]:
    rule = coupon.coupon_use_rule
    if rule is None or rule.coupon_available_time is None or rule.coupon_available_time.available_week is None:
        return []
    return rule.coupon_available_time.available_week.week_day or []


def busifavor_query() -> dict[str, Any]:
    query = BusifavorCouponQuery(appid="wx233544546545989", coupon_state=BusifavorCouponState.SENDED, limit=20)
    return request_to_wire(query)


def favor_redeemed_at(raw: object) -> datetime | None:
    coupon: FavorCoupon = structure(raw, FavorCoupon)
    if coupon.status != FavorCouponStatus.USED or coupon.consume_information is None:
        return None
    info = coupon.normal_coupon_information
    amount: int = info.coupon_amount if info is not None else 0
    assert amount >= 0
    return coupon.consume_information.consume_time


def favor_request(openid: str, coupon_id: str) -> None:
    spec: EndpointSpec | None = lookup("GET", "v3/marketing/favor/users/{openid}/coupons/{coupon_id}")
    if spec is not None:
        validate_request(spec, {"openid": openid, "coupon_id": coupon_id}, FavorCouponQuery(appid="wx1"), None)


def send_partner_coupon(openid: str) -> dict[str, Any]:
    body = ProductCouponSendRequest(
        brand_id="120344",
        product_coupon_id="1000000013",
        stock_id="1000000013001",
        appid="wx233544546545989",
        send_request_no="34657_20250101_123456",
    )
    spec = lookup("POST", "v3/marketing/partner/product-coupon/users/{openid}/coupons")
    assert spec is not None and spec.body is ProductCouponSendRequest
    validate_request(spec, {"openid": openid}, None, body)
    return request_to_wire(body)


def send_brand_coupon() -> dict[str, Any]:
    return request_to_wire(
        BrandProductCouponSendRequest(product_coupon_id="1000000013", stock_id="1", appid="wx1", send_request_no="n-1")
    )


def describe(coupon: UserProductCoupon) -> str:
    state: UserProductCouponState | str = coupon.coupon_state
    begins: datetime = coupon.valid_begin_time
    name: str = coupon.product_coupon.display_info.name
    colour = coupon.stock.coupon_display_info.background_color
    dark = colour == BackgroundColor.COLOR100
    usable = state in (UserProductCouponState.PENDING, UserProductCouponState.EFFECTIVE)
    return f"{name} from {begins:%Y-%m-%d}: {'usable' if usable else state}{' (dark)' if dark else ''}"


def all_brand_coupons(fetch: Any, openid: str) -> Iterator[UserProductCoupon]:
    """Page through the brand list; ``fetch(query)`` returns the parsed JSON of one page."""
    spec = lookup("GET", "brand/marketing/product-coupon/users/{openid}/coupons")
    assert spec is not None and spec.response is UserProductCouponPage
    query: dict[str, Any] | None = request_to_wire(BrandUserProductCouponQuery(appid="wx1", page_size=50))
    while query is not None:
        validate_request(spec, {"openid": openid}, query, None)
        page = structure(fetch(query), UserProductCouponPage)
        yield from page.user_coupon_list or []
        query = next_page(spec, query, page)


def partner_query() -> UserProductCouponQuery:
    return UserProductCouponQuery(appid="wx1", brand_id="120344", coupon_state=UserProductCouponState.USED)


def round_trip(coupon: UserProductCoupon) -> UserProductCoupon:
    wire: Any = unstructure(coupon)
    return structure(wire, UserProductCoupon)


def mistakes_mypy_must_catch(coupon: UserProductCoupon) -> None:
    ProductCouponSendRequest(product_coupon_id="1", stock_id="1", appid="wx1", send_request_no="n")  # type: ignore[call-arg]
    BrandUserProductCouponQuery(appid="wx1", brand_id="1")  # type: ignore[call-arg]
    BusifavorCouponQuery("wx1")  # type: ignore[call-arg]
    UserProductCouponQuery(appid="wx1", brand_id="1", page_size="20")  # type: ignore[arg-type]
    BusifavorCouponQuery(appid="wx1", coupon_state="SENDED")  # type: ignore[arg-type]
    coupon.coupon_code = "changed"  # type: ignore[misc]
    code: int = coupon.coupon_code  # type: ignore[assignment]
    optional_name: str = coupon.confirm_request_no  # type: ignore[assignment]
    del code, optional_name


async def client_usage(client: Any) -> list[str]:
    """How application code reads typed answers through the client (checked by mypy --strict)."""
    from wxpay_chain import AsyncClient, Response

    typed: AsyncClient = client
    response: Response = await typed.v3.marketing.partner.productCoupon.users._openid_.coupons.get(
        openid="o-1", query=UserProductCouponQuery(brand_id="120344", appid="wx233544546545989")
    )
    page: UserProductCouponPage = response.structure(UserProductCouponPage)
    codes = [c.coupon_code for c in page.user_coupon_list or []]
    async for coupon in typed.v3.marketing.busifavor.users._openid_.coupons.paginate(
        openid="o-1", query={"appid": "wx233544546545989"}
    ):
        codes.append(str(coupon))
    return codes
