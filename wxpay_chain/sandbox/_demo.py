"""``wxpay-chain demo``: every seed endpoint in all six call styles against the embedded sandbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from .._chain import Chain
from .._errors import ApiError, InvalidRequestError, SignatureError
from .._http import Response
from ._seed import DEMO_APPID, DEMO_FAVOR_COUPON_IDS, DEMO_OPENIDS, DEMO_STOCK_IDS
from ._server import Sandbox, ThreadedSandbox

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


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []

    def add(self, style: str, response: Response, summary: str) -> None:
        request = response.request
        path = request.target if len(request.target) <= 58 else request.target[:55] + "..."
        self.rows.append((style, request.method, path, str(response.status), response.request_id or "-", summary))

    def print(self) -> None:
        head = ("style", "method", "path", "status", "request id", "key fields")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(5)]
        for row in [head, *self.rows]:
            cells = [row[i].ljust(widths[i]) for i in range(5)]
            print("  " + "  ".join(cells) + "  " + row[5])
        self.rows.clear()


def _section(title: str) -> None:
    print(f"\n== {title}")


async def _async_styles(sb: ThreadedSandbox, table: Table) -> None:
    async with sb.client() as merchant, sb.brand_client() as brand:
        for endpoint in ENDPOINTS:
            for style in STYLES:
                client = brand if endpoint.brand else merchant
                call = endpoint.chain(client, style)
                response = await getattr(call, endpoint.method.lower())(**endpoint.args(style))
                table.add(f"async {style}", response, endpoint.summary(response.parsed))


def _blocking_styles(sb: ThreadedSandbox, table: Table) -> None:
    with sb.blocking_client() as merchant, sb.blocking_brand_client() as brand:
        for endpoint in ENDPOINTS:
            for style in STYLES:
                client = brand if endpoint.brand else merchant
                call = endpoint.chain(client, style)
                response = getattr(call, endpoint.method.lower())(**endpoint.args("sync-" + style))
                table.add(f"blocking {style}", response, endpoint.summary(response.parsed))


async def _scenes(sb: ThreadedSandbox) -> None:
    async with sb.client() as client:
        coupons = client.v3.marketing.partner.productCoupon.users._openid_.coupons

        _section("Idempotent sending: the same send_request_no twice issues one coupon")
        body = {
            "brand_id": "120344",
            "product_coupon_id": PRODUCT_COUPON_ID,
            "stock_id": STOCK_ID,
            "appid": DEMO_APPID,
            "send_request_no": f"DEMO-IDEMPOTENT-{int(time.time())}",
        }
        before = len(sb.issued_coupons())
        first = (await coupons.post(openid="oDemo-idempotent", json=body)).parsed
        again = (await coupons.post(openid="oDemo-idempotent", json=body)).parsed
        print(
            f"  first  coupon_code={first.coupon_code}\n  again  coupon_code={again.coupon_code}"
            f"\n  coupons issued by the two calls: {len(sb.issued_coupons()) - before}"
        )

        _section("Paging: product coupons with page_token, page by page (page_size=3)")
        query: dict[str, Any] | None = {"brand_id": "120344", "appid": DEMO_APPID, "page_size": 3}
        number = 0
        while query is not None:
            page = (await coupons.get(openid=RICH, query=query)).parsed
            number += 1
            codes = ", ".join(c.coupon_code for c in page.user_coupon_list)
            total = f" (total_count={page.total_count})" if page.total_count is not None else ""
            print(f"  page {number}: {codes}{total}")
            query = {**query, "page_token": page.next_page_token} if page.next_page_token else None
        busifavor = client.v3.marketing.busifavor.users._openid_.coupons
        items = [c async for c in busifavor.paginate(openid=RICH, query={"appid": DEMO_APPID, "limit": 2})]
        print(
            f"  busifavor with offset/limit=2 via paginate(): {len(items)} coupons "
            f"({', '.join(c.coupon_code or '-' for c in items)})"
        )

        _section("Errors, each typed, each before or instead of trusting anything")
        seen = sb.received.total_count
        try:
            await coupons.get(openid=RICH, query={"brand_id": "120344", "appid": DEMO_APPID, "page_size": 99})
        except InvalidRequestError as exc:
            print(f"  InvalidRequestError (nothing sent: {sb.received.total_count - seen} requests): {exc}")
        try:
            await client.v3.marketing.favor.users._openid_.coupons._coupon_id_.get(
                openid=LIGHT, coupon_id="404404", query={"appid": DEMO_APPID}
            )
        except ApiError as exc:
            print(f"  {type(exc).__name__}: {exc.status} {exc.code} request_id={exc.request_id}")
        limit_body = {**body, "send_request_no": f"DEMO-LIMIT-{int(time.time())}"}
        try:
            for n in range(3):
                await coupons.post(
                    openid=RICH, json={**limit_body, "send_request_no": f"{limit_body['send_request_no']}-{n}"}
                )
        except ApiError as exc:
            print(f"  {type(exc).__name__}: {exc.status} {exc.code}: {exc.message}")


async def _signtest(sb: ThreadedSandbox) -> None:
    _section("A WECHATPAY/SIGNTEST/ probe signature is rejected")
    async with Sandbox(probe_rate=1.0, keys=sb.keys) as probing, probing.client() as client:
        try:
            await client.v3.marketing.busifavor.users._openid_.coupons.get(openid=RICH, query={"appid": DEMO_APPID})
        except SignatureError as exc:
            print(f"  SignatureError: {exc}")


def _run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def run_demo() -> int:
    started = time.perf_counter()
    with Sandbox.in_thread() as sb:
        creds = sb.credentials
        print(
            f"wxpay_chain demo: sandbox at {sb.base_url} (merchant {creds.mchid}, brand {creds.brand_id}, "
            f"verifying with {creds.pub_key_id})"
        )
        table = Table()
        _section("Every seed endpoint, three async styles")
        _run(_async_styles(sb, table))
        table.print()
        _section("Every seed endpoint, three blocking styles")
        _blocking_styles(sb, table)
        table.print()
        _run(_scenes(sb))
        _run(_signtest(sb))
        calls = sb.received.total_count
    print(
        f"\n{calls} signed requests checked by the sandbox, every answer verified; "
        f"done in {time.perf_counter() - started:.1f} s."
    )
    return 0
