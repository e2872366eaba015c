"""Opening a state dir of the first schema adds the counters once, whoever opens it and how.

``_schema.upgrade`` checks again under the write lock, so of two connections opening such a dir at once only
one fills the counters, and a coupon another writer commits meanwhile is counted; a read-only connection
opens an upgraded dir (it has nothing to write) and refuses a first-schema one, changing nothing.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from wxpay_chain.sandbox import DEMO_APPID, Sandbox, _schema, default_key_set, stock_document
from wxpay_chain.sandbox._clock import china_day
from wxpay_chain.sandbox._persist import STATE_DB
from wxpay_chain.sandbox._state import SandboxState

from .test_large_state import FRESH_STOCK, NOW, _as_first_schema, _counted, _raw_insert, _recounted

WAIT = 30  # seconds: a bound against hanging, never reached when the code works


def _first_schema_dir(tmp_path: Path) -> Path:
    sb = Sandbox(state_dir=tmp_path, keys=default_key_set())
    sb.add_stock(stock_document(FRESH_STOCK, "1000000013", max_count=100))
    for n in range(3):
        sb.add_user_coupon(openid=f"o-old-{n % 2}", stock_id=FRESH_STOCK, appid=DEMO_APPID, receive_time=NOW)
    sb.state.close()
    _as_first_schema(tmp_path)
    return tmp_path / STATE_DB


def _has_counters(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sent_counts'").fetchone() is not None


def test_two_connections_opening_it_at_once_fill_the_counters_once_and_miss_no_insert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _first_schema_dir(tmp_path)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write, under way while both open the file

    statements: list[list[str]] = []
    waiting = [threading.Event(), threading.Event()]  # one per connection, in the order they are made
    made = threading.Lock()
    real_connect = sqlite3.connect

    def traced_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)
        with made:
            seen: list[str] = []
            event = waiting[len(statements)]
            statements.append(seen)

        def trace(sql: str) -> None:
            seen.append(sql)
            if sql == "BEGIN IMMEDIATE":  # traced as it starts: the schema was checked, the lock is next
                event.set()

        conn.set_trace_callback(trace)
        return conn

    monkeypatch.setattr(_schema.sqlite3, "connect", traced_connect)
    opened: list[sqlite3.Connection] = []
    failed: list[BaseException] = []

    def open_it() -> None:
        try:
            opened.append(_schema.connect(db))
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for event in waiting:  # both saw the first schema and now wait for the write lock
            assert event.wait(WAIT)
        _raw_insert(holder, 90001)  # a coupon written before any trigger exists
        holder.execute("COMMIT")
    finally:
        for thread in threads:
            thread.join(WAIT)
        holder.close()
        monkeypatch.undo()
    assert failed == [] and len(opened) == 2
    for conn in opened:
        conn.close()
    fills = [seen for seen in statements if "DELETE FROM sent_counts" in seen]
    assert len(fills) == 1, statements  # the other checked again under the lock and found it done
    state = SandboxState(path=db)
    day = china_day(NOW)
    assert _counted(state, FRESH_STOCK, day, "o-count") == _recounted(state, FRESH_STOCK, day, "o-count")
    assert _counted(state, FRESH_STOCK, day, "o-count") == (4, 4, 1)  # the held coupon included
    state.close()


def test_a_read_only_connection_opens_an_upgraded_dir_and_refuses_a_first_schema_one(tmp_path: Path) -> None:
    db = _first_schema_dir(tmp_path)
    read_only = db.as_uri() + "?mode=ro"
    conn = sqlite3.connect(read_only, uri=True, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            _schema.upgrade(conn)
        assert not _has_counters(conn) and not conn.in_transaction  # nothing half done, nothing left open
    finally:
        conn.close()
    _schema.connect(db).close()  # a writable open upgrades it
    conn = sqlite3.connect(read_only, uri=True, isolation_level=None)
    try:
        _schema.upgrade(conn)  # nothing to add, so nothing to write
        keys = {"stock_id": FRESH_STOCK, "receive_day": china_day(NOW), "openid": "o-old-0"}
        sent = conn.execute(_schema.SENT_COUNTS, keys).fetchone()
        assert tuple(sent) == (3, 3, 2)
    finally:
        conn.close()


def test_an_sqlite_without_upserts_is_named_before_anything_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_schema.sqlite3, "sqlite_version_info", (3, 22, 0))
    monkeypatch.setattr(_schema.sqlite3, "sqlite_version", "3.22.0")
    with pytest.raises(RuntimeError, match=r"needs SQLite 3\.24 or later .* this Python has SQLite 3\.22\.0"):
        _schema.connect(tmp_path / STATE_DB)
    assert not (tmp_path / STATE_DB).exists()
