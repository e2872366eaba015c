from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wxpay_chain import InvalidRequestError
from wxpay_chain._uri import encode_query, expand, normalize_segment


@pytest.mark.parametrize(
    ("attr", "segment"),
    [
        ("_openid_", "{openid}"),
        ("_out_trade_no_", "{out_trade_no}"),
        ("_empty_", "{empty}"),
        ("productCoupon", "product-coupon"),
        ("complaintsV2", "complaints-v2"),
        ("Marketing", "marketing"),
        ("applyment4sub", "applyment4sub"),
        ("video_upload", "video_upload"),
        ("global_", "global"),
        ("class_", "class"),
        ("nQualifications", "n-qualifications"),
        ("v3", "v3"),
    ],
)
def test_attribute_segments_normalise_like_the_php_docs(attr: str, segment: str) -> None:
    assert normalize_segment(attr) == segment


def test_placeholder_values_are_encoded_as_one_segment() -> None:
    path = expand("v3/users/{openid}/coupons", {"openid": "a/b?c#d%e f中"})
    assert path == "v3/users/a%2Fb%3Fc%23d%25e%20f%E4%B8%AD/coupons"


def test_reserved_expansion_keeps_path_characters() -> None:
    assert expand("v3/files/{+path}", {"path": "a/b c"}) == "v3/files/a/b%20c"


def test_the_empty_placeholder_writes_the_documented_trailing_slash() -> None:
    assert expand("v3/applyment4sub/applyment/{empty}", {"empty": ""}) == "v3/applyment4sub/applyment/"
    assert expand("v3/applyment4sub/applyment/{empty}", {}) == "v3/applyment4sub/applyment/"


def test_missing_placeholder_names_the_field() -> None:
    with pytest.raises(InvalidRequestError) as info:
        expand("v3/users/{openid}/coupons/{coupon_id}", {"openid": "o"})
    assert info.value.problems[0][0] == "coupon_id"


@pytest.mark.parametrize("bad", [None, 1.5, True, ["a"], {"a": 1}])
def test_path_values_must_be_str_or_int(bad: object) -> None:
    with pytest.raises(InvalidRequestError, match="openid"):
        expand("v3/users/{openid}", {"openid": bad})


def test_query_keeps_order_drops_none_and_writes_booleans() -> None:
    assert encode_query({"z": 1, "a": "x y", "n": None, "t": True, "f": False}) == "z=1&a=x%20y&t=true&f=false"


def test_query_rejects_nested_values() -> None:
    with pytest.raises(InvalidRequestError, match=r"query\.x"):
        encode_query({"x": [1, 2]})


@given(st.text(st.characters(exclude_categories=["Cs"])).filter(lambda v: v.strip() and v not in (".", "..")))
def test_any_text_expands_to_one_segment_that_decodes_back(value: str) -> None:
    path = expand("a/{v}/b", {"v": value})
    middle = path[2:-2]
    assert "/" not in middle and "?" not in middle and "#" not in middle
    assert unquote(middle, errors="strict") == value


@given(st.dictionaries(st.text(min_size=1), st.one_of(st.text(), st.integers(), st.booleans()), max_size=5))
def test_query_encoding_round_trips(query: dict[str, object]) -> None:
    encoded = encode_query(query)
    pairs = [p.split("=") for p in encoded.split("&")] if encoded else []
    expected = {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in query.items()}
    assert {unquote(k): unquote(v) for k, v in pairs} == expected
    assert " " not in encoded and "+" not in encoded


@given(st.text(" \t\n\r\x0b\x0c\u3000\u00a0", min_size=1))
def test_a_blank_path_value_is_refused(value: str) -> None:
    with pytest.raises(InvalidRequestError, match="white space"):
        expand("a/{v}/b", {"v": value})
