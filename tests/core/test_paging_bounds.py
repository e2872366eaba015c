"""paginate() reads every page a total promises, stops on pages that make no progress, and places an
answer that does not fit on its page with its Request-ID (issue 61). Both clients, over the test peer
in memory: it checks each request's signature and signs each answer with its own code."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, Client, MemoryTransport, RawResponse, Request, StructureError
from wxpay_chain._converter import structure
from wxpay_chain.models import BusifavorCouponPage, lookup, next_page

from ..models._seeds import numbered_json_example, seed_text
from .conftest import MCHID, PUB_KEY_ID, SERIAL
from .wire import WirePeer, pem_public

Route = Callable[[dict[str, str]], dict[str, Any]]
KINDS = ("async", "blocking")
MAX_REQUESTS = 20
BUSIFAVOR = "v3/marketing/busifavor/users/{openid}/coupons"
BUSIFAVOR_QUERY = {"appid": "wx1", "limit": 10}
PRODUCT_QUERY = {"appid": "wx1", "brand_id": "120344", "page_size": 3}
COUPONS = [{"coupon_code": f"C{i:03d}"} for i in range(25)]  # busifavor coupon fields are all optional
PRODUCT_COUPON = numbered_json_example(seed_text("004"))["user_coupon_list"][0]
PRODUCTS = [{**copy.deepcopy(PRODUCT_COUPON), "coupon_code": f"P{i:03d}"} for i in range(7)]


def paged(peer: WirePeer, key: rsa.RSAPrivateKey, kind: str, family: str, route: Route) -> list[str]:
    """The coupon codes ``paginate()`` yields over ``route``, with the async or the blocking client."""

    async def answer(request: Request) -> RawResponse:
        if len(peer.seen) >= MAX_REQUESTS:  # fail rather than hang on a paginate() that never stops
            raise AssertionError(f"paginate() sent more than {MAX_REQUESTS} requests")
        peer.body = json.dumps(route(dict(parse_qsl(urlsplit(request.target).query)))).encode()
        return await peer.answer_in_memory(request)

    options: dict[str, Any] = {
        "mchid": MCHID,
        "serial": SERIAL,
        "private_key": key,
        "platform_keys": {PUB_KEY_ID: pem_public(peer.platform_key)},
        "transport": MemoryTransport(answer),
    }
    if family == "busifavor":
        call: dict[str, Any] = {"openid": "o1", "query": BUSIFAVOR_QUERY}
    else:
        call = {"openid": "o1", "query": PRODUCT_QUERY}

    def chain(client: Any) -> Any:
        users = (
            client.v3.marketing.busifavor.users
            if family == "busifavor"
            else client.v3.marketing.partner.productCoupon.users
        )
        return users._openid_.coupons

    if kind == "blocking":
        with Client(**options) as blocking:
            return [c.coupon_code for c in chain(blocking).paginate(**call)]

    async def run() -> list[str]:
        async with AsyncClient(**options) as client:
            return [c.coupon_code async for c in chain(client).paginate(**call)]

    return asyncio.run(run())


def sent(peer: WirePeer) -> list[dict[str, str]]:
    assert peer.seen and all(seen.signature_ok for seen in peer.seen)
    return [dict(parse_qsl(urlsplit(seen.raw_path).query)) for seen in peer.seen]


def page_number(query: dict[str, str]) -> int:
    return int(query.get("offset", "0"))


# --- 1. a total_count decides, not a short page -----------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_short_pages_go_on_while_total_count_says_more_remain(
    peer: WirePeer, merchant_key: rsa.RSAPrivateKey, kind: str
) -> None:
    def five_a_page(query: dict[str, str]) -> dict[str, Any]:
        n = page_number(query)
        return {"total_count": 25, "offset": n, "limit": 10, "data": COUPONS[n * 5 : n * 5 + 5]}

    assert paged(peer, merchant_key, kind, "busifavor", five_a_page) == [c["coupon_code"] for c in COUPONS]
    # offset stays a page number (分页页码): one more each page, the limit as asked
    assert [(q.get("offset"), q["limit"]) for q in sent(peer)] == [
        (None, "10"),
        ("1", "10"),
        ("2", "10"),
        ("3", "10"),
        ("4", "10"),
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_reaching_total_count_ends_paging_even_if_the_answered_limit_shrinks(
    peer: WirePeer, merchant_key: rsa.RSAPrivateKey, kind: str
) -> None:
    def limit_is_what_came(query: dict[str, str]) -> dict[str, Any]:
        n, size = page_number(query), int(query["limit"])
        data = COUPONS[n * size : n * size + size]
        return {"total_count": 25, "offset": n, "limit": len(data), "data": data}

    assert paged(peer, merchant_key, kind, "busifavor", limit_is_what_came) == [c["coupon_code"] for c in COUPONS]
    assert len(sent(peer)) == 3  # 10 + 10 + 5: no fourth page re-reading coupons under a smaller limit


def test_next_page_counts_what_was_seen_against_total_count_and_keeps_the_short_page_rule_without_one() -> None:
    spec = lookup("GET", BUSIFAVOR)
    assert spec is not None
    short = {"total_count": 25, "offset": 1, "limit": 10, "data": COUPONS[5:10]}
    query = {"appid": "wx1", "offset": 1, "limit": 10}
    for page in (short, structure(short, BusifavorCouponPage)):
        assert next_page(spec, query, page, 10) == {**query, "offset": 2}
        assert next_page(spec, query, page, 25) is None
        assert next_page(spec, query, page) == {**query, "offset": 2}  # without a count: 1 * 10 + 5 seen
    assert next_page(spec, query, {**short, "total_count": None}, 10) is None  # no total: a short page is the last
    assert next_page(spec, query, {**short, "total_count": None, "data": COUPONS[:10]}, 20) == {**query, "offset": 2}


# --- 2. pages that make no progress end paging ------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_server_ignoring_offset_is_read_twice_not_for_ever(
    peer: WirePeer, merchant_key: rsa.RSAPrivateKey, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    def echoes(query: dict[str, str]) -> dict[str, Any]:
        return {"total_count": 1000, "offset": page_number(query), "limit": 10, "data": COUPONS[:10]}

    assert paged(peer, merchant_key, kind, "busifavor", echoes) == [c["coupon_code"] for c in COUPONS[:10]]
    assert len(sent(peer)) == 2
    assert "page 2 repeats the items of page 1; stopping there" in caplog.text


@pytest.mark.parametrize("kind", KINDS)
def test_fresh_tokens_for_the_same_page_are_followed_once(
    peer: WirePeer, merchant_key: rsa.RSAPrivateKey, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    def same_page(query: dict[str, str]) -> dict[str, Any]:
        return {"user_coupon_list": PRODUCTS[:3], "next_page_token": f"T{len(peer.seen)}"}

    assert paged(peer, merchant_key, kind, "product", same_page) == ["P000", "P001", "P002"]
    assert [q.get("page_token") for q in sent(peer)] == [None, "T0"]
    assert "page 2 repeats the items of page 1" in caplog.text


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_token_page_ends_paging(
    peer: WirePeer, merchant_key: rsa.RSAPrivateKey, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    def empty(query: dict[str, str]) -> dict[str, Any]:
        return {"user_coupon_list": [], "next_page_token": f"T{len(peer.seen)}"}

    assert paged(peer, merchant_key, kind, "product", empty) == []
    assert len(sent(peer)) == 1
    assert "page 1 is empty yet names a next page; stopping there" in caplog.text


def honest_tokens(query: dict[str, str]) -> dict[str, Any]:
    start = int(query.get("page_token", "0"))
    answer: dict[str, Any] = {"user_coupon_list": PRODUCTS[start : start + 3]}
    if start + 3 < len(PRODUCTS):
        answer["next_page_token"] = str(start + 3)
    return answer


def test_honest_token_paging_still_reads_every_page(
    peer: WirePeer, merchant_key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    assert paged(peer, merchant_key, "async", "product", honest_tokens) == [c["coupon_code"] for c in PRODUCTS]
    assert [q.get("page_token") for q in sent(peer)] == [None, "3", "6"]
    assert "stopping there" not in caplog.text


# --- 3. an answer that does not fit names its page and Request-ID ---------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_item_names_its_page_request_and_request_id(
    peer: WirePeer, merchant_key: rsa.RSAPrivateKey, kind: str
) -> None:
    broken = copy.deepcopy(PRODUCTS)
    broken[6]["stock"].pop("notify_config")  # the first coupon of page 3

    def pages(query: dict[str, str]) -> dict[str, Any]:
        answer = honest_tokens(query)
        start = int(query.get("page_token", "0"))
        return {**answer, "user_coupon_list": broken[start : start + 3]}

    with pytest.raises(StructureError) as caught:
        paged(peer, merchant_key, kind, "product", pages)
    error = caught.value
    assert len(sent(peer)) == 3
    assert error.request_id == "req-3"  # the peer's Request-ID for its third answer
    assert error.paths == ("required field missing @ $.user_coupon_list[0].stock.notify_config",)
    text = str(error)
    assert text.startswith("page 3 of the listing (GET /v3/marketing/partner/product-coupon/users/o1/coupons?")
    assert "page_token=6" in text and "$.user_coupon_list[0].stock.notify_config" in text
    assert text.endswith("(Request-ID req-3; quote it to WeChat Pay support)")


async def test_structure_errors_outside_paging_keep_their_message(memory_client: AsyncClient, peer: WirePeer) -> None:
    assert str(StructureError("the JSON does not fit X", ["a @ $.b"])) == "the JSON does not fit X: a @ $.b"
    assert StructureError("x").request_id is None
    peer.body = b'{"total_count": "many", "offset": 0, "limit": 10}'
    response = await memory_client.v3.marketing.busifavor.users._openid_.coupons.get(
        openid="o1", query={"appid": "wx1"}
    )
    with pytest.raises(StructureError) as caught:
        response.parsed  # noqa: B018
    assert caught.value.request_id is None and "Request-ID" not in str(caught.value)
    assert str(caught.value).startswith("the JSON does not fit BusifavorCouponPage: ")
