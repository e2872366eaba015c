"""What prepare() makes of a method, a path and a body it cannot send as given: the form that is sent and
signed, or a typed error naming the argument, before anything is sent."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from wxpay_chain import AsyncClient, InvalidRequestError

from .wire import WirePeer

SEND = "v3/marketing/partner/product-coupon/users/{openid}/coupons"
GOOD = {
    "brand_id": "120344",
    "product_coupon_id": "1000000013",
    "stock_id": "1000000013001",
    "appid": "wx233544546545989",
    "send_request_no": "34657_20250101_123456",
}


async def test_a_method_in_another_case_is_signed_as_it_is_sent(memory_client: AsyncClient, peer: WirePeer) -> None:
    # aiohttp sends "get" as GET: a signature over "get" would not verify at WeChat Pay.
    prepared = memory_client.prepare("get", "v3/certificates")
    assert prepared.method == "GET"
    signed = memory_client.sign(prepared)
    assert signed.method == "GET" and signed.headers["Authorization"]


@pytest.mark.parametrize("method", ["GET\r\n", "FETCH", "", None, b"GET", 1])
def test_an_unknown_method_is_refused_naming_it(memory_client: AsyncClient, method: Any) -> None:
    with pytest.raises(InvalidRequestError, match="Unknown HTTP method") as caught:
        memory_client.prepare(method, "v3/certificates")
    assert caught.value.problems[0][0] == "method"


@pytest.mark.parametrize("template", [None, 5, ["v3", "certificates"], b"v3/certificates"])
def test_a_path_that_is_not_text_is_refused_naming_it(memory_client: AsyncClient, template: Any) -> None:
    with pytest.raises(InvalidRequestError, match="must be text") as caught:
        memory_client.prepare("GET", template)
    assert caught.value.problems[0][0] == "path"


def test_a_leading_slash_is_named_as_such(memory_client: AsyncClient) -> None:
    with pytest.raises(InvalidRequestError, match="starts with '/'"):
        memory_client.prepare("GET", "/v3/certificates")


async def test_a_raw_data_body_on_a_typed_endpoint_is_sent_as_it_is(memory_client: AsyncClient, peer: WirePeer) -> None:
    # data= is "a raw body, sent and signed as is": the typed body check (for json=) does not judge it.
    body = json.dumps(GOOD)
    chain = memory_client.v3.marketing.partner.productCoupon.users._openid_.coupons
    response = await chain.post(openid="o-1", data=body)
    assert response.status == 200 and peer.seen[-1].body == body.encode() and peer.seen[-1].signature_ok
    with pytest.raises(InvalidRequestError, match=r"path\.openid"):  # the path is still checked
        memory_client.prepare("POST", SEND, (), {"data": body})
    with pytest.raises(InvalidRequestError, match=r"json\.brand_id"):  # and so is json=
        memory_client.prepare("POST", SEND, (), {"openid": "o-1", "json": {**GOOD, "brand_id": 120344}})


@pytest.mark.parametrize(
    ("payload", "field", "why"),
    [
        ({"amount": {"total": Decimal("1.00")}}, "json.amount.total", "Decimal has no JSON form; send amounts as"),
        ({"items": [1, {"at": object()}]}, "json.items[1].at", "object has no JSON form"),
        ({"rate": float("nan")}, "json.rate", "nan has no JSON form"),
        ({"tags": {"a", "b"}}, "json.tags", "set has no JSON form"),
        ({("a", 1): "x"}, "json.('a', 1)", "tuple key; keys are text"),
    ],
    ids=["decimal", "nested", "nan", "set", "tuple-key"],
)
def test_a_value_json_cannot_carry_is_named_by_its_place(
    memory_client: AsyncClient, payload: dict[Any, Any], field: str, why: str
) -> None:
    with pytest.raises(InvalidRequestError, match="not serialisable as JSON") as caught:
        memory_client.prepare("POST", "v3/things", (), {"json": payload})
    (where, what), = caught.value.problems
    assert where == field and why in what


# format_rfc3339's bare ValueError escaped `except InvalidRequestError` and named no field.
@pytest.mark.parametrize(
    ("begin", "why"),
    [
        (dt.datetime(2025, 1, 5), "naive datetime"),
        (dt.datetime(1900, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=8, seconds=343))), "has seconds"),
    ],
)
def test_a_time_in_a_request_model_that_cannot_be_sent_is_refused_naming_its_field(
    memory_client: AsyncClient, begin: dt.datetime, why: str
) -> None:
    from wxpay_chain.models.product_coupon_stock import CouponAvailablePeriod, IrregularAvailablePeriod

    china = dt.timezone(dt.timedelta(hours=8))
    good = dt.datetime(2025, 1, 6, tzinfo=china)
    period = CouponAvailablePeriod(
        available_begin_time=good,
        available_end_time=good,
        irregular_available_period_list=[IrregularAvailablePeriod(begin_time=begin, end_time=good)],
    )
    for option in ("json", "query"):
        with pytest.raises(InvalidRequestError) as refused:
            memory_client.prepare("POST", "v3/marketing/things", kwargs={option: period})
        ((field, reason),) = refused.value.problems
        assert field == f"{option}.irregular_available_period_list[0].begin_time" and why in reason
