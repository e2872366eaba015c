"""Hostile or careless input never reaches the wire: a typed error before anything is sent (issue 15,
findings 3-6), checked against the independent peer, which records every request it receives.

A refusal is the client's own logic, so those tests hand the peer to the client in memory (``memory_client``:
not even the transport sees the request); what must arrive byte for byte goes to the peer on 127.0.0.1.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any

import pytest

from wxpay_chain import AsyncClient, ConfigurationError, InvalidRequestError, Timeout
from wxpay_chain.models import BusifavorCouponState

from .wire import WirePeer

COUPONS = "v3/marketing/busifavor/users/{openid}/coupons"  # a typed endpoint (it has a model)
THINGS = "v3/things/{id}/parts"  # an untyped one


class Color(str, enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 7


# -- finding 3: path values that would change the endpoint -------------------------------------------------


@pytest.mark.parametrize("value", [".", "..", ""])
@pytest.mark.parametrize("template", [COUPONS, THINGS])
async def test_dot_and_empty_path_values_are_refused_on_typed_and_untyped_endpoints(
    memory_client: AsyncClient, peer: WirePeer, template: str, value: str
) -> None:
    name = "openid" if "openid" in template else "id"
    with pytest.raises(InvalidRequestError, match=name):
        await memory_client.chain(template).get(**{name: value}, query={"appid": "wx1"})
    assert peer.seen == []


@pytest.mark.parametrize("value", ["a/../b", "../x", "a/./b", "%2e%2E", ".%2e", "%2E", "a//b", "", "a/"])
async def test_reserved_expansion_refuses_dot_and_empty_segments_in_any_spelling(
    memory_client: AsyncClient, peer: WirePeer, value: str
) -> None:
    with pytest.raises(InvalidRequestError, match="path"):
        await memory_client.chain("v3/files/{+path}").get(path=value)
    assert peer.seen == []


@pytest.mark.parametrize(
    "text", ["v3/users/../coupons", "v3/users/./x", "v3/%2e%2E/certificates", "v3/a/.%2E/b", "v3//certificates"]
)
async def test_literal_chain_text_with_dot_or_empty_segments_is_refused(
    memory_client: AsyncClient, peer: WirePeer, text: str
) -> None:
    with pytest.raises(InvalidRequestError, match="segment"):
        await memory_client.chain(text).get()
    with pytest.raises(InvalidRequestError, match="segment"):
        await memory_client[text].get()
    assert peer.seen == []


async def test_percent_dots_in_a_plain_value_stay_data(client: AsyncClient, peer: WirePeer) -> None:
    await client.chain(THINGS).get(id="%2e%2e")
    assert peer.seen[0].raw_path == "/v3/things/%252e%252e/parts" and peer.seen[0].signature_ok


async def test_the_empty_placeholder_still_writes_a_trailing_slash(client: AsyncClient, peer: WirePeer) -> None:
    await client.v3.applyment4sub.applyment._empty_.post(json={"a": 1})
    assert peer.seen[0].raw_path == "/v3/applyment4sub/applyment/" and peer.seen[0].signature_ok


@pytest.mark.parametrize("style", ["attribute", "chain"])
async def test_the_empty_placeholder_anywhere_but_the_end_is_refused(
    memory_client: AsyncClient, peer: WirePeer, style: str
) -> None:
    # Mid-path it would write an empty segment ('v3/marketing//coupons'), which names another endpoint.
    with pytest.raises(InvalidRequestError, match="before its end") as caught:
        if style == "attribute":
            await memory_client.v3.marketing._empty_.coupons.get()
        else:
            await memory_client.chain("v3/{empty}/{empty}").get()
    assert [name for name, _ in caught.value.problems] == ["empty"] and peer.seen == []


# -- finding 4: enums go on the wire as their value ----------------------------------------------------------


async def test_enum_members_are_sent_as_their_values_in_paths_and_queries(
    memory_client: AsyncClient, peer: WirePeer
) -> None:
    query = {"state": BusifavorCouponState.SENDED, "level": Level.HIGH}
    await memory_client.chain(THINGS).get(id=Color.RED, query=query)
    await memory_client.chain(THINGS).get(id=Level.HIGH, query={"color": Color.RED})
    assert [s.raw_path for s in peer.seen] == [
        "/v3/things/red/parts?state=SENDED&level=7",
        "/v3/things/7/parts?color=red",
    ]
    assert all(s.signature_ok for s in peer.seen)


async def test_the_sdks_own_enum_reaches_a_typed_endpoint_as_its_value(
    memory_client: AsyncClient, peer: WirePeer
) -> None:
    peer.body = b'{"data":[],"total_count":0,"limit":10,"offset":0}'
    await memory_client.v3.marketing.busifavor.users._openid_.coupons.get(
        openid="o-1", query={"appid": "wx1", "coupon_state": BusifavorCouponState.SENDED}
    )
    assert peer.seen[0].raw_path.endswith("coupon_state=SENDED")


# -- finding 5: untyped exceptions become typed, before anything is sent -------------------------------------

SURROGATE = "a\ud800b"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.chain(THINGS).get(id=SURROGATE), "id"),
        (lambda c: c.chain("v3/files/{+p}").get(p=SURROGATE), "p"),
        (lambda c: c.v3.things.get(query={"q": SURROGATE}), "query.q"),
        (lambda c: c.v3.things.get(query={SURROGATE: "v"}), "query."),
        (lambda c: c.v3.things.post(json={"name": SURROGATE}), "json"),
        (lambda c: c.v3.things.post(json={SURROGATE: 1}), "json"),
        (lambda c: c.v3.things.post(data=SURROGATE), "data"),
        (lambda c: c.v3.things.get(headers={"X-A": SURROGATE}), "headers"),
    ],
)
async def test_lone_surrogates_are_invalid_request_errors(
    memory_client: AsyncClient, peer: WirePeer, call: Callable[[AsyncClient], Any], field: str
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await call(memory_client)
    assert any(name.startswith(field) for name, _ in info.value.problems), info.value.problems
    assert peer.seen == []


async def test_deeply_nested_json_is_an_invalid_request_error(memory_client: AsyncClient, peer: WirePeer) -> None:
    nested: Any = []
    for _ in range(100_000):
        nested = [nested]
    looped: dict[str, Any] = {}
    looped["self"] = looped
    for payload in (nested, {"a": nested}, looped):
        with pytest.raises(InvalidRequestError, match="json"):
            await memory_client.v3.things.post(json=payload)
    assert peer.seen == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-A", "v\r\nX-Injected: 1"),
        ("X-A", "v\nb"),
        ("X-A", "v\rb"),
        ("X-A", "v\x00b"),
        ("X-A", "v\x7f"),
        ("X-A\r\nX-B", "v"),
        ("X-A\x00", "v"),
        ("X A", "v"),
        ("", "v"),
        ("X-A:", "v"),
    ],
)
async def test_control_characters_in_headers_are_refused_before_a_connection_opens(
    memory_client: AsyncClient, peer: WirePeer, name: str, value: str
) -> None:
    with pytest.raises(InvalidRequestError, match="headers"):
        await memory_client.v3.things.get(headers={name: value})
    assert peer.seen == []


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), -1, 0, 1e300, 10**400, True, "5"])
async def test_bad_timeouts_are_refused_per_call_and_per_client(
    memory_client: AsyncClient, peer: WirePeer, make_client: Callable[..., AsyncClient], bad: Any
) -> None:
    with pytest.raises(InvalidRequestError, match="timeout"):
        await memory_client.v3.things.get(timeout=bad)
    with pytest.raises(ConfigurationError, match="timeout"):
        make_client(timeout=bad)
    with pytest.raises(ConfigurationError, match="timeout"):
        make_client().with_options(timeout=bad)
    assert peer.seen == []


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), -1.0, 0.0])
def test_a_timeout_value_checks_its_own_fields(bad: float) -> None:
    with pytest.raises(InvalidRequestError, match="Timeout"):
        Timeout(total=bad)
    with pytest.raises(InvalidRequestError, match="Timeout"):
        Timeout(connect=bad)


BAD_BASE_URLS = [
    "http://127.0.0.1:99999/",
    "http://127.0.0.1:abc/",
    "http://127.0.0.1\\@evil/",
    "http://127.0.0.1/a\\b/",
    "http://user:secret-password@127.0.0.1/",
    "http://127.0.0.1/wx pay/",
    " http://127.0.0.1/",
    "http://127.0.0.1/\r\n",
    "http://127.0.0.1/a/../b/",
    "http://127.0.0.1//",
    "http://127.0.0.1/?q=1",
    "http://127.0.0.1/#f",
    "ftp://127.0.0.1/",
    "127.0.0.1",
    "",
]


@pytest.mark.parametrize("bad", BAD_BASE_URLS)
async def test_bad_base_urls_are_refused_per_client_and_per_call(
    memory_client: AsyncClient, peer: WirePeer, make_client: Callable[..., AsyncClient], bad: str
) -> None:
    with pytest.raises(ConfigurationError, match="base_url") as info:
        make_client(base_url=bad)
    assert "secret-password" not in str(info.value)
    with pytest.raises(ConfigurationError, match="base_url"):
        make_client(backup_base_url=bad or "x")
    with pytest.raises(InvalidRequestError, match="base_url") as per_call:
        await memory_client.v3.things.get(base_url=bad)
    assert "secret-password" not in str(per_call.value)
    assert peer.seen == []


@pytest.mark.parametrize("bad", [None, 1, ["http://127.0.0.1/"], b"http://127.0.0.1/"])
def test_a_base_url_that_is_not_text_is_a_configuration_error(
    make_client: Callable[..., AsyncClient], bad: object
) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        make_client(base_url=bad)


async def test_a_per_call_base_url_that_is_not_text_is_an_invalid_request(
    memory_client: AsyncClient, peer: WirePeer
) -> None:
    for bad in (1, ["http://127.0.0.1/"], {"a": 1}):
        with pytest.raises(InvalidRequestError, match="base_url"):
            await memory_client.v3.things.get(base_url=bad)
    assert peer.seen == []


async def test_a_gateway_prefix_and_a_port_still_work(client: AsyncClient, peer: WirePeer, base_url: str) -> None:
    await client.v3.things.get(base_url=base_url + "wxpay/gw")
    assert peer.seen[0].raw_path == "/wxpay/gw/v3/things" and peer.seen[0].signature_ok


@pytest.mark.parametrize(
    "text", ["v3/things with space", "v3/a\tb", "v3/a\nb", "v3/a#b", "v3/a\\b", "v3/é", "v3/a%zz", "v3/{open"]
)
async def test_chain_and_item_text_that_cannot_go_on_a_request_line_is_refused(
    memory_client: AsyncClient, peer: WirePeer, text: str
) -> None:
    with pytest.raises(InvalidRequestError, match="path"):
        await memory_client.chain(text).get()
    with pytest.raises(InvalidRequestError, match="path"):
        await memory_client[text].post(json={})
    with pytest.raises(InvalidRequestError, match="path"):
        await getattr(memory_client.v3, text.split("/", 1)[1]).get()
    assert peer.seen == []


# -- the call's options ---------------------------------------------------------------------------------

INVALID: list[tuple[dict[str, Any], str]] = [
    ({}, "openid"),
    ({"openid": "o", "unknown": 1}, "unknown"),
    ({"openid": "o", "json": {"a": 1}, "data": "x"}, "not both"),
    ({"openid": "o", "query": {"a": [1]}}, "query.a"),
    ({"openid": "o", "query": "appid=1"}, "query"),
    ({"openid": "o", "headers": {"Authorization": "x"}}, "Authorization"),
    ({"openid": "o", "json": {"x": float("nan")}}, "json"),
    ({"openid": "o", "data": 12}, "data"),
    ({"openid": "o", "timeout": -1}, "timeout"),
    ({"openid": None}, "openid"),
]


@pytest.mark.parametrize(("kwargs", "field"), INVALID)
async def test_bad_input_raises_before_anything_is_sent(
    memory_client: AsyncClient, peer: WirePeer, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRequestError, match=re.escape(field)):
        await memory_client.v3.marketing.users._openid_.cards.get(**kwargs)
    assert peer.seen == []


# -- finding 6: headers that frame or authenticate a request are the SDK's ----------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "authorization",
        "AUTHORIZATION",
        "Authorization ",
        "Authorization\t",
        " Authorization",
        "Content-Length",
        "content-length",
        "Transfer-Encoding",
        "Host",
        "host",
        "Connection",
        "Upgrade",
        "Expect",
        "Proxy-Authorization",
        "proxy-authenticate",
    ],
)
async def test_framing_and_authenticating_headers_cannot_be_overridden(
    memory_client: AsyncClient, peer: WirePeer, name: str
) -> None:
    values = {"content-length": "0", "transfer-encoding": "chunked", "host": "evil.example"}
    with pytest.raises(InvalidRequestError, match="headers"):
        await memory_client.v3.things.post(json={"amount": 100}, headers={name: values.get(name.strip().lower(), "x")})
    assert peer.seen == []


async def test_ordinary_headers_still_go_through_and_are_signed_around(client: AsyncClient, peer: WirePeer) -> None:
    await client.v3.things.post(json={"a": 1}, headers={"X-Trace": "t 1\tok", "Wechatpay-Serial": "PUB_KEY_ID_2"})
    seen = peer.seen[0]
    assert seen.signature_ok and seen.headers["X-Trace"] == "t 1\tok"
    assert seen.headers["Wechatpay-Serial"] == "PUB_KEY_ID_2"
    assert seen.headers["Content-Length"] == str(len(seen.body))


# -- found by the property test: a trailing "?" is dropped on the wire, so it must never be signed -----------


async def test_reserved_expansion_encodes_question_marks_so_a_value_cannot_start_a_query(
    client: AsyncClient, peer: WirePeer
) -> None:
    await client.chain("v3/files/{+p}").get(p="0?")
    await client.chain("v3/files/{+p}").get(p="a/b?x=1", query={"q": "2"})
    assert [s.raw_path for s in peer.seen] == ["/v3/files/0%3F", "/v3/files/a/b%3Fx=1?q=2"]
    assert all(s.signature_ok for s in peer.seen)


async def test_chain_text_ending_in_an_empty_query_is_refused(client: AsyncClient, peer: WirePeer) -> None:
    with pytest.raises(InvalidRequestError, match="'\\?'"):
        await client.chain("v3/things?").get()
    await client.chain("v3/things?kind=a").get(query={"q": 1})
    assert [s.raw_path for s in peer.seen] == ["/v3/things?kind=a&q=1"] and peer.seen[0].signature_ok


async def test_the_transport_refuses_a_request_that_would_not_go_out_as_signed(
    peer: WirePeer, base_url: str
) -> None:
    from wxpay_chain import Headers, Request
    from wxpay_chain._aiohttp_transport import AiohttpTransport

    transport = AiohttpTransport()
    try:
        target = "/v3/things?"
        request = Request("GET", base_url.rstrip("/") + target, target, "v3/things", Headers({"Accept": "*/*"}))
        with pytest.raises(InvalidRequestError, match="not as signed"):
            await transport.send(request)
    finally:
        await transport.aclose()
    assert peer.seen == []
