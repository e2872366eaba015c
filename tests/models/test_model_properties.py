"""Property tests: every model survives unstructure → structure; valid request models pass validation."""

from __future__ import annotations

import enum
import types
import typing
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wxpay_chain.models as models
from wxpay_chain._converter import structure, unstructure
from wxpay_chain.models import EndpointSpec, lookup, request_to_wire, validate_request

from ._walk import assert_plain_json, hints

MODELS = sorted(
    (obj for name in models.__all__ if attrs.has(obj := getattr(models, name)) and obj is not EndpointSpec),
    key=lambda cls: cls.__name__,
)
REQUESTS = {
    "GET v3/marketing/busifavor/users/{openid}/coupons": models.BusifavorCouponQuery,
    "GET v3/marketing/favor/users/{openid}/coupons/{coupon_id}": models.FavorCouponQuery,
    "POST v3/marketing/partner/product-coupon/users/{openid}/coupons": models.ProductCouponSendRequest,
    "GET v3/marketing/partner/product-coupon/users/{openid}/coupons": models.UserProductCouponQuery,
    "POST brand/marketing/product-coupon/users/{openid}/coupons": models.BrandProductCouponSendRequest,
    "GET brand/marketing/product-coupon/users/{openid}/coupons": models.BrandUserProductCouponQuery,
}

_offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
_text = st.text(max_size=6)


def strategy(tp: Any, meta: typing.Mapping[str, Any] | None = None, required: bool = False) -> Any:
    """Values of an annotated model type; ``required`` strings are non-blank, ints honour bounds."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return st.one_of(*(strategy(a, meta, required) for a in typing.get_args(tp) if a is not type(None)))
    if typing.get_origin(tp) is list:
        return st.lists(strategy(typing.get_args(tp)[0]), max_size=2)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if attrs.has(tp):
        return instances(tp)
    if tp is str:
        return st.text(min_size=1, max_size=6).filter(str.strip) if required else _text
    if tp is bool:
        return st.booleans()
    if tp is int:
        low, high = (meta or {}).get("minimum"), (meta or {}).get("maximum")
        return st.integers(min_value=low, max_value=high)
    if tp is datetime:
        return st.datetimes(timezones=_offsets)
    raise TypeError(tp)


def instances(cls: type) -> Any:
    types_ = hints(cls)
    fields = {}
    for f in attrs.fields(cls):
        value = strategy(types_[f.name], f.metadata, required=f.default is attrs.NOTHING)
        fields[f.name] = value if f.default is attrs.NOTHING else st.none() | value
    return st.builds(cls, **fields)


_settings = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_every_model_survives_unstructure_then_structure(cls: type) -> None:
    @_settings
    @given(instances(cls))
    def check(obj: Any) -> None:
        wire = unstructure(obj)
        assert_plain_json(wire)
        assert structure(wire, cls) == obj

    check()


@pytest.mark.parametrize("endpoint", list(REQUESTS))
def test_generated_valid_requests_pass_validation_and_keep_their_wire_form(endpoint: str) -> None:
    method, template = endpoint.split(" ")
    spec = lookup(method, template)
    assert spec is not None
    cls = REQUESTS[endpoint]
    assert cls in (spec.query, spec.body)

    @_settings
    @given(instances(cls), st.text(min_size=1, max_size=6).filter(lambda v: v.strip() and v not in (".", "..")))
    def check(obj: Any, path_value: str) -> None:
        path = dict.fromkeys(spec.path_params, path_value)
        as_query, as_body = (obj, None) if spec.query is cls else (None, obj)
        validate_request(spec, path, as_query, as_body)
        wire = request_to_wire(obj)
        assert_plain_json(wire)
        validate_request(spec, path, wire if as_query else None, wire if as_body else None)
        assert structure(wire, cls) == obj

    check()


_NOISE = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", " ", "x", "SENDED"]), st.just({}), st.just([])
)


@pytest.mark.parametrize("cls", sorted(set(REQUESTS.values()), key=lambda cls: cls.__name__), ids=lambda c: c.__name__)
def test_the_fast_acceptance_check_agrees_with_the_field_by_field_check(cls: type) -> None:
    # Every request runs the compiled predicate; only a "no" walks the fields for messages. A "yes"
    # where the walk finds a problem would send a bad request, so the two must agree on every input:
    # here, valid requests with up to two fields swapped for wrong types, blanks or small ints.
    from wxpay_chain.models._registry import _accepts, _check_fields

    names = [f.name for f in attrs.fields(cls)]
    spoilt = st.dictionaries(st.sampled_from(names), _NOISE, max_size=2)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(instances(cls), spoilt)
    def check(obj: Any, changes: dict[str, Any]) -> None:
        data = {**request_to_wire(obj), **changes}
        problems = list(_check_fields("query", cls, data))
        assert _accepts(cls)(data) == (not problems), problems

    check()
