"""Headers: case-insensitive, first value wins, order and repeats kept, the same over a copy or a view."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from wxpay_chain import Headers

PAIRS = (
    ("Content-Type", "application/json"),
    ("Set-Cookie", "a=1"),
    ("set-cookie", "b=2"),
    ("Authorization", "WECHATPAY2-SHA256-RSA2048 signature=secret"),
    ("Request-ID", "08F0"),
)


def both() -> list[Headers]:
    return [Headers(PAIRS), Headers(list(PAIRS)), Headers.view(CIMultiDictProxy(CIMultiDict(PAIRS)))]


@pytest.mark.parametrize("headers", both(), ids=["tuple", "list", "view"])
def test_lookups_ignore_case_and_the_first_value_wins(headers: Headers) -> None:
    assert headers["content-type"] == headers.get("CONTENT-TYPE") == "application/json"
    assert headers["SET-COOKIE"] == "a=1"
    assert headers.getall("Set-Cookie") == ["a=1", "b=2"]
    assert "request-id" in headers and "Wechatpay-Serial" not in headers and 3 not in headers
    assert headers.get("Wechatpay-Serial") is None and headers.get("Wechatpay-Serial", "-") == "-"
    with pytest.raises(KeyError):
        headers["Wechatpay-Serial"]


@pytest.mark.parametrize("headers", both(), ids=["tuple", "list", "view"])
def test_order_repeats_equality_and_masking_survive_either_backing(headers: Headers) -> None:
    assert headers.items_list() == PAIRS
    assert list(headers) == [name for name, _ in PAIRS] and len(headers) == 5
    assert headers == Headers(PAIRS) and hash(headers) == hash(Headers(PAIRS))
    assert "secret" not in repr(headers) and "***" in repr(headers)


def test_the_repr_of_a_repeated_header_shows_the_value_a_lookup_gives() -> None:
    from wxpay_chain import Headers

    for second in ("Wechatpay-Signature", "wechatpay-signature"):  # the same name, in any case
        headers = Headers([("Wechatpay-Signature", "first"), (second, "WECHATPAY/SIGNTEST/abc")])
        assert headers["Wechatpay-Signature"] == "first" and "SIGNTEST" not in repr(headers)
