"""APIv2 calls to the seed endpoints are checked before anything is sent, by the text each field is sent as."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import pytest

from wxpay_chain import AsyncClient, InvalidRequestError
from wxpay_chain._apiv2 import is_decimal_text, is_text, is_whole_number
from wxpay_chain.models import RedPackRequest, validate_call

from .peer import V2Peer
from .test_wire import COUPON, REDPACK


async def test_a_missing_or_wrong_field_is_named_and_nothing_is_sent(
    make_client: Callable[..., AsyncClient], v2peer: V2Peer
) -> None:
    packet = {k: v for k, v in REDPACK.items() if k != "wishing"} | {"total_amount": "1.5", "total_num": True}
    async with make_client() as client:
        with pytest.raises(InvalidRequestError) as caught:
            await client.v2.mmpaymkttransfers.sendredpack.post(xml=packet, security=True)
    assert str(caught.value).startswith("invalid request for POST v2/mmpaymkttransfers/sendredpack")
    assert caught.value.problems == (
        ("xml.total_amount", "must be a whole number (or its text), got the string '1.5'"),
        ("xml.wishing", "required field is missing"),
        ("xml.total_num", "must be a whole number (or its text), got the boolean True"),
    )
    assert v2peer.seen == []


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("openid_count", "one", "must be a whole number (or its text), got the string 'one'"),
        ("openid_count", 1.0, "must be a whole number (or its text), got the number 1.0"),
        ("openid_count", "1" * 33, "must be a whole number"),
        ("openid", "  ", "required field must not be empty"),
        ("appid", ["wx1"], "must be text (a string or a whole number), got list"),
        ("coupon_stock_id", None, "required field is missing"),
    ],
)
async def test_each_text_rule_refuses_what_would_be_sent_wrong(
    field: str, value: object, why: str, make_client: Callable[..., AsyncClient], v2peer: V2Peer
) -> None:
    async with make_client() as client:
        with pytest.raises(InvalidRequestError) as caught:
            client.prepare("POST", "v2/mmpaymkttransfers/send_coupon", kwargs={"xml": {**COUPON, field: value}})
    [(name, reason)] = caught.value.problems
    assert name == f"xml.{field}" and reason.startswith(why)
    assert v2peer.seen == []


async def test_strict_applies_the_datas_enums_to_a_seed_endpoint(
    make_client: Callable[..., AsyncClient], v2peer: V2Peer
) -> None:
    # RedPackRequest types scene_id as str; the data knows its values.
    async with make_client() as client:
        with pytest.raises(InvalidRequestError) as caught:
            await client.v2.mmpaymkttransfers.sendredpack.post(xml={**REDPACK, "scene_id": "PRODUCT_9"}, security=True)
    [(name, why)] = caught.value.problems
    assert name == "xml.scene_id" and why.startswith("must be one of PRODUCT_1, PRODUCT_2")
    assert v2peer.seen == []


class Count(int, enum.Enum):
    ONE = 1


class Scene(str, enum.Enum):
    FIRST = "PRODUCT_1"


async def test_an_enum_member_is_judged_and_sent_as_its_value(
    make_client: Callable[..., AsyncClient], v2peer: V2Peer
) -> None:
    async with make_client() as client:
        await client.v2.mmpaymkttransfers.sendredpack.post(
            xml={**REDPACK, "total_num": Count.ONE, "scene_id": Scene.FIRST}, security=True
        )
    fields = v2peer.seen[0].fields
    assert (fields["total_num"], fields["scene_id"]) == ("1", "PRODUCT_1")


async def test_text_and_numbers_that_send_the_same_text_are_both_accepted(
    make_client: Callable[..., AsyncClient], v2peer: V2Peer
) -> None:
    # On the wire 1 and "1" are the same text: an integer field takes either, and so does a string field.
    coupon: dict[str, Any] = {**COUPON, "openid_count": "1", "coupon_stock_id": 1757}
    async with make_client() as client:
        await client.v2.mmpaymkttransfers.send_coupon.post(xml=coupon, security=True)
    fields = v2peer.seen[0].fields
    assert (fields["openid_count"], fields["coupon_stock_id"]) == ("1", "1757")


async def test_validate_off_sends_what_it_is_given(make_client: Callable[..., AsyncClient], v2peer: V2Peer) -> None:
    async with make_client(validate="off") as client:
        await client.v2.mmpaymkttransfers.sendredpack.post(xml={"mch_billno": "1"}, security=True)
    assert v2peer.seen[0].fields["mch_billno"] == "1" and "wishing" not in v2peer.seen[0].fields


async def test_an_endpoint_of_the_data_is_checked_by_type_and_enum_but_not_for_missing_fields(
    make_client: Callable[..., AsyncClient], v2peer: V2Peer
) -> None:
    group = {"mch_billno": "G1", "total_amount": "300", "total_num": 3, "amt_type": "ALL_RAND"}
    async with make_client() as client:
        send = client.v2.mmpaymkttransfers.sendgroupredpack
        with pytest.raises(InvalidRequestError) as caught:
            await send.post(xml={**group, "total_amount": "3.5", "amt_type": "EVEN"}, security=True)
        assert caught.value.problems == (
            ("xml.total_amount", "must be a whole number (or its text), got the string '3.5'"),
            ("xml.amt_type", "must be one of ALL_RAND; got 'EVEN'"),
        )
        assert v2peer.seen == []
        await send.post(xml=group, security=True)  # wishing, act_name... are missing: WeChat Pay says so
    assert v2peer.seen[0].fields["total_amount"] == "300"


def test_an_enum_the_data_writes_as_json_booleans_takes_their_text() -> None:
    from wxpay_chain._typed._check import check_call

    where = ("strict", "POST", "v2/secapi/mch/addInstitutionsub")
    check_call(*where, {}, None, {"apply_h5_payment": "true", "business_type": "BOTH"})
    with pytest.raises(InvalidRequestError) as caught:
        check_call(*where, {}, None, {"apply_h5_payment": "True"})
    assert caught.value.problems == (("xml.apply_h5_payment", "must be one of true, false; got 'True'"),)
    with pytest.raises(InvalidRequestError) as caught:
        check_call("strict", "POST", "v2/secsvc/realnameauth", {}, None, {"cred_type": 1.0})
    assert caught.value.problems == (
        ("xml.cred_type", "must be a whole number or decimal text (a float is not sent), got the number 1.0"),
    )


async def test_types_checks_a_seed_endpoint_by_the_data_and_an_unknown_one_not_at_all(
    make_client: Callable[..., AsyncClient], v2peer: V2Peer
) -> None:
    async with make_client(validate="types") as client:
        with pytest.raises(InvalidRequestError) as caught:
            await client.v2.mmpaymkttransfers.sendredpack.post(xml={"total_amount": "1e2"}, security=True)
        assert [name for name, _ in caught.value.problems] == ["xml.total_amount"]
        await client.v2.mmpaymkttransfers.sendredpack.post(xml={"mch_billno": "1"}, security=True)
        await client.chain("v2/sandbox/nothing-documented").post(xml={"total_amount": "1e2"})
    assert [seen.path for seen in v2peer.seen] == ["/mmpaymkttransfers/sendredpack", "/sandbox/nothing-documented"]


def test_validate_call_judges_a_v2_model_by_its_text() -> None:
    validate_call("POST", "v2/mmpaymkttransfers/sendredpack", {}, None, {**REDPACK, "total_amount": "100"})
    with pytest.raises(InvalidRequestError) as caught:
        validate_call("POST", "v2/mmpaymkttransfers/sendredpack", {}, None, {**REDPACK, "total_amount": "1e2"})
    assert [name for name, _ in caught.value.problems] == ["xml.total_amount"]
    model = RedPackRequest(**{**REDPACK, "total_amount": 100})  # type: ignore[arg-type]
    validate_call("POST", "v2/mmpaymkttransfers/sendredpack", {}, None, model)


@pytest.mark.parametrize(
    ("value", "text", "whole", "decimal"),
    [
        ("1757", True, True, True),
        (1757, True, True, True),
        ("-3", True, True, True),
        ("0.5", True, False, True),
        ("1e2", True, False, False),
        (" 1", True, False, False),
        ("１", True, False, False),  # a full-width digit is not sent as a number
        ("1" * 33, True, False, False),
        (10**32 - 1, True, True, True),
        (10**32, True, False, False),  # no more digits than the text rule allows
        (Count.ONE, True, True, True),
        (1.5, False, False, False),
        (True, False, False, False),
        (None, False, False, False),
    ],
)
def test_the_text_rules_follow_what_is_sent(value: object, text: bool, whole: bool, decimal: bool) -> None:
    assert (is_text(value), is_whole_number(value), is_decimal_text(value)) == (text, whole, decimal)
