"""Storage: the sandbox's records in SQLite, one transaction per change.

The request numbers idempotency rests on are UNIQUE constraints, not a Python dict, so they hold across
processes sharing a state dir and across restarts; a write that fails or dies before COMMIT leaves the last
committed state. The same schema serves ``:memory:`` when there is no state dir.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from ._clock import china_day
from ._records import BusifavorCoupon, FavorCoupon, IssuedCoupon, ProductCoupon, Stock
from ._schema import SCHEMA_VERSION, SENT_COUNTS, connect

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["SCHEMA_VERSION", "V2_TABLES", "Store", "WalletQuery"]

_V3_TABLES = ("product_coupons", "stocks", "user_coupons", "sent_counts", "busifavor_coupons", "favor_coupons")
# The APIv2 ledger's tables: each one's request-number column, and every column in insert order.
V2_COLUMNS = {
    "v2_coupons": ("seq", "partner_trade_no", "coupon_id", "stock_id", "openid", "request", "answer", "coupon"),
    "v2_redpacks": ("seq", "mch_billno", "request", "answer"),
}
V2_TABLES = tuple(V2_COLUMNS)
_V2_NUMBER = {"v2_coupons": "partner_trade_no", "v2_redpacks": "mch_billno"}
_V2_JSON = ("request", "answer", "coupon")


class WalletQuery(TypedDict):
    """What a list query picks a user's coupons by."""

    openid: str
    brand_id: str
    appid: str
    product_coupon_id: str | None
    stock_id: str | None
    coupon_state: str | None


_COUPON_COLUMNS = (
    "seq, openid, appid, brand_id, product_coupon_id, stock_id, coupon_code, send_request_no, send_channel, "
    "state, receive_time, valid_begin, valid_end, attach, issued_by, extra"
)
_BUSIFAVOR_COLUMNS = (
    "openid, appid, stock_id, coupon_state, creator_merchant, belong_merchant, sender_merchant, document"
)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _decode(row: sqlite3.Row, *json_columns: str) -> dict[str, Any]:
    """A row as keyword arguments of its record (the column names are the attribute names)."""
    out = {key: row[key] for key in row.keys()}  # noqa: SIM118 - sqlite3.Row iterates values, not keys
    for column in json_columns:
        out[column] = json.loads(out[column])
    return out


class Store:
    """The tables behind :class:`~wxpay_chain.sandbox.SandboxState`; every method runs under ``lock``."""

    def __init__(self, path: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.path = path
        self._connection = connect(path)
        self._open: Literal["write", "read"] | None = None  # the transaction the connection is in
        # Closed with its owner, so no connection outlives the state it belongs to (no ResourceWarning).
        self._finalizer = weakref.finalize(self, self._connection.close)

    def close(self) -> None:
        """Close the connection (its file descriptors); the next use opens it again (in memory: empty)."""
        with self.lock:  # not under a transaction another thread is in
            self._finalizer()

    @property
    def _conn(self) -> sqlite3.Connection:
        # Reopened on use: a closed sandbox restarts, and its ledger can still be read after close().
        if not self._finalizer.alive:
            with self.lock:
                if not self._finalizer.alive:
                    self._connection = connect(self.path)
                    self._finalizer = weakref.finalize(self, self._connection.close)
        return self._connection

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic change; nested uses join the outer transaction. Not inside :meth:`reading`."""
        with self.lock:
            if self._open == "read":
                # Joining would write without the write lock, and the read's COMMIT would keep a half-done change.
                raise RuntimeError("Store.transaction() inside Store.reading(): open the transaction first")
            if self._open == "write":
                yield
                return
            # IMMEDIATE takes the write lock up front: another process's check-then-insert waits for ours.
            self._conn.execute("BEGIN IMMEDIATE")
            self._open = "write"
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._open = None

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Several reads that see one committed state (a page and its total_count agree); inside a
        transaction (or another read) they are part of it."""
        with self.lock:
            if self._open is not None:
                yield
                return
            # Deferred: no write lock, so other processes' sends go on; WAL keeps this snapshot meanwhile.
            self._conn.execute("BEGIN DEFERRED")
            self._open = "read"
            try:
                yield
            finally:
                self._open = None
                self._conn.execute("COMMIT")

    def _one(self, sql: str, *args: Any) -> Any:
        with self.lock:
            row = self._conn.execute(sql, args).fetchone()
        return None if row is None else row[0]

    def _all(self, sql: str, *args: Any) -> list[Any]:
        with self.lock:
            return self._conn.execute(sql, args).fetchall()

    def _run(self, sql: str, *args: Any) -> None:
        with self.transaction():
            self._conn.execute(sql, args)

    def clear(self) -> None:
        with self.transaction():
            for table in (*_V3_TABLES, *V2_TABLES):
                self._conn.execute(f"DELETE FROM {table}")

    # -- meta ---------------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        value = self._one("SELECT value FROM meta WHERE key = ?", key)
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        self._run("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value)

    # -- product coupons and stocks -----------------------------------------------------------------

    def put_product_coupon(self, p: ProductCoupon) -> None:
        self._run(
            "INSERT OR REPLACE INTO product_coupons VALUES (?, ?, ?, ?, ?, ?)",
            p.product_coupon_id,
            p.brand_id,
            p.state,
            p.type,
            p.usage_mode,
            _dumps(p.document),
        )

    def product_coupons(self, product_coupon_id: str | None = None) -> list[ProductCoupon]:
        where = "" if product_coupon_id is None else " WHERE product_coupon_id = ?"
        args = () if product_coupon_id is None else (product_coupon_id,)
        rows = self._all("SELECT * FROM product_coupons" + where + " ORDER BY rowid", *args)
        return [ProductCoupon(**_decode(row, "document")) for row in rows]

    def put_stock(self, s: Stock) -> None:
        self._run(
            "INSERT OR REPLACE INTO stocks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            s.stock_id,
            s.product_coupon_id,
            s.brand_id,
            s.state,
            s.coupon_code_mode,
            s.max_count,
            s.max_count_per_day,
            s.max_count_per_user,
            _dumps(s.document),
            _dumps(s.uploaded_codes),
        )

    def stocks(self, stock_id: str | None = None) -> list[Stock]:
        where = "" if stock_id is None else " WHERE stock_id = ?"
        args = () if stock_id is None else (stock_id,)
        rows = self._all("SELECT * FROM stocks" + where + " ORDER BY rowid", *args)
        decoded = [_decode(row, "document") for row in rows]
        return [Stock(**{**d, "uploaded_codes": tuple(json.loads(d["uploaded_codes"]))}) for d in decoded]

    # -- the ledger ---------------------------------------------------------------------------------

    def next_seq(self) -> int:
        return int(self._one("SELECT COALESCE(MAX(seq), 0) + 1 FROM user_coupons"))

    # -- the APIv2 ledger (``_v2_ledger``): its rules there, its rows here --------------------------------
    def v2_first(self, table: str, number: str) -> tuple[Any, dict[str, str]] | None:
        """What the request number was first sent with and answered, or None for a new number."""
        with self.lock:
            row = self._conn.execute(
                f"SELECT request, answer FROM {table} WHERE {_V2_NUMBER[table]} = ?", (number,)
            ).fetchone()
        return None if row is None else (json.loads(row["request"]), json.loads(row["answer"]))

    def v2_count(self, stock_id: str, openid: str | None = None) -> int:
        """The v2 coupons sent of ``stock_id`` (to ``openid``)."""
        if openid is None:
            return int(self._one("SELECT COUNT(*) FROM v2_coupons WHERE stock_id = ?", stock_id))
        return int(self._one("SELECT COUNT(*) FROM v2_coupons WHERE stock_id = ? AND openid = ?", stock_id, openid))

    def next_v2_seq(self, table: str) -> int:
        return int(self._one(f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {table}"))

    def insert_v2(self, table: str, row: Mapping[str, Any]) -> None:
        """One ledger row by column name (request, answer and coupon as values, stored as JSON). Raises
        sqlite3.IntegrityError if its request number is taken."""
        columns = V2_COLUMNS[table]
        values = [_dumps(row[c]) if c in _V2_JSON else row[c] for c in columns]
        self._run(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", *values)

    def v2_rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a ledger table, as :meth:`insert_v2` takes it, in the order they were written."""
        rows = self._all(f"SELECT {', '.join(V2_COLUMNS[table])} FROM {table} ORDER BY seq")
        return [_decode(row, *(c for c in _V2_JSON if c in V2_COLUMNS[table])) for row in rows]

    def v2_coupon(self, coupon_id: str) -> dict[str, str] | None:
        found = self._one("SELECT coupon FROM v2_coupons WHERE coupon_id = ?", coupon_id)
        return None if found is None else dict(json.loads(found))

    def insert_coupon(self, c: IssuedCoupon) -> None:
        """Raises sqlite3.IntegrityError if its send_request_no (per brand) or code (per stock) is taken."""
        self._run(
            f"INSERT INTO user_coupons ({_COUPON_COLUMNS}, receive_day) VALUES ({', '.join('?' * 17)})",
            c.seq,
            c.openid,
            c.appid,
            c.brand_id,
            c.product_coupon_id,
            c.stock_id,
            c.coupon_code,
            c.send_request_no,
            c.send_channel,
            c.state,
            c.receive_time,
            c.valid_begin,
            c.valid_end,
            c.attach,
            c.issued_by,
            _dumps(c.extra),
            china_day(c.receive_time),
        )

    def _coupons(self, where: str, *args: Any, limit: int | None = None) -> list[IssuedCoupon]:
        page = "" if limit is None else f" LIMIT {int(limit)}"
        rows = self._all(f"SELECT {_COUPON_COLUMNS} FROM user_coupons {where} ORDER BY seq{page}", *args)
        return [IssuedCoupon(**_decode(row, "extra")) for row in rows]

    def all_coupons(self) -> list[IssuedCoupon]:
        return self._coupons("")

    def coupon_by_request_no(self, brand_id: str, send_request_no: str) -> IssuedCoupon | None:
        found = self._coupons("WHERE brand_id = ? AND send_request_no = ?", brand_id, send_request_no)
        return found[0] if found else None

    def wallet(
        self, *, now: float, after: int | None = None, limit: int | None = None, **query: Unpack[WalletQuery]
    ) -> list[IssuedCoupon]:
        """A user's coupons in issue order, filtered as a list query is (its state as shown at ``now``): those
        after seq ``after`` (if given), at most ``limit`` of them."""
        where, args = _wallet_where(query, now)
        if after is not None:
            args.append(after)
            where += " AND seq > ?"
        return self._coupons(where, *args, limit=limit)

    def wallet_count(self, *, now: float, **query: Unpack[WalletQuery]) -> int:
        where, args = _wallet_where(query, now)
        return int(self._one(f"SELECT COUNT(*) FROM user_coupons {where}", *args))

    def code_used(self, stock_id: str, code: str) -> bool:
        found = self._one("SELECT 1 FROM user_coupons WHERE stock_id = ? AND coupon_code = ?", stock_id, code)
        return found is not None

    def first_unused_upload(self, stock_id: str) -> str | None:
        value = self._one(
            "SELECT u.value FROM stocks s, json_each(s.uploaded_codes) u WHERE s.stock_id = ? AND NOT EXISTS"
            " (SELECT 1 FROM user_coupons c WHERE c.stock_id = ? AND c.coupon_code = u.value) ORDER BY u.key LIMIT 1",
            stock_id,
            stock_id,
        )
        return None if value is None else str(value)

    def uploads_used(self, stock_id: str) -> int:
        return int(
            self._one(
                "SELECT COUNT(*) FROM stocks s, json_each(s.uploaded_codes) u WHERE s.stock_id = ? AND EXISTS"
                " (SELECT 1 FROM user_coupons c WHERE c.stock_id = ? AND c.coupon_code = u.value)",
                stock_id,
                stock_id,
            )
        )

    def sent_counts(self, stock_id: str, day: str, openid: str | None = None) -> tuple[int, int, int]:
        """``(all, on day, to openid)`` coupons of a stock, from the counters the schema's triggers keep."""
        with self.lock:
            keys = {"stock_id": stock_id, "receive_day": day, "openid": "" if openid is None else openid}
            row = self._conn.execute(SENT_COUNTS, keys).fetchone()
        sent, on_day, to_user = (int(n or 0) for n in row)
        return sent, on_day, 0 if openid is None else to_user

    # -- busifavor and favor ------------------------------------------------------------------------

    def insert_busifavor(self, c: BusifavorCoupon) -> None:
        self._run(
            f"INSERT INTO busifavor_coupons ({_BUSIFAVOR_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            c.openid,
            c.appid,
            c.stock_id,
            c.coupon_state,
            c.creator_merchant,
            c.belong_merchant,
            c.sender_merchant,
            _dumps(c.document),
        )

    def busifavor(self, openid: str | None = None, appid: str | None = None) -> list[BusifavorCoupon]:
        where = "" if openid is None else " WHERE openid = ? AND appid = ?"
        args = () if openid is None else (openid, appid)
        rows = self._all(f"SELECT {_BUSIFAVOR_COLUMNS} FROM busifavor_coupons{where} ORDER BY id", *args)
        return [BusifavorCoupon(**_decode(row, "document")) for row in rows]

    def insert_favor(self, c: FavorCoupon) -> None:
        self._run(
            "INSERT INTO favor_coupons (openid, appid, coupon_id, document) VALUES (?, ?, ?, ?)",
            c.openid,
            c.appid,
            c.coupon_id,
            _dumps(c.document),
        )

    def favor(self, key: tuple[str, str, str] | None = None) -> list[FavorCoupon]:
        where = "" if key is None else " WHERE openid = ? AND appid = ? AND coupon_id = ?"
        columns = "openid, appid, coupon_id, document"
        rows = self._all(f"SELECT {columns} FROM favor_coupons{where} ORDER BY id", *(key or ()))
        return [FavorCoupon(**_decode(row, "document")) for row in rows]


# The SQL of IssuedCoupon.state_at (``_records.window_state``): stored PENDING and EFFECTIVE coupons move
# with the clock, the others keep their state. A test holds the two to the same answers at the boundaries.
_STATE_AT = (
    "CASE WHEN state NOT IN ('PENDING', 'EFFECTIVE') THEN state WHEN ? < valid_begin THEN 'PENDING'"
    " WHEN ? > valid_end THEN 'EXPIRED' ELSE 'EFFECTIVE' END"
)


def _wallet_where(query: WalletQuery, now: float) -> tuple[str, list[Any]]:
    # Plain ? in order, not ?NNN: Python 3.12.0-3.12.3 warn that a sequence bound to ?1 binds a named parameter.
    where = "WHERE openid = ? AND brand_id = ? AND appid = ?"
    args: list[Any] = [query["openid"], query["brand_id"], query["appid"]]
    for column in ("product_coupon_id", "stock_id"):
        if query[column] is not None:
            args.append(query[column])
            where += f" AND {column} = ?"
    if query["coupon_state"] is not None:
        args += [now, now, query["coupon_state"]]  # _STATE_AT reads the clock twice
        where += f" AND {_STATE_AT} = ?"
    return where, args
