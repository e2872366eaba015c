"""The gate every request of every route passes, on both listeners: it takes the request's fault, applies
it before or after the route answers, and records the request in ``sb.received`` once it is answered.

Routes only answer; they tell the gate what they read and who they verified through ``exchange_of``.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Awaitable, Callable

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from ._answer import read_body
from ._auth import SCHEME_NAMES, AnswerSigner
from ._bills import BILL_ROUTES
from ._exchange import Exchange, start_exchange
from ._failures import ApiFailure, json_bytes
from ._faults import Fault, FaultInjector
from ._handlers import TEMPLATES
from ._media import IMAGE_DOWNLOADS, MAX_UPLOAD, UPLOAD_ROUTES
from ._params import split_target
from ._record import ReceivedRequest, RequestLog
from ._v2 import COUPON_PAGES, REQUIRED

__all__ = ["APIV2_CALLS", "SERVED_TEMPLATES", "FaultGate"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

APIV2_CALLS = tuple(f"/mmpaymkttransfers/{name}" for name in REQUIRED)
#: Every route template the sandbox serves: what a fault's ``path`` may name.
SERVED_TEMPLATES = tuple(
    sorted(
        {*TEMPLATES, *(route.path for route in UPLOAD_ROUTES), *IMAGE_DOWNLOADS, *BILL_ROUTES, *APIV2_CALLS}
        | set(COUPON_PAGES)
    )
)
_SCHEMES = {name: scheme for scheme, name in SCHEME_NAMES.items()}


def _fault_answer(fault: Fault, exchange: Exchange) -> web.Response:
    headers = {"Request-ID": exchange.request_id}
    if fault.status == 502:
        # A gateway in front of WeChat Pay answers in HTML, not JSON: clients must cope with that too.
        html = b"<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"
        exchange.code = None
        return web.Response(status=502, body=html, headers={**headers, "Content-Type": "text/html"})
    code = exchange.code = "RATELIMIT_EXCEEDED" if fault.status == 429 else "SYSTEM_ERROR"
    message = {
        429: "请求超过接口频率限制，请稍后使用原参数重试 (injected fault)",
        503: "系统繁忙，请稍后重试 (injected fault)",
    }.get(fault.status, "系统异常，请稍后重试 (injected fault)")
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    body = json_bytes({"code": code, "message": message})
    return web.Response(status=fault.status, body=body, headers={**headers, "Content-Type": "application/json"})


def _flip_one_byte(signature_b64: str) -> str:
    raw = bytearray(base64.b64decode(signature_b64))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode("ascii")


class FaultGate:
    """The aiohttp middleware of one sandbox (``middleware``)."""

    def __init__(self, faults: FaultInjector, received: RequestLog, signer: AnswerSigner) -> None:
        self._faults, self._received, self._signer = faults, received, signer

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        method, raw_path = request.method, request.raw_path
        fault = self._faults.take(method, split_target(raw_path)[0])
        exchange = start_exchange(request, fault)
        if fault is not None:
            self._faults.record(exchange.request_id, method, raw_path, fault)
        headers = CIMultiDictProxy(CIMultiDict(request.headers))
        status: int | None = None
        ran = False
        try:
            answer = await self._step(fault, "before", request, exchange)
            if answer is None:
                ran = True
                answer = await handler(request)
                answer = await self._step(fault, "after", request, exchange) or answer
                answer = await self._sabotage(fault, request, exchange, answer)
            status = None if exchange.dropped else answer.status
            return answer
        except web.HTTPException as refused:
            status = refused.status
            raise
        finally:
            self._received.add(
                ReceivedRequest(
                    method=method,
                    raw_path=raw_path,
                    headers=headers,
                    body=exchange.body,
                    request_id=exchange.request_id,
                    status=status,
                    code=exchange.code,
                    caller=exchange.caller,
                    fault=fault.kind if fault else None,
                    probe=exchange.probe,
                    rejected=ran and exchange.caller is None,
                )
            )

    async def _step(
        self, fault: Fault | None, when: str, request: web.Request, exchange: Exchange
    ) -> web.StreamResponse | None:
        """Apply ``fault`` if it is due now: wait, or drop the connection, or answer instead of the route."""
        if fault is None or fault.when != when:
            return None
        if when == "before" and fault.kind in ("reset", "status"):  # no route reads the body: read it for the record
            exchange.body = await _arrived(request)
        if fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
        elif fault.kind == "reset":
            transport = request.transport
            if transport is not None:
                transport.close()
            exchange.dropped = True
            # aiohttp finds the transport closed when it writes this, and gives up quietly.
            return web.Response(status=500)
        elif fault.kind == "status":
            return _fault_answer(fault, exchange)
        return None

    async def _sabotage(
        self, fault: Fault | None, request: web.Request, exchange: Exchange, answer: web.StreamResponse
    ) -> web.StreamResponse:
        """The route's answer as an answer fault spoils it (its signature, or its body cut short)."""
        if fault is None or not isinstance(answer, web.Response) or not isinstance(answer.body, bytes):
            return answer
        signature = answer.headers.get("Wechatpay-Signature")
        if signature is None and fault.kind in ("drop_signature", "corrupt_signature"):
            answer.body = _spoilt_v2_sign(answer.body, drop=fault.kind == "drop_signature")
            return answer  # an APIv2 answer (its sign in the XML), or an unsigned one, unchanged
        if fault.kind == "drop_signature":
            for name in [name for name in answer.headers if name.lower().startswith("wechatpay-")]:
                del answer.headers[name]
        elif fault.kind == "corrupt_signature" and signature is not None and not exchange.probe:
            answer.headers["Wechatpay-Signature"] = _flip_one_byte(signature)
        elif fault.kind == "stale_timestamp" and signature is not None:
            stamp = int(answer.headers["Wechatpay-Timestamp"]) - int(fault.seconds)
            if exchange.probe:  # the probe's signature stays as invalid as it was
                answer.headers["Wechatpay-Timestamp"] = str(stamp)
            else:
                scheme = _SCHEMES[answer.headers["Wechatpay-Signature-Type"]]
                serial = answer.headers["Wechatpay-Serial"]
                answer.headers.update(self._signer.headers(answer.body, timestamp=stamp, serial=serial, scheme=scheme))
        elif fault.kind == "truncate":
            return await _truncated(request, answer, answer.body)
        return answer


_V2_SIGN = re.compile(rb"<sign><!\[CDATA\[([0-9A-Fa-f]+)\]\]></sign>")


def _spoilt_v2_sign(body: bytes, *, drop: bool) -> bytes:
    """An APIv2 XML answer without its sign, or with one character of it changed (another body: as is)."""
    found = _V2_SIGN.search(body)
    if found is None:
        return body
    sign = found.group(1)
    spoilt = b"" if drop else sign[:-1] + (b"0" if sign[-1:] != b"0" else b"1")
    return body[: found.start()] + (b"" if drop else b"<sign><![CDATA[" + spoilt + b"]]></sign>") + body[found.end() :]


async def _arrived(request: web.Request) -> bytes:
    """What came of a request's body, as far as it can be read (``sb.received`` shows every attempt's)."""
    try:
        return await read_body(request, MAX_UPLOAD)
    except ApiFailure:  # too large, or broken off: the record keeps none of it
        return b""


async def _truncated(request: web.Request, answer: web.Response, body: bytes) -> web.StreamResponse:
    headers = CIMultiDict(answer.headers)
    headers.popall("Content-Length", None)
    partial = web.StreamResponse(status=answer.status, headers=headers)
    partial.content_length = len(body) + 64
    await partial.prepare(request)
    await partial.write(body[: len(body) // 2])
    transport = request.transport
    if transport is not None:
        transport.close()
    return partial
