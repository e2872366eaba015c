"""The send loop: one prepared call through sign → send → verify, retried by the RetryPolicy within its
deadline. Every call goes through it: API calls, certificate downloads and bill downloads alike.

A Pipeline holds what a client shares with its ``with_options()`` copies (the transport, and the protocols
that sign requests and verify answers) and the settings of one of them (retry policy, backup origin,
hooks). The per-protocol differences (how to sign, how to verify, whether a request that may have reached
WeChat Pay is ever sent again) live in ``_protocols``; the unsigned downloads in ``_download``.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, TypeVar

import attrs

from ._config import ClientConfig
from ._errors import (
    ApiError,
    ResponseTooLargeError,
    TLSError,
    TransportError,
    TransportTimeoutError,
    WxPayError,
    note_earlier_attempt,
)
from ._http import Headers, Request, Response, Timeout
from ._logs import log_retry, record_attempt, run_hook
from ._prepare import prepare
from ._protocols import CallProtocol
from ._request import PreparedRequest
from ._transport import RawResponse, Transport, send_streamed
from ._unsigned import must_verify

__all__ = ["ABANDONED", "Pipeline", "StreamSink"]

E = TypeVar("E", bound=WxPayError)
_SIGNING_SLACK = 0.01  # seconds of signing a call's timeout need not be cut for

#: Set in a call run for a blocking caller (the Client's loop thread): whether that caller gave up on it
#: (Ctrl-C, a time limit). Asked before each attempt goes out: nothing is sent for a caller already stopped.
ABANDONED: contextvars.ContextVar[Callable[[], bool] | None] = contextvars.ContextVar("abandoned", default=None)


class StreamSink(Protocol):
    """Where the body of a streamed 2xx answer goes, chunk by chunk (a bill download)."""

    @property
    def started(self) -> bool:
        """Whether any of the body went where it cannot be taken back (a file, a caller's sink): a call cut
        off after that is never sent again."""
        ...

    @property
    def signed_body(self) -> bytes:
        """The body as received, kept only when the answer carries signature headers (then verified)."""
        ...

    def __call__(self, headers: Headers) -> Callable[[bytes], None]: ...


class _InFlight:
    """Calls being signed, sent or verified by a client and all its ``with_options()`` copies: they share
    one signing worker, so "auto" offloads the RSA signature when any of their calls overlap."""

    __slots__ = ("backing_off", "count")

    def __init__(self) -> None:
        self.count = 0
        self.backing_off: set[asyncio.Future[None]] = set()  # the waits before a retry, cut short on close


class Pipeline:
    def __init__(
        self,
        config: ClientConfig,
        transport: Transport,
        protocols: Mapping[str, CallProtocol],
        in_flight: _InFlight | None = None,
        certificates: Callable[[], Awaitable[Response]] | None = None,
    ) -> None:
        self.transport = transport
        self._protocols = protocols
        self._defaults = config.defaults
        self._retry = config.retry
        self._backup_origin = config.backup_origin
        self._primary_origin = config.defaults.origin_prefix[0]  # the only origin the backup stands in for
        self._on_request = config.on_request
        self._on_response = config.on_response
        self._clock = config.clock
        self._bodies = config.log_bodies
        self._who = config.signer.who  # log lines name the merchant: one process may serve many
        self._in_flight = _InFlight() if in_flight is None else in_flight
        # The certificate download shared by a client and its with_options() copies: the client's own, with
        # its timeout and base URL, whichever copy's call asks for it.
        self.certificates = self.fetch_certificates if certificates is None else certificates

    def closing(self) -> None:
        """End every wait before a retry now: the client is closing, and those calls then end at once."""
        for waited in list(self._in_flight.backing_off):
            if waited.get_loop().is_closed():  # a call its loop left pending for good: nothing to wake
                self._in_flight.backing_off.discard(waited)
            else:
                waited.get_loop().call_soon_threadsafe(_end_wait, waited)

    def derive(self, config: ClientConfig) -> Pipeline:
        """The pipeline of a ``with_options()`` copy: its own settings, this one's transport, protocols and
        count of calls in flight."""
        return Pipeline(config, self.transport, self._protocols, self._in_flight, self.certificates)

    async def fetch_certificates(self) -> Response:
        """GET v3/certificates, unverified here: the verifier checks it with the certificates it carries.
        It takes the client's own timeout: the calls waiting for it each wait within their own."""
        # Shared by every call waiting for it: not given up when the blocking caller that started it is.
        token = ABANDONED.set(None)
        try:
            return await self.call(prepare(self._defaults, "GET", "v3/certificates"), verify=False)
        finally:
            ABANDONED.reset(token)

    async def call(self, prepared: PreparedRequest, *, verify: bool = True, sink: StreamSink | None = None) -> Response:
        """The answer to ``prepared``, verified; ApiError for a non-2xx answer, TransportError when none came.

        With ``sink`` a 2xx body is streamed into it instead of being held (the Response then has no body)."""
        # One coroutine for the whole loop: every await of a call resumes each frame between it and the task.
        in_flight = self._in_flight
        in_flight.count += 1
        try:
            protocol, policy, bodies, who = self._protocols[prepared.protocol], self._retry, self._bodies, self._who
            transport = self.transport
            failures: list[str] = []
            reached = False  # whether an earlier attempt may have got to WeChat Pay
            origin = prepared.origin
            # The call's timeout holds through its retries and their back-off: each attempt gets what is left.
            total = prepared.timeout.total
            called = time.monotonic()
            deadline = None if total is None else called + total
            attempts = policy.attempts
            if verify and (verifier := protocol.verifier) is not None and verifier.unkeyed:
                await verifier.keys_before_sending(self.certificates, deadline)  # TransportError: nothing sent
            for attempt in range(1, attempts + 1):
                before = reached  # an error that ends the call speaks for every attempt, not only the last
                try:
                    transport.check_open()  # before signing: a closed client's signing worker has stopped
                except TransportError as closed:
                    if reached:  # closed during the back-off: the plain "closed" would hide the earlier attempt
                        closed = TransportError(f"{closed} (it closed before attempt #{attempt})", connect_failed=True)
                    raise _ending(closed, tuple(failures), reached, prepared.method) from None
                request = await protocol.authorize(prepared, origin, in_flight.count > 1)
                # Each attempt gets what is left of the call's timeout: after the back-off of a retry, and after
                # a wait for its signature (a busy signing worker) on the first attempt too.
                if deadline is not None and (attempt > 1 or time.monotonic() - called > _SIGNING_SLACK):
                    request = attrs.evolve(request, timeout=_remaining(request.timeout, deadline))
                if self._on_request is not None:
                    run_hook(self._on_request, request, "on_request")
                if (abandoned := ABANDONED.get()) is not None and abandoned():
                    raise asyncio.CancelledError  # its caller was interrupted: this attempt never goes out
                started = time.perf_counter()
                try:
                    raw = await (transport.send(request) if sink is None else send_streamed(transport, request, sink))
                except TransportError as exc:
                    elapsed, cut_id = time.perf_counter() - started, exc.request_id  # an answer cut off has one
                    record_attempt(self._on_response, request, attempt, None, cut_id, elapsed, exc, None, bodies, who)
                    failures.append(f"#{attempt} {type(exc).__name__}")
                    reached = reached or not exc.connect_failed
                    # A connect timeout sent nothing: it is retried and failed over like a refused connection.
                    timed_out = isinstance(exc, TransportTimeoutError) and not exc.connect_failed
                    # An answer too large to read would be too large again, a failed handshake fails again, and a
                    # stream cut off has been handed on in part: the call is final.
                    final = isinstance(exc, (ResponseTooLargeError, TLSError)) or (sink is not None and sink.started)
                    final = final or (timed_out and not policy.retry_timeouts)
                    final = final or not (protocol.resends or exc.connect_failed)  # APIv2: only if never sent
                    if attempt == attempts or transport.closed or final:
                        _ending(exc, tuple(failures), before, prepared.method)
                        raise
                    if exc.connect_failed and self._backup_origin is not None and origin == self._primary_origin:
                        origin = self._backup_origin
                    if not await _back_off(policy.delay(attempt), deadline, request, failures[-1], in_flight, who):
                        _ending(exc, (*failures, "no time left for another attempt"), before, prepared.method)
                        raise
                    continue
                status, headers = raw.status, raw.headers
                request_id = headers.get("Request-ID")
                elapsed = time.perf_counter() - started
                # A streamed 2xx body went to the sink: the log has no body to show for it.
                answer = raw.body if sink is None or not 200 <= status < 300 else None
                if 200 <= status < 300:
                    unverified: WxPayError | None = None
                    # Recorded once verified, whatever ends it (cancelled while it waits for certificates, say): an
                    # answer that fails its checks is a failed attempt for metrics too.
                    try:
                        if verify and must_verify(request.method, prepared.template, headers):
                            checked = raw if sink is None else RawResponse(status, headers, sink.signed_body)
                            try:  # a certificate download it waits for is waited for within what is left of the call
                                await protocol.verify(request, checked, request_id, self.certificates, deadline)
                            except WxPayError as exc:
                                unverified = exc
                    finally:
                        record_attempt(
                            self._on_response,
                            request,
                            attempt,
                            status,
                            request_id,
                            elapsed,
                            unverified,
                            answer,
                            bodies,
                            who,
                        )
                    if unverified is not None:
                        unverified.attempts = (*failures, f"#{attempt} {type(unverified).__name__}")
                        raise unverified
                    return Response(status, headers, raw.body, request)
                record_attempt(
                    self._on_response, request, attempt, status, request_id, elapsed, None, answer, bodies, who
                )
                error = ApiError.from_parts(
                    raw.status, raw.body, request_id=request_id, method=request.method, path=request.target
                )
                failures.append(f"#{attempt} {raw.status} {error.code or ''}".rstrip())
                reached = True
                if attempt == attempts or not protocol.resends or not policy.retries_status(raw.status):
                    raise _ending(error, tuple(failures), before, prepared.method)
                delay = policy.delay(attempt, raw.headers.get("Retry-After"), now=self._clock())
                if not await _back_off(delay, deadline, request, failures[-1], in_flight, who):
                    raise _ending(error, (*failures, "no time left for another attempt"), before, prepared.method)
            raise AssertionError("unreachable: the last attempt always returns or raises")
        finally:
            in_flight.count -= 1


def _ending(error: E, attempts: tuple[str, ...], earlier_reached: bool, method: str) -> E:
    """The error that ends a call, with why each attempt failed, and in doubt if an earlier attempt may have
    got through (the last one's "nothing was sent" or plain 4xx is then not the whole story)."""
    error.attempts = attempts
    if earlier_reached:
        note_earlier_attempt(error, method)
    return error


def _remaining(timeout: Timeout, deadline: float) -> Timeout:
    left = max(deadline - time.monotonic(), 0.001)
    return Timeout(total=left, connect=left if timeout.connect is None else min(timeout.connect, left))


async def _back_off(
    delay: float, deadline: float | None, request: Request, reason: str, calls: _InFlight, who: str
) -> bool:
    """Wait ``delay`` seconds before the next attempt (less if the client closes meanwhile: the attempt
    then finds it closed); False, without waiting, when the call's deadline would pass first (a retry then
    could only time out). Either way a retry line says why."""
    if deadline is not None and time.monotonic() + delay >= deadline:
        log_retry(request, reason, None, who)
        return False
    log_retry(request, reason, delay, who)
    loop = asyncio.get_running_loop()
    waited = loop.create_future()
    timer = loop.call_later(delay, _end_wait, waited)
    calls.backing_off.add(waited)
    try:
        await waited
    finally:
        timer.cancel()
        calls.backing_off.discard(waited)
    return True


def _end_wait(waited: asyncio.Future[None]) -> None:
    if not waited.done():
        waited.set_result(None)
