"""validate="strict" | "types" | "off": which check a call passes before anything is sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, Client, ConfigurationError, InvalidRequestError

COUPONS = "v3/marketing/busifavor/users/{openid}/coupons"  # a hand-verified seed endpoint
BILL = "v3/bill/tradebill"  # a hand spec without a query model: the data checks the query
STOCKS = "v3/marketing/favor/stocks"  # only in the data: integer query parameters
JSAPI = "v3/pay/transactions/jsapi"


def fields(exc: pytest.ExceptionInfo[InvalidRequestError]) -> list[str]:
    return [name for name, _ in exc.value.problems]


def test_strict_keeps_the_seed_endpoints_full_check(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client()
    with pytest.raises(InvalidRequestError) as exc:
        client.prepare("GET", COUPONS, kwargs={"openid": "o", "query": {"limit": 5}})
    assert fields(exc) == ["query.appid"]  # required, and missing


def test_types_checks_what_is_given_and_not_what_is_missing(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client(validate="types")
    client.prepare("GET", COUPONS, kwargs={"openid": "o", "query": {"limit": 5}})  # appid missing: allowed
    client.prepare("GET", COUPONS, kwargs={"openid": "o", "query": {"limit": "5"}})  # the same query text
    with pytest.raises(InvalidRequestError) as exc:
        client.prepare("GET", COUPONS, kwargs={"openid": "o", "query": {"limit": "5.0", "coupon_state": "GONE"}})
    assert fields(exc) == ["query.limit", "query.coupon_state"]
    assert "must be a whole number" in exc.value.problems[0][1]
    assert "SENDED" in exc.value.problems[1][1]


def test_a_query_is_judged_by_the_text_it_is_sent_as(make_client: Callable[..., AsyncClient]) -> None:
    # The same check for the data's endpoints and the seed models: 5 and "5" are one query, 5.0 none.
    for policy in ("strict", "types"):
        client = make_client(validate=policy)
        seed = client.prepare("GET", COUPONS, kwargs={"openid": "o", "query": {"appid": "wx1", "limit": "5"}})
        data = client.prepare("GET", STOCKS, kwargs={"query": {"offset": "0", "limit": 10, "stock_creator_mchid": 1}})
        assert seed.target.endswith("limit=5") and data.target.endswith("offset=0&limit=10&stock_creator_mchid=1")
        for template, path in ((COUPONS, {"openid": "o"}), (STOCKS, {})):
            with pytest.raises(InvalidRequestError) as exc:
                client.prepare("GET", template, kwargs={**path, "query": {"appid": "wx1", "limit": 5.0}})
            assert fields(exc) == ["query.limit"]


@pytest.mark.parametrize("policy", ["strict", "types"])
def test_generated_specs_check_types_and_enums_but_not_required_fields(
    make_client: Callable[..., AsyncClient], policy: str
) -> None:
    client = make_client(validate=policy)
    client.prepare("GET", BILL, kwargs={"query": {"tar_type": "GZIP"}})  # bill_date is required, but not checked
    with pytest.raises(InvalidRequestError) as exc:
        client.prepare("GET", BILL, kwargs={"query": {"bill_date": "2026-01-01", "tar_type": "ZIP"}})
    assert fields(exc) == ["query.tar_type"]
    assert str(exc.value).startswith(f"invalid request for GET {BILL}")


def test_nested_body_fields_are_named_in_full(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client()
    body: dict[str, Any] = {
        "amount": {"total": "100"},
        "payer": {"openid": 7},
        "detail": {"goods_detail": [{"quantity": 1}, {"quantity": True}]},
        "not_in_the_data": 1,  # unknown fields are WeChat Pay's business
    }
    with pytest.raises(InvalidRequestError) as exc:
        client.prepare("POST", JSAPI, kwargs={"json": body})
    assert fields(exc) == ["json.amount.total", "json.payer.openid", "json.detail.goods_detail[1].quantity"]


def test_off_checks_nothing_of_the_fields(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client(validate="off")
    client.prepare("GET", COUPONS, kwargs={"openid": "o", "query": {"limit": "many"}})
    client.prepare("GET", BILL, kwargs={"query": {"tar_type": "ZIP"}})


def test_a_bad_policy_is_a_configuration_error(make_client: Callable[..., AsyncClient]) -> None:
    with pytest.raises(ConfigurationError, match='validate must be "strict"'):
        make_client(validate="loose")


def test_the_blocking_client_takes_the_same_policy(key: rsa.RSAPrivateKey) -> None:
    with Client(
        mchid="1900000001", serial="5157F09E", private_key=key, platform_keys={"PUB_KEY_ID_01": key.public_key()},
        validate="types",
    ) as client:
        client.prepare("GET", COUPONS, kwargs={"openid": "o", "query": {"limit": 5}})
        with pytest.raises(InvalidRequestError):
            client.prepare("GET", BILL, kwargs={"query": {"tar_type": "ZIP"}})


def test_paths_without_data_are_not_checked(make_client: Callable[..., AsyncClient]) -> None:
    make_client().prepare("POST", "v3/not/in/the/data", kwargs={"json": {"anything": [1, {"x": None}]}})


def test_a_spec_registered_after_the_first_call_applies_to_the_next(make_client: Callable[..., AsyncClient]) -> None:
    import attrs

    from wxpay_chain.models import EndpointSpec, _registry, register

    @attrs.frozen
    class CountQuery:
        count: int

    template = "v3/sandbox-test/late-registered"
    client = make_client()
    client.prepare("GET", template, kwargs={"query": {"count": "x"}})  # no spec yet: nothing to judge it by
    try:
        register(EndpointSpec("GET", template, query=CountQuery))
        with pytest.raises(InvalidRequestError) as exc:
            client.prepare("GET", template, kwargs={"query": {"count": "x"}})
        assert fields(exc) == ["query.count"]
    finally:
        _registry._SPECS.pop(("GET", template), None)
        register(_registry.lookup("GET", COUPONS))  # type: ignore[arg-type]  # clears what was compiled
