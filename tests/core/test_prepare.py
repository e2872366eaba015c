"""prepare() is pure: options in, the exact target, headers and bytes to send and to sign out, with no
event loop, clock, key or network (issue 16)."""

from __future__ import annotations

import pytest

from wxpay_chain import InvalidRequestError, PreparedRequest, Timeout
from wxpay_chain._prepare import prepare
from wxpay_chain._request import RequestDefaults

DEFAULTS = RequestDefaults(
    mode="merchant", pub_key_id="PUB_KEY_ID_1", origin_prefix=("https://gw.example", "/wxpay/"), timeout=Timeout()
)


def test_a_call_is_prepared_without_a_client_or_a_loop() -> None:
    prepared = prepare(
        DEFAULTS, "POST", "v3/users/{openid}/coupons", (), {"openid": "o 1", "json": {"a": "张"}, "query": {"x": 1}}
    )
    assert isinstance(prepared, PreparedRequest)
    assert prepared.origin == "https://gw.example"
    assert prepared.target == "/wxpay/v3/users/o%201/coupons?x=1"
    assert prepared.body == prepared.signed_body == '{"a":"张"}'.encode()
    assert dict(prepared.headers)["Wechatpay-Serial"] == "PUB_KEY_ID_1"
    assert dict(prepared.headers)["Content-Type"] == "application/json"


def test_a_plain_call_reuses_the_headers_made_once() -> None:
    first = prepare(DEFAULTS, "GET", "v3/things")
    second = prepare(DEFAULTS, "GET", "v3/things")
    assert first.headers is second.headers is DEFAULTS.plain_headers and first.body == b""


def test_the_brand_api_needs_brand_defaults() -> None:
    with pytest.raises(InvalidRequestError, match="brand API path"):
        prepare(DEFAULTS, "GET", "brand/marketing/product-coupon/users/{openid}/coupons", (), {"openid": "o"})
