"""The exact bytes: a real aiohttp server on 127.0.0.1 recomputes every signature from the raw request."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Callable

import aiohttp
import pytest

import wxpay_chain
from wxpay_chain import (
    AsyncClient,
    InvalidRequestError,
    SignatureError,
    Timeout,
    TransportError,
    TransportTimeoutError,
)

from .conftest import MCHID, PUB_KEY_ID, SERIAL
from .wire import WirePeer

HOSTILE = "a/b?c#d%e f&g=h+i;中文/../"


async def test_signed_target_and_body_are_exactly_what_the_server_received(client: AsyncClient, peer: WirePeer) -> None:
    query = {"appid": "wx 1&x=y", "note": HOSTILE, "limit": 20, "skip": None, "flag": True}
    payload = {"remark": "中文备注", "path": HOSTILE, "n": 1, "nested": {"emoji": "🎫"}}
    r = await client.v3.marketing.partner.productCoupon.users._openid_.giftCards.post(
        openid=HOSTILE, query=query, json=payload
    )
    assert r.status == 200 and r.json() == {"ok": True}
    seen = peer.seen[-1]
    assert seen.signature_ok
    assert seen.raw_path == (
        "/v3/marketing/partner/product-coupon/users/"
        "a%2Fb%3Fc%23d%25e%20f%26g%3Dh%2Bi%3B%E4%B8%AD%E6%96%87%2F..%2F/gift-cards"
        "?appid=wx%201%26x%3Dy&note=a%2Fb%3Fc%23d%25e%20f%26g%3Dh%2Bi%3B%E4%B8%AD%E6%96%87%2F..%2F"
        "&limit=20&flag=true"
    )
    assert seen.raw_path == r.request.target
    assert seen.body == json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    assert "中文备注".encode() in seen.body
    assert seen.headers["Content-Type"] == "application/json"


async def test_merchant_authorization_header_has_every_field(client: AsyncClient, peer: WirePeer) -> None:
    before = int(time.time())
    await client.v3.certificates.get()
    seen = peer.seen[-1]
    assert seen.scheme == "WECHATPAY2-SHA256-RSA2048"
    assert seen.params["mchid"] == MCHID and seen.params["serial_no"] == SERIAL
    assert re.fullmatch(r"[0-9A-Za-z]{32}", seen.params["nonce_str"])
    assert before <= int(seen.params["timestamp"]) <= int(time.time())
    assert seen.headers["Accept"] == "application/json"
    ua = seen.headers["User-Agent"]
    assert f"wxpay-chain/{wxpay_chain.__version__}" in ua and "aiohttp/" in ua and "Python/" in ua
    assert seen.headers["Wechatpay-Serial"] == PUB_KEY_ID
    assert seen.body == b""


async def test_three_styles_and_positional_dict_send_the_same_request(client: AsyncClient, peer: WirePeer) -> None:
    template = "v3/marketing/busifavor/users/{openid}/coupons"
    query = {"appid": "wx1", "limit": 20}
    await client.v3.marketing.busifavor.users._openid_.coupons.get(openid="o-1", query=query)
    await client[template].get(openid="o-1", query=query)
    await client.chain(template).get(openid="o-1", query=query)
    await client.chain(template).get({"openid": "o-1", "query": query})
    paths = {s.raw_path for s in peer.seen}
    assert paths == {"/v3/marketing/busifavor/users/o-1/coupons?appid=wx1&limit=20"}
    assert len(peer.seen) == 4 and all(s.signature_ok for s in peer.seen)


async def test_raw_data_body_is_sent_and_signed_as_is(client: AsyncClient, peer: WirePeer) -> None:
    raw = '{ "b":2,  "a":"中" }'
    await client.v3.things.post(data=raw)
    await client.v3.things.post(data=raw.encode("utf-8"))
    assert [s.body for s in peer.seen] == [raw.encode(), raw.encode()]
    assert all(s.signature_ok for s in peer.seen)


async def test_base_url_with_a_path_prefix_is_kept_and_signed(
    make_client: Callable[..., AsyncClient], base_url: str, peer: WirePeer
) -> None:
    async with make_client(base_url=base_url + "wxpay/gateway") as c:
        await c.v3.certificates.get()
        await c.v3.certificates.get(base_url=base_url + "other/")
    assert [s.raw_path for s in peer.seen] == ["/wxpay/gateway/v3/certificates", "/other/v3/certificates"]
    assert all(s.signature_ok for s in peer.seen)


async def test_empty_body_answer_verifies(client: AsyncClient, peer: WirePeer) -> None:
    peer.status, peer.body = 204, b""
    r = await client.v3.things._id_.delete(id="7")
    assert r.status == 204 and r.body == b"" and r.json() is None
    assert peer.seen[-1].method == "DELETE" and peer.seen[-1].raw_path == "/v3/things/7"


async def test_a_tampered_answer_off_the_wire_is_refused(client: AsyncClient, peer: WirePeer) -> None:
    # The answer checks themselves are tested in memory (test_answers.py); this one reads real headers.
    peer.tamper = lambda h, b: ({k: v for k, v in h.items() if k != "Wechatpay-Nonce"}, b.replace(b"true", b"false"))
    with pytest.raises(SignatureError, match="Wechatpay-Nonce is missing") as info:
        await client.v3.things.get()
    assert info.value.request_id == "req-1"
    peer.tamper = lambda h, b: (h, b.replace(b"true", b"false"))
    with pytest.raises(SignatureError, match="does not verify"):
        await client.v3.things.get()


async def test_v2_and_brand_paths_fail_clearly_without_sending(client: AsyncClient, peer: WirePeer) -> None:
    with pytest.raises(InvalidRequestError, match=r"APIv2 calls take .*xml"):  # v2/ is XML (issue 18)
        await client.v2.pay.micropay.post(data="<xml/>")
    with pytest.raises(InvalidRequestError, match="brand_id="):
        await client.brand.marketing.productCoupon.users._openid_.coupons.get(openid="o")
    assert peer.seen == []


async def test_timeout_raises_transport_timeout_error_that_is_a_timeout_error(
    client: AsyncClient, peer: WirePeer
) -> None:
    peer.hold = asyncio.Event()
    with pytest.raises(TimeoutError) as info:
        await client.v3.things.get(timeout=0.2)
    assert isinstance(info.value, TransportTimeoutError)
    assert "timed out after 0.2 s" in str(info.value) and "request number" not in str(info.value)  # a read
    with pytest.raises(TransportTimeoutError) as posted:
        await client.v3.things.post(json={"send_request_no": "N-1"}, timeout=0.2)
    assert "may have reached WeChat Pay" in str(posted.value) and "same request number" in str(posted.value)
    peer.hold.set()


async def test_connection_refused_is_a_transport_error(make_client: Callable[..., AsyncClient]) -> None:
    with socket.socket() as s:  # a port nobody listens on once the socket closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with make_client(base_url=f"http://127.0.0.1:{port}/", timeout=Timeout(total=5, connect=2)) as c:
        with pytest.raises(TransportError, match="cannot connect"):
            await c.v3.things.get()


async def test_a_session_the_user_owns_stays_open(
    make_client: Callable[..., AsyncClient], base_url: str, peer: WirePeer
) -> None:
    async with aiohttp.ClientSession() as session:
        async with make_client(base_url=base_url, session=session) as c:
            await c.v3.things.get()
        assert not session.closed
        async with session.get(base_url + "ping") as raw:
            assert raw.status == 401
    assert session.closed


async def test_closed_client_refuses_new_calls(make_client: Callable[..., AsyncClient], base_url: str) -> None:
    c = make_client(base_url=base_url)
    await c.v3.things.get()
    await c.aclose()
    with pytest.raises(TransportError, match="closed"):
        await c.v3.things.get()


@pytest.mark.parametrize("offload", ["always", "process"])
async def test_closed_client_refuses_concurrent_calls_before_signing_them(
    make_client: Callable[..., AsyncClient], base_url: str, offload: str
) -> None:
    c = make_client(base_url=base_url, offload_crypto=offload)
    await asyncio.gather(*(c.v3.things.get() for _ in range(4)))  # the signing worker now runs
    await c.aclose()
    calls = asyncio.gather(*(c.v3.things.get() for _ in range(4)), return_exceptions=True)
    outcomes = await asyncio.wait_for(calls, 10)  # a call must never wait on a stopped worker
    assert all(isinstance(o, TransportError) and "closed" in str(o) for o in outcomes)


async def test_with_options_derives_a_client_without_changing_the_original(client: AsyncClient, peer: WirePeer) -> None:
    quick = client.with_options(timeout=0.2, retry=1)
    peer.hold = asyncio.Event()
    with pytest.raises(TransportTimeoutError):
        await quick.v3.things.get()
    peer.hold.set()
    peer.hold = None
    await quick.aclose()  # shares the pool: closing the copy leaves it open
    assert (await client.v3.things.get()).status == 200
    assert client.prepare("GET", "v3/things").timeout == Timeout()
    assert quick.prepare("GET", "v3/things").timeout == Timeout(total=0.2, connect=0.2)


async def test_chains_kept_by_a_client_never_leak_into_its_with_options_copy(
    client: AsyncClient, peer: WirePeer
) -> None:
    assert (await client.v3.things.get()).status == 200  # the parent now keeps client.v3 and its .things
    assert client.v3 is client.v3 and client.v3.things is client.v3.things
    quick = client.with_options(timeout=0.2, retry=1)
    peer.hold = asyncio.Event()
    with pytest.raises(TransportTimeoutError):  # so quick.v3 dispatched to quick, with its timeout
        await quick.v3.things.get()
    peer.hold.set()
    peer.hold = None
    assert quick.v3 is not client.v3 and quick.v3.things == quick.v3.things
    assert (await client.v3.things.get()).status == 200
