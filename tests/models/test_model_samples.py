"""The seed examples and hand-built samples structure into the models and unstructure back unchanged."""

from __future__ import annotations

import copy
from typing import Any

import attrs
import pytest

import wxpay_chain.models as models
from wxpay_chain._converter import structure, unstructure
from wxpay_chain._errors import StructureError
from wxpay_chain.models import (
    BackgroundColor,
    BusifavorCouponPage,
    BusifavorCouponSendEvent,
    BusifavorCouponState,
    FavorCoupon,
    FavorCouponType,
    UsageDetailState,
    UserProductCoupon,
    UserProductCouponPage,
    UserProductCouponState,
    Weekday,
    WeekDayNumber,
    lookup,
)

from ._seeds import (
    SeedRequest,
    curl_request,
    load_sample,
    numbered_json_example,
    php_requests,
    request_line,
    seed_text,
)
from ._walk import all_fields, assert_plain_json, get_in, json_path, model_classes, open_enum_paths, populated, set_in

SEED_004_PAGE: dict[str, Any] = numbered_json_example(seed_text("004"))


def partner_user_coupon() -> dict[str, Any]:
    """Seed 004's coupon with the brand_id fields seed 003 adds for the partner API."""
    coupon = copy.deepcopy(SEED_004_PAGE["user_coupon_list"][0])
    coupon["brand_id"] = "120344"
    coupon["product_coupon"]["brand_id"] = "120344"
    coupon["stock"]["brand_id"] = "120344"
    return coupon


RESPONSES: dict[str, tuple[type, Any]] = {
    "seed 004 page (brand API)": (UserProductCouponPage, SEED_004_PAGE),
    "partner coupon (seed 004 + brand_id of 003)": (UserProductCoupon, partner_user_coupon()),
    "partner page, later page without total_count": (
        UserProductCouponPage,
        {"user_coupon_list": [partner_user_coupon()]},
    ),
    "busifavor page (hand-built from 001)": (BusifavorCouponPage, load_sample("busifavor_coupon_page.json")),
    "favor coupon (hand-built from 002)": (FavorCoupon, load_sample("favor_coupon.json")),
    "busifavor COUPON.SEND notification (official 领券事件回调通知)": (
        BusifavorCouponSendEvent,
        load_sample("busifavor_coupon_send_event.json"),
    ),
}
# APIv2 models (issue 18): one hand-built document per model, every field once.
APIV2_SAMPLES: dict[str, Any] = load_sample("apiv2_samples.json")
RESPONSES.update({f"APIv2 {name} (hand-built)": (getattr(models, name), doc) for name, doc in APIV2_SAMPLES.items()})
FILE_SAMPLES: dict[str, Any] = load_sample("media_samples.json")
RESPONSES.update({f"files {name} (hand-built)": (getattr(models, name), doc) for name, doc in FILE_SAMPLES.items()})


def seed_requests() -> list[SeedRequest]:
    method, template = request_line(seed_text("004"))
    _, _, query = curl_request(seed_text("004"))
    query["page_size"] = int(query["page_size"])  # the curl line is the wire form; the SDK takes an int
    brand_send = load_sample("brand_send_request.json")
    return [
        *php_requests("000"),
        *php_requests("002"),
        *php_requests("003"),
        SeedRequest("004", method, template, {"openid": "oh-394z-6CGkNoJrsDLTTUKiAnp4", "query": query}),
        SeedRequest("hand-built", "POST", template, brand_send),
    ]


def request_models(request: SeedRequest) -> list[tuple[type, dict[str, Any]]]:
    spec = lookup(request.method, request.template)
    assert spec is not None, f"{request.method} {request.template} is not registered"
    out = []
    if "query" in request.args:
        assert spec.query is not None
        out.append((spec.query, request.args["query"]))
    if "json" in request.args:
        assert spec.body is not None
        out.append((spec.body, request.args["json"]))
    return out


@pytest.mark.parametrize("name", list(RESPONSES))
def test_response_sample_round_trips(name: str) -> None:
    cls, doc = RESPONSES[name]
    obj = structure(doc, cls)
    assert isinstance(obj, cls)
    wire = unstructure(obj)
    assert wire == doc
    assert_plain_json(wire)


def test_seed_004_reads_as_typed_values() -> None:
    page = structure(SEED_004_PAGE, UserProductCouponPage)
    assert page.total_count == 20 and page.next_page_token == "MTIzNDUK"
    assert page.user_coupon_list is not None
    coupon = page.user_coupon_list[0]
    assert coupon.coupon_state is UserProductCouponState.USED
    assert coupon.valid_begin_time.utcoffset() is not None
    assert coupon.valid_begin_time.isoformat() == "2025-01-01T00:00:00+08:00"
    assert coupon.stock.coupon_display_info.background_color is BackgroundColor.COLOR010
    period = coupon.stock.single_usage_rule and coupon.stock.single_usage_rule.coupon_available_period
    assert period is not None and period.weekly_available_period is not None
    assert period.weekly_available_period.day_list == [Weekday.MONDAY]
    assert coupon.sequential_usage_detail is not None
    assert coupon.sequential_usage_detail.detail_item_list is not None
    assert coupon.sequential_usage_detail.detail_item_list[0].detail_state is UsageDetailState.USED


def test_hand_built_samples_read_as_typed_values() -> None:
    page = structure(load_sample("busifavor_coupon_page.json"), BusifavorCouponPage)
    assert page.data is not None
    first = page.data[0]
    assert first.coupon_state is BusifavorCouponState.SENDED
    assert first.available_start_time is not None and first.available_start_time.microsecond == 120000
    rule = first.coupon_use_rule
    assert rule is not None and rule.coupon_available_time is not None
    assert rule.coupon_available_time.available_week is not None
    assert rule.coupon_available_time.available_week.week_day == [
        WeekDayNumber.MONDAY,
        WeekDayNumber.TUESDAY,
        WeekDayNumber.SUNDAY,
    ]
    favor = structure(load_sample("favor_coupon.json"), FavorCoupon)
    assert favor.coupon_type is FavorCouponType.CUT_TO and favor.singleitem is True


def test_every_field_of_every_model_is_exercised_by_a_sample() -> None:
    classes = {
        obj for name in models.__all__ if attrs.has(obj := getattr(models, name)) and obj is not models.EndpointSpec
    }
    expected = all_fields(set().union(*(model_classes(cls) for cls in classes)))
    seen: set[tuple[str, str]] = set()
    for cls, doc in RESPONSES.values():
        seen |= populated(structure(doc, cls))
    for request in seed_requests():
        for cls, data in request_models(request):
            seen |= populated(structure(data, cls))
    assert expected - seen == set()


@pytest.mark.parametrize("request_", seed_requests(), ids=lambda r: f"{r.seed} {r.method}")
def test_seed_requests_structure_and_go_back_to_the_same_wire_form(request_: SeedRequest) -> None:
    for cls, data in request_models(request_):
        obj = structure(data, cls)
        assert models.request_to_wire(obj) == data


def _open_enum_cases() -> list[tuple[str, str, tuple[Any, ...], type]]:
    return [
        (name, json_path(path), path, base)
        for name, (cls, doc) in RESPONSES.items()
        for path, base in open_enum_paths(cls, doc)
    ]


def test_the_samples_exercise_every_family_of_open_enums() -> None:
    paths = {case[1] for case in _open_enum_cases()}
    assert "$.user_coupon_list[0].coupon_state" in paths
    assert "$.data[0].coupon_use_rule.coupon_available_time.available_week.week_day[0]" in paths
    assert "$.status" in paths and "$.business_type" in paths
    assert len(paths) >= 20


@pytest.mark.parametrize(("name", "where", "path", "base"), _open_enum_cases(), ids=lambda v: str(v))
def test_unknown_enum_value_stays_readable(name: str, where: str, path: tuple[Any, ...], base: type) -> None:
    cls, original = RESPONSES[name]
    doc = copy.deepcopy(original)
    new_value: object = 97 if base is int else "VALUE_ADDED_LATER"
    set_in(doc, path, new_value)
    obj = structure(doc, cls)
    assert unstructure(obj) == doc
    read = get_in(unstructure(obj), path)
    assert read == new_value and type(read) is base


def test_known_value_compares_with_the_member_and_unknown_with_the_string() -> None:
    doc = copy.deepcopy(SEED_004_PAGE)
    doc["user_coupon_list"][0]["coupon_state"] = "FROZEN"
    page = structure(doc, UserProductCouponPage)
    assert page.user_coupon_list is not None
    coupon = page.user_coupon_list[0]
    assert coupon.coupon_state == "FROZEN"
    assert coupon.coupon_state != UserProductCouponState.USED
    assert coupon.send_channel == "API"
    assert coupon.send_channel == models.SendChannel.API


def test_extra_fields_from_the_server_are_ignored_at_every_level() -> None:
    doc = copy.deepcopy(SEED_004_PAGE)
    doc["brand_new_top_level"] = {"x": 1}
    coupon = doc["user_coupon_list"][0]
    coupon["new_field"] = [1, 2]
    coupon["stock"]["stock_send_rule"]["max_count_per_week"] = 7
    coupon["product_coupon"]["display_info"]["combo_package_list"][0]["choice_list"][0]["sku"] = "x"
    assert structure(doc, UserProductCouponPage) == structure(SEED_004_PAGE, UserProductCouponPage)


def test_a_wrong_field_is_named_by_its_path() -> None:
    doc = copy.deepcopy(SEED_004_PAGE)
    doc["user_coupon_list"][0]["coupon_state"] = 5
    doc["user_coupon_list"][0]["stock"]["sent_count_info"]["total_count"] = "100"
    del doc["user_coupon_list"][0]["product_coupon"]["display_info"]["name"]
    with pytest.raises(StructureError) as caught:
        structure(doc, UserProductCouponPage)
    paths = caught.value.paths
    assert any(p.endswith("@ $.user_coupon_list[0].coupon_state") for p in paths), paths
    assert any(p.endswith("@ $.user_coupon_list[0].stock.sent_count_info.total_count") for p in paths)
    assert "required field missing @ $.user_coupon_list[0].product_coupon.display_info.name" in paths
    assert len(paths) == 3
    assert "$.user_coupon_list[0].coupon_state" in str(caught.value)


def test_busifavor_and_favor_failures_name_their_paths() -> None:
    busifavor = load_sample("busifavor_coupon_page.json")
    busifavor["data"][0]["coupon_use_rule"]["coupon_available_time"]["available_week"]["week_day"][1] = "MON"
    busifavor["data"][1]["transferable"] = "false"
    with pytest.raises(StructureError) as caught:
        structure(busifavor, BusifavorCouponPage)
    assert caught.value.paths == (
        "expected an integer, got a string @ $.data[0].coupon_use_rule.coupon_available_time"
        ".available_week.week_day[1]",
        "expected a boolean, got a string @ $.data[1].transferable",
    )
    favor = load_sample("favor_coupon.json")
    favor["consume_information"]["consume_time"] = "2015-05-20 13:29:35"
    with pytest.raises(StructureError, match=r"@ \$\.consume_information\.consume_time"):
        structure(favor, FavorCoupon)
