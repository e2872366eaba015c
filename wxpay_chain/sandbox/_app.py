"""The aiohttp application: one catch-all handler that reads the raw request, checks it the way WeChat Pay
does, runs the endpoint, then signs (or sabotages, under a fault) the answer.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
from collections.abc import Mapping
from typing import Literal

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from ._answer import Answer, error_answer, read_body
from ._auth import AnswerSigner, Caller, RequestVerifier, Scheme, probe_signature
from ._bills import FileRoutes
from ._clock import Clock
from ._failures import ApiFailure, json_bytes, not_found
from ._faults import Fault, FaultInjector
from ._handlers import Call, Handlers, Route, match_route
from ._keys import KeySet
from ._media import FileEndpoints
from ._notifier import Notifier
from ._params import Query, split_target
from ._rate_limit import RateLimiter
from ._record import ReceivedRequest, RequestLog, new_request_id
from ._state import SandboxState
from ._v2 import V2Service

AnswerMode = Literal["pubkey", "certificate"]

#: WeChat Pay's bodies are small; anything over 1 MiB is refused unread.
MAX_BODY = 1024 * 1024
_SIGNATURE_HEADERS = (
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Signature",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
)

log = logging.getLogger("wxpay_chain.sandbox")


def _fault_answer(fault: Fault) -> Answer:
    if fault.status == 502:
        # A gateway in front of WeChat Pay answers in HTML, not JSON: clients must cope with that too.
        return Answer(
            502,
            b"<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>",
            headers={"Content-Type": "text/html"},
            code=None,
        )
    code = {429: "RATELIMIT_EXCEEDED", 500: "SYSTEM_ERROR", 503: "SYSTEM_ERROR"}.get(fault.status, "SYSTEM_ERROR")
    message = {
        429: "请求超过接口频率限制，请稍后使用原参数重试 (injected fault)",
        503: "系统繁忙，请稍后重试 (injected fault)",
    }.get(fault.status, "系统异常，请稍后重试 (injected fault)")
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    return Answer(fault.status, json_bytes({"code": code, "message": message}), headers=headers, code=code)


class SandboxApp:
    """Holds everything one running sandbox answers with."""

    def __init__(
        self,
        *,
        keys: KeySet,
        state: SandboxState,
        faults: FaultInjector,
        clock: Clock,
        probe_rate: float,
        answer_mode: AnswerMode,
        rate_limit: float | None,
        seed: int,
        notifier: Notifier | None,
        received: RequestLog,
        v2: V2Service,
    ) -> None:
        self._keys = keys
        self._verifier = RequestVerifier(keys)
        self._signer = AnswerSigner(keys)
        self._handlers = Handlers(state, keys)
        self._faults = faults
        self._clock = clock
        self._probe_rate = probe_rate
        self._probe_rng = random.Random(seed)
        self._merchant_serial = keys.pub_key_id if answer_mode == "pubkey" else keys.platform_serial
        self._limiter = RateLimiter(rate_limit, clock) if rate_limit else None
        self._notifier = notifier
        self._received = received
        self._v2 = v2
        plumbing = FileEndpoints(
            verifier=self._verifier, signer=self._signer, clock=clock, received=received,
            answer_serial=self.answer_serial,
        )
        self.files = FileRoutes(keys=keys, state=state, plumbing=plumbing)  # uploads and bills

    def build(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        self.files.register(app)  # before the catch-all: these read files, and answer them unsigned
        self._v2.register(app.router)  # APIv2 and the coupon pages, also ahead of the APIv3 catch-all
        app.router.add_route("*", "/{tail:.*}", self.dispatch)
        return app

    def answer_serial(self, scheme: Scheme) -> str:
        return self._merchant_serial if scheme == "merchant" else self._keys.pub_key_id

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        request_id = new_request_id()
        method = request.method
        raw_path = request.raw_path
        headers = CIMultiDictProxy(CIMultiDict(request.headers))
        body = b""
        fault: Fault | None = None
        caller: Caller | None = None
        status: int | None = None
        code: str | None = None
        probe = False
        checked = False  # whether the sandbox judged the request (a before-fault answers unjudged)
        try:
            try:
                body = await read_body(request, MAX_BODY)
            except ApiFailure as failure:
                checked = True
                answer = error_answer(failure)
                status, code = answer.status, answer.code
                return web.Response(status=status, body=answer.body, headers=self._headers(answer, request_id)[0])
            path, raw_query = split_target(raw_path)
            route, raw_params = match_route(method, path)
            fault = self._faults.take(method, route.template if route else None)
            if fault is not None:
                self._faults.record(request_id, method, raw_path, fault)
            step = await self._fault_step(fault, "before", request)
            if isinstance(step, web.StreamResponse):
                return step
            if step is None:  # a status fault before the handler answers instead of it
                checked = True
                answer, caller = self._answer(method, raw_path, headers, body, route, raw_params, raw_query)
                step = await self._fault_step(fault, "after", request)
                if isinstance(step, web.StreamResponse):
                    return step
            if step is not None:
                answer = step
            status, code = answer.status, answer.code
            answer_headers, probe = self._headers(answer, request_id, fault)
            if fault is not None and fault.kind == "truncate":
                return await self._truncated(request, answer, answer_headers)
            return web.Response(status=answer.status, body=answer.body, headers=answer_headers)
        finally:
            self._received.add(
                ReceivedRequest(
                    method=method,
                    raw_path=raw_path,
                    headers=headers,
                    body=body,
                    request_id=request_id,
                    status=status,
                    code=code,
                    caller=caller.label if caller else None,
                    fault=fault.kind if fault else None,
                    probe=probe,
                    rejected=checked and caller is None,
                )
            )

    def _answer(
        self,
        method: str,
        raw_path: str,
        headers: Mapping[str, str],
        body: bytes,
        route: Route | None,
        raw_params: Mapping[str, str],
        raw_query: str,
    ) -> tuple[Answer, Caller | None]:
        caller: Caller | None = None
        try:
            if route is None:
                raise not_found(f"接口不存在 (no API at {method} {raw_path[:200]!r})")
            now = self._clock()
            caller = self._verifier.verify(
                scheme=route.scheme, method=method, raw_path=raw_path, headers=headers, body=body, now=now
            )
            if self._limiter is not None and not self._limiter.allow(caller.label):
                raise ApiFailure(
                    429,
                    "RATELIMIT_EXCEEDED",
                    "请求超过接口频率限制，请稍后使用原参数重试 (rate limit exceeded)",
                    headers={"Retry-After": "1"},
                )
            call = Call(caller=caller, path_params=raw_params, query=Query(raw_query), body=body, now=now)
            reply = self._handlers.for_route(route)(call)
            if reply.notify is not None and self._notifier is not None:
                self._notifier.submit(reply.notify, serial=self.answer_serial(route.scheme), scheme=route.scheme)
            payload = json_bytes(reply.payload)
            serial = reply.serial or self.answer_serial(route.scheme)
            return Answer(reply.status, payload, scheme=route.scheme, serial=serial), caller
        except ApiFailure as failure:
            if failure.status == 401:
                log.debug("sandbox refused %s %s: %s", method, raw_path[:200], failure.message)
            return error_answer(failure), caller
        except Exception:
            log.exception("sandbox bug while answering %s %s", method, raw_path[:200])
            bug = ApiFailure(500, "SYSTEM_ERROR", "系统异常，请稍后重试 (unexpected sandbox error)")
            return error_answer(bug), caller

    async def _fault_step(
        self, fault: Fault | None, when: str, request: web.Request
    ) -> web.StreamResponse | Answer | None:
        """Apply ``fault`` if it is due now: wait, drop the connection, or return the answer to send instead."""
        if fault is None or fault.when != when:
            return None
        if fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
        elif fault.kind == "reset":
            return self._drop(request)
        elif fault.kind == "status":
            return _fault_answer(fault)
        return None

    def _headers(self, answer: Answer, request_id: str, fault: Fault | None = None) -> tuple[dict[str, str], bool]:
        """Answer headers: Request-ID always, the signature set on 2xx (as a fault or a probe shapes it)."""
        headers: dict[str, str] = {"Request-ID": request_id}
        probe = False
        if 200 <= answer.status < 300 and answer.scheme is not None and answer.serial is not None:
            timestamp = int(self._clock())
            if fault is not None and fault.kind == "stale_timestamp":
                timestamp -= int(fault.seconds)
            signed = self._signer.headers(answer.body, timestamp=timestamp, serial=answer.serial, scheme=answer.scheme)
            if self._probe_rate and self._probe_rng.random() < self._probe_rate:
                signed["Wechatpay-Signature"] = probe_signature(self._probe_rng.randbytes(64))
                probe = True
            elif fault is not None and fault.kind == "corrupt_signature":
                signed["Wechatpay-Signature"] = _flip_one_byte(signed["Wechatpay-Signature"])
            if fault is None or fault.kind != "drop_signature":
                headers.update(signed)
        headers.update(answer.headers)
        headers.setdefault("Content-Type", answer.content_type)
        return headers, probe

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        transport = request.transport
        if transport is not None:
            transport.close()
        # aiohttp finds the transport closed when it writes this, and gives up quietly.
        return web.Response(status=500)

    @staticmethod
    async def _truncated(request: web.Request, answer: Answer, headers: Mapping[str, str]) -> web.StreamResponse:
        partial = web.StreamResponse(status=answer.status, headers=headers)
        partial.content_length = len(answer.body) + 64
        await partial.prepare(request)
        await partial.write(answer.body[: len(answer.body) // 2])
        transport = request.transport
        if transport is not None:
            transport.close()
        return partial


def _flip_one_byte(signature_b64: str) -> str:
    raw = bytearray(base64.b64decode(signature_b64))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode("ascii")
