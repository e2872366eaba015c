"""Documented-valid requests the vendored data's enums refused, and the way past a fact the data gets wrong.

Each request is the official page's own example (the URL is beside it); ``prepare()`` checks a call
exactly as sending it would, without sending."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from wxpay_chain import AsyncClient, Client, ConfigurationError, InvalidRequestError

from .conftest import MCHID, PUB_KEY_ID, SERIAL
from .wire import pem_public

APPLYMENT = "v3/ecommerce/applyments/{empty}"  # 二级商户进件, docs/partner/apis/ecommerce-merchant-application


def applyment(**account: Any) -> dict[str, Any]:
    return {
        "empty": "",
        "json": {
            "out_request_no": "APPLYMENT_00000000001",
            "organization_type": "2401",  # text on the page; the data writes its members as numbers
            "account_info": {"bank_account_type": "75", "account_bank": "工商银行", **account},
            "contact_info": {"contact_type": "65", "contact_name": "pVd1HJ6zyvPedzGaV"},
            "merchant_shortname": "腾讯",
        },
    }


@pytest.mark.parametrize(
    ("template", "body"),
    [
        # https://pay.weixin.qq.com/doc/v3/partner/4012477758: the data gave relation_type the type field's enum
        (
            "v3/ecommerce/profitsharing/receivers/add",
            {"appid": "wx8888", "type": "MERCHANT_ID", "account": "190001", "relation_type": "SUPPLIER"},
        ),
        # https://pay.weixin.qq.com/doc/v3/partner/4015792575: a free-text reason outside 数电 mode
        ("v3/new-tax-control-fapiao/fapiao-applications/{fapiao_apply_id}/reverse", {"reverse_reason": "退款"}),
        # a transfer scene granted to the merchant after the data was written
        (
            "v3/fund-app/mch-transfer/transfer-bills",
            {
                "appid": "wx8888",
                "out_bill_no": "plfk2020042013",
                "transfer_scene_id": "2001",
                "openid": "o-1",
                "transfer_amount": 400000,
                "transfer_remark": "新会员开通有礼",
            },
        ),
    ],
)
def test_documented_values_the_data_refused_pass(
    make_client: Callable[..., AsyncClient], template: str, body: dict[str, Any]
) -> None:
    options = {"fapiao_apply_id": "4200000444201910177461284488"} if "{fapiao_apply_id}" in template else {}
    make_client().prepare("POST", template, kwargs={**options, "json": body})


def test_a_text_field_whose_members_the_data_writes_as_numbers_takes_their_text(
    make_client: Callable[..., AsyncClient],
) -> None:
    client = make_client()
    client.prepare("POST", APPLYMENT, kwargs=applyment())
    with pytest.raises(InvalidRequestError) as raised:
        client.prepare("POST", APPLYMENT, kwargs=applyment(bank_account_type=75))
    assert raised.value.problems == (("json.account_info.bank_account_type", "must be a string, got the number 75"),)
    with pytest.raises(InvalidRequestError, match=r"must be one of 74, 75; got '76'"):
        client.prepare("POST", APPLYMENT, kwargs=applyment(bank_account_type="76"))


def test_with_options_turns_the_check_off_for_a_copy_only(
    make_client: Callable[..., AsyncClient], merchant_key: Any, platform_key: Any
) -> None:
    wrong = applyment(bank_account_type="76")  # say the data were wrong about this one
    client = make_client()
    loose = client.with_options(validate="off")
    assert loose.prepare("POST", APPLYMENT, kwargs=wrong).target == "/v3/ecommerce/applyments/"
    with pytest.raises(InvalidRequestError):
        client.prepare("POST", APPLYMENT, kwargs=wrong)  # the client itself stays strict
    keys = {PUB_KEY_ID: pem_public(platform_key)}
    with Client(mchid=MCHID, serial=SERIAL, private_key=merchant_key, platform_keys=keys) as blocking:
        assert blocking.with_options(validate="off").prepare("POST", APPLYMENT, kwargs=wrong).method == "POST"
        with pytest.raises(InvalidRequestError):
            blocking.prepare("POST", APPLYMENT, kwargs=wrong)
    with pytest.raises(ConfigurationError, match="validate must be"):
        client.with_options(validate="loose")  # type: ignore[arg-type]
