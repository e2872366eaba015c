"""Property tests: every model survives unstructure → structure; valid request models pass validation."""

from __future__ import annotations

import enum
import functools
import re
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
from wxpay_chain._errors import InvalidRequestError
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
_WHOLE_MAX = 10**32 - 1


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
        # A query sends an int as text of at most 32 digits (10**32 is refused), so unbounded ints stop there.
        low, high = (meta or {}).get("minimum", -_WHOLE_MAX), (meta or {}).get("maximum", _WHOLE_MAX)
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


_hints = functools.cache(hints)


def expected_problems(where: str, model: type, data: typing.Mapping[str, Any]) -> list[tuple[str, str]]:
    """The request rules read field by field, in field order, written here apart from the SDK's validator."""
    found: list[tuple[str, str]] = []
    types_of = _hints(model)
    for field in attrs.fields(model):
        path, value, required = f"{where}.{field.name}", data.get(field.name), field.default is attrs.NOTHING
        if value is None:
            if required:
                found.append((path, "required field is missing"))
            continue
        read = expected_text_problems if where == "query" else expected_value_problems
        found += read(path, types_of[field.name], value, field.metadata)
        if required and isinstance(value, str) and not value.strip():
            found.append((path, "required field must not be empty"))
    return found


def expected_text_problems(path: str, tp: Any, value: object, meta: typing.Mapping[Any, Any]) -> list[tuple[str, str]]:
    """A query field is sent as text: what is judged is that text (5 and "5" are the same query)."""
    (tp,) = [a for a in typing.get_args(tp) if a is not type(None)] or [tp]
    kind = _kind_of(value)
    whole = isinstance(value, int) and not isinstance(value, bool)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        allowed = [str(m.value) for m in tp]
        ok = (isinstance(value, str) or whole) and str(value) in allowed
        return [] if ok else [(path, f"must be one of {', '.join(allowed)}; got {value!r}")]
    if tp is str:
        ok = isinstance(value, str) or whole
        return [] if ok else [(path, f"must be text (a string or a whole number), got {kind}")]
    assert tp is int, tp
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,32}", value):
        value, whole = int(value), True
    if not whole or not -(10**32) < value < 10**32:  # text of at most 32 digits, either way
        return [(path, f"must be a whole number (or its text), got {kind}")]
    return _expected_bounds(path, value, meta)


def _kind_of(value: object) -> str:
    return (
        f"the boolean {value}" if isinstance(value, bool)
        else f"the number {value!r}" if isinstance(value, (int, float))
        else f"the string {value!r}" if isinstance(value, str)
        else type(value).__name__
    )


def _expected_bounds(path: str, value: Any, meta: typing.Mapping[Any, Any]) -> list[tuple[str, str]]:
    low, high = meta.get("minimum"), meta.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        return [(path, f"must be {bounds}, got {value}")]
    return []


def expected_value_problems(path: str, tp: Any, value: object, meta: typing.Mapping[Any, Any]) -> list[tuple[str, str]]:
    (tp,) = [a for a in typing.get_args(tp) if a is not type(None)] or [tp]
    kind = (
        f"the boolean {value}" if isinstance(value, bool)
        else f"the number {value!r}" if isinstance(value, (int, float))
        else f"the string {value!r}" if isinstance(value, str)
        else type(value).__name__
    )
    if typing.get_origin(tp) is list:
        if not isinstance(value, (list, tuple)):
            return [(path, f"must be a list, got {kind}")]
        (item,) = typing.get_args(tp)
        return [p for i, v in enumerate(value) for p in expected_value_problems(f"{path}[{i}]", item, v, {})]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        allowed = [m.value for m in tp]
        ok = not isinstance(value, bool) and any(value == a for a in allowed)
        return [] if ok else [(path, f"must be one of {', '.join(map(str, allowed))}; got {value!r}")]
    if attrs.has(tp):
        if isinstance(value, tp):
            value = attrs.asdict(value, recurse=False)
        if not isinstance(value, typing.Mapping):
            return [(path, f"must be an object, got {kind}")]
        return expected_problems(path, tp, value)
    if tp is bool:
        return [] if isinstance(value, bool) else [(path, f"must be a boolean, got {kind}")]
    if tp is str:
        return [] if isinstance(value, str) else [(path, f"must be a string, got {kind}")]
    assert tp is int, tp
    if not isinstance(value, int) or isinstance(value, bool):
        return [(path, f"must be an integer, got {kind}")]
    return _expected_bounds(path, value, meta)


@pytest.mark.parametrize("cls", sorted(set(REQUESTS.values()), key=lambda cls: cls.__name__), ids=lambda c: c.__name__)
def test_the_validator_names_exactly_the_problems_the_rules_find(cls: type) -> None:
    # The one validator walks only what was given, so that a valid request costs no string work; here it
    # must find, on every input, exactly the problems (and in the order) of the rules read field by field:
    # valid requests with up to two fields swapped for wrong types, blanks or small ints. A miss would
    # send a bad request; an extra would refuse a good one.
    spec = lookup(*next(key for key, model in REQUESTS.items() if model is cls).split(" ", 1))
    assert spec is not None
    where = "query" if spec.query is cls else "json"
    names = [f.name for f in attrs.fields(cls)]
    spoilt = st.dictionaries(st.sampled_from(names), _NOISE, max_size=2)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(instances(cls), spoilt)
    def check(obj: Any, changes: dict[str, Any]) -> None:
        data = {**request_to_wire(obj), **changes}
        path = {name: "o-1" for name in spec.path_params}
        expected = expected_problems(where, cls, data)
        try:
            validate_request(spec, path, data if where == "query" else None, data if where == "json" else None)
        except InvalidRequestError as caught:
            assert list(caught.problems) == expected
        else:
            assert expected == []

    check()
