"""The endpoint registry: lookup, register, validate_request, request_to_wire and next_page."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from wxpay_chain._converter import structure
from wxpay_chain._errors import InvalidRequestError
from wxpay_chain.models import (
    BrandProductCouponSendRequest,
    BrandUserProductCouponQuery,
    BusifavorCouponPage,
    BusifavorCouponQuery,
    BusifavorCouponState,
    EndpointSpec,
    FavorCoupon,
    FavorCouponQuery,
    ProductCouponSendRequest,
    UserProductCoupon,
    UserProductCouponPage,
    UserProductCouponQuery,
    UserProductCouponState,
    _registry,
    lookup,
    next_page,
    register,
    request_to_wire,
    validate_call,
    validate_request,
)

from ._seeds import SeedRequest, load_sample, numbered_json_example, seed_text
from .test_model_samples import seed_requests

BUSIFAVOR = "v3/marketing/busifavor/users/{openid}/coupons"
FAVOR = "v3/marketing/favor/users/{openid}/coupons/{coupon_id}"
PARTNER = "v3/marketing/partner/product-coupon/users/{openid}/coupons"
BRAND = "brand/marketing/product-coupon/users/{openid}/coupons"


def spec(method: str, template: str) -> EndpointSpec:
    found = lookup(method, template)
    assert found is not None
    return found


def problems(method: str, template: str, path: dict[str, object], query: Any = None, json: Any = None) -> list:
    with pytest.raises(InvalidRequestError) as caught:
        validate_request(spec(method, template), path, query, json)
    return list(caught.value.problems)


# --- lookup and register --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "template", "query", "body", "response", "paging", "items", "params"),
    [
        ("GET", BUSIFAVOR, BusifavorCouponQuery, None, BusifavorCouponPage, "offset", "data", ("openid",)),
        ("GET", FAVOR, FavorCouponQuery, None, FavorCoupon, None, None, ("openid", "coupon_id")),
        ("POST", PARTNER, None, ProductCouponSendRequest, UserProductCoupon, None, None, ("openid",)),
        ("GET", PARTNER, UserProductCouponQuery, None, UserProductCouponPage, "token", "user_coupon_list", ("openid",)),
        ("POST", BRAND, None, BrandProductCouponSendRequest, UserProductCoupon, None, None, ("openid",)),
        (
            "GET",
            BRAND,
            BrandUserProductCouponQuery,
            None,
            UserProductCouponPage,
            "token",
            "user_coupon_list",
            ("openid",),
        ),
    ],
)
def test_the_seed_endpoints_are_registered(
    method: str, template: str, query: Any, body: Any, response: Any, paging: Any, items: Any, params: Any
) -> None:
    assert spec(method, template) == EndpointSpec(method, template, query, body, response, paging, items, params)


def test_lookup_normalises_the_method_and_a_leading_slash() -> None:
    assert lookup("get", "/" + BUSIFAVOR) is spec("GET", BUSIFAVOR)
    assert lookup("DELETE", BUSIFAVOR) is None
    assert lookup("GET", "v3/marketing/busifavor/users/{openid}") is None


def test_every_seed_request_example_names_a_registered_endpoint() -> None:
    assert {(r.method, r.template) for r in seed_requests()} == {
        ("GET", BUSIFAVOR),
        ("GET", FAVOR),
        ("POST", PARTNER),
        ("GET", PARTNER),
        ("GET", BRAND),
        ("POST", BRAND),
    }


def test_endpoint_spec_derives_and_checks_path_params() -> None:
    assert EndpointSpec("get", "/v3/a/{x}/b/{y}").path_params == ("x", "y")
    assert EndpointSpec("get", "/v3/a/{x}/b/{y}").method == "GET"
    with pytest.raises(ValueError, match="placeholders"):
        EndpointSpec("GET", "v3/a/{x}", path_params=("y",))
    with pytest.raises(ValueError, match="together"):
        EndpointSpec("GET", "v3/a", paging="token")


def test_register_adds_a_family_and_refuses_a_conflicting_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_registry, "_SPECS", dict(_registry._SPECS))
    extra = EndpointSpec("GET", "v3/marketing/favor/users/{openid}/coupons", query=FavorCouponQuery)
    register(extra)
    register(EndpointSpec("GET", "/v3/marketing/favor/users/{openid}/coupons", query=FavorCouponQuery))
    assert lookup("GET", "v3/marketing/favor/users/{openid}/coupons") is extra
    with pytest.raises(ValueError, match="already registered"):
        register(EndpointSpec("GET", BUSIFAVOR, query=FavorCouponQuery))
    assert spec("GET", BUSIFAVOR).query is BusifavorCouponQuery


# --- validate_request: the seed examples ----------------------------------------------------------


@pytest.mark.parametrize("request_", seed_requests(), ids=lambda r: f"{r.seed} {r.method} {r.template}")
def test_seed_request_examples_are_accepted(request_: SeedRequest) -> None:
    found = spec(request_.method, request_.template)
    args = request_.args
    if request_.seed == "002":  # the seed's example is a blank template: every value is ''
        with pytest.raises(InvalidRequestError) as caught:
            validate_request(found, request_.path_params, args.get("query"), args.get("json"))
        assert [name for name, _ in caught.value.problems] == ["path.openid", "path.coupon_id", "query.appid"]
        args = {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "coupon_id": "9856888", "query": {"appid": "wx1"}}
        request_ = SeedRequest(request_.seed, request_.method, request_.template, args)
    validate_request(found, request_.path_params, args.get("query"), args.get("json"))


def test_model_instances_of_the_seed_examples_are_accepted() -> None:
    for request_ in seed_requests():
        if request_.seed == "002":
            continue  # a blank template, see above
        found = spec(request_.method, request_.template)
        query = structure(request_.args["query"], found.query) if found.query else None
        body = structure(request_.args["json"], found.body) if found.body else None
        path = {name: "o-1" for name in found.path_params}
        validate_request(found, path, query, body)


# --- validate_request: each rule ------------------------------------------------------------------

OPENID = {"openid": "oh-394z-6CGkNoJrsDLTTUKiAnp4"}
SEND = {
    "brand_id": "120344",
    "product_coupon_id": "1000000013",
    "stock_id": "1000000013001",
    "appid": "wx233544546545989",
    "send_request_no": "34657_20250101_123456",
}


@pytest.mark.parametrize(
    ("path", "field", "reason"),
    [
        ({}, "path.openid", "required path parameter is missing"),
        ({"openid": None}, "path.openid", "required path parameter is missing"),
        ({"openid": ""}, "path.openid", "the value is empty; pass the real id"),
        ({"openid": "  "}, "path.openid", "the value is only white space"),
        ({"openid": ".."}, "path.openid", "the value is a dot-segment ('.' or '..'); pass the real id"),
        ({"openid": 1.5}, "path.openid", "expected str or int, got float"),
    ],
)
def test_path_params_must_be_present_and_usable(path: dict[str, object], field: str, reason: str) -> None:
    assert problems("GET", BUSIFAVOR, path, {"appid": "wx1"}) == [(field, reason)]


@pytest.mark.parametrize("value", ["o-1", 12345, "", "  ", ".", "%2e", 1.5, True, None, "a\ud800"])
def test_typed_and_untyped_endpoints_judge_path_values_by_one_rule(value: object) -> None:
    from wxpay_chain._uri import expand

    try:
        expand("v3/untyped/{openid}", {"openid": value})
        untyped_ok = True
    except InvalidRequestError:
        untyped_ok = False
    try:
        validate_request(spec("GET", BUSIFAVOR), {"openid": value}, {"appid": "wx1"}, None)
        typed_ok = True
    except InvalidRequestError:
        typed_ok = False
    assert typed_ok is untyped_ok


def test_favor_needs_both_path_params_and_appid() -> None:
    assert problems("GET", FAVOR, {"openid": "o"}, {"appid": None}) == [
        ("path.coupon_id", "required path parameter is missing"),
        ("query.appid", "required field is missing"),
    ]
    validate_request(spec("GET", FAVOR), {"openid": "o", "coupon_id": "9856888"}, FavorCouponQuery(appid="wx1"), None)


@pytest.mark.parametrize(
    ("method", "template", "query", "json", "expected"),
    [
        ("GET", BUSIFAVOR, None, None, [("query.appid", "required field is missing")]),
        ("GET", BUSIFAVOR, {}, None, [("query.appid", "required field is missing")]),
        ("GET", BUSIFAVOR, {"appid": ""}, None, [("query.appid", "required field must not be empty")]),
        (
            "GET",
            BUSIFAVOR,
            {"appid": 1.5},  # 1 would do: it is sent as the text "1"
            None,
            [("query.appid", "must be text (a string or a whole number), got the number 1.5")],
        ),
        (
            "GET",
            BUSIFAVOR,
            {"appid": "wx1", "coupon_state": "sended"},
            None,
            [("query.coupon_state", "must be one of SENDED, USED, EXPIRED, DELETED, DEACTIVATED; got 'sended'")],
        ),
        (
            "GET",
            BUSIFAVOR,
            {"appid": "wx1", "coupon_state": UserProductCouponState.EFFECTIVE},
            None,
            [
                (
                    "query.coupon_state",
                    # the text it would be sent as
                    "must be one of SENDED, USED, EXPIRED, DELETED, DEACTIVATED; got 'EFFECTIVE'",
                )
            ],
        ),
        ("GET", BUSIFAVOR, {"appid": "wx1", "offset": -1}, None, [("query.offset", "must be at least 0, got -1")]),
        ("GET", BUSIFAVOR, {"appid": "wx1", "limit": 0}, None, [("query.limit", "must be at least 1, got 0")]),
        (
            "GET",
            BUSIFAVOR,
            {"appid": "wx1", "offset": "0.5"},  # "0" is the text 0 is sent as: a query is text on the wire
            None,
            [("query.offset", "must be a whole number (or its text), got the string '0.5'")],
        ),
        (
            "GET",
            BUSIFAVOR,
            {"appid": "wx1", "limit": True},
            None,
            [("query.limit", "must be a whole number (or its text), got the boolean True")],
        ),
        (
            "GET",
            BUSIFAVOR,
            {"appid": "wx1", "limit": 20.0},
            None,
            [("query.limit", "must be a whole number (or its text), got the number 20.0")],
        ),
        ("GET", PARTNER, {"appid": "wx1"}, None, [("query.brand_id", "required field is missing")]),
        (
            "GET",
            PARTNER,
            {"appid": "wx1", "brand_id": "1", "page_size": 0},
            None,
            [("query.page_size", "must be between 1 and 50, got 0")],
        ),
        (
            "GET",
            PARTNER,
            {"appid": "wx1", "brand_id": "1", "page_size": 51},
            None,
            [("query.page_size", "must be between 1 and 50, got 51")],
        ),
        (
            "GET",
            PARTNER,
            {"appid": "wx1", "brand_id": "1", "page_size": "twenty"},
            None,
            [("query.page_size", "must be a whole number (or its text), got the string 'twenty'")],
        ),
        (
            "GET",
            BRAND,
            {"appid": "wx1", "page_size": 100},
            None,
            [("query.page_size", "must be between 1 and 50, got 100")],
        ),
        (
            "GET",
            BRAND,
            {"appid": "wx1", "coupon_state": "ACTIVE"},
            None,
            [
                (
                    "query.coupon_state",
                    "must be one of CONFIRMING, PENDING, EFFECTIVE, USED, EXPIRED, DELETED, DEACTIVATED; got 'ACTIVE'",
                )
            ],
        ),
        (
            "POST",
            PARTNER,
            None,
            None,
            [
                (f"json.{k}", "required field is missing")
                for k in ("brand_id", "product_coupon_id", "stock_id", "appid", "send_request_no")
            ],
        ),
        (
            "POST",
            PARTNER,
            None,
            {**SEND, "send_request_no": ""},
            [("json.send_request_no", "required field must not be empty")],
        ),
        ("POST", PARTNER, None, {**SEND, "attach": 5}, [("json.attach", "must be a string, got the number 5")]),
        (
            "POST",
            PARTNER,
            None,
            ["not", "an", "object"],
            [("json", "expected ProductCouponSendRequest or a dict, got list")],
        ),
        (
            "POST",
            BRAND,
            None,
            {k: v for k, v in SEND.items() if k != "send_request_no"},
            [("json.send_request_no", "required field is missing")],
        ),
    ],
)
def test_each_documented_rule_is_enforced(method: str, template: str, query: Any, json: Any, expected: list) -> None:
    assert problems(method, template, dict(OPENID), query, json) == expected


@pytest.mark.parametrize("size", [1, 20, 50])
def test_page_size_bounds_are_inclusive(size: int) -> None:
    validate_request(spec("GET", PARTNER), OPENID, {"appid": "wx1", "brand_id": "1", "page_size": size}, None)
    validate_request(spec("GET", BRAND), OPENID, {"appid": "wx1", "page_size": size}, None)


def test_brand_requests_do_not_need_brand_id() -> None:
    send = {k: v for k, v in SEND.items() if k != "brand_id"}
    validate_request(spec("POST", BRAND), OPENID, None, send)
    validate_request(spec("GET", BRAND), OPENID, {"appid": "wx1"}, None)


def test_every_wrong_field_is_listed_at_once() -> None:
    found = problems(
        "GET",
        PARTNER,
        {"openid": ""},
        {"brand_id": 120344.5, "coupon_state": "NEW", "page_size": 0, "page_token": [1]},
    )
    assert [name for name, _ in found] == [
        "path.openid",
        "query.appid",
        "query.brand_id",
        "query.coupon_state",
        "query.page_size",
        "query.page_token",
    ]
    with pytest.raises(InvalidRequestError, match=r"query\.page_size: must be between 1 and 50"):
        validate_request(spec("GET", PARTNER), {"openid": "o"}, {"appid": "wx", "brand_id": "1", "page_size": 99}, None)


def test_model_instances_are_checked_too() -> None:
    good = UserProductCouponQuery(appid="wx1", brand_id="1", coupon_state=UserProductCouponState.USED, page_size=50)
    validate_request(spec("GET", PARTNER), OPENID, good, None)
    bad = UserProductCouponQuery(appid="", brand_id="1", page_size=99)
    assert problems("GET", PARTNER, dict(OPENID), bad) == [
        ("query.appid", "required field must not be empty"),
        ("query.page_size", "must be between 1 and 50, got 99"),
    ]
    smuggled = BusifavorCouponQuery(appid="wx1", limit="20.5")  # type: ignore[arg-type]
    assert problems("GET", BUSIFAVOR, dict(OPENID), smuggled) == [
        ("query.limit", "must be a whole number (or its text), got the string '20.5'")
    ]
    wrong_model = BrandUserProductCouponQuery(appid="wx1")
    assert problems("GET", PARTNER, dict(OPENID), wrong_model) == [
        ("query", "expected UserProductCouponQuery or a dict, got a BrandUserProductCouponQuery")
    ]


@attrs.frozen(kw_only=True)
class Item:
    name: str
    count: int | None = attrs.field(default=None, metadata={"minimum": 1})


@attrs.frozen(kw_only=True)
class Order:
    items: list[Item]
    tags: list[str] | None = None
    state: BusifavorCouponState | None = None


def test_nested_objects_and_lists_name_the_item_and_the_field() -> None:
    orders = EndpointSpec("POST", "v3/test/orders", body=Order)
    validate_request(orders, {}, None, {"items": [Item(name="a"), {"name": "b", "count": 1}], "tags": ("x",)})
    validate_request(orders, {}, None, Order(items=[Item(name="a")], state=BusifavorCouponState.USED))
    with pytest.raises(InvalidRequestError) as caught:
        validate_request(
            orders, {}, None, {"items": [{"name": "a"}, {"name": " ", "count": 0}, "x", None], "tags": ["a", 1]}
        )
    assert list(caught.value.problems) == [
        ("json.items[1].name", "required field must not be empty"),
        ("json.items[1].count", "must be at least 1, got 0"),
        ("json.items[2]", "must be an object, got the string 'x'"),
        ("json.items[3]", "must be an object, got NoneType"),
        ("json.tags[1]", "must be a string, got the number 1"),
    ]
    with pytest.raises(InvalidRequestError) as caught:
        validate_request(orders, {}, None, {"items": "x", "state": True})
    assert list(caught.value.problems) == [
        ("json.items", "must be a list, got the string 'x'"),
        ("json.state", "must be one of SENDED, USED, EXPIRED, DELETED, DEACTIVATED; got True"),
    ]


def test_an_endpoint_without_a_model_accepts_any_query_and_body() -> None:
    bare = EndpointSpec("POST", "v3/x/{id}")
    validate_request(bare, {"id": "1"}, {"anything": object()}, [1, 2])
    with pytest.raises(InvalidRequestError, match=r"path\.id"):
        validate_request(bare, {}, None, None)


# --- validate_call: the client's per-request form ---------------------------------------------------


def test_validate_call_checks_like_validate_request() -> None:
    validate_call("GET", BUSIFAVOR, {"openid": "o", "query": {}}, {"appid": "wx1", "limit": 20}, None)
    validate_call("GET", "v3/unknown/{id}", {"id": "1"}, {"anything": object()}, b"raw")  # no spec: no check
    with pytest.raises(InvalidRequestError) as caught:
        validate_call("GET", BUSIFAVOR, {"openid": ""}, {"limit": True}, None)
    assert list(caught.value.problems) == problems("GET", BUSIFAVOR, {"openid": ""}, {"limit": True})
    assert [p[0] for p in caught.value.problems] == ["path.openid", "query.appid", "query.limit"]


def test_validate_call_judges_other_mappings_by_their_fields() -> None:
    from types import MappingProxyType

    validate_call("GET", BUSIFAVOR, OPENID, MappingProxyType({"appid": "wx1", "limit": 20}), None)
    with pytest.raises(InvalidRequestError, match=r"query\.limit: must be a whole number"):
        validate_call("GET", BUSIFAVOR, OPENID, MappingProxyType({"appid": "wx1", "limit": "twenty"}), None)


def test_validate_call_sees_an_endpoint_registered_after_its_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_registry, "_SPECS", dict(_registry._SPECS))
    monkeypatch.setattr(_registry, "_BY_CALL", {})
    template = "v3/later/{openid}/coupons"
    validate_call("GET", template, OPENID, {"limit": "x"}, None)  # unknown yet: remembered as unchecked
    register(EndpointSpec("GET", template, query=BusifavorCouponQuery))
    with pytest.raises(InvalidRequestError, match=r"query\.appid: required field is missing"):
        validate_call("GET", template, OPENID, {"limit": 20}, None)


def test_validate_call_remembers_a_bounded_number_of_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_registry, "_BY_CALL", {})
    monkeypatch.setattr(_registry, "_BY_CALL_MAX", 3)
    for n in range(10):
        validate_call("GET", f"v3/data-driven/{n}", {}, None, None)
    validate_call("GET", BUSIFAVOR, OPENID, {"appid": "wx1"}, None)
    assert len(_registry._BY_CALL) == 3
    with pytest.raises(InvalidRequestError):  # still checked when it cannot be remembered
        validate_call("GET", BUSIFAVOR, OPENID, {}, None)


# --- request_to_wire ------------------------------------------------------------------------------


def test_request_to_wire_drops_none_and_writes_enum_values() -> None:
    query = BusifavorCouponQuery(appid="wx1", coupon_state=BusifavorCouponState.USED, offset=0, limit=20)
    assert request_to_wire(query) == {"appid": "wx1", "coupon_state": "USED", "offset": 0, "limit": 20}
    assert request_to_wire({"appid": "wx1", "stock_id": None, "coupon_state": BusifavorCouponState.SENDED}) == {
        "appid": "wx1",
        "coupon_state": "SENDED",
    }
    body = BrandProductCouponSendRequest(**{k: v for k, v in SEND.items() if k != "brand_id"})
    assert request_to_wire(body) == {k: v for k, v in SEND.items() if k != "brand_id"}
    assert type(request_to_wire(body)) is dict
    with pytest.raises(TypeError):
        request_to_wire(["appid"])


# --- next_page ------------------------------------------------------------------------------------


def busifavor_page(total: int, offset: int, limit: int, count: int) -> dict[str, Any]:
    return {"total_count": total, "offset": offset, "limit": limit, "data": [{"coupon_code": "c"}] * count}


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (busifavor_page(45, 0, 20, 20), 1),  # offset is the page number (分页页码)
        (busifavor_page(45, 1, 20, 20), 2),
        (busifavor_page(45, 2, 20, 5), None),  # short page
        (busifavor_page(40, 1, 20, 20), None),  # reached total_count
        (busifavor_page(0, 0, 20, 0), None),  # empty
        ({"total_count": 45, "offset": 0, "limit": 20}, None),  # no data at all
    ],
)
def test_offset_paging(page: dict[str, Any], expected: int | None) -> None:
    query = {"appid": "wx1", "coupon_state": "SENDED", "offset": page["offset"], "limit": page["limit"]}
    found = spec("GET", BUSIFAVOR)
    for given in (page, structure(page, BusifavorCouponPage)):
        following = next_page(found, query, given)
        if expected is None:
            assert following is None
        else:
            assert following == {**query, "offset": expected, "limit": page["limit"]}


def test_offset_paging_from_a_query_without_offset_uses_the_answered_counters() -> None:
    following = next_page(spec("GET", BUSIFAVOR), {"appid": "wx1"}, busifavor_page(100, 0, 10, 10))
    assert following == {"appid": "wx1", "offset": 1, "limit": 10}


def test_token_paging_follows_next_page_token_until_it_is_gone() -> None:
    first = numbered_json_example(seed_text("004"))
    query = {"appid": "wx233544546545989", "page_size": 20}
    found = spec("GET", BRAND)
    for given in (first, structure(first, UserProductCouponPage)):
        assert next_page(found, query, given) == {**query, "page_token": "MTIzNDUK"}
    assert next_page(found, {**query, "page_token": "MTIzNDUK"}, {"user_coupon_list": []}) is None
    assert next_page(found, query, {"total_count": 0, "next_page_token": ""}) is None
    assert next_page(spec("GET", PARTNER), {"appid": "a", "brand_id": "b"}, {"next_page_token": "T2"}) == {
        "appid": "a",
        "brand_id": "b",
        "page_token": "T2",
    }


def test_endpoints_without_paging_have_no_next_page() -> None:
    assert next_page(spec("GET", FAVOR), {"appid": "wx1"}, load_sample("favor_coupon.json")) is None
