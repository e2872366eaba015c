"""The APIv2 ledger in the sandbox's SQLite store: v2 代金券 sends (``partner_trade_no``) and red packets
(``mch_billno``), each with the fields it was sent with and the answer it got.

Each send is one store transaction (``BEGIN IMMEDIATE``): the number's check, the stock's and the user's
counts and the insert run as one, so two sandboxes sharing a state dir (or two threads) never issue one
number twice, and a restart keeps the quotas and coupon ids. The numbers are UNIQUE columns as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._clock import DAY, Clock, rfc3339
from ._store import V2_TABLES, Store

if TYPE_CHECKING:  # _state imports _persist, which imports this module for snapshots
    from ._state import SandboxState

__all__ = ["V2_STOCKS", "V2Ledger", "restore_rows", "snapshot_rows"]

V2_STOCKS: dict[str, dict[str, str]] = {
    "1757": {
        "coupon_name": "沙箱代金券",
        "coupon_value": "500",
        "coupon_mininumn": "1000",
        "coupon_total": "100",
        "max_quota": "3",
        "coupon_stock_status": "4",
    },
    "1758": {
        "coupon_name": "已停用的沙箱代金券",
        "coupon_value": "100",
        "coupon_mininumn": "0",
        "coupon_total": "10",
        "max_quota": "1",
        "coupon_stock_status": "8",
    },
}

Answer = dict[str, str]


def business_fail(code: str, text: str) -> Answer:
    return {"result_code": "FAIL", "err_code": code, "err_code_des": text}


def _replay(store: Store, table: str, number: str, identity: tuple[str, ...], repeated: str) -> Answer | None:
    """The first answer to ``number``, or None if it is new; a PARAM_ERROR answer (``repeated``) if it was
    first sent with other fields."""
    first = store.v2_first(table, number)
    if first is None:
        return None
    sent_with, answer = first
    return dict(answer) if sent_with == list(identity) else business_fail("PARAM_ERROR", repeated)


def snapshot_rows(store: Store) -> dict[str, list[dict[str, Any]]]:
    """The v2 tables' rows, for :func:`._persist.snapshot`."""
    return {table: store.v2_rows(table) for table in V2_TABLES}


def restore_rows(store: Store, data: Mapping[str, Any]) -> None:
    """Insert :func:`snapshot_rows`'s rows; a snapshot without them (an earlier version's) has none."""
    for table in V2_TABLES:
        for row in data.get(table, ()):
            store.insert_v2(table, row)


class V2Ledger:
    """What the APIv2 endpoints remember, in ``state``'s store."""

    def __init__(self, state: SandboxState, clock: Clock) -> None:
        self._state, self._clock = state, clock

    @property
    def _store(self) -> Store:
        return self._state.store

    def coupons(self) -> dict[str, Answer]:
        """The v2 代金券 sent so far, by coupon_id, in the order they were sent."""
        return {row["coupon_id"]: dict(row["coupon"]) for row in self._store.v2_rows("v2_coupons")}

    def redpacks(self) -> dict[str, Answer]:
        """The red packets sent so far: mch_billno to the answer it got."""
        return {row["mch_billno"]: dict(row["answer"]) for row in self._store.v2_rows("v2_redpacks")}

    def send_coupon(self, fields: Mapping[str, str]) -> Answer:
        stock_id, openid, number = fields["coupon_stock_id"], fields["openid"], fields["partner_trade_no"]
        identity = (stock_id, openid, fields["openid_count"], fields["appid"])
        stock = V2_STOCKS.get(stock_id)
        store = self._store
        with self._state.transaction():
            earlier = _replay(store, "v2_coupons", number, identity, "商户单据号重复")
            if earlier is not None:
                return earlier
            if stock is None:
                return business_fail("COUPON_STOCK_ID_NOT_VALID", "批次不存在")
            if stock["coupon_stock_status"] != "4" or fields["openid_count"] != "1":
                return business_fail("COUPON_STOCK_NOT_ACTIVE", "批次未激活或openid_count不为1")
            if store.v2_count(stock_id) >= int(stock["coupon_total"]):
                return business_fail("COUPON_STOCK_EMPTY", "批次已发完")
            if store.v2_count(stock_id, openid) >= int(stock["max_quota"]):
                return business_fail("USER_AL_GET_COUPON", "用户已领取过")
            seq = store.next_v2_seq("v2_coupons")
            coupon_id = str(10_000_000 + seq)
            now = self._clock()
            coupon = {
                "coupon_stock_id": stock_id,
                "coupon_id": coupon_id,
                "openid": openid,
                "coupon_state": "SENDED",
                "coupon_value": stock["coupon_value"],
                "coupon_mininumn": stock["coupon_mininumn"],
                "coupon_name": stock["coupon_name"],
                "send_time": rfc3339(now),
                "begin_time": rfc3339(now),
                "end_time": rfc3339(now + 30 * DAY),
                "send_source": "FULL_SEND",
                "coupon_stock_type": "1",
            }
            answer = {
                "result_code": "SUCCESS",
                "appid": fields["appid"],
                "coupon_stock_id": stock_id,
                "resp_count": "1",
                "success_count": "1",
                "failed_count": "0",
                "openid": openid,
                "ret_code": "SUCCESS",
                "coupon_id": coupon_id,
                "ret_msg": "",
            }
            sent = {"request": identity, "answer": answer, "coupon": coupon}
            ids = {"seq": seq, "partner_trade_no": number, "coupon_id": coupon_id, "stock_id": stock_id}
            store.insert_v2("v2_coupons", {**ids, "openid": openid, **sent})
            return answer

    def query_coupon_stock(self, fields: Mapping[str, str]) -> Answer:
        stock_id = fields["coupon_stock_id"]
        stock = V2_STOCKS.get(stock_id)
        if stock is None:
            return business_fail("COUPON_STOCK_ID_NOT_VALID", "批次不存在")
        sent = self._store.v2_count(stock_id)
        head = {"result_code": "SUCCESS", "appid": fields["appid"], "coupon_stock_id": stock_id}
        return {**head, **stock, "is_send_num": str(sent)}

    def querycouponsinfo(self, fields: Mapping[str, str]) -> Answer:
        coupon = self._store.v2_coupon(fields["coupon_id"])
        if coupon is None or coupon["openid"] != fields["openid"] or coupon["coupon_stock_id"] != fields["stock_id"]:
            return business_fail("COUPON_NOT_EXIST", "代金券不存在")
        return {"result_code": "SUCCESS", "appid": fields["appid"], **coupon}

    def sendredpack(self, fields: Mapping[str, str]) -> Answer:
        number = fields["mch_billno"]
        identity = tuple(fields[k] for k in ("wxappid", "re_openid", "total_amount", "total_num"))
        if not fields["total_amount"].isdigit() or not 100 <= int(fields["total_amount"]) <= 20000:
            return business_fail("MONEY_LIMIT", "红包金额须在1元到200元之间")
        if fields["total_num"] != "1":
            return business_fail("PARAM_ERROR", "普通红包total_num须为1")
        store = self._store
        with self._state.transaction():
            earlier = _replay(store, "v2_redpacks", number, identity, "商户订单号重复")
            if earlier is not None:
                return earlier
            seq = store.next_v2_seq("v2_redpacks")
            answer = {
                "result_code": "SUCCESS",
                "mch_billno": number,
                "wxappid": fields["wxappid"],
                "re_openid": fields["re_openid"],
                "total_amount": fields["total_amount"],
                "send_listid": f"1000041701{seq:020d}",
            }
            store.insert_v2("v2_redpacks", {"seq": seq, "mch_billno": number, "request": identity, "answer": answer})
            return answer
