"""The bill CSV parser: backquotes stripped, the summary block separated, trade and fund flow rows typed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from wxpay_chain import StructureError
from wxpay_chain.bills import BillRow, FundFlowBillRow, TradeBillRow, parse_bill

TRADE = (
    "\ufeff交易时间,公众账号ID,商户号,微信订单号,商户订单号,用户标识,交易状态,应结订单金额,退款金额,商品名称\r\n"
    "`2025-05-20 10:00:00,`wx233544546545989,`1900000001,`4200000001,`ORDER-1,`o-1,`SUCCESS,`0.01,`0.00,`咖啡\r\n"
    "`2025-05-20 11:30:05,`wx233544546545989,`1900000001,`4200000002,`ORDER-2,`o-2,`REFUND,`0.00,`1.50,`茶\r\n"
    "总交易单数,应结订单总金额,退款总金额\r\n"
    "`2,`0.01,`1.50\r\n"
)
FUND = (
    "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号\n"
    "`2025-05-20 10:00:01,`4200000001,`F1,`交易,`交易,`收入,`0.01,`100.01,`system,`,`V1\n"
    "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\n"
    "`1,`1,`0.01,`0,`0.00\n"
)


def test_a_trade_bill_has_typed_rows_and_its_summary() -> None:
    bill = parse_bill(TRADE.encode())
    assert bill.kind == "trade" and bill.columns[0] == "交易时间"
    first, second = bill.rows
    assert isinstance(first, TradeBillRow)
    china = timezone(timedelta(hours=8))
    assert first.trade_time == datetime(2025, 5, 20, 10, 0, tzinfo=china)
    assert (first.out_trade_no, first.settlement_total, first.description) == ("ORDER-1", Decimal("0.01"), "咖啡")
    assert isinstance(second, TradeBillRow) and second.refund_amount == Decimal("1.50")
    assert first.fee is None  # a column this bill leaves out
    assert second["交易状态"] == "REFUND"
    assert bill.summary == {"总交易单数": "2", "应结订单总金额": "0.01", "退款总金额": "1.50"}


def test_a_fund_flow_bill_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "fund.csv"
    path.write_text(FUND, "utf-8")
    bill = parse_bill(path)
    (row,) = bill.rows
    assert isinstance(row, FundFlowBillRow)
    assert (row.direction, row.amount, row.balance, row.remark, row.voucher_no) == (
        "收入",
        Decimal("0.01"),
        Decimal("100.01"),
        None,
        "V1",  # an empty value is None
    )
    assert bill.summary["收入金额"] == "0.01"


def test_another_bill_keeps_plain_rows() -> None:
    bill = parse_bill("分账时间,金额\n`2025-05-20,`1\n")
    assert bill.kind == "other" and type(bill.rows[0]) is BillRow and bill.rows[0]["金额"] == "1"
    assert bill.summary == {}
    assert parse_bill(b"").rows == ()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (TRADE.lstrip("\ufeff").encode("gbk"), "not UTF-8"),
        ('a,b\n"' + "x" * 200_000 + '"\n', "not well-formed CSV"),
        ("bill.csv", "pass a Path"),
    ],
)
def test_what_is_not_a_bill_is_a_structure_error(data: str | bytes, says: str) -> None:
    with pytest.raises(StructureError, match=says):
        parse_bill(data)


def test_a_malformed_value_names_its_line() -> None:
    with pytest.raises(StructureError, match="line 2") as caught:
        parse_bill(TRADE.replace("`0.01,`0.00,`咖啡", "`abc,`0.00,`咖啡"))
    assert "settlement_total" in str(caught.value)
