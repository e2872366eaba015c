"""Which models belong to which endpoint: the registry of endpoint specs, and the seed endpoints.

The client looks an endpoint up by method and template (:func:`lookup`); its ``validate=`` policy
(:mod:`wxpay_chain._typed._check`) checks the caller's input with the one validator, :mod:`._validation`.
:func:`validate_call` runs that validator alone, for a seed endpoint. The client turns request models
into plain dicts with :func:`~._wire.request_to_wire`, reads the answer with the spec's response model,
and pages with :func:`~._pages.next_page`. Families join with :func:`register`.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._errors import InvalidRequestError
from .._typed._check import forget as forget_client_checks
from ._spec import EndpointSpec
from ._validation import RequestCheck, rejection_title, request_check
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

__all__ = ["EndpointSpec", "lookup", "register", "validate_call"]


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
    forget_client_checks()  # and so may the client's compiled checks


def lookup(method: str, template: str) -> EndpointSpec | None:
    """The spec of ``method template`` (``"GET"``, ``"v3/marketing/..."``), or None if unknown."""
    spec = _SPECS.get((method, template))  # the client's own form: one lookup on every request
    if spec is None:
        spec = _SPECS.get((method.upper(), template.lstrip("/")))
    return spec


# What the client calls on every request: (method, template) exactly as it sends them -> the title of a
# rejection and the spec's compiled check, or ("", None) for an endpoint without a spec. Bounded, as
# templates can be built from data; register() clears it.
_BY_CALL: dict[tuple[str, str], tuple[str, RequestCheck | None]] = {}
_BY_CALL_MAX = 4096


def validate_call(method: str, template: str, path_params: Mapping[str, object], query: object, json: object) -> None:
    """:func:`lookup` and :func:`~._validation.validate_request` in one step, remembered per (method, template).

    Path values are read from ``path_params`` by name (the client passes all of a call's options).
    """
    entry = _BY_CALL.get((method, template))
    if entry is None:
        spec = lookup(method, template)
        entry = (rejection_title(spec.method, spec.template), request_check(spec)) if spec is not None else ("", None)
        if len(_BY_CALL) < _BY_CALL_MAX:
            _BY_CALL[(method, template)] = entry
    title, check = entry
    if check is not None:
        problems = check(path_params, query, json)
        if problems:
            raise InvalidRequestError(title, problems)


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
