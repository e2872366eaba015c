"""Everything the sandbox remembers: product coupons, stocks, the ledger of issued coupons, and the
older busifavor (商家券) and favor (代金券) coupons held by users.

All reads and writes take one lock, so a test thread may seed data while the server thread answers,
and every change is validated in full before anything is stored: a bad request never leaves half a coupon.
"""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import cattrs

from ._clock import DAY, china_day, parse_rfc3339, rfc3339
from ._failures import ApiFailure, invalid_request, not_found, param_error

Document = dict[str, Any]

USER_COUPON_STATES = ("CONFIRMING", "PENDING", "EFFECTIVE", "USED", "EXPIRED", "DELETED", "DEACTIVATED")
PRODUCT_COUPON_TYPES = ("NORMAL", "DISCOUNT", "EXCHANGE")
USAGE_MODES = ("SINGLE", "SEQUENTIAL")
CODE_MODES = ("WECHATPAY", "UPLOAD", "API_ASSIGN")
STOCK_STATES = ("AUDITING", "SENDING", "PAUSED", "STOPPED", "DEACTIVATED")
SEND_CHANNELS = ("API", "BRAND_MANAGE", "MERCHANT_CARD", "MEMBER", "SMALL_ACTIVITY")
BUSIFAVOR_STATES = ("SENDED", "USED", "EXPIRED")
FAVOR_STATES = ("SENDED", "USED", "EXPIRED", "RECOVER")


@attrs.frozen
class ProductCoupon:
    """A 商品券: the fields the sandbox reasons about, plus the rest of its document as shown to callers."""

    product_coupon_id: str
    brand_id: str
    state: str
    type: str
    usage_mode: str
    document: Document = attrs.field(eq=False)


@attrs.frozen
class Stock:
    """A 商品券批次 and its send rules."""

    stock_id: str
    product_coupon_id: str
    brand_id: str
    state: str
    coupon_code_mode: str
    max_count: int
    max_count_per_day: int | None
    max_count_per_user: int | None
    document: Document = attrs.field(eq=False)
    uploaded_codes: tuple[str, ...] = ()


@attrs.frozen
class IssuedCoupon:
    """One user product coupon in the ledger, in issue order (``seq``).

    ``state`` is the stored state; PENDING and EFFECTIVE coupons move to EFFECTIVE and EXPIRED by the clock.
    ``issued_by`` is ``merchant:<mchid>``, ``brand:<brand_id>`` or ``seed``.
    """

    seq: int
    openid: str
    appid: str
    brand_id: str
    product_coupon_id: str
    stock_id: str
    coupon_code: str
    send_request_no: str
    send_channel: str
    state: str
    receive_time: float
    valid_begin: float
    valid_end: float
    attach: str | None = None
    issued_by: str = "seed"
    extra: Document = attrs.field(factory=dict, eq=False)

    def state_at(self, now: float) -> str:
        if self.state not in ("PENDING", "EFFECTIVE"):
            return self.state
        if now < self.valid_begin:
            return "PENDING"
        if now > self.valid_end:
            return "EXPIRED"
        return "EFFECTIVE"


@attrs.frozen
class BusifavorCoupon:
    """A 商家券 in a user's wallet; ``document`` is exactly what the list answer shows."""

    openid: str
    appid: str
    stock_id: str
    coupon_state: str
    creator_merchant: str
    belong_merchant: str
    sender_merchant: str
    document: Document = attrs.field(eq=False)


@attrs.frozen
class FavorCoupon:
    """A 代金券; ``document`` is exactly what the detail answer shows."""

    openid: str
    appid: str
    coupon_id: str
    document: Document = attrs.field(eq=False)


_STOCK_COMPUTED = (
    "product_coupon_id",
    "stock_id",
    "brand_id",
    "state",
    "coupon_code_mode",
    "stock_send_rule",
    "sent_count_info",
    "coupon_code_count_info",
)
_PRODUCT_COUPON_COMPUTED = ("product_coupon_id", "brand_id", "state", "type", "usage_mode")


def _positive_int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _optional_positive_int(value: object, name: str) -> int | None:
    return None if value is None else _positive_int(value, name)


def _choice(value: object, allowed: Iterable[str], name: str) -> str:
    options = tuple(allowed)
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    assert isinstance(value, str)
    return value


class SandboxState:
    """The sandbox's memory. ``on_change`` is called (under the lock) after every successful change."""

    def __init__(self, *, seed: int = 0, on_change: Callable[[SandboxState], None] | None = None) -> None:
        self.lock = threading.RLock()
        self.product_coupons: dict[str, ProductCoupon] = {}
        self.stocks: dict[str, Stock] = {}
        self.user_coupons: list[IssuedCoupon] = []
        self.busifavor_coupons: list[BusifavorCoupon] = []
        self.favor_coupons: list[FavorCoupon] = []
        self._by_request_no: dict[tuple[str, str], IssuedCoupon] = {}
        self._codes: set[tuple[str, str]] = set()
        self._rng = random.Random(seed)
        self._on_change = on_change

    def set_on_change(self, callback: Callable[[SandboxState], None] | None) -> None:
        with self.lock:
            self._on_change = callback

    # -- seeding hooks ------------------------------------------------------------------------------

    def add_product_coupon(self, document: Mapping[str, Any]) -> ProductCoupon:
        """Add (or replace) a product coupon from a seed-shaped document; raises ValueError if malformed."""
        doc = copy.deepcopy(dict(document))
        usage_mode = _choice(doc.get("usage_mode"), USAGE_MODES, "usage_mode")
        if usage_mode == "SEQUENTIAL":
            info = doc.get("sequential_usage_info")
            if not isinstance(info, dict):
                raise ValueError("a SEQUENTIAL product coupon needs sequential_usage_info")
            _positive_int(info.get("count"), "sequential_usage_info.count")
            _positive_int(info.get("available_days"), "sequential_usage_info.available_days")
        coupon = ProductCoupon(
            product_coupon_id=str(doc["product_coupon_id"]),
            brand_id=str(doc["brand_id"]),
            state=_choice(doc.get("state", "EFFECTIVE"), ("AUDITING", "EFFECTIVE", "DEACTIVATED"), "state"),
            type=_choice(doc.get("type"), PRODUCT_COUPON_TYPES, "type"),
            usage_mode=usage_mode,
            document={k: v for k, v in doc.items() if k not in _PRODUCT_COUPON_COMPUTED},
        )
        with self.lock:
            self.product_coupons[coupon.product_coupon_id] = coupon
            self._changed()
        return coupon

    def add_stock(self, document: Mapping[str, Any], *, uploaded_codes: Iterable[str] = ()) -> Stock:
        """Add (or replace) a stock of an existing product coupon; raises ValueError if malformed."""
        doc = copy.deepcopy(dict(document))
        with self.lock:
            product = self.product_coupons.get(str(doc.get("product_coupon_id")))
            if product is None:
                raise ValueError(f"stock {doc.get('stock_id')!r}: add its product coupon first")
            rule_key = "single_usage_rule" if product.usage_mode == "SINGLE" else "sequential_usage_rule"
            period = doc.get(rule_key, {}).get("coupon_available_period", {})
            for name in ("available_begin_time", "available_end_time"):
                parse_rfc3339(period[name])
            send_rule = doc.get("stock_send_rule", {})
            stock = Stock(
                stock_id=str(doc["stock_id"]),
                product_coupon_id=product.product_coupon_id,
                brand_id=product.brand_id,
                state=_choice(doc.get("state", "SENDING"), STOCK_STATES, "state"),
                coupon_code_mode=_choice(doc.get("coupon_code_mode", "WECHATPAY"), CODE_MODES, "coupon_code_mode"),
                max_count=_positive_int(send_rule.get("max_count"), "max_count"),
                max_count_per_day=_optional_positive_int(send_rule.get("max_count_per_day"), "max_count_per_day"),
                max_count_per_user=_optional_positive_int(send_rule.get("max_count_per_user"), "max_count_per_user"),
                document={k: v for k, v in doc.items() if k not in _STOCK_COMPUTED},
                uploaded_codes=tuple(uploaded_codes),
            )
            self.stocks[stock.stock_id] = stock
            self._changed()
        return stock

    def add_user_coupon(
        self,
        *,
        openid: str,
        stock_id: str,
        appid: str,
        now: float,
        state: str = "EFFECTIVE",
        send_request_no: str | None = None,
        coupon_code: str | None = None,
        receive_time: float | None = None,
        valid_begin: float | None = None,
        valid_end: float | None = None,
        attach: str | None = None,
        send_channel: str = "API",
        extra: Mapping[str, Any] | None = None,
    ) -> IssuedCoupon:
        """Put a coupon straight into a wallet, bypassing the send rules (for seeding)."""
        with self.lock:
            stock = self.stocks[stock_id]
            product = self.product_coupons[stock.product_coupon_id]
            received = now if receive_time is None else receive_time
            begin, end, details = self._validity(product, stock, received)
            seq = len(self.user_coupons) + 1
            coupon = IssuedCoupon(
                seq=seq,
                openid=openid,
                appid=appid,
                brand_id=stock.brand_id,
                product_coupon_id=product.product_coupon_id,
                stock_id=stock_id,
                coupon_code=coupon_code or self._new_code(stock),
                send_request_no=send_request_no or f"SANDBOX_SEED_{seq:06d}",
                send_channel=_choice(send_channel, SEND_CHANNELS, "send_channel"),
                state=_choice(state, USER_COUPON_STATES, "state"),
                receive_time=received,
                valid_begin=begin if valid_begin is None else valid_begin,
                valid_end=end if valid_end is None else valid_end,
                attach=attach,
                issued_by="seed",
                extra={**details, **dict(extra or {})},
            )
            self._store(coupon)
        return coupon

    def add_busifavor_coupon(self, coupon: BusifavorCoupon) -> None:
        _choice(coupon.coupon_state, BUSIFAVOR_STATES, "coupon_state")
        with self.lock:
            self.busifavor_coupons.append(coupon)
            self._changed()

    def add_favor_coupon(self, coupon: FavorCoupon) -> None:
        _choice(coupon.document.get("status"), FAVOR_STATES, "status")
        with self.lock:
            self.favor_coupons.append(coupon)
            self._changed()

    # -- sending ------------------------------------------------------------------------------------

    def send(
        self,
        *,
        issued_by: str,
        brand_id: str,
        openid: str,
        appid: str,
        product_coupon_id: str,
        stock_id: str,
        send_request_no: str,
        coupon_code: str | None,
        attach: str | None,
        now: float,
    ) -> tuple[IssuedCoupon, bool]:
        """Issue one coupon under the stock's rules; ``(coupon, created)``.

        The same ``send_request_no`` (per brand) with the same user and stock returns the first coupon again
        and ``created`` False; with anything else it is refused.
        """
        with self.lock:
            previous = self._by_request_no.get((brand_id, send_request_no))
            if previous is not None:
                same = (previous.openid, previous.appid, previous.product_coupon_id, previous.stock_id) == (
                    openid,
                    appid,
                    product_coupon_id,
                    stock_id,
                )
                if not same or (coupon_code is not None and coupon_code != previous.coupon_code):
                    raise invalid_request(
                        "send_request_no 已用于另一次不同参数的发券 (this send_request_no was already used "
                        "with different parameters; use a new number for a new coupon)",
                        detail={"field": "send_request_no", "location": "body", "issue": "REUSED"},
                    )
                return previous, False
            product = self.product_coupons.get(product_coupon_id)
            if product is None or product.brand_id != brand_id:
                raise not_found(f"未找到 product_coupon_id 对应的商品券 (no product coupon {product_coupon_id})")
            stock = self.stocks.get(stock_id)
            if stock is None or stock.product_coupon_id != product_coupon_id:
                raise not_found(f"未找到 stock_id 对应的商品券批次 (no stock {stock_id} in this product coupon)")
            if product.state != "EFFECTIVE":
                raise invalid_request(f"商品券状态为 {product.state}，不可发放 (the product coupon is not EFFECTIVE)")
            if stock.state != "SENDING":
                raise invalid_request(f"批次状态为 {stock.state}，不可发放 (the stock is not SENDING)")
            code = self._code_for(stock, coupon_code)
            self._check_limits(stock, openid, now)
            begin, end, details = self._validity(product, stock, now)
            coupon = IssuedCoupon(
                seq=len(self.user_coupons) + 1,
                openid=openid,
                appid=appid,
                brand_id=brand_id,
                product_coupon_id=product_coupon_id,
                stock_id=stock_id,
                coupon_code=code,
                send_request_no=send_request_no,
                send_channel="API",
                state="EFFECTIVE",
                receive_time=now,
                valid_begin=begin,
                valid_end=end,
                attach=attach,
                issued_by=issued_by,
                extra=details,
            )
            self._store(coupon)
            return coupon, True

    def _code_for(self, stock: Stock, requested: str | None) -> str:
        if stock.coupon_code_mode == "API_ASSIGN":
            if requested is None:
                raise param_error(
                    "coupon_code", "is required when the stock's coupon_code_mode is API_ASSIGN", location="body"
                )
            if (stock.stock_id, requested) in self._codes:
                raise invalid_request(
                    "coupon_code 在该批次中已被使用 (this coupon_code was already issued in this stock)",
                    detail={"field": "coupon_code", "location": "body", "issue": "DUPLICATE"},
                )
            return requested
        if requested is not None:
            raise param_error(
                "coupon_code",
                f"is only accepted when coupon_code_mode is API_ASSIGN (this stock is {stock.coupon_code_mode})",
                location="body",
            )
        if stock.coupon_code_mode == "UPLOAD":
            for code in stock.uploaded_codes:
                if (stock.stock_id, code) not in self._codes:
                    return code
            raise invalid_request(
                "批次预上传的券Code已用完 (no uploaded coupon codes left in this stock)",
                detail={"field": "stock_id", "location": "body", "issue": "NO_UPLOADED_CODE"},
            )
        return self._new_code(stock)

    def _new_code(self, stock: Stock) -> str:
        while True:
            code = str(self._rng.randrange(10**11, 10**12))
            if (stock.stock_id, code) not in self._codes:
                return code

    def _check_limits(self, stock: Stock, openid: str, now: float) -> None:
        issued = [c for c in self.user_coupons if c.stock_id == stock.stock_id]
        today = china_day(now)
        checks: list[tuple[str, int | None, int, str]] = [
            ("max_count", stock.max_count, len(issued), "批次发放总数已达上限"),
            (
                "max_count_per_day",
                stock.max_count_per_day,
                sum(1 for c in issued if china_day(c.receive_time) == today),
                "批次当日发放数已达上限",
            ),
            (
                "max_count_per_user",
                stock.max_count_per_user,
                sum(1 for c in issued if c.openid == openid),
                "用户领取次数已达批次每人限领上限",
            ),
        ]
        for rule, limit, used, text in checks:
            if limit is not None and used >= limit:
                raise ApiFailure(
                    400,
                    "INVALID_REQUEST",
                    f"{text} ({rule} reached: {used} of {limit})",
                    detail={"field": "stock_id", "location": "body", "value": stock.stock_id, "issue": rule},
                )

    def _validity(self, product: ProductCoupon, stock: Stock, received: float) -> tuple[float, float, Document]:
        single = product.usage_mode == "SINGLE"
        rule = stock.document["single_usage_rule" if single else "sequential_usage_rule"]
        period = rule["coupon_available_period"]
        start = parse_rfc3339(period["available_begin_time"])
        stop = parse_rfc3339(period["available_end_time"])
        begin = max(received + DAY * int(period.get("wait_days_after_receive") or 0), start)
        if single:
            days = period.get("available_days")
            end = min(stop, begin + DAY * int(days) - 1) if days else stop
            return begin, end, {}
        info = product.document["sequential_usage_info"]
        end = min(stop, begin + DAY * int(info["available_days"]) - 1)
        interval = DAY * int(info.get("interval_days") or 0)
        rounds = [
            {
                "detail_state": "EFFECTIVE" if i == 0 and begin <= received else "PENDING",
                "valid_begin_time": rfc3339(min(begin + i * interval, end)),
                "valid_end_time": rfc3339(end),
            }
            for i in range(int(info["count"]))
        ]
        detail = {"total_count": int(info["count"]), "used_count": 0, "detail_item_list": rounds}
        return begin, end, {"sequential_usage_detail": detail}

    def _store(self, coupon: IssuedCoupon) -> None:
        self.user_coupons.append(coupon)
        self._by_request_no[(coupon.brand_id, coupon.send_request_no)] = coupon
        self._codes.add((coupon.stock_id, coupon.coupon_code))
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self)

    # -- reading ------------------------------------------------------------------------------------

    def issued(self) -> list[IssuedCoupon]:
        with self.lock:
            return list(self.user_coupons)

    def user_coupons_for(
        self,
        *,
        openid: str,
        brand_id: str,
        appid: str,
        product_coupon_id: str | None,
        stock_id: str | None,
        coupon_state: str | None,
        now: float,
    ) -> list[IssuedCoupon]:
        with self.lock:
            return [
                c
                for c in self.user_coupons
                if c.openid == openid
                and c.brand_id == brand_id
                and c.appid == appid
                and (product_coupon_id is None or c.product_coupon_id == product_coupon_id)
                and (stock_id is None or c.stock_id == stock_id)
                and (coupon_state is None or c.state_at(now) == coupon_state)
            ]

    def render_user_coupon(self, coupon: IssuedCoupon, now: float) -> Document:
        """The user coupon as the seeds show it, product coupon and stock included."""
        with self.lock:
            product = self.product_coupons[coupon.product_coupon_id]
            stock = self.stocks[coupon.stock_id]
            out: Document = {
                "coupon_code": coupon.coupon_code,
                "coupon_state": coupon.state_at(now),
                "valid_begin_time": rfc3339(coupon.valid_begin),
                "valid_end_time": rfc3339(coupon.valid_end),
                "receive_time": rfc3339(coupon.receive_time),
                "send_request_no": coupon.send_request_no,
                "send_channel": coupon.send_channel,
            }
            extra = copy.deepcopy(coupon.extra)
            channel_info = extra.pop("channel_custom_info", None)
            out.update(extra)
            out["product_coupon"] = self.render_product_coupon(product)
            out["stock"] = self.render_stock(stock, now)
            if coupon.attach is not None:
                out["attach"] = coupon.attach
            if channel_info is not None:
                out["channel_custom_info"] = channel_info
            out["brand_id"] = coupon.brand_id
            return out

    def render_product_coupon(self, product: ProductCoupon) -> Document:
        doc = copy.deepcopy(product.document)
        return {
            "product_coupon_id": product.product_coupon_id,
            "state": product.state,
            "brand_id": product.brand_id,
            "type": product.type,
            "usage_mode": product.usage_mode,
            **doc,
        }

    def render_stock(self, stock: Stock, now: float) -> Document:
        with self.lock:
            issued = [c for c in self.user_coupons if c.stock_id == stock.stock_id]
            today = china_day(now)
            out: Document = {
                "product_coupon_id": stock.product_coupon_id,
                "stock_id": stock.stock_id,
                "coupon_code_mode": stock.coupon_code_mode,
            }
            if stock.coupon_code_mode == "UPLOAD":
                used = sum(1 for code in stock.uploaded_codes if (stock.stock_id, code) in self._codes)
                out["coupon_code_count_info"] = {
                    "total_count": len(stock.uploaded_codes),
                    "available_count": len(stock.uploaded_codes) - used,
                }
            send_rule: Document = {"max_count": stock.max_count}
            if stock.max_count_per_day is not None:
                send_rule["max_count_per_day"] = stock.max_count_per_day
            if stock.max_count_per_user is not None:
                send_rule["max_count_per_user"] = stock.max_count_per_user
            out["stock_send_rule"] = send_rule
            out.update(copy.deepcopy(stock.document))
            out["sent_count_info"] = {
                "total_count": len(issued),
                "today_count": sum(1 for c in issued if china_day(c.receive_time) == today),
            }
            out["state"] = stock.state
            out["brand_id"] = stock.brand_id
            return out

    def busifavor_for(
        self,
        *,
        openid: str,
        appid: str,
        stock_id: str | None,
        coupon_state: str | None,
        creator_merchant: str | None,
        belong_merchant: str | None,
        sender_merchant: str | None,
    ) -> list[BusifavorCoupon]:
        with self.lock:
            return [
                c
                for c in self.busifavor_coupons
                if c.openid == openid
                and c.appid == appid
                and (stock_id is None or c.stock_id == stock_id)
                and (coupon_state is None or c.coupon_state == coupon_state)
                and (creator_merchant is None or c.creator_merchant == creator_merchant)
                and (belong_merchant is None or c.belong_merchant == belong_merchant)
                and (sender_merchant is None or c.sender_merchant == sender_merchant)
            ]

    def favor_coupon(self, *, openid: str, appid: str, coupon_id: str) -> FavorCoupon | None:
        with self.lock:
            for coupon in self.favor_coupons:
                if (coupon.openid, coupon.appid, coupon.coupon_id) == (openid, appid, coupon_id):
                    return coupon
            return None

    # -- persistence --------------------------------------------------------------------------------

    def snapshot(self) -> Document:
        with self.lock:
            return {
                "version": 1,
                "product_coupons": [_converter.unstructure(p) for p in self.product_coupons.values()],
                "stocks": [_converter.unstructure(s) for s in self.stocks.values()],
                "user_coupons": [_converter.unstructure(c) for c in self.user_coupons],
                "busifavor_coupons": [_converter.unstructure(c) for c in self.busifavor_coupons],
                "favor_coupons": [_converter.unstructure(c) for c in self.favor_coupons],
            }

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Replace everything with a snapshot taken by :meth:`snapshot` (no change callback)."""
        with self.lock:
            self.product_coupons = {
                p.product_coupon_id: p
                for p in (_converter.structure(d, ProductCoupon) for d in snapshot["product_coupons"])
            }
            self.stocks = {s.stock_id: s for s in (_converter.structure(d, Stock) for d in snapshot["stocks"])}
            self.user_coupons = []
            self._by_request_no.clear()
            self._codes.clear()
            for data in snapshot["user_coupons"]:
                coupon = _converter.structure(data, IssuedCoupon)
                self.user_coupons.append(coupon)
                self._by_request_no[(coupon.brand_id, coupon.send_request_no)] = coupon
                self._codes.add((coupon.stock_id, coupon.coupon_code))
            self.busifavor_coupons = [_converter.structure(d, BusifavorCoupon) for d in snapshot["busifavor_coupons"]]
            self.favor_coupons = [_converter.structure(d, FavorCoupon) for d in snapshot["favor_coupons"]]


_converter = cattrs.Converter()
