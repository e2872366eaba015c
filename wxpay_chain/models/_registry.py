"""Which model belongs to which endpoint, and the local checks a request must pass before it is sent.

The client looks an endpoint up by method and template (:func:`lookup`), checks the caller's input
(:func:`validate_request`), turns request models into plain dicts (:func:`request_to_wire`), reads the
answer with the spec's response model, and pages with :func:`next_page`. Families join with
:func:`register`.

Checks are derived from the request models: a field without a default is required (and a required
string must not be empty), values must have the field's JSON type (``bool`` is not an ``int``), enum
fields take only the enum's values, and ``attrs`` field metadata ``minimum``/``maximum`` bound
integers.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import attrs

from .._converter import unstructure
from .._errors import InvalidRequestError
from .._uri import is_plain_segment, path_value_problem, placeholders
from .busifavor import BusifavorCouponPage, BusifavorCouponQuery
from .favor import FavorCoupon, FavorCouponQuery
from .product_coupon import (
    BrandProductCouponSendRequest,
    BrandUserProductCouponQuery,
    ProductCouponSendRequest,
    UserProductCoupon,
    UserProductCouponPage,
    UserProductCouponQuery,
)

__all__ = [
    "EndpointSpec",
    "lookup",
    "next_page",
    "register",
    "request_to_wire",
    "validate_call",
    "validate_request",
]

def _template_params(template: str) -> tuple[str, ...]:
    return placeholders(template)  # the one placeholder parser, the client's


def _strip_slash(template: str) -> str:
    return template.lstrip("/")


def _upper(method: str) -> str:
    return method.upper()


@attrs.frozen(cache_hash=True)
class EndpointSpec:
    """What the SDK knows about one endpoint: its request and response models and how it pages."""

    method: str = attrs.field(converter=_upper)
    template: str = attrs.field(converter=_strip_slash)
    query: type | None = None
    body: type | None = None
    response: type | None = None
    paging: Literal["offset", "token"] | None = None
    items_field: str | None = None
    path_params: tuple[str, ...] = attrs.field(
        default=attrs.Factory(lambda self: _template_params(self.template), takes_self=True),
        converter=tuple,
    )

    def __attrs_post_init__(self) -> None:
        if set(self.path_params) != set(_template_params(self.template)):
            raise ValueError(f"path_params {self.path_params!r} do not match the placeholders of {self.template!r}")
        if (self.paging is None) != (self.items_field is None):
            raise ValueError("paging and items_field go together: set both or neither")


_SPECS: dict[tuple[str, str], EndpointSpec] = {}


def register(spec: EndpointSpec) -> None:
    """Make ``spec`` known to :func:`lookup`; registering the same spec twice is harmless.

    Raises ValueError if a different spec is already registered for the same method and template.
    """
    key = (spec.method, spec.template)
    known = _SPECS.setdefault(key, spec)
    if known != spec:
        raise ValueError(f"{spec.method} {spec.template} is already registered with another spec")
    _BY_CALL.clear()  # it may remember this endpoint as one without a spec


def lookup(method: str, template: str) -> EndpointSpec | None:
    """The spec of ``method template`` (``"GET"``, ``"v3/marketing/..."``), or None if unknown."""
    spec = _SPECS.get((method, template))  # the client's own form: one lookup on every request
    if spec is None:
        spec = _SPECS.get((method.upper(), _strip_slash(template)))
    return spec


# --- validation -----------------------------------------------------------------------------------


def validate_request(
    spec: EndpointSpec,
    path_params: Mapping[str, object],
    query: Mapping[str, object] | object | None,
    json: Mapping[str, object] | object | None,
) -> None:
    """Check a request against ``spec`` before anything is sent.

    ``query`` and ``json`` may be dicts or instances of the spec's request models. Raises
    InvalidRequestError listing every wrong field (``path.openid``, ``query.page_size``,
    ``json.brand_id``…) with the reason.
    """
    if not _request_accepts(spec)(path_params, query, json):
        _raise_problems(spec, path_params, query, json)


RequestCheck = Callable[[Mapping[str, object], object, object], bool]

# What the client calls on every request: (method, template) exactly as it sends them -> the spec and its
# compiled check, or (None, ...) for an endpoint without one. Bounded, as templates can be built from data;
# register() clears it.
_BY_CALL: dict[tuple[str, str], tuple[EndpointSpec | None, RequestCheck]] = {}
_BY_CALL_MAX = 4096


def validate_call(method: str, template: str, path_params: Mapping[str, object], query: object, json: object) -> None:
    """:func:`lookup` and :func:`validate_request` in one step, remembered per (method, template)."""
    entry = _BY_CALL.get((method, template))
    if entry is None:
        spec = lookup(method, template)
        entry = (spec, _request_accepts(spec) if spec is not None else _accept_all)
        if len(_BY_CALL) < _BY_CALL_MAX:
            _BY_CALL[(method, template)] = entry
    spec, accepts = entry
    if spec is not None and not accepts(path_params, query, json):
        _raise_problems(spec, path_params, query, json)


def _accept_all(path_params: Mapping[str, object], query: object, json: object) -> bool:
    return True


def _raise_problems(spec: EndpointSpec, path_params: Mapping[str, object], query: object, json: object) -> None:
    """Walk the request field by field and raise naming every problem (the slow path of a rejection)."""
    problems: list[tuple[str, str]] = []
    for name in spec.path_params:
        value = path_params.get(name)
        where = f"path.{name}"
        if value is None:
            problems.append((where, "required path parameter is missing"))
        else:
            why = path_value_problem(value)  # the same rule as every untyped endpoint's
            if why is not None:
                problems.append((where, why))
    problems += _check_part("query", spec.query, query)
    problems += _check_part("json", spec.body, json)
    if problems:
        raise InvalidRequestError(f"invalid request for {spec.method} {spec.template}", problems)


@functools.cache
def _request_accepts(spec: EndpointSpec) -> RequestCheck:
    """A predicate that is True exactly when :func:`validate_request` would find nothing wrong.

    Plain dicts (and no value) are judged here; any other mapping or a model instance gets False, and
    the field-by-field walk decides.
    """
    names = spec.path_params
    parts = tuple((index, _accepts(model)) for index, model in enumerate((spec.query, spec.body)) if model is not None)

    def accepts(path_params: Mapping[str, object], *given: object) -> bool:
        for name in names:
            if not is_plain_segment(path_params.get(name)):
                return False  # anything unusual is judged by the walk, with the rule every endpoint uses
        for index, ok in parts:
            data = given[index]
            if data is None:
                data = _NOTHING_GIVEN
            elif type(data) is not dict:
                return False
            if not ok(data):
                return False
        return True

    return accepts


_NOTHING_GIVEN: Mapping[str, object] = types.MappingProxyType({})


def _check_part(where: str, model: type | None, given: object) -> list[tuple[str, str]]:
    if model is None:
        return []
    if given is None:
        data: Mapping[str, object] = {}
    elif type(given) is dict or isinstance(given, Mapping):
        data = given
    elif isinstance(given, model):
        data = _shallow_fields(given)
    else:
        return [(where, f"expected {model.__name__} or a dict, got {_kind(given)}")]
    if _accepts(model)(data):
        return []
    return list(_check_fields(where, model, data))


def _shallow_fields(instance: Any) -> dict[str, object]:
    return attrs.asdict(instance, recurse=False)


@functools.cache
def _field_types(model: type) -> dict[str, Any]:
    return typing.get_type_hints(model)


def _check_fields(where: str, model: type, data: Mapping[str, object]) -> Iterator[tuple[str, str]]:
    hints = _field_types(model)
    for field in attrs.fields(model):
        path = f"{where}.{field.name}"
        value = data.get(field.name)
        if value is None:
            if field.default is attrs.NOTHING:
                yield path, "required field is missing"
            continue
        yield from _check_value(path, hints[field.name], value, field.metadata)
        if field.default is attrs.NOTHING and isinstance(value, str) and not value.strip():
            yield path, "required field must not be empty"


# --- the fast yes: one predicate per model, compiled once ------------------------------------------
# Every request runs it; only a "no" walks the fields again with _check_fields to say what is wrong,
# so the messages have a single source.

Accepts = Callable[[Any], bool]


@functools.cache
def _accepts(model: type) -> Accepts:
    """A predicate that is True exactly when :func:`_check_fields` would find nothing wrong in a dict."""
    hints = _field_types(model)
    checks = {field.name: _value_accepts(hints[field.name], field.metadata) for field in attrs.fields(model)}
    required = tuple(field.name for field in attrs.fields(model) if field.default is attrs.NOTHING)

    # Walks what was given, not every field of the model: a query sets a few of its many optional fields.
    def accepts(data: Mapping[str, object]) -> bool:
        get = data.get
        for name in required:
            value = get(name)
            if value is None or (type(value) is str and not value.strip()):
                return False
        check = checks.get
        for name, value in data.items():
            ok = check(name)
            if ok is not None and value is not None and not ok(value):
                return False
        return True

    return accepts


def _value_accepts(tp: Any, meta: Mapping[Any, Any]) -> Accepts:
    tp = _without_none(tp)
    if typing.get_origin(tp) is list:
        (item_tp,) = typing.get_args(tp)
        item_ok = _value_accepts(item_tp, {})
        return lambda value: isinstance(value, (list, tuple)) and all(item_ok(item) for item in value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        allowed = frozenset(m.value for m in tp)

        def enum_ok(value: object) -> bool:
            try:
                return type(value) is not bool and value in allowed
            except TypeError:  # unhashable: certainly not a member
                return False

        return enum_ok
    if attrs.has(tp):
        model = tp

        def model_ok(value: object) -> bool:
            if isinstance(value, model):
                value = _shallow_fields(value)
            return isinstance(value, Mapping) and _accepts(model)(value)

        return model_ok
    if tp is bool:
        return lambda value: type(value) is bool
    if tp is int:
        low, high = meta.get("minimum"), meta.get("maximum")

        def int_ok(value: object) -> bool:
            if not isinstance(value, int) or type(value) is bool:
                return False
            return (low is None or value >= low) and (high is None or value <= high)

        return int_ok
    if tp is str:
        return str.__instancecheck__  # isinstance(value, str), without a Python frame
    raise TypeError(f"no request check for {tp!r}")


def _check_value(path: str, tp: Any, value: object, meta: Mapping[Any, Any]) -> Iterator[tuple[str, str]]:
    tp = _without_none(tp)
    if typing.get_origin(tp) is list:
        if not isinstance(value, (list, tuple)):
            yield path, f"must be a list, got {_kind(value)}"
            return
        (item_tp,) = typing.get_args(tp)
        for index, item in enumerate(value):
            yield from _check_value(f"{path}[{index}]", item_tp, item, {})
        return
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        allowed = [m.value for m in tp]
        if isinstance(value, bool) or value not in allowed:
            yield path, f"must be one of {', '.join(map(str, allowed))}; got {value!r}"
        return
    if attrs.has(tp):
        if isinstance(value, tp):
            value = _shallow_fields(value)
        if not isinstance(value, Mapping):
            yield path, f"must be an object, got {_kind(value)}"
            return
        yield from _check_fields(path, tp, value)
        return
    if tp is bool:
        if not isinstance(value, bool):
            yield path, f"must be a boolean, got {_kind(value)}"
    elif tp is int:
        if not isinstance(value, int) or isinstance(value, bool):
            yield path, f"must be an integer, got {_kind(value)}"
            return
        low, high = meta.get("minimum"), meta.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            yield path, f"must be {bounds}, got {value}"
    elif tp is str:
        if not isinstance(value, str):
            yield path, f"must be a string, got {_kind(value)}"
    else:
        raise TypeError(f"no request check for {tp!r}")  # a model bug, not the caller's


def _without_none(tp: Any) -> Any:
    """``X | None`` → ``X``; request fields take one type besides None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"request fields take one type, not {tp!r}")  # a model bug, not the caller's
        return options[0]
    return tp


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if attrs.has(type(value)):
        return f"a {type(value).__name__}"
    return type(value).__name__


# --- wire form and paging -------------------------------------------------------------------------


def request_to_wire(obj: object) -> dict[str, Any]:
    """A request model instance (or a dict) as a plain dict without None fields, enums as values."""
    if isinstance(obj, Mapping):
        return {str(k): unstructure(v) for k, v in obj.items() if v is not None}
    if not attrs.has(type(obj)):
        raise TypeError(f"expected a request model or a dict, got {type(obj).__name__}")
    wire: dict[str, Any] = unstructure(obj)
    return wire


def next_page(spec: EndpointSpec, query: Mapping[str, object], page: object) -> dict[str, Any] | None:
    """The query of the page after ``page`` (a response model or its JSON), or None at the end.

    Offset paging follows the seed: ``offset`` is the page number (分页页码), so it moves on by one and
    stops on a short or empty page, or once ``(offset + 1) * limit`` reaches ``total_count``. Token
    paging sends ``next_page_token`` back as ``page_token`` and stops without one.
    """
    if spec.paging is None or spec.items_field is None:
        return None
    items = _get(page, spec.items_field) or []
    if spec.paging == "token":
        token = _get(page, "next_page_token")
        if not token:
            return None
        return {**query, "page_token": token}
    number = _as_int(_get(page, "offset"), _as_int(query.get("offset"), 0))
    limit = _as_int(_get(page, "limit"), _as_int(query.get("limit"), len(items)))
    total = _as_int(_get(page, "total_count"), None)
    if not items or limit <= 0 or len(items) < limit:
        return None
    if total is not None and (number + 1) * limit >= total:
        return None
    return {**query, "offset": number + 1, "limit": limit}


def _get(page: object, name: str) -> Any:
    if isinstance(page, Mapping):
        return page.get(name)
    return getattr(page, name, None)


@typing.overload
def _as_int(value: object, default: int) -> int: ...
@typing.overload
def _as_int(value: object, default: None) -> int | None: ...
def _as_int(value: object, default: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


# --- the seed endpoints ---------------------------------------------------------------------------

for _spec in (
    EndpointSpec(
        "GET",
        "v3/marketing/busifavor/users/{openid}/coupons",
        query=BusifavorCouponQuery,
        response=BusifavorCouponPage,
        paging="offset",
        items_field="data",
    ),
    EndpointSpec(
        "GET",
        "v3/marketing/favor/users/{openid}/coupons/{coupon_id}",
        query=FavorCouponQuery,
        response=FavorCoupon,
    ),
    EndpointSpec(
        "POST",
        "v3/marketing/partner/product-coupon/users/{openid}/coupons",
        body=ProductCouponSendRequest,
        response=UserProductCoupon,
    ),
    EndpointSpec(
        "GET",
        "v3/marketing/partner/product-coupon/users/{openid}/coupons",
        query=UserProductCouponQuery,
        response=UserProductCouponPage,
        paging="token",
        items_field="user_coupon_list",
    ),
    EndpointSpec(
        "POST",
        "brand/marketing/product-coupon/users/{openid}/coupons",
        body=BrandProductCouponSendRequest,
        response=UserProductCoupon,
    ),
    EndpointSpec(
        "GET",
        "brand/marketing/product-coupon/users/{openid}/coupons",
        query=BrandUserProductCouponQuery,
        response=UserProductCouponPage,
        paging="token",
        items_field="user_coupon_list",
    ),
):
    register(_spec)
del _spec
