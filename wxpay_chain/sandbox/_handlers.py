"""The endpoints: a route table and one handler per route, each a plain function of a verified call.

Handlers never touch HTTP: they read a :class:`Call` and return a :class:`Reply` or raise ApiFailure.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import timezone
from typing import Any

import attrs
from cryptography import x509

from ._auth import Caller, Scheme, aes_gcm_encrypt, make_nonce
from ._clock import rfc3339
from ._failures import no_auth, not_found, param_error
from ._keys import KeySet
from ._params import ID_CHARSET, Body, Query, path_value, placeholder_values
from ._records import BUSIFAVOR_QUERY_STATES, USER_COUPON_STATES, IssuedCoupon
from ._render import render_busifavor, render_favor
from ._state import SandboxState, WalletQuery

CERTIFICATES = "/v3/certificates"
PARTNER_USER_COUPONS = "/v3/marketing/partner/product-coupon/users/{openid}/coupons"
BRAND_USER_COUPONS = "/brand/marketing/product-coupon/users/{openid}/coupons"
BUSIFAVOR_USER_COUPONS = "/v3/marketing/busifavor/users/{openid}/coupons"
FAVOR_USER_COUPON = "/v3/marketing/favor/users/{openid}/coupons/{coupon_id}"

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 50
BUSIFAVOR_LIMIT_DEFAULT = 20

_TOKEN = re.compile(r"([0-9]{1,12}):([0-9a-f]{12})")


@attrs.frozen
class Call:
    """A request that passed every protocol check."""

    caller: Caller
    path_params: Mapping[str, str]
    query: Query
    body: bytes
    now: float


@attrs.frozen
class Reply:
    """A successful answer; ``serial`` overrides the answer-signing serial, ``notify`` queues a notification."""

    payload: Mapping[str, Any]
    status: int = 200
    serial: str | None = None
    notify: Mapping[str, Any] | None = None


@attrs.frozen
class Route:
    method: str
    template: str
    scheme: Scheme
    handler: str

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.template.split("/"))


ROUTES = (
    Route("GET", CERTIFICATES, "merchant", "certificates"),
    Route("POST", PARTNER_USER_COUPONS, "merchant", "send_partner"),
    Route("GET", PARTNER_USER_COUPONS, "merchant", "list_partner"),
    Route("POST", BRAND_USER_COUPONS, "brand", "send_brand"),
    Route("GET", BRAND_USER_COUPONS, "brand", "list_brand"),
    Route("GET", BUSIFAVOR_USER_COUPONS, "merchant", "list_busifavor"),
    Route("GET", FAVOR_USER_COUPON, "merchant", "favor_detail"),
)
TEMPLATES = tuple(sorted({route.template for route in ROUTES}))


def match_route(method: str, path: str) -> tuple[Route | None, dict[str, str]]:
    """The route for a raw path (before percent-decoding) and its raw placeholder values."""
    segments = path.split("/")
    for route in ROUTES:
        params = placeholder_values(route.segments, segments) if route.method == method else None
        if params is not None:
            return route, params
    return None, {}


class Handlers:
    def __init__(self, state: SandboxState, keys: KeySet) -> None:
        self._state = state
        self._keys = keys
        certificate = x509.load_pem_x509_certificate(keys.platform_certificate.encode("ascii"))
        self._cert_begin = certificate.not_valid_before_utc.astimezone(timezone.utc).timestamp()
        self._cert_end = certificate.not_valid_after_utc.astimezone(timezone.utc).timestamp()

    def for_route(self, route: Route) -> Callable[[Call], Reply]:
        handler: Callable[[Call], Reply] = getattr(self, route.handler)
        return handler

    # -- /v3/certificates ---------------------------------------------------------------------------

    def certificates(self, call: Call) -> Reply:
        nonce = make_nonce(12)
        entry = {
            "serial_no": self._keys.platform_serial,
            "effective_time": rfc3339(self._cert_begin),
            "expire_time": rfc3339(self._cert_end),
            "encrypt_certificate": {
                "algorithm": "AEAD_AES_256_GCM",
                "nonce": nonce,
                "associated_data": "certificate",
                "ciphertext": aes_gcm_encrypt(
                    self._keys.apiv3_key, nonce, "certificate", self._keys.platform_certificate.encode("ascii")
                ),
            },
        }
        return Reply({"data": [entry]}, serial=self._keys.platform_serial)

    # -- product coupons ----------------------------------------------------------------------------

    def send_partner(self, call: Call) -> Reply:
        body = Body(call.body)
        brand_id = body.required_text("brand_id", max_length=32)
        self._authorize(call.caller, brand_id)
        return self._send(call, body, brand_id)

    def send_brand(self, call: Call) -> Reply:
        return self._send(call, Body(call.body), call.caller.identity)

    def list_partner(self, call: Call) -> Reply:
        brand_id = call.query.required_text("brand_id", max_length=32)
        self._authorize(call.caller, brand_id)
        return self._list(call, brand_id)

    def list_brand(self, call: Call) -> Reply:
        return self._list(call, call.caller.identity)

    def _authorize(self, caller: Caller, brand_id: str) -> None:
        if caller.identity != self._keys.mchid or brand_id != self._keys.brand_id:
            raise no_auth(f"商户无权操作品牌 {brand_id} 的商品券 (this merchant is not authorised for that brand)")

    def _send(self, call: Call, body: Body, brand_id: str) -> Reply:
        openid = path_value("openid", call.path_params["openid"])
        product_coupon_id = body.required_text("product_coupon_id")
        stock_id = body.required_text("stock_id")
        # Lengths and characters as the send API's documentation (2025.11.07) gives them.
        coupon_code = body.text("coupon_code", max_length=40, charset=ID_CHARSET)
        appid = body.required_text("appid", max_length=32)
        send_request_no = body.required_text("send_request_no", min_length=6, max_length=128, charset=ID_CHARSET)
        attach = body.text("attach", max_length=150)
        coupon, created = self._state.send(
            issued_by=call.caller.label,
            brand_id=brand_id,
            openid=openid,
            appid=appid,
            product_coupon_id=product_coupon_id,
            stock_id=stock_id,
            send_request_no=send_request_no,
            coupon_code=coupon_code,
            attach=attach,
            now=call.now,
        )
        rendered = self._state.render_user_coupon(coupon, call.now)
        return Reply(rendered, notify={**rendered, "openid": openid} if created else None)

    def _list(self, call: Call, brand_id: str) -> Reply:
        openid = path_value("openid", call.path_params["openid"])
        query = call.query
        product_coupon_id = query.text("product_coupon_id")
        stock_id = query.text("stock_id")
        appid = query.required_text("appid", max_length=32)
        coupon_state = query.enum("coupon_state", USER_COUPON_STATES)
        page_size = query.integer("page_size", default=PAGE_SIZE_DEFAULT, minimum=1, maximum=PAGE_SIZE_MAX)
        page_token = query.text("page_token", max_length=100)
        state = self._state
        if product_coupon_id is not None:
            product = state.product_coupon(product_coupon_id)
            if product is None or product.brand_id != brand_id:
                raise not_found(f"未找到 product_coupon_id 对应的商品券 (no product coupon {product_coupon_id})")
        if stock_id is not None:
            stock = state.stock(stock_id)
            if stock is None or stock.brand_id != brand_id or product_coupon_id not in (None, stock.product_coupon_id):
                raise not_found(f"未找到 stock_id 对应的商品券批次 (no stock {stock_id})")
        fingerprint = hashlib.sha256(
            "\x1f".join([openid, brand_id, appid, product_coupon_id or "", stock_id or "", coupon_state or ""]).encode(
                "utf-8"
            )
        ).hexdigest()[:12]
        after = 0 if page_token is None else _read_token(page_token, fingerprint)
        wallet = WalletQuery(
            openid=openid,
            brand_id=brand_id,
            appid=appid,
            product_coupon_id=product_coupon_id,
            stock_id=stock_id,
            coupon_state=coupon_state,
        )
        payload: dict[str, Any] = {}
        # One snapshot: the page, its total_count and its stocks' counts agree. The page is one row more
        # than asked for, which says whether there is a next one.
        with state.store.reading():
            rest = state.user_coupons_for(**wallet, now=call.now, after=after, limit=page_size + 1)
            page: list[IssuedCoupon] = rest[:page_size]
            if page_token is None:
                payload["total_count"] = state.count_user_coupons(**wallet, now=call.now)
            payload["user_coupon_list"] = state.render_user_coupons(page, call.now)
        if len(rest) > page_size:
            payload["next_page_token"] = _make_token(page[-1].seq, fingerprint)
        return Reply(payload)

    # -- busifavor and favor ------------------------------------------------------------------------

    def list_busifavor(self, call: Call) -> Reply:
        openid = path_value("openid", call.path_params["openid"])
        query = call.query
        appid = query.required_text("appid", max_length=32)
        filters = {
            "stock_id": query.text("stock_id"),
            "coupon_state": query.enum("coupon_state", BUSIFAVOR_QUERY_STATES),
            "creator_merchant": query.text("creator_merchant", max_length=32),
            "belong_merchant": query.text("belong_merchant", max_length=32),
            "sender_merchant": query.text("sender_merchant", max_length=32),
        }
        # offset is the page number (分页页码, from 0) and limit the page size, as the seed documents them.
        # No maximum limit is documented, and a page is only a slice of the matches already in memory.
        offset = query.integer("offset", default=0, minimum=0, maximum=100000)
        limit = query.integer("limit", default=BUSIFAVOR_LIMIT_DEFAULT, minimum=1)
        matching = self._state.busifavor_for(openid=openid, appid=appid, now=call.now, **filters)
        page = matching[offset * limit : (offset + 1) * limit]
        return Reply(
            {
                "data": [render_busifavor(c, call.now) for c in page],
                "total_count": len(matching),
                "offset": offset,
                "limit": limit,
            }
        )

    def favor_detail(self, call: Call) -> Reply:
        openid = path_value("openid", call.path_params["openid"])
        coupon_id = path_value("coupon_id", call.path_params["coupon_id"], max_length=64)
        appid = call.query.required_text("appid", max_length=32)
        coupon = self._state.favor_coupon(openid=openid, appid=appid, coupon_id=coupon_id)
        if coupon is None:
            raise not_found(f"未找到代金券 {coupon_id} (no such coupon for this user and appid)")
        return Reply(render_favor(coupon, call.now))


def _make_token(last_seq: int, fingerprint: str) -> str:
    return base64.b64encode(f"{last_seq}:{fingerprint}".encode("ascii")).decode("ascii")


def _read_token(token: str, fingerprint: str) -> int:
    try:
        text = base64.b64decode(token.encode("ascii"), validate=True).decode("ascii")
    except (binascii.Error, ValueError, UnicodeError):
        raise param_error("page_token", "is not a token this query returned", location="query", value=token) from None
    found = _TOKEN.fullmatch(text)
    if found is None or found.group(2) != fingerprint:
        raise param_error(
            "page_token",
            "does not belong to this query (keep every filter the same while paging)",
            location="query",
            value=token,
        )
    return int(found.group(1))
