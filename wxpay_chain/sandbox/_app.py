"""The aiohttp application: one catch-all handler that reads the raw request, checks it the way WeChat Pay
does, runs the endpoint, then signs (or sabotages, under a fault) the answer.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from typing import Literal

from aiohttp import web

from ._answer import Answer, error_answer, read_body
from ._auth import AnswerSigner, Caller, RequestVerifier, Scheme, probe_signature
from ._bills import FileRoutes
from ._clock import Clock
from ._exchange import exchange_of
from ._failures import ApiFailure, json_bytes, not_found
from ._faults import FaultInjector
from ._gate import FaultGate
from ._handlers import Call, Handlers, Route, match_route
from ._keys import KeySet
from ._media import FileEndpoints
from ._notifier import Notifier
from ._params import Query, split_target
from ._rate_limit import RateLimiter
from ._record import RequestLog
from ._relay import Relay
from ._state import SandboxState
from ._v2 import V2Service

AnswerMode = Literal["pubkey", "certificate"]

#: WeChat Pay's bodies are small; anything over 1 MiB is refused unread.
MAX_BODY = 1024 * 1024

log = logging.getLogger("wxpay_chain.sandbox")


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
        self._gate = FaultGate(faults, received, self._signer)
        self._clock = clock
        self._probe_rate = probe_rate
        self._probe_rng = random.Random(seed)
        self._merchant_serial = keys.pub_key_id if answer_mode == "pubkey" else keys.platform_serial
        self._limiter = RateLimiter(rate_limit, clock) if rate_limit else None
        self._notifier = notifier
        self._v2 = v2
        plumbing = FileEndpoints(
            verifier=self._verifier, signer=self._signer, clock=clock, answer_serial=self.answer_serial,
        )
        self.files = FileRoutes(keys=keys, state=state, plumbing=plumbing)  # uploads and bills

    def build(self) -> tuple[web.Application, Relay]:
        """The app to serve, and the relay it reaches this app through: ``drop()`` it once the app stops."""
        # Served through a relay: aiohttp's app-wide middleware cache keeps the app (and all it holds) after close.
        relay = Relay(self._gate.middleware)  # the gate first: faults and the request log cover every route
        scratch = web.Application()
        self.files.register(scratch)  # before the catch-all: these read files, and answer them unsigned
        self._v2.register(scratch.router)  # APIv2 and the coupon pages, also ahead of the APIv3 catch-all
        app = web.Application(client_max_size=MAX_BODY, middlewares=[relay.middleware])
        relay.serve(scratch.router, into=app.router)
        app.router.add_route("*", "/{tail:.*}", relay.forward(self.dispatch))
        return app, relay

    def answer_serial(self, scheme: Scheme) -> str:
        return self._merchant_serial if scheme == "merchant" else self._keys.pub_key_id

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        exchange = exchange_of(request)
        try:
            exchange.body = await read_body(request, MAX_BODY)
        except ApiFailure as failure:
            answer, caller = error_answer(failure), None
        else:
            path, raw_query = split_target(request.raw_path)
            route, raw_params = match_route(request.method, path)
            answer, caller = self._answer(
                request.method, request.raw_path, request.headers, exchange.body, route, raw_params, raw_query
            )
        headers, exchange.probe = self._headers(answer, exchange.request_id)
        exchange.caller, exchange.code = (caller.label if caller else None), answer.code
        return web.Response(status=answer.status, body=answer.body, headers=headers)

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

    def _headers(self, answer: Answer, request_id: str) -> tuple[dict[str, str], bool]:
        """Answer headers: Request-ID always, the signature set on 2xx (or a probe's)."""
        headers: dict[str, str] = {"Request-ID": request_id}
        probe = False
        if 200 <= answer.status < 300 and answer.scheme is not None and answer.serial is not None:
            timestamp = int(self._clock())
            signed = self._signer.headers(answer.body, timestamp=timestamp, serial=answer.serial, scheme=answer.scheme)
            if self._probe_rate and self._probe_rng.random() < self._probe_rate:
                signed["Wechatpay-Signature"] = probe_signature(self._probe_rng.randbytes(64))
                probe = True
            headers.update(signed)
        headers.update(answer.headers)
        headers.setdefault("Content-Type", answer.content_type)
        return headers, probe
