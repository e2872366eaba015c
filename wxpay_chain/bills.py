"""WeChat Pay's bill files (the CSV that ``client.download()`` returns), parsed into typed rows.

A bill is a header line, one line per record with every value behind a backquote (`` `2024-05-20 ``, so
that spreadsheets keep ids as text), then a summary block: its own header line and one line of totals.
:func:`parse_bill` strips the backquotes, separates the summary and types the rows of trade bills
(交易账单) and fund flow bills (资金账单); any other bill keeps its rows as plain mappings.
"""

from __future__ import annotations

import csv
import io
import os
import typing
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import attrs

from ._errors import StructureError

__all__ = ["Bill", "BillRow", "FundFlowBillRow", "TradeBillRow", "parse_bill"]

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")

_TRADE = {
    "交易时间": "trade_time",
    "公众账号ID": "appid",
    "商户号": "mchid",
    "特约商户号": "sub_mchid",
    "设备号": "device_info",
    "微信订单号": "transaction_id",
    "商户订单号": "out_trade_no",
    "用户标识": "openid",
    "交易类型": "trade_type",
    "交易状态": "trade_state",
    "付款银行": "bank_type",
    "货币种类": "currency",
    "应结订单金额": "settlement_total",
    "代金券金额": "coupon_amount",
    "微信退款单号": "refund_id",
    "商户退款单号": "out_refund_no",
    "退款金额": "refund_amount",
    "充值券退款金额": "recharge_coupon_refund",
    "退款类型": "refund_type",
    "退款状态": "refund_status",
    "商品名称": "description",
    "商户数据包": "attach",
    "手续费": "fee",
    "费率": "fee_rate",
    "订单金额": "order_amount",
    "申请退款金额": "refund_requested",
    "费率备注": "fee_rate_note",
}
_FUND_FLOW = {
    "记账时间": "accounting_time",
    "微信支付业务单号": "business_no",
    "资金流水单号": "flow_no",
    "业务名称": "business_name",
    "业务类型": "business_type",
    "收支类型": "direction",
    "收支金额（元）": "amount",
    "账户结余（元）": "balance",
    "资金变更提交申请人": "applicant",
    "备注": "remark",
    "业务凭证号": "voucher_no",
}
@attrs.frozen(kw_only=True)
class BillRow:
    """One record of a bill: ``values`` maps each column header to its text, backquote stripped."""

    values: Mapping[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values[column]


@attrs.frozen(kw_only=True)
class TradeBillRow(BillRow):
    """A trade bill record; amounts in yuan (Decimal), times in China Standard Time. Columns a bill type
    leaves out (a SUCCESS bill has no refund columns) are None."""

    trade_time: datetime | None = None
    appid: str | None = None
    mchid: str | None = None
    sub_mchid: str | None = None
    device_info: str | None = None
    transaction_id: str | None = None
    out_trade_no: str | None = None
    openid: str | None = None
    trade_type: str | None = None
    trade_state: str | None = None
    bank_type: str | None = None
    currency: str | None = None
    settlement_total: Decimal | None = None
    coupon_amount: Decimal | None = None
    refund_id: str | None = None
    out_refund_no: str | None = None
    refund_amount: Decimal | None = None
    recharge_coupon_refund: Decimal | None = None
    refund_type: str | None = None
    refund_status: str | None = None
    description: str | None = None
    attach: str | None = None
    fee: Decimal | None = None
    fee_rate: str | None = None
    order_amount: Decimal | None = None
    refund_requested: Decimal | None = None
    fee_rate_note: str | None = None


@attrs.frozen(kw_only=True)
class FundFlowBillRow(BillRow):
    """A fund flow bill record; ``direction`` is 收入 (income) or 支出 (expense), amounts in yuan."""

    accounting_time: datetime | None = None
    business_no: str | None = None
    flow_no: str | None = None
    business_name: str | None = None
    business_type: str | None = None
    direction: str | None = None
    amount: Decimal | None = None
    balance: Decimal | None = None
    applicant: str | None = None
    remark: str | None = None
    voucher_no: str | None = None


def _parsed_as(*row_types: type[BillRow]) -> dict[str, type]:
    """Which row fields are parsed from text, and as what: read from the row classes' own annotations."""
    return {
        name: kind
        for row_type in row_types
        for name, hint in typing.get_type_hints(row_type).items()
        for kind in (Decimal, datetime)
        if kind in typing.get_args(hint)
    }


_PARSED_AS = _parsed_as(TradeBillRow, FundFlowBillRow)
# The first column tells the bill's kind, its column names and the type of its rows.
_KINDS: dict[str, tuple[Literal["trade", "fundflow"], Mapping[str, str], type[BillRow]]] = {
    "交易时间": ("trade", _TRADE, TradeBillRow),
    "记账时间": ("fundflow", _FUND_FLOW, FundFlowBillRow),
}


@attrs.frozen(kw_only=True)
class Bill:
    """A parsed bill: its kind, column headers, typed rows and the summary block (header -> text)."""

    kind: Literal["trade", "fundflow", "other"]
    columns: tuple[str, ...]
    rows: tuple[BillRow, ...] = attrs.field(repr=lambda rows: f"<{len(rows)} rows>")
    summary: Mapping[str, str] = attrs.Factory(dict)


def _lines(data: bytes | str | os.PathLike[str]) -> Iterator[str]:
    if isinstance(data, (bytes, bytearray)):
        text = bytes(data).decode("utf-8-sig")
    elif isinstance(data, str):
        text = data.lstrip("\ufeff")
    else:
        with Path(data).open(encoding="utf-8-sig", newline="") as file:
            yield from file
        return
    yield from io.StringIO(text, newline="")


def _clean(value: str) -> str:
    value = value.strip()
    return value[1:] if value.startswith("`") else value


def _typed(name: str, text: str, line: int) -> Any:
    if text == "":
        return None
    try:
        kind = _PARSED_AS.get(name)
        if kind is Decimal:
            return Decimal(text)
        if kind is datetime:
            return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except (InvalidOperation, ValueError):
        raise StructureError("The bill has a malformed value", [f"line {line}, {name}: {text[:40]!r}"]) from None
    return text


def parse_bill(data: bytes | str | os.PathLike[str]) -> Bill:
    """Parse a bill from its bytes, its text (a ``str``) or the path of its file (a ``Path``): a plain
    UTF-8 CSV, not gzip.

    StructureError names the line of a malformed value, and says so for text that is not UTF-8 or CSV.
    """
    if isinstance(data, str) and data.strip() and not any(mark in data for mark in ",\n"):
        raise StructureError(
            "parse_bill() got a str with no comma or line: a bill's text, not a file name",
            [f"to read a file, pass a Path: parse_bill(Path({data[:40]!r}))"],
        )
    try:
        return _parse(data)
    except UnicodeDecodeError as exc:
        raise StructureError("The bill is not UTF-8 text", [f"byte {exc.start}: {exc.reason}"]) from None
    except csv.Error as exc:
        raise StructureError("The bill is not well-formed CSV", [str(exc)[:120]]) from None


def _parse(data: bytes | str | os.PathLike[str]) -> Bill:
    reader = csv.reader(line for line in _lines(data) if line.strip())
    header = next(reader, None)
    if header is None:
        return Bill(kind="other", columns=(), rows=())
    columns = tuple(_clean(h) for h in header)
    kind: Literal["trade", "fundflow", "other"]
    kind, names, row_type = _KINDS.get(columns[0], ("other", {}, BillRow))
    rows: list[BillRow] = []
    summary: dict[str, str] = {}
    for fields in reader:
        if fields and not fields[0].lstrip().startswith("`"):  # the summary's header: its totals follow
            totals = next(reader, [])
            summary = {_clean(k): _clean(v) for k, v in zip(fields, totals, strict=False)}
            break
        values = {column: _clean(value) for column, value in zip(columns, fields, strict=False)}
        typed = {names[c]: _typed(names[c], v, reader.line_num) for c, v in values.items() if c in names}
        rows.append(row_type(values=values, **typed))
    return Bill(kind=kind, columns=columns, rows=tuple(rows), summary=summary)
