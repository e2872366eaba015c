"""The sandbox's bills, built from its ledger: every user product coupon issued that day (China time) is
one 0.01 yuan trade (a SUCCESS row of the trade bill) and one income row of the BASIC fund flow bill.

``GET v3/bill/tradebill`` and ``v3/bill/fundflowbill`` answer (signed) with a download_url and the SHA1
of the plain file; ``v3/bill/sub-merchant-fundflowbill`` with one encrypted file (AES-256-GCM under a
fresh key, RSA-OAEP encrypted for the merchant). ``GET v3/billdownload/file?token=`` serves the file
unsigned, gzip when the bill was asked with ``tar_type=GZIP``, while its token is fresh (``TOKEN_LIFE``).

As WeChat Pay's, a day's bill is there from 10:00 China time the next day (``400 STATEMENT_CREATING``
before), for three months (``400 INVALID_REQUEST`` beyond), and a day without trades, or without fund
movements in the account asked for, has none (``400 NO_STATEMENT_EXIST``). All by the sandbox clock.
"""

from __future__ import annotations

import base64
import calendar
import gzip
import hashlib
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

import attrs
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._answer import Answer
from ._auth import Caller, _load_private
from ._clock import CHINA, china_day
from ._failures import ApiFailure, invalid_request, json_bytes, not_found, param_error
from ._keys import KeySet
from ._media import FileEndpoints, MediaEndpoints
from ._params import Query, split_target
from ._records import IssuedCoupon
from ._state import SandboxState

TOKEN_LIFE = 300.0  # seconds a download_url stays valid
BILL_READY_HOUR = 10  # WeChat Pay generates a day's bills after 10:00 (China time) the next day
KEEP_MONTHS = 3  # and serves them for three months
KEEP_FILES = 32
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TRADE_COLUMNS = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
)
TRADE_SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
FUND_COLUMNS = (
    "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,"
    "资金变更提交申请人,备注,业务凭证号"
)
FUND_SUMMARY = "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额"


#: The bill routes: the three bill requests and the download they point at.
BILL_ROUTES = (
    "/v3/bill/tradebill",
    "/v3/bill/fundflowbill",
    "/v3/bill/sub-merchant-fundflowbill",
    "/v3/billdownload/file",
)


@attrs.frozen
class BillFile:
    content: bytes = attrs.field(repr=False)
    expires: float


def bill_ready_time(day: str) -> float:
    """The Unix time the bills of ``day`` (``YYYY-MM-DD``, China time) can be asked for."""
    ready = datetime.combine(date.fromisoformat(day) + timedelta(days=1), datetime.min.time(), CHINA)
    return ready.replace(hour=BILL_READY_HOUR).timestamp()


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def check_bill_day(day: str, now: float) -> None:
    """Raise the answer WeChat Pay gives for a bill of ``day`` asked at ``now``, unless it has one to give."""
    today = date.fromisoformat(china_day(now))
    asked = date.fromisoformat(day)
    if asked > today:
        raise invalid_request(f"账单日期不能晚于今天 (no bill for {day} yet)")
    if asked < _months_before(today, KEEP_MONTHS):
        raise invalid_request(
            f"参数错误: bill_date 仅支持三个月内的账单 (bills are kept for three months: {day} is older)"
        )
    if now < bill_ready_time(day):
        raise ApiFailure(
            400, "STATEMENT_CREATING", f"账单生成中 (the bills of {day} are ready after 10:00 China time the next day)"
        )


def no_statement(what: str) -> ApiFailure:
    return ApiFailure(400, "NO_STATEMENT_EXIST", f"请求的账单文件不存在 ({what})")


def _row(values: Sequence[str]) -> str:
    return ",".join("`" + v for v in values)


def _when(coupon: IssuedCoupon) -> str:
    return datetime.fromtimestamp(int(coupon.receive_time), CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _transaction_id(coupon: IssuedCoupon) -> str:
    return f"42000{coupon.seq:023d}"


def trade_bill(coupons: Sequence[IssuedCoupon], mchid: str, bill_type: str) -> bytes:
    rows = [] if bill_type == "REFUND" else coupons
    lines = [TRADE_COLUMNS]
    for c in rows:
        lines.append(
            _row(
                [
                    _when(c),
                    c.appid,
                    mchid,
                    "0",
                    "",
                    _transaction_id(c),
                    c.send_request_no,
                    c.openid,
                    "JSAPI",
                    "SUCCESS",
                    "OTHERS",
                    "CNY",
                    "0.01",
                    "0.00",
                    "0",
                    "0",
                    "0.00",
                    "0.00",
                    "",
                    "",
                    f"商品券 {c.product_coupon_id}",
                    c.attach or "",
                    "0.00000",
                    "0.60%",
                    "0.01",
                    "0.00",
                    "",
                ]
            )
        )
    total = f"{len(rows) / 100:.2f}"
    lines += [TRADE_SUMMARY, _row([str(len(rows)), total, "0.00", "0.00", "0.00000", total, "0.00"])]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def fund_flow_bill(coupons: Sequence[IssuedCoupon], account_type: str) -> bytes:
    rows = coupons if account_type == "BASIC" else []
    lines = [FUND_COLUMNS]
    for balance, c in enumerate(rows, start=1):
        lines.append(
            _row(
                [
                    _when(c),
                    _transaction_id(c),
                    f"{c.seq:020d}",
                    "商品券",
                    "交易",
                    "收入",
                    "0.01",
                    f"{balance / 100:.2f}",
                    "system",
                    "",
                    c.send_request_no,
                ]
            )
        )
    income = f"{len(rows) / 100:.2f}"
    lines += [FUND_SUMMARY, _row([str(len(rows)), str(len(rows)), income, "0", "0.00"])]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


class BillEndpoints:
    """The bill requests and the download they point at; ``files`` holds the live tokens."""

    def __init__(self, plumbing: FileEndpoints, *, keys: KeySet, state: SandboxState) -> None:
        self._plumbing, self._keys, self._state = plumbing, keys, state
        self.files: OrderedDict[str, BillFile] = OrderedDict()

    def register(self, app: web.Application) -> None:
        route = self._plumbing.route
        trade, fund_flow, sub_merchant, download = BILL_ROUTES
        app.router.add_get(trade, route(self._asked(self._trade)))
        app.router.add_get(fund_flow, route(self._asked(self._fund_flow)))
        app.router.add_get(sub_merchant, route(self._asked(self._sub_merchant)))
        app.router.add_get(download, route(self._download))

    def _asked(
        self, build: Callable[[web.Request, Query, str], dict[str, object]]
    ) -> Callable[[web.Request, bytes], tuple[Answer, Caller | None]]:
        def work(request: web.Request, body: bytes) -> tuple[Answer, Caller | None]:
            caller = self._plumbing.verify(request, "merchant", body)
            query = Query(split_target(request.raw_path)[1])
            day = query.required_text("bill_date", max_length=10)
            if not _DATE.fullmatch(day) or not _is_date(day):
                raise param_error("bill_date", "must be YYYY-MM-DD", location="query", value=day)
            check_bill_day(day, self._plumbing.clock())
            return Answer(200, json_bytes(build(request, query, day)), scheme="merchant"), caller

        return work

    def _coupons(self, day: str) -> list[IssuedCoupon]:
        return [c for c in self._state.issued() if china_day(c.receive_time) == day]

    def _fund_movements(self, day: str, account: str) -> list[IssuedCoupon]:
        # Every sandbox trade lands in the BASIC account; the other accounts never move.
        moved = self._coupons(day) if account == "BASIC" else []
        if not moved:
            raise no_statement(f"no fund movements in the {account} account on {day}")
        return moved

    def _trade(self, request: web.Request, query: Query, day: str) -> dict[str, object]:
        bill_type = query.enum("bill_type", ("ALL", "SUCCESS", "REFUND")) or "ALL"
        coupons = self._coupons(day)
        if not coupons:
            raise no_statement(f"no trades on {day}")
        plain = trade_bill(coupons, self._keys.mchid, bill_type)
        return self._offer(request, plain, self._gzip(query, plain))

    def _fund_flow(self, request: web.Request, query: Query, day: str) -> dict[str, object]:
        account = query.enum("account_type", ("BASIC", "OPERATION", "FEES")) or "BASIC"
        plain = fund_flow_bill(self._fund_movements(day, account), account)
        return self._offer(request, plain, self._gzip(query, plain))

    def _sub_merchant(self, request: web.Request, query: Query, day: str) -> dict[str, object]:
        query.required_text("sub_mchid", max_length=32)
        account = query.enum("account_type", ("BASIC", "OPERATION", "FEES", "DEPOSIT"))
        algorithm = query.enum("algorithm", ("AEAD_AES_256_GCM", "SM4_GCM"))
        if account is None or algorithm is None:
            raise param_error("account_type" if account is None else "algorithm", "is required", location="query")
        if algorithm != "AEAD_AES_256_GCM":
            raise invalid_request("沙箱只支持 AEAD_AES_256_GCM (the sandbox encrypts bills with AEAD_AES_256_GCM only)")
        plain = fund_flow_bill(self._fund_movements(day, account), account)
        key, nonce = secrets.token_bytes(32), secrets.token_hex(8)
        sealed = AESGCM(key).encrypt(nonce.encode("ascii"), self._gzip(query, plain), None)
        merchant = _load_private(self._keys.merchant_private_key).public_key()
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        item = self._offer(request, plain, sealed)
        item.update(
            bill_sequence=1, encrypt_key=base64.b64encode(merchant.encrypt(key, oaep)).decode("ascii"), nonce=nonce
        )
        return {"download_bill_count": 1, "download_bill_list": [item]}

    @staticmethod
    def _gzip(query: Query, plain: bytes) -> bytes:
        return gzip.compress(plain, mtime=0) if query.enum("tar_type", ("GZIP",)) else plain

    def _offer(self, request: web.Request, plain: bytes, served: bytes) -> dict[str, object]:
        token = secrets.token_urlsafe(24)
        self.files[token] = BillFile(served, self._plumbing.clock() + TOKEN_LIFE)
        while len(self.files) > KEEP_FILES:
            self.files.popitem(last=False)
        url = f"{request.scheme}://{request.host}/v3/billdownload/file?token={token}"
        return {"hash_type": "SHA1", "hash_value": hashlib.sha1(plain).hexdigest(), "download_url": url}

    def _download(self, request: web.Request, body: bytes) -> tuple[Answer, Caller | None]:
        caller = self._plumbing.verify(request, "merchant", body)
        token = Query(split_target(request.raw_path)[1]).required_text("token", max_length=64)
        file = self.files.get(token)
        if file is None:
            raise not_found("下载地址无效 (no bill has that token: ask for the bill again)")
        if self._plumbing.clock() > file.expires:
            self.files.pop(token, None)
            raise invalid_request("下载地址已过期 (the download_url has expired: ask for the bill again)")
        return Answer(200, file.content, content_type="application/octet-stream"), caller  # a file: unsigned


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


class FileRoutes:
    """Uploads, image downloads and bills, as aiohttp routes ahead of the main dispatcher."""

    def __init__(self, *, keys: KeySet, state: SandboxState, plumbing: FileEndpoints) -> None:
        self.media = MediaEndpoints(plumbing)
        self.bills = BillEndpoints(plumbing, keys=keys, state=state)

    def register(self, app: web.Application) -> None:
        self.media.register(app)
        self.bills.register(app)
