"""Everything the sandbox remembers, behind one object: seeding hooks, sending, and the reads handlers need.

Storage is :mod:`._store` (SQLite, in memory or in a state dir), the rules :mod:`._rules`, the answers'
JSON :mod:`._render`. Each change is one transaction and is validated in full before anything is stored:
a bad request never leaves half a coupon, and a crash leaves the last committed state.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _persist, _render, _rules
from ._clock import china_day
from ._records import (
    BUSIFAVOR_STATES,
    FAVOR_STATES,
    SEND_CHANNELS,
    USER_COUPON_STATES,
    BusifavorCoupon,
    Document,
    FavorCoupon,
    IssuedCoupon,
    ProductCoupon,
    Stock,
)
from ._store import Store, WalletQuery

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "BUSIFAVOR_STATES",
    "USER_COUPON_STATES",
    "BusifavorCoupon",
    "FavorCoupon",
    "IssuedCoupon",
    "ProductCoupon",
    "SandboxState",
    "Stock",
    "WalletQuery",
]


class SandboxState:
    """The sandbox's memory: in memory, or in the SQLite file ``path``.

    ``on_change`` is called (under the lock, inside the change's transaction) after every successful change.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        on_change: Callable[[SandboxState], None] | None = None,
        path: str | Path | None = None,
    ) -> None:
        self.store = Store(None if path is None else Path(path))
        self.lock = self.store.lock
        self._rng = random.Random(seed)
        self._on_change = on_change

    def set_on_change(self, callback: Callable[[SandboxState], None] | None) -> None:
        with self.lock:
            self._on_change = callback

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several changes into one: all of them are kept, or (on an exception) none."""
        with self.store.transaction():
            yield

    def close(self) -> None:
        self.store.close()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self)

    # -- seeding hooks ------------------------------------------------------------------------------

    def add_product_coupon(self, document: Mapping[str, Any]) -> ProductCoupon:
        """Add (or replace) a product coupon from a seed-shaped document; raises ValueError if malformed."""
        coupon = _rules.product_coupon_from(document)
        with self.transaction():
            self.store.put_product_coupon(coupon)
            self._changed()
        return coupon

    def add_stock(self, document: Mapping[str, Any], *, uploaded_codes: Iterable[str] = ()) -> Stock:
        """Add (or replace) a stock of an existing product coupon; raises ValueError if malformed."""
        with self.transaction():
            product = self.product_coupon(str(document.get("product_coupon_id")))
            stock = _rules.stock_from(document, product, uploaded_codes)
            self.store.put_stock(stock)
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
        """Put a coupon straight into a wallet, bypassing the send rules (for seeding).

        Raises KeyError for an unknown stock, ValueError for a bad value or a send_request_no (per brand)
        or coupon_code (per stock) already in the ledger.
        """
        with self.transaction():
            stock = self._stock_or_key_error(stock_id)
            product = self.product_coupon(stock.product_coupon_id)
            if product is None:
                raise KeyError(stock.product_coupon_id)
            received = now if receive_time is None else receive_time
            begin, end, details = _rules.validity(product, stock, received)
            seq = self.store.next_seq()
            coupon = IssuedCoupon(
                seq=seq,
                openid=openid,
                appid=appid,
                brand_id=stock.brand_id,
                product_coupon_id=product.product_coupon_id,
                stock_id=stock_id,
                coupon_code=coupon_code or self._new_code(stock),
                send_request_no=send_request_no or f"SANDBOX_SEED_{seq:06d}",
                send_channel=_rules.choice(send_channel, SEND_CHANNELS, "send_channel"),
                state=_rules.choice(state, USER_COUPON_STATES, "state"),
                receive_time=received,
                valid_begin=begin if valid_begin is None else valid_begin,
                valid_end=end if valid_end is None else valid_end,
                attach=attach,
                issued_by="seed",
                extra={**details, **dict(extra or {})},
            )
            try:
                self.store.insert_coupon(coupon)
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"send_request_no or coupon_code already in the ledger: {exc}") from None
            self._changed()
        return coupon

    def add_busifavor_coupon(self, coupon: BusifavorCoupon) -> None:
        _rules.choice(coupon.coupon_state, BUSIFAVOR_STATES, "coupon_state")
        _rules.seeded_time(coupon.document, "expire_time", f"busifavor coupon {coupon.document.get('coupon_code')!r}")
        with self.transaction():
            self.store.insert_busifavor(coupon)
            self._changed()

    def add_favor_coupon(self, coupon: FavorCoupon) -> None:
        _rules.choice(coupon.document.get("status"), FAVOR_STATES, "status")
        for name in ("available_begin_time", "available_end_time"):
            _rules.seeded_time(coupon.document, name, f"favor coupon {coupon.coupon_id!r}")
        with self.transaction():
            self.store.insert_favor(coupon)
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

        The same ``send_request_no`` (per brand) with the same user, stock and attach returns the first coupon again
        and ``created`` False; with anything else it is refused.
        """
        request = {"openid": openid, "appid": appid, "product_coupon_id": product_coupon_id, "stock_id": stock_id}
        with self.transaction():
            previous = self.store.coupon_by_request_no(brand_id, send_request_no)
            if previous is not None:
                _rules.check_replay(previous, coupon_code=coupon_code, attach=attach, **request)
                return previous, False
            product, stock = _rules.check_sendable(
                self.product_coupon(product_coupon_id),
                self.stock(stock_id),
                brand_id=brand_id,
                product_coupon_id=product_coupon_id,
                stock_id=stock_id,
            )
            code = self._code_for(stock, coupon_code)
            sent, today, to_user = self.store.sent_counts(stock_id, china_day(now), openid)
            _rules.check_limits(stock, sent=sent, sent_today=today, sent_to_user=to_user)
            begin, end, details = _rules.validity(product, stock, now)
            coupon = IssuedCoupon(
                seq=self.store.next_seq(),
                brand_id=brand_id,
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
                **request,
            )
            # BEGIN IMMEDIATE serialises writers, so the UNIQUE constraints are only the last line of defence.
            self.store.insert_coupon(coupon)
            self._changed()
            return coupon, True

    def _code_for(self, stock: Stock, requested: str | None) -> str:
        _rules.check_requested_code(stock, requested)
        if requested is not None:
            if self.store.code_used(stock.stock_id, requested):
                raise _rules.duplicate_code()
            return requested
        if stock.coupon_code_mode == "UPLOAD":
            code = self.store.first_unused_upload(stock.stock_id)
            if code is None:
                raise _rules.no_uploaded_code()
            return code
        return self._new_code(stock)

    def _new_code(self, stock: Stock) -> str:
        while True:
            code = str(self._rng.randrange(10**11, 10**12))
            if not self.store.code_used(stock.stock_id, code):
                return code

    # -- reading ------------------------------------------------------------------------------------

    def product_coupon(self, product_coupon_id: str) -> ProductCoupon | None:
        found = self.store.product_coupons(product_coupon_id)
        return found[0] if found else None

    def stock(self, stock_id: str) -> Stock | None:
        found = self.store.stocks(stock_id)
        return found[0] if found else None

    def _stock_or_key_error(self, stock_id: str) -> Stock:
        stock = self.stock(stock_id)
        if stock is None:
            raise KeyError(stock_id)
        return stock

    @property
    def product_coupons(self) -> dict[str, ProductCoupon]:
        """A copy of every product coupon by id (read-only view; change them with add_product_coupon)."""
        return {p.product_coupon_id: p for p in self.store.product_coupons()}

    @property
    def stocks(self) -> dict[str, Stock]:
        return {s.stock_id: s for s in self.store.stocks()}

    @property
    def user_coupons(self) -> list[IssuedCoupon]:
        return self.issued()

    @property
    def busifavor_coupons(self) -> list[BusifavorCoupon]:
        return self.store.busifavor()

    @property
    def favor_coupons(self) -> list[FavorCoupon]:
        return self.store.favor()

    def issued(self) -> list[IssuedCoupon]:
        return self.store.all_coupons()

    def user_coupons_for(
        self, *, now: float, after: int | None = None, limit: int | None = None, **query: Unpack[WalletQuery]
    ) -> list[IssuedCoupon]:
        """A user's coupons in issue order after seq ``after`` (at most ``limit``), in the state shown at ``now``."""
        return self.store.wallet(now=now, after=after, limit=limit, **query)

    def count_user_coupons(self, *, now: float, **query: Unpack[WalletQuery]) -> int:
        """How many coupons :meth:`user_coupons_for` returns without ``after`` and ``limit``."""
        return self.store.wallet_count(now=now, **query)

    def render_user_coupon(self, coupon: IssuedCoupon, now: float) -> Document:
        """The user coupon as the seeds show it, product coupon and stock included."""
        return self.render_user_coupons([coupon], now)[0]

    def render_user_coupons(self, coupons: Iterable[IssuedCoupon], now: float) -> list[Document]:
        """Each as :meth:`render_user_coupon` shows it, reading each stock (and its counts) and product coupon
        once for the whole answer: a page costs a few queries per stock on it, not per coupon."""
        stocks: dict[str, tuple[Stock, dict[str, int]]] = {}
        products: dict[str, ProductCoupon] = {}
        out = []
        with self.store.reading():
            for c in coupons:
                if c.stock_id not in stocks:
                    stock = self._stock_or_key_error(c.stock_id)
                    stocks[c.stock_id] = stock, self._stock_counts(stock, now)
                product = products.get(c.product_coupon_id) or self.product_coupon(c.product_coupon_id)
                if product is None:
                    raise KeyError(c.product_coupon_id)
                products[c.product_coupon_id] = product
                stock, counts = stocks[c.stock_id]
                # Rendered afresh for each coupon: no two share a dict, as when each was rendered alone.
                shown = {"product": self.render_product_coupon(product), "stock": _render.render_stock(stock, **counts)}
                out.append(_render.render_user_coupon(c, now, **shown))
        return out

    def render_product_coupon(self, product: ProductCoupon) -> Document:
        return _render.render_product_coupon(product)

    def render_stock(self, stock: Stock, now: float) -> Document:
        return _render.render_stock(stock, **self._stock_counts(stock, now))

    def _stock_counts(self, stock: Stock, now: float) -> dict[str, int]:
        """The counts :func:`_render.render_stock` shows beside the stock's own fields, at ``now``."""
        with self.lock:
            sent, today, _ = self.store.sent_counts(stock.stock_id, china_day(now))
            used = self.store.uploads_used(stock.stock_id) if stock.coupon_code_mode == "UPLOAD" else 0
        return {"sent": sent, "sent_today": today, "uploaded_used": used}

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
        now: float,
    ) -> list[BusifavorCoupon]:
        # SENDED turns EXPIRED with the clock, so the state is filtered as it is shown at ``now``.
        return [
            c
            for c in self.store.busifavor(openid, appid)
            if (stock_id is None or c.stock_id == stock_id)
            and (coupon_state is None or _rules.busifavor_state(c, now) == coupon_state)
            and (creator_merchant is None or c.creator_merchant == creator_merchant)
            and (belong_merchant is None or c.belong_merchant == belong_merchant)
            and (sender_merchant is None or c.sender_merchant == sender_merchant)
        ]

    def favor_coupon(self, *, openid: str, appid: str, coupon_id: str) -> FavorCoupon | None:
        found = self.store.favor((openid, appid, coupon_id))
        return found[0] if found else None

    # -- snapshots (the JSON format of earlier versions) ----------------------------------------------

    def snapshot(self) -> Document:
        return _persist.snapshot(self.store)

    def restore(self, snapshot: Mapping[str, Any]) -> None:
        """Replace everything with a snapshot taken by :meth:`snapshot` (no change callback)."""
        _persist.restore(self.store, snapshot)
