"""A large state stays fast (issue 65): stock counts are counters, list pages are paged in SQL.

Each test checks a shape that does not depend on timing: the answers are the ones the ledger gives when
filtered, counted and paged in plain Python (as the sandbox did before), a page costs the same statements
whatever its length, no statement scans the ledger, and the counters agree with the ledger whoever writes
it, including a state dir of the first schema.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from wxpay_chain.sandbox import DEMO_APPID, IssuedCoupon, Sandbox, default_key_set, stock_document
from wxpay_chain.sandbox._clock import china_day
from wxpay_chain.sandbox._failures import ApiFailure
from wxpay_chain.sandbox._persist import STATE_DB
from wxpay_chain.sandbox._render import render_product_coupon, render_stock, render_user_coupon
from wxpay_chain.sandbox._state import SandboxState, WalletQuery

from ._paths import BRAND_ID, RICH, FakeClock, partner, send_body
from ._wire import Identity, Wire
from .test_persistence import _send

NOW = 1_800_000_000.0
OWNER = "o-large-owner"
STOCKS = ("1000000013001", "1000000015001", "1000000018001")  # WECHATPAY, UPLOAD and SEQUENTIAL stocks
FRESH_STOCK = "1000000013777"
STATES = ("CONFIRMING", "PENDING", "EFFECTIVE", "USED", "EXPIRED", "DELETED", "DEACTIVATED")


@pytest.fixture
async def clocked() -> AsyncIterator[tuple[Sandbox, Wire]]:
    clock = FakeClock(NOW)
    async with Sandbox(clock=clock) as sb, aiohttp.ClientSession() as http:
        yield sb, Wire(http, sb.base_url, Identity.merchant(sb.credentials), clock=clock)


def _fill_wallet(sb: Sandbox) -> None:
    """Coupons of every stored state in three stocks, validities ending and starting exactly at the clock,
    and neighbours who must never show: another user, another appid."""
    edges = [(NOW - 10, NOW + 10), (NOW, NOW + 10), (NOW - 10, NOW), (NOW + 0.5, NOW + 10), (NOW - 10, NOW - 0.5)]
    n = 0
    for stock in STOCKS:
        for state in STATES:
            for begin, end in edges:
                n += 1
                neighbours = ((OWNER, DEMO_APPID), ("o-large-other", DEMO_APPID), (OWNER, "wx-other"))
                for who, (openid, appid) in enumerate(neighbours):
                    sb.add_user_coupon(
                        openid=openid,
                        appid=appid,
                        stock_id=stock,
                        state=state,
                        valid_begin=begin,
                        valid_end=end,
                        receive_time=NOW - 86400 * (n % 3),  # today and two earlier days
                        send_request_no=f"large-{openid}-{appid}-{n:04d}",
                        coupon_code=f"LARGE{n:04d}{who}" if stock != STOCKS[1] else None,
                    )


def _expected_pages(state: SandboxState, query: dict[str, str], page_size: int) -> list[dict[str, Any]]:
    """The answers as the sandbox gave them before: the whole wallet filtered, counted and paged in
    Python, each coupon rendered with counts taken from the ledger itself."""
    ledger = state.issued()
    matching = [
        c
        for c in ledger
        if (c.openid, c.brand_id, c.appid) == (OWNER, BRAND_ID, DEMO_APPID)
        and c.product_coupon_id == query.get("product_coupon_id", c.product_coupon_id)
        and c.stock_id == query.get("stock_id", c.stock_id)
        and c.state_at(NOW) == query.get("coupon_state", c.state_at(NOW))
    ]

    def rendered(c: IssuedCoupon) -> dict[str, Any]:
        stock = state.stocks[c.stock_id]
        of_stock = [x for x in ledger if x.stock_id == c.stock_id]
        codes = {x.coupon_code for x in of_stock}
        counts = {
            "sent": len(of_stock),
            "sent_today": sum(china_day(x.receive_time) == china_day(NOW) for x in of_stock),
            "uploaded_used": sum(code in codes for code in stock.uploaded_codes),
        }
        product = render_product_coupon(state.product_coupons[c.product_coupon_id])
        return render_user_coupon(c, NOW, product=product, stock=render_stock(stock, **counts))

    pages = []
    for start in range(0, max(len(matching), 1), page_size):
        page: dict[str, Any] = {"total_count": len(matching)} if start == 0 else {}
        page["user_coupon_list"] = [rendered(c) for c in matching[start : start + page_size]]
        pages.append(page)
    return pages


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"coupon_state": "EFFECTIVE"},
        {"coupon_state": "EXPIRED"},
        {"coupon_state": "PENDING"},
        {"coupon_state": "USED"},
        {"coupon_state": "DELETED"},
        {"stock_id": "1000000015001"},
        {"product_coupon_id": "1000000015"},
        {"product_coupon_id": "1000000018", "coupon_state": "EFFECTIVE"},
        {"product_coupon_id": "1000000013", "stock_id": "1000000013001", "coupon_state": "PENDING"},
    ],
)
async def test_every_page_is_the_ledger_filtered_and_paged_in_python(
    clocked: tuple[Sandbox, Wire], query: dict[str, str]
) -> None:
    sb, wire = clocked
    _fill_wallet(sb)
    for page_size in (1, 7, 50):
        expected = _expected_pages(sb.state, query, page_size)
        answers, token = [], None
        while True:
            extra: dict[str, str] = {"page_token": token} if token is not None else {}
            answer = await wire.send(
                "GET", partner(OWNER, brand_id=BRAND_ID, appid=DEMO_APPID, page_size=page_size, **query, **extra)
            )
            assert answer.status == 200, answer.body
            body = answer.json()
            token = body.pop("next_page_token", None)
            answers.append(body)
            if token is None:
                break
        assert answers == expected, (query, page_size)


class _Statements:
    """Every SQL statement the store runs while counting; triggers' statements are part of their INSERT."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.seen: list[str] = []

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        self.seen = []
        self.conn.set_trace_callback(self.seen.append)
        try:
            yield self.seen
        finally:
            self.conn.set_trace_callback(None)

    def scans_of_the_ledger(self) -> list[str]:
        """The statements whose plan walks the whole ledger table or one of its indexes."""
        scans = []
        for sql in self.seen:
            if sql.lstrip().upper().startswith("SELECT"):
                plan = [row[3] for row in self.conn.execute("EXPLAIN QUERY PLAN " + sql)]
                scans += [f"{sql}: {step}" for step in plan if step.startswith("SCAN user_coupons")]
        return scans


async def test_a_page_costs_the_same_statements_for_2_or_20_coupons_and_none_scans_the_ledger(
    clocked: tuple[Sandbox, Wire],
) -> None:
    sb, wire = clocked
    sb.add_stock(stock_document("1000000013999", "1000000013", max_count=10_000))
    with sb.state.transaction():  # a big stock: what used to be counted row by row on every coupon
        for n in range(3000):
            sb.add_user_coupon(openid=f"o-bulk-{n % 300}", stock_id="1000000013999", appid=DEMO_APPID)
    for n in range(40):  # a wallet over two stocks, 20 coupons of each
        stock = "1000000013999" if n % 2 else STOCKS[2]
        sb.add_user_coupon(openid=OWNER, stock_id=stock, appid=DEMO_APPID, send_request_no=f"wallet-{n:03d}")
    statements = _Statements(sb.state.store._conn)
    counted = {}
    for size in (2, 20):
        with statements.counting() as seen:
            body = (await wire.send("GET", partner(OWNER, brand_id=BRAND_ID, appid=DEMO_APPID, page_size=size))).json()
        assert len(body["user_coupon_list"]) == size and body["total_count"] == 40
        assert not statements.scans_of_the_ledger()
        # The page is read as page_size + 1 rows (the one more says there is a next page), not the wallet.
        assert [sql for sql in seen if sql.startswith("SELECT seq,") and sql.endswith(f" LIMIT {size + 1}")], seen
        counted[size] = len(seen)
    assert counted[2] == counted[20] <= 16, counted  # a few per stock on the page, none per coupon

    with statements.counting() as seen:
        answer = await wire.send("POST", partner("o-large-new"), send_body("large-send-1", stock_id="1000000013999"))
    assert answer.status == 200
    assert not statements.scans_of_the_ledger()
    assert len(seen) <= 30, seen


SECOND_STOCK = "1000000013778"
_RAW_COLUMNS = (
    "seq, openid, appid, brand_id, product_coupon_id, stock_id, coupon_code, send_request_no,"
    " send_channel, state, receive_time, valid_begin, valid_end, receive_day, issued_by, extra"
)


def _raw_insert(conn: sqlite3.Connection, seq: int, *, verb: str = "INSERT", openid: str = "o-count") -> None:
    """A coupon of FRESH_STOCK written straight into the file, as another process (or version) may."""
    conn.execute(
        f"{verb} INTO user_coupons ({_RAW_COLUMNS}) VALUES (?, ?, 'a', ?, '1000000013', ?,"
        " ?, ?, 'API', 'EFFECTIVE', ?, 0, 0, ?, 'seed', '{}')",
        (seq, openid, BRAND_ID, FRESH_STOCK, f"RAW{seq}", f"raw-{seq}", NOW, china_day(NOW)),
    )


def _counted(state: SandboxState, stock_id: str, day: str, openid: str) -> tuple[int, int, int]:
    return state.store.sent_counts(stock_id, day, openid)


def _recounted(state: SandboxState, stock_id: str, day: str, openid: str) -> tuple[int, int, int]:
    """The same counts, from the ledger itself (its receive_day column: a raw writer may set it apart)."""
    rows = state.store._conn.execute("SELECT receive_day, openid FROM user_coupons WHERE stock_id = ?", (stock_id,))
    ledger = [tuple(row) for row in rows]
    return len(ledger), sum(d == day for d, _ in ledger), sum(o == openid for _, o in ledger)


def _stored_state(tmp_path: Path) -> Sandbox:
    sb = Sandbox(state_dir=tmp_path, keys=default_key_set())
    for stock in (FRESH_STOCK, SECOND_STOCK):
        sb.add_stock(stock_document(stock, "1000000013", max_count=100))
    return sb


async def test_counts_follow_every_writer_of_the_ledger(tmp_path: Path) -> None:
    sb = _stored_state(tmp_path)
    state = sb.state

    def agree(stock_id: str, day: str, openid: str) -> tuple[int, int, int]:
        counted = _counted(state, stock_id, day, openid)
        assert counted == _recounted(state, stock_id, day, openid), (stock_id, day, openid)
        return counted

    day = china_day(NOW)
    sb.add_user_coupon(openid="o-count", stock_id=FRESH_STOCK, appid=DEMO_APPID, receive_time=NOW)
    assert agree(FRESH_STOCK, day, "o-count") == (1, 1, 1)
    # Another process (or an earlier version) writing the same file: the schema's triggers count for it.
    other = sqlite3.connect(tmp_path / STATE_DB, isolation_level=None)
    try:
        _raw_insert(other, 90001)
        assert agree(FRESH_STOCK, day, "o-count") == (2, 2, 2)
        other.execute("UPDATE user_coupons SET openid = 'o-moved', receive_day = 'x' WHERE seq = 90001")
        assert agree(FRESH_STOCK, day, "o-count") == (2, 1, 1)
        assert agree(FRESH_STOCK, "x", "o-moved") == (2, 1, 1)
        # Moved to another stock: counted there, on its day and for its user, and no longer in the first.
        other.execute(f"UPDATE user_coupons SET stock_id = '{SECOND_STOCK}' WHERE seq = 90001")
        assert agree(FRESH_STOCK, "x", "o-moved") == (1, 0, 0)
        assert agree(SECOND_STOCK, "x", "o-moved") == (1, 1, 1)
        assert agree(FRESH_STOCK, day, "o-count") == (1, 1, 1)
        other.execute("DELETE FROM user_coupons WHERE seq = 90001")
        assert agree(SECOND_STOCK, "x", "o-moved") == (0, 0, 0)
        assert agree(FRESH_STOCK, day, "o-count") == (1, 1, 1)
    finally:
        other.close()
    # A restore replaces the counts with the snapshot's, and an emptied ledger counts nothing.
    snapshot = state.snapshot()
    sb.add_user_coupon(openid="o-count", stock_id=FRESH_STOCK, appid=DEMO_APPID, receive_time=NOW)
    state.restore(snapshot)
    assert agree(FRESH_STOCK, day, "o-count") == (1, 1, 1)
    state.restore({**snapshot, "user_coupons": []})
    assert _counted(state, FRESH_STOCK, day, "o-count") == (0, 0, 0)
    state.close()


# The triggers' statements used to take the writer's conflict clause: under OR REPLACE a stock's count went
# back to 1 on every coupon, under OR ABORT (or FAIL, ROLLBACK) the second coupon of a stock failed.
@pytest.mark.parametrize(
    "verb", ["INSERT", "INSERT OR REPLACE", "REPLACE", "INSERT OR ABORT", "INSERT OR FAIL", "INSERT OR ROLLBACK"]
)
def test_counts_follow_a_writer_whatever_conflict_clause_it_inserts_with(tmp_path: Path, verb: str) -> None:
    state = _stored_state(tmp_path).state
    other = sqlite3.connect(tmp_path / STATE_DB, isolation_level=None)
    try:
        for n in range(3):
            _raw_insert(other, 90001 + n, verb=verb, openid=f"o-writer-{n % 2}")
    finally:
        other.close()
    day = china_day(NOW)
    assert _counted(state, FRESH_STOCK, day, "o-writer-0") == _recounted(state, FRESH_STOCK, day, "o-writer-0")
    assert _counted(state, FRESH_STOCK, day, "o-writer-0") == (3, 3, 2)
    state.close()


def test_a_write_inside_a_read_is_refused_and_nothing_of_it_is_kept() -> None:
    # A write joining a read would run without the write lock, and the read's COMMIT would keep it half done.
    state = SandboxState()
    with state.store.reading():
        with pytest.raises(RuntimeError, match=r"transaction\(\) inside Store.reading\(\)"):
            state.store.set_meta("written-in-a-read", "yes")
        assert state.store.meta("written-in-a-read") is None
    assert state.store.meta("written-in-a-read") is None
    with state.store.transaction(), state.store.reading():  # a read inside a write still joins it
        state.store.set_meta("written", "yes")
    assert state.store.meta("written") == "yes"
    state.close()


def _as_first_schema(state_dir: Path) -> None:
    """Turn a state dir back into what the first schema wrote: no counters, the first indexes."""
    conn = sqlite3.connect(state_dir / STATE_DB, isolation_level=None)
    try:
        for statement in (
            "DROP TRIGGER user_coupons_counted",
            "DROP TRIGGER user_coupons_uncounted",
            "DROP TRIGGER user_coupons_recounted",
            "DROP TABLE sent_counts",
            "DROP INDEX user_coupons_listing",
            "CREATE INDEX user_coupons_by_day ON user_coupons (stock_id, receive_day)",
            "CREATE INDEX user_coupons_by_user ON user_coupons (stock_id, openid)",
            "CREATE INDEX user_coupons_wallet ON user_coupons (openid, brand_id, appid, seq)",
        ):
            conn.execute(statement)
    finally:
        conn.close()


def test_a_state_dir_of_the_first_schema_gets_its_counters_and_indexes_on_open(tmp_path: Path) -> None:
    first = Sandbox(state_dir=tmp_path, keys=default_key_set())
    first.add_stock(stock_document(FRESH_STOCK, "1000000013", max_count=5, max_count_per_user=2))
    now = first.now()
    for n in range(4):
        first.add_user_coupon(openid=f"o-old-{n % 2}", stock_id=FRESH_STOCK, appid=DEMO_APPID)
    before = {s: first.state.render_stock(first.state.stocks[s], now) for s in first.state.stocks}
    first.state.close()
    _as_first_schema(tmp_path)

    reopened = Sandbox(state_dir=tmp_path, keys=default_key_set())
    state = reopened.state
    names = {row[0] for row in state.store._conn.execute("SELECT name FROM sqlite_master")}
    assert {"sent_counts", "user_coupons_counted", "user_coupons_listing"} <= names
    assert not names & {"user_coupons_by_day", "user_coupons_by_user", "user_coupons_wallet"}
    assert {s: state.render_stock(state.stocks[s], now) for s in state.stocks} == before
    assert state.store.sent_counts(FRESH_STOCK, china_day(now), "o-old-1") == (4, 4, 2)
    # The rules read the filled counters: o-old-1 holds its 2, and the stock has 1 left in all.
    with pytest.raises(ApiFailure) as per_user:
        _send(state, "old-full", openid="o-old-1", stock_id=FRESH_STOCK, now=now)
    assert per_user.value.detail is not None and per_user.value.detail["issue"] == "max_count_per_user"
    _send(state, "old-last", openid="o-new", stock_id=FRESH_STOCK, now=now)
    with pytest.raises(ApiFailure) as in_all:
        _send(state, "old-over", openid="o-newer", stock_id=FRESH_STOCK, now=now)
    assert in_all.value.detail is not None and in_all.value.detail["issue"] == "max_count"
    assert state.store.sent_counts(FRESH_STOCK, china_day(now), "o-new") == (5, 5, 1)
    state.close()
    # Opening it again leaves the counters as they are (filled once, not on every open): a count set wrong
    # by hand is still wrong after, where filling them again would have put it right.
    conn = sqlite3.connect(tmp_path / STATE_DB, isolation_level=None)
    conn.execute("UPDATE sent_counts SET sent = 99 WHERE stock_id = ? AND scope = 'all'", (FRESH_STOCK,))
    conn.close()
    again = SandboxState(path=tmp_path / STATE_DB)
    assert again.store.sent_counts(FRESH_STOCK, china_day(now), "o-new") == (99, 5, 1)
    again.close()


def test_the_demo_wallet_lists_as_before() -> None:
    # The seeded rich user, straight from the state: same order and states as the ledger in Python.
    sb = Sandbox()
    now = time.time()
    wallet: WalletQuery = {
        "openid": RICH,
        "brand_id": BRAND_ID,
        "appid": DEMO_APPID,
        "product_coupon_id": None,
        "stock_id": None,
        "coupon_state": None,
    }
    listed = sb.state.user_coupons_for(**wallet, now=now)
    assert listed == [c for c in sb.issued_coupons() if (c.openid, c.brand_id, c.appid) == (RICH, BRAND_ID, DEMO_APPID)]
    for state in STATES:
        query = wallet.copy()
        query["coupon_state"] = state
        filtered = sb.state.user_coupons_for(**query, now=now)
        assert filtered == [c for c in listed if c.state_at(now) == state]
        assert sb.state.count_user_coupons(**query, now=now) == len(filtered)
