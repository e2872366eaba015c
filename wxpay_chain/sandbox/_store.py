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
from typing import Any

from ._clock import china_day
from ._records import BusifavorCoupon, FavorCoupon, IssuedCoupon, ProductCoupon, Stock

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS product_coupons (
    product_coupon_id TEXT PRIMARY KEY,
    brand_id TEXT NOT NULL, state TEXT NOT NULL, type TEXT NOT NULL, usage_mode TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stocks (
    stock_id TEXT PRIMARY KEY,
    product_coupon_id TEXT NOT NULL, brand_id TEXT NOT NULL, state TEXT NOT NULL, coupon_code_mode TEXT NOT NULL,
    max_count INTEGER NOT NULL, max_count_per_day INTEGER, max_count_per_user INTEGER,
    document TEXT NOT NULL,
    uploaded_codes TEXT NOT NULL  -- a JSON array, in upload order
);
CREATE TABLE IF NOT EXISTS user_coupons (
    seq INTEGER PRIMARY KEY,
    openid TEXT NOT NULL, appid TEXT NOT NULL, brand_id TEXT NOT NULL,
    product_coupon_id TEXT NOT NULL, stock_id TEXT NOT NULL,
    coupon_code TEXT NOT NULL, send_request_no TEXT NOT NULL, send_channel TEXT NOT NULL, state TEXT NOT NULL,
    receive_time REAL NOT NULL, valid_begin REAL NOT NULL, valid_end REAL NOT NULL,
    receive_day TEXT NOT NULL,  -- the China calendar day of receive_time, for max_count_per_day
    attach TEXT, issued_by TEXT NOT NULL, extra TEXT NOT NULL,
    UNIQUE (brand_id, send_request_no),  -- idempotency: one coupon per send_request_no and brand
    UNIQUE (stock_id, coupon_code)       -- a code is issued once per stock
);
CREATE INDEX IF NOT EXISTS user_coupons_by_day ON user_coupons (stock_id, receive_day);
CREATE INDEX IF NOT EXISTS user_coupons_by_user ON user_coupons (stock_id, openid);
CREATE INDEX IF NOT EXISTS user_coupons_wallet ON user_coupons (openid, brand_id, appid, seq);
CREATE TABLE IF NOT EXISTS busifavor_coupons (
    id INTEGER PRIMARY KEY,
    openid TEXT NOT NULL, appid TEXT NOT NULL, stock_id TEXT NOT NULL, coupon_state TEXT NOT NULL,
    creator_merchant TEXT NOT NULL, belong_merchant TEXT NOT NULL, sender_merchant TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS busifavor_wallet ON busifavor_coupons (openid, appid, id);
CREATE TABLE IF NOT EXISTS favor_coupons (
    id INTEGER PRIMARY KEY,
    openid TEXT NOT NULL, appid TEXT NOT NULL, coupon_id TEXT NOT NULL, document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS favor_wallet ON favor_coupons (openid, appid, coupon_id, id);
CREATE TABLE IF NOT EXISTS v2_coupons (  -- APIv2 代金券: one row per send_coupon that issued one
    seq INTEGER PRIMARY KEY,
    partner_trade_no TEXT NOT NULL UNIQUE,  -- idempotency: one coupon per partner_trade_no
    coupon_id TEXT NOT NULL UNIQUE, stock_id TEXT NOT NULL, openid TEXT NOT NULL,
    request TEXT NOT NULL, answer TEXT NOT NULL, coupon TEXT NOT NULL  -- JSON
);
CREATE INDEX IF NOT EXISTS v2_coupons_by_user ON v2_coupons (stock_id, openid);
CREATE TABLE IF NOT EXISTS v2_redpacks (
    seq INTEGER PRIMARY KEY,
    mch_billno TEXT NOT NULL UNIQUE,  -- idempotency: one red packet per mch_billno
    request TEXT NOT NULL, answer TEXT NOT NULL  -- JSON
);
"""

_V3_TABLES = ("product_coupons", "stocks", "user_coupons", "busifavor_coupons", "favor_coupons")
# The APIv2 ledger's tables: each one's request-number column, and every column in insert order.
V2_COLUMNS = {
    "v2_coupons": ("seq", "partner_trade_no", "coupon_id", "stock_id", "openid", "request", "answer", "coupon"),
    "v2_redpacks": ("seq", "mch_billno", "request", "answer"),
}
V2_TABLES = tuple(V2_COLUMNS)
_V2_NUMBER = {"v2_coupons": "partner_trade_no", "v2_redpacks": "mch_billno"}
_V2_JSON = ("request", "answer", "coupon")

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


def connect(path: Path | None) -> sqlite3.Connection:
    """A connection with the schema; ``None`` is a private in-memory database."""
    # isolation_level=None: transactions are ours (BEGIN IMMEDIATE ... COMMIT), not the module's guesses.
    conn = sqlite3.connect(":memory:" if path is None else path, isolation_level=None, check_same_thread=False)
    if path is not None:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.row_factory = sqlite3.Row
    conn.executescript(SCHEMA)
    return conn


class Store:
    """The tables behind :class:`~wxpay_chain.sandbox.SandboxState`; every method runs under ``lock``."""

    def __init__(self, path: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.path = path
        self._conn = connect(path)
        self._depth = 0
        # Closed with its owner, so no connection outlives the state it belongs to (no ResourceWarning).
        self._finalizer = weakref.finalize(self, self._conn.close)

    def close(self) -> None:
        self._finalizer()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic change; nested uses join the outer transaction."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            # IMMEDIATE takes the write lock up front: another process's check-then-insert waits for ours.
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
            finally:
                self._depth = 0

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

    def _coupons(self, where: str, *args: Any) -> list[IssuedCoupon]:
        rows = self._all(f"SELECT {_COUPON_COLUMNS} FROM user_coupons {where} ORDER BY seq", *args)
        return [IssuedCoupon(**_decode(row, "extra")) for row in rows]

    def all_coupons(self) -> list[IssuedCoupon]:
        return self._coupons("")

    def coupon_by_request_no(self, brand_id: str, send_request_no: str) -> IssuedCoupon | None:
        found = self._coupons("WHERE brand_id = ? AND send_request_no = ?", brand_id, send_request_no)
        return found[0] if found else None

    def wallet(
        self, *, openid: str, brand_id: str, appid: str, product_coupon_id: str | None, stock_id: str | None
    ) -> list[IssuedCoupon]:
        where, args = "WHERE openid = ? AND brand_id = ? AND appid = ?", [openid, brand_id, appid]
        if product_coupon_id is not None:
            where, args = where + " AND product_coupon_id = ?", [*args, product_coupon_id]
        if stock_id is not None:
            where, args = where + " AND stock_id = ?", [*args, stock_id]
        return self._coupons(where, *args)

    def code_used(self, stock_id: str, code: str) -> bool:
        found = self._one("SELECT 1 FROM user_coupons WHERE stock_id = ? AND coupon_code = ?", stock_id, code)
        return found is not None

    def first_unused_upload(self, stock_id: str) -> str | None:
        value = self._one(
            "SELECT u.value FROM stocks s, json_each(s.uploaded_codes) u WHERE s.stock_id = ?1 AND NOT EXISTS"
            " (SELECT 1 FROM user_coupons c WHERE c.stock_id = ?1 AND c.coupon_code = u.value) ORDER BY u.key LIMIT 1",
            stock_id,
        )
        return None if value is None else str(value)

    def uploads_used(self, stock_id: str) -> int:
        return int(
            self._one(
                "SELECT COUNT(*) FROM stocks s, json_each(s.uploaded_codes) u WHERE s.stock_id = ?1 AND EXISTS"
                " (SELECT 1 FROM user_coupons c WHERE c.stock_id = ?1 AND c.coupon_code = u.value)",
                stock_id,
            )
        )

    def sent_counts(self, stock_id: str, day: str, openid: str | None = None) -> tuple[int, int, int]:
        """``(all, on day, to openid)`` coupons of a stock, from its indexes."""
        count = "SELECT COUNT(*) FROM user_coupons WHERE stock_id = ?"
        sent = int(self._one(count, stock_id))
        on_day = int(self._one(count + " AND receive_day = ?", stock_id, day))
        to_user = 0 if openid is None else int(self._one(count + " AND openid = ?", stock_id, openid))
        return sent, on_day, to_user

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
