"""A state dir's SQLite store: restarts, idempotency held by UNIQUE constraints, crashes, size, migration."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from wxpay_chain.sandbox import DEMO_APPID, DEMO_OPENIDS, IssuedCoupon, Sandbox, SandboxState, default_key_set
from wxpay_chain.sandbox._failures import ApiFailure
from wxpay_chain.sandbox._persist import LEGACY_STATE_FILE, STATE_DB

RICH, LIGHT, FRESH = DEMO_OPENIDS
BRAND_ID = "120344"
STOCK = "1000000013001"  # max 100, 20 a day, 2 per user
BIG_STOCK = "1000000016001"  # max 50, 1 per user


def _open(state_dir: Path) -> Sandbox:
    # Not started: these tests drive the state directly, the HTTP side is covered elsewhere.
    return Sandbox(state_dir=state_dir, keys=default_key_set())


def _send(state: SandboxState, request_no: str, *, openid: str = FRESH, stock_id: str = STOCK, now: float) -> Any:
    return state.send(
        issued_by="merchant:1900000001",
        brand_id=BRAND_ID,
        openid=openid,
        appid=DEMO_APPID,
        product_coupon_id=stock_id[:10],
        stock_id=stock_id,
        send_request_no=request_no,
        coupon_code=None,
        attach=None,
        now=now,
    )


def _ledger(state_dir: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(state_dir / STATE_DB) as conn:
        rows = conn.execute("SELECT seq, send_request_no, coupon_code FROM user_coupons ORDER BY seq").fetchall()
    conn.close()
    return [tuple(row) for row in rows]


def test_coupons_and_idempotency_survive_a_restart(tmp_path: Path) -> None:
    first = _open(tmp_path)
    seeded = len(first.issued_coupons())
    coupon, created = _send(first.state, "restart-1", now=first.now())
    assert created
    first.state.close()

    second = _open(tmp_path)
    assert len(second.issued_coupons()) == seeded + 1  # not seeded a second time
    again, created = _send(second.state, "restart-1", now=second.now())
    assert (again, created) == (coupon, False)
    assert again.extra == coupon.extra
    with pytest.raises(ApiFailure) as refused:  # the same number for another user is still refused
        _send(second.state, "restart-1", openid=LIGHT, now=second.now())
    assert refused.value.detail == {"field": "send_request_no", "location": "body", "issue": "REUSED"}
    assert len(second.issued_coupons()) == seeded + 1


def test_request_numbers_stay_unique_across_two_writers(tmp_path: Path) -> None:
    sb = _open(tmp_path)
    coupon, _ = _send(sb.state, "race-1", now=sb.now())
    path = tmp_path / STATE_DB
    one, two = sqlite3.connect(path, isolation_level=None), sqlite3.connect(path, isolation_level=None)
    columns = "seq, openid, appid, brand_id, product_coupon_id, stock_id, coupon_code, send_request_no, send_channel"
    rest = "state, receive_time, valid_begin, valid_end, receive_day, issued_by, extra"
    insert = (
        f"INSERT INTO user_coupons ({columns}, {rest}) VALUES (?, 'o', 'a', ?, 'p', 's', ?, ?, 'API',"
        " 'EFFECTIVE', 0, 0, 0, 'd', 'seed', '{}')"
    )
    try:
        one.execute(insert, (10_001, BRAND_ID, "code-1", "race-2"))
        with pytest.raises(sqlite3.IntegrityError):  # the number one writer took, another cannot
            two.execute(insert, (10_002, BRAND_ID, "code-2", "race-2"))
        with pytest.raises(sqlite3.IntegrityError):  # nor one the sandbox issued
            two.execute(insert, (10_003, BRAND_ID, "code-3", coupon.send_request_no))
        two.execute(insert, (10_004, "another-brand", "code-4", "race-2"))  # it is unique per brand
    finally:
        one.close()
        two.close()
    # Two sandboxes on one state dir: the second send of a number replays the first one's coupon.
    other = _open(tmp_path)
    again, created = _send(other.state, "race-1", now=other.now())
    assert (again, created) == (coupon, False)


def test_a_crash_before_commit_leaves_the_last_committed_state(tmp_path: Path) -> None:
    sb = _open(tmp_path)
    _send(sb.state, "before-crash", now=sb.now())
    before = _ledger(tmp_path)
    child = textwrap.dedent(
        f"""
        import os
        from wxpay_chain.sandbox import SandboxState
        state = SandboxState(path={str(tmp_path / STATE_DB)!r})
        with state.transaction():
            for n in range(50):
                state.add_user_coupon(openid="crash", stock_id={STOCK!r}, appid="a", now=1.8e9)
            os._exit(3)  # killed mid-write: no COMMIT, no rollback, no clean close
        """
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert _ledger(tmp_path) == before
    reopened = _open(tmp_path)
    assert [(c.seq, c.send_request_no, c.coupon_code) for c in reopened.issued_coupons()] == before
    with sqlite3.connect(tmp_path / STATE_DB) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


@pytest.mark.parametrize("on_disk", [True, False])
def test_a_failing_write_is_rolled_back(tmp_path: Path, on_disk: bool) -> None:
    state = _open(tmp_path).state if on_disk else Sandbox().state
    before = state.issued()
    with pytest.raises(RuntimeError), state.transaction():
        state.add_user_coupon(openid="rolled-back", stock_id=STOCK, appid=DEMO_APPID, now=1.8e9)
        _send(state, "rolled-back", now=1.8e9)
        raise RuntimeError("the write fails half-way")
    assert state.issued() == before
    # The numbers and codes it would have taken are free again.
    coupon, created = _send(state, "rolled-back", now=1.8e9)
    assert created and coupon.seq == before[-1].seq + 1


def test_a_state_of_20000_coupons_keeps_its_rules(tmp_path: Path) -> None:
    sb = _open(tmp_path)
    now = sb.now()
    seeded = len(sb.issued_coupons())
    store = sb.state.store
    with sb.state.transaction():  # bulk: one transaction, straight into the store
        for n in range(20_000):
            store.insert_coupon(
                IssuedCoupon(
                    seq=seeded + 1 + n,
                    openid=f"bulk-{n % 5000}",
                    appid=DEMO_APPID,
                    brand_id=BRAND_ID,
                    product_coupon_id="1000000013",
                    stock_id="1000000013002",
                    coupon_code=f"B{n:011d}",
                    send_request_no=f"bulk-{n}",
                    send_channel="API",
                    state="EFFECTIVE",
                    receive_time=now - 86400.0 * (1 + n % 30),
                    valid_begin=now - 86400.0,
                    valid_end=now + 86400.0,
                )
            )
    sb.state.close()

    reopened = _open(tmp_path)
    state = reopened.state
    assert len(state.issued()) == seeded + 20_000
    replay, created = _send(state, "bulk-12345", openid="bulk-2345", stock_id="1000000013002", now=now)
    assert not created and replay.coupon_code == "B00000012345"
    with pytest.raises(ApiFailure) as full:  # stock 1000000013002 allows 3 in all
        _send(state, "bulk-new", stock_id="1000000013002", now=now)
    assert full.value.detail is not None and full.value.detail["issue"] == "max_count"
    coupon, created = _send(state, "bulk-next", now=now)
    assert created and coupon.seq == seeded + 20_001
    wallet = state.user_coupons_for(
        openid="bulk-7", brand_id=BRAND_ID, appid=DEMO_APPID, product_coupon_id=None, stock_id=None,
        coupon_state=None, now=now,
    )  # fmt: skip
    assert [c.send_request_no for c in wallet] == ["bulk-7", "bulk-5007", "bulk-10007", "bulk-15007"]
    rendered = state.render_stock(state.stock("1000000013002") or pytest.fail("no stock"), now)
    assert rendered["sent_count_info"] == {"total_count": 20_000, "today_count": 0}


def test_a_json_state_dir_of_an_earlier_version_is_migrated_once(tmp_path: Path) -> None:
    old = Sandbox(keys=default_key_set())
    _send(old.state, "from-json", now=old.now())
    snapshot = old.state.snapshot()
    (tmp_path / LEGACY_STATE_FILE).write_text(json.dumps(snapshot, ensure_ascii=False), "utf-8")

    migrated = _open(tmp_path)
    assert migrated.state.snapshot() == snapshot
    assert not (tmp_path / LEGACY_STATE_FILE).exists()
    assert (tmp_path / (LEGACY_STATE_FILE + ".migrated")).exists()
    replay, created = _send(migrated.state, "from-json", now=migrated.now())
    assert not created and replay == old.state.issued()[-1]


def test_the_seed_catalogue_ships_as_package_data() -> None:
    seed = resources.files("wxpay_chain.sandbox").joinpath("data/seed.json")
    assert seed.is_file()
    data = json.loads(seed.read_text("utf-8"))
    assert {s["stock_id"] for s in data["stocks"]} >= {STOCK, BIG_STOCK}
    state = Sandbox().state
    assert len(state.issued()) == len(data["user_coupons"]) == 10
    assert [c.state for c in state.issued() if c.openid == RICH] == [
        "EFFECTIVE", "CONFIRMING", "USED", "EXPIRED", "EFFECTIVE", "PENDING", "DEACTIVATED", "DELETED",
    ]  # fmt: skip
