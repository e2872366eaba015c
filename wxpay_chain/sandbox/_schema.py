"""The SQLite schema of the sandbox's store, and opening a database with it (new or of an earlier version).

A stock's sent counts (in all, per China day, per user) are counters kept by triggers, so they are
written in the transaction of the insert that changes them, whichever process or version inserts, and
reading them costs the same with ten coupons or a million. The one miss: a coupon that an outside
``REPLACE`` deletes to make room stays counted, since SQLite fires no delete trigger for that unless
recursive triggers are on (the sandbox itself never replaces a coupon).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = 1
MIN_SQLITE = (3, 24)  # ON CONFLICT ... DO UPDATE, in the counters' triggers (python.org builds ship newer)

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

# A stock's counts are rows of sent_counts, one per (scope, key): ('all', ''), ('day', a coupon's receive_day)
# and ('user', its openid). None: the scope's one key is ''.
_SCOPES = (("all", None), ("day", "receive_day"), ("user", "openid"))


def _key(column: str | None, value: str) -> str:
    return "''" if column is None else value


def _count(row: str, step: int) -> str:
    """Trigger statements moving ``row``'s three counts by ``step``.

    Upserts, not INSERT OR IGNORE then UPDATE: a trigger's OR clause gives way to the writer's, so under
    ``INSERT OR REPLACE INTO user_coupons`` it would replace a count with a new one, under ``INSERT OR ABORT``
    fail on the second coupon; ON CONFLICT ... DO UPDATE stays what it says whatever the writer uses.
    """
    return " ".join(
        f"INSERT INTO sent_counts VALUES ({row}.stock_id, '{scope}', {_key(column, f'{row}.{column}')}, {step})"
        " ON CONFLICT (stock_id, scope, key) DO UPDATE SET sent = sent + excluded.sent;"
        for scope, column in _SCOPES
    )


# A stock's (all, on day, to openid) counts, NULL where none; run with a dict of stock_id, receive_day and
# openid. Named, not ?NNN: Python 3.12.0-3.12.3 warn that a sequence bound to ?1 binds a named parameter.
SENT_COUNTS = "SELECT " + ", ".join(
    f"(SELECT sent FROM sent_counts WHERE stock_id = :stock_id AND scope = '{scope}'"
    f" AND key = {_key(column, f':{column}')})"
    for scope, column in _SCOPES
)


# Added after the first version: one statement each, run in one write transaction by upgrade().
LATER = (
    "CREATE TABLE IF NOT EXISTS sent_counts (stock_id TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL,"
    " sent INTEGER NOT NULL, PRIMARY KEY (stock_id, scope, key)) WITHOUT ROWID",
    f"CREATE TRIGGER IF NOT EXISTS user_coupons_counted AFTER INSERT ON user_coupons BEGIN {_count('NEW', 1)} END",
    f"CREATE TRIGGER IF NOT EXISTS user_coupons_uncounted AFTER DELETE ON user_coupons BEGIN {_count('OLD', -1)} END",
    "CREATE TRIGGER IF NOT EXISTS user_coupons_recounted AFTER UPDATE OF stock_id, receive_day, openid ON user_coupons"
    f" BEGIN {_count('OLD', -1)} {_count('NEW', 1)} END",
    # The counts of the coupons already there (a state dir of an earlier version); empty for a new one.
    "DELETE FROM sent_counts",
    *(
        f"INSERT INTO sent_counts SELECT stock_id, '{scope}', {_key(column, str(column))}, COUNT(*)"
        " FROM user_coupons GROUP BY 1, 3"
        for scope, column in _SCOPES
    ),
    # A wallet page: the first three columns pick the user's coupons, seq orders them, and the rest
    # answer every list filter from the index alone (total_count never reads the table).
    "CREATE INDEX IF NOT EXISTS user_coupons_listing ON user_coupons"
    " (openid, brand_id, appid, seq, product_coupon_id, stock_id, state, valid_begin, valid_end)",
    # Superseded: by the counters, and by the listing index (which leads with the same columns).
    "DROP INDEX IF EXISTS user_coupons_by_day",
    "DROP INDEX IF EXISTS user_coupons_by_user",
    "DROP INDEX IF EXISTS user_coupons_wallet",
)
_LAST = "user_coupons_listing"


def _upgraded(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (_LAST,)).fetchone() is not None


def upgrade(conn: sqlite3.Connection) -> None:
    """Add what :data:`LATER` adds, once: checked again under the write lock, so of two processes opening
    an earlier version's state dir at once only the first fills the counters, and no insert is missed."""
    if _upgraded(conn):
        return  # the usual case, and the only one a read-only state dir can be in
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not _upgraded(conn):
            for statement in LATER:
                conn.execute(statement)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def connect(path: Path | None) -> sqlite3.Connection:
    """A connection with the schema; ``None`` is a private in-memory database."""
    if sqlite3.sqlite_version_info < MIN_SQLITE:  # else a bare "syntax error" creating the triggers
        raise RuntimeError(
            f"the sandbox's state needs SQLite {'.'.join(map(str, MIN_SQLITE))} or later (for upserts);"
            f" this Python has SQLite {sqlite3.sqlite_version}"
        )
    # isolation_level=None: transactions are ours (BEGIN IMMEDIATE ... COMMIT), not the module's guesses.
    conn = sqlite3.connect(":memory:" if path is None else path, isolation_level=None, check_same_thread=False)
    try:
        if path is not None:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.row_factory = sqlite3.Row
        conn.executescript(SCHEMA)
        upgrade(conn)
    except BaseException:
        conn.close()  # a file SQLite cannot open or upgrade: Python 3.13 warns of a connection left open
        raise
    return conn
