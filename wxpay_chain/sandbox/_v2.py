"""The sandbox's APIv2: XML calls with MD5 or HMAC-SHA256 signs, the client certificate on security
endpoints, and the pages that hand out busifavor coupons by the APIv2 sign (H5 and the send-coupon plugin).

Written from the protocol rules, never with the client's code:

* ``POST /mmpaymkttransfers/send_coupon`` (security), ``query_coupon_stock``, ``querycouponsinfo`` and
  ``sendredpack`` (security). Every answer is ``<xml>`` with ``return_code``; a call that fails as a call
  (unreadable XML, a DOCTYPE, a missing field, a wrong ``mch_id``, a sign that does not match, no client
  certificate on a security endpoint) answers ``return_code`` FAIL with ``return_msg``; a business failure
  answers ``result_code`` FAIL with ``err_code``/``err_code_des``, signed like a success (with the sign
  type of the request). ``partner_trade_no`` and ``mch_billno`` are idempotent: the same number with the
  same fields gets the first answer again, with other fields ``result_code`` FAIL ``PARAM_ERROR``. They,
  the quotas and the v2 coupons live in the state's SQLite store (:mod:`._v2_ledger`), as v3 coupons do.
* ``GET /busifavor/getcouponinfo?...`` checks an H5 coupon link (HMAC-SHA256 over every parameter but
  sign) and issues the coupon into the busifavor wallet that ``GET v3/marketing/busifavor/users/{openid}/
  coupons`` lists (AppID ``DEMO_APPID``); ``POST /sandbox/send-coupon-plugin`` takes the plugin's
  ``send_coupon_params``, ``send_coupon_merchant``, ``sign`` and ``open_id`` (JSON) and does the same for
  each coupon, answering ``errcode`` OK with each coupon's own ``send_coupon_result`` (SUCCESS with its
  coupon_code, or FAILED with a message). Busifavor stocks: ``DEMO_BUSIFAVOR_STOCK_IDS``; the same
  out_request_no sends once.
* v2 代金券 stock ``1757`` (500 fen off 1,000, 100 coupons, 3 per user) and stock ``1758`` (stopped).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ._clock import DAY, Clock, rfc3339
from ._exchange import exchange_of
from ._keys import KeySet
from ._records import BusifavorCoupon
from ._seed import DEMO_APPID, DEMO_BUSIFAVOR_STOCK_IDS
from ._state import SandboxState
from ._tls import apiv2_key_of, peer_is_merchant, tls_for
from ._v2_ledger import V2Ledger
from ._v2_wire import Fail, page, read_xml, v2_sign, v2_sign_matches, xml_answer

__all__ = ["V2Service"]

SECURITY = frozenset({"send_coupon", "sendredpack"})
REQUIRED = {
    "send_coupon": ("coupon_stock_id", "openid_count", "partner_trade_no", "openid", "appid"),
    "query_coupon_stock": ("coupon_stock_id", "appid"),
    "querycouponsinfo": ("coupon_id", "openid", "appid", "stock_id"),
    "sendredpack": (
        "mch_billno",
        "wxappid",
        "send_name",
        "re_openid",
        "total_amount",
        "total_num",
        "wishing",
        "client_ip",
        "act_name",
        "remark",
    ),
}


#: The pages that hand out busifavor coupons by the APIv2 sign: the H5 link and the send-coupon plugin.
COUPON_PAGES = ("/busifavor/getcouponinfo", "/sandbox/send-coupon-plugin")


class V2Service:
    """The APIv2 endpoints and coupon pages of one sandbox; ``coupons`` and ``redpacks`` are its v2 state."""

    def __init__(self, keys: KeySet, state: SandboxState, clock: Clock) -> None:
        self._keys, self._state, self._clock = keys, state, clock
        self.apiv2_key = apiv2_key_of(keys)
        self.tls = tls_for(keys)
        self._ledger = V2Ledger(state, clock)

    @property
    def coupons(self) -> dict[str, dict[str, str]]:
        """The v2 代金券 sent so far, by coupon_id."""
        return self._ledger.coupons()

    @property
    def redpacks(self) -> dict[str, dict[str, str]]:
        """The red packets sent so far, by mch_billno."""
        return self._ledger.redpacks()

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_post("/mmpaymkttransfers/{name}", self._call)
        h5_page, plugin_page = COUPON_PAGES
        router.add_get(h5_page, self._h5_page)
        router.add_post(plugin_page, self._plugin)

    async def listen(self, runner: web.AppRunner, host: str, port: int = 0) -> int:
        """Serve ``runner``'s app over HTTPS too, on ``port`` if it is free, else on any free one; returns
        the port it listens on."""
        site = web.TCPSite(runner, host, port, ssl_context=self.tls.server_context())
        try:
            await site.start()
        except OSError:
            if port == 0:
                raise
            await site.stop()  # a site that failed to start stays registered with the runner
            return await self.listen(runner, host, 0)
        return int(runner.addresses[-1][1])

    # -- XML calls --------------------------------------------------------------------------------------

    async def _call(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            exchange_of(request).body = body = await request.read()
            fields = read_xml(body)
            kind = fields.get("sign_type", "MD5")
            self._check(name, fields, kind, request)
            self._verified(request)
        except Fail as fail:
            return xml_answer({"return_code": "FAIL", "return_msg": fail.message})
        answer = {
            "return_code": "SUCCESS",
            "return_msg": "OK",
            "mch_id": self._keys.mchid,
            "nonce_str": secrets.token_hex(16),
        }
        answer.update(getattr(self._ledger, name)(fields))
        answer["sign"] = v2_sign(answer, self.apiv2_key, kind)
        return xml_answer(answer)

    def _verified(self, request: web.Request) -> None:
        exchange_of(request).caller = f"merchant:{self._keys.mchid}"  # sb.received: the APIv2 sign checked out

    def _check(self, name: str, fields: Mapping[str, str], kind: str, request: web.Request) -> None:
        if name not in REQUIRED:
            raise Fail(f"接口不存在 (no APIv2 endpoint {name!r} in the sandbox)")
        if name in SECURITY:
            ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
            peer = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
            if not peer_is_merchant(peer, self._keys):
                raise Fail("证书错误 (this endpoint needs the merchant API certificate: call it over HTTPS with it)")
        for required in ("mch_id", "nonce_str", "sign", *REQUIRED[name]):
            if not fields.get(required) and not (required == "mch_id" and fields.get("mchid")):
                raise Fail(f"缺少参数 {required}")
        if (fields.get("mch_id") or fields.get("mchid")) != self._keys.mchid:
            raise Fail("mch_id参数错误 (not this sandbox's merchant)")
        if kind not in ("MD5", "HMAC-SHA256"):
            raise Fail("sign_type参数错误 (MD5 or HMAC-SHA256)")
        if len(fields["nonce_str"]) > 32:
            raise Fail("nonce_str参数错误 (at most 32 characters)")
        if not v2_sign_matches(fields, self.apiv2_key, kind, fields["sign"]):
            raise Fail("签名错误")

    # -- coupons handed out by the APIv2 sign -------------------------------------------------------------

    def _issue(
        self,
        *,
        stock_id: str,
        out_request_no: str,
        merchant: str,
        openid: str,
        appid: str,
        coupon_code: str | None,
        how: str,
    ) -> str:
        """Put one busifavor coupon in the wallet (once per stock and out_request_no); returns its code."""
        if stock_id not in DEMO_BUSIFAVOR_STOCK_IDS:
            raise Fail(f"批次不存在 (stock {stock_id!r}; the sandbox has {', '.join(DEMO_BUSIFAVOR_STOCK_IDS)})")
        with self._state.transaction():  # the state's own check-then-insert guard, across processes too
            for coupon in self._state.busifavor_coupons:
                if coupon.stock_id == stock_id and coupon.document.get("send_request_no") == out_request_no:
                    if coupon.openid != openid:
                        raise Fail("out_request_no已被使用 (used for another user)")
                    return str(coupon.document.get("coupon_code"))
            code = coupon_code or f"BF{secrets.randbelow(10**12):012d}"
            now = self._clock()
            document = {
                "stock_name": f"沙箱商家券 ({how})",
                "belong_merchant": merchant,
                "stock_type": "NORMAL",
                "coupon_code": code,
                "coupon_state": "SENDED",
                "stock_id": stock_id,
                "send_request_no": out_request_no,
                "transferable": False,
                "shareable": False,
                "available_start_time": rfc3339(now),
                "expire_time": rfc3339(now + 30 * DAY),
                "receive_time": rfc3339(now),
            }
            self._state.add_busifavor_coupon(
                BusifavorCoupon(
                    openid=openid,
                    appid=appid,
                    stock_id=stock_id,
                    coupon_state="SENDED",
                    creator_merchant=merchant,
                    belong_merchant=merchant,
                    sender_merchant=merchant,
                    document=document,
                )
            )
            return code

    async def _h5_page(self, request: web.Request) -> web.Response:
        params = dict(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True))
        try:
            for required in ("stock_id", "out_request_no", "sign", "send_coupon_merchant", "open_id"):
                if not params.get(required):
                    raise Fail(f"缺少参数 {required}")
            if not v2_sign_matches(params, self.apiv2_key, "HMAC-SHA256", params["sign"]):
                raise Fail("签名错误 (the H5 coupon link's sign does not match)")
            self._verified(request)
            code = self._issue(
                stock_id=params["stock_id"],
                out_request_no=params["out_request_no"],
                merchant=params["send_coupon_merchant"],
                openid=params["open_id"],
                appid=DEMO_APPID,
                coupon_code=params.get("coupon_code"),
                how="H5",
            )
        except Fail as fail:
            return web.Response(status=400, text=page("领券失败", fail.message), content_type="text/html")
        return web.Response(text=page("领券成功", f"coupon_code={code}"), content_type="text/html")

    async def _plugin(self, request: web.Request) -> web.Response:
        try:
            exchange_of(request).body = body = await request.read()
            payload: Any = json.loads(body)
            if not isinstance(payload, dict) or not isinstance(payload.get("send_coupon_params"), list):
                raise Fail("缺少参数 send_coupon_params")
            merchant, openid = str(payload.get("send_coupon_merchant", "")), str(payload.get("open_id", ""))
            items = payload["send_coupon_params"]
            if not merchant or not openid or not 1 <= len(items) <= 10 or not all(isinstance(i, dict) for i in items):
                raise Fail("参数错误 (send_coupon_merchant, open_id and 1 to 10 coupons)")
            flat = {"send_coupon_merchant": merchant}
            for index, item in enumerate(items):
                flat.update({f"{k}{index}": str(v) for k, v in item.items()})
            if not v2_sign_matches(flat, self.apiv2_key, "HMAC-SHA256", str(payload.get("sign", ""))):
                raise Fail("签名错误 (the plugin's sign does not match)")
            self._verified(request)
            # As the plugin does: the call succeeds (errcode OK) and each coupon has its own result, so a
            # coupon that fails leaves the others sent, and says so.
            appid = str(payload.get("appid") or DEMO_APPID)
            results = [self._plugin_coupon(item, merchant, openid, appid) for item in items]
        except ValueError:
            return web.json_response({"code": "PARAM_ERROR", "message": "JSON格式错误"}, status=400)
        except Fail as fail:
            status = 401 if fail.message.startswith("签名错误") else 400
            return web.json_response(
                {"code": "SIGN_ERROR" if status == 401 else "PARAM_ERROR", "message": fail.message}, status=status
            )
        return web.json_response({"errcode": "OK", "msg": "", "send_coupon_result": results})

    def _plugin_coupon(self, item: Mapping[str, Any], merchant: str, openid: str, appid: str) -> dict[str, str]:
        """One coupon of the plugin: its send_coupon_result entry, SUCCESS with its code or FAILED with why."""
        stock_id, out_request_no = str(item.get("stock_id", "")), str(item.get("out_request_no", ""))
        result = {"stock_id": stock_id, "out_request_no": out_request_no}
        try:
            code = self._issue(
                stock_id=stock_id,
                out_request_no=out_request_no,
                merchant=merchant,
                openid=openid,
                appid=appid,
                coupon_code=item.get("coupon_code"),
                how="plugin",
            )
        except Fail as fail:
            return {**result, "code": "FAILED", "message": fail.message}
        return {**result, "coupon_code": code, "code": "SUCCESS", "message": ""}
