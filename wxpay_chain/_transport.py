"""The Transport seam: ``send(Request) -> RawResponse``, and the transports that need no network.

The client signs a :class:`Request` and hands it to a transport; what comes back is verified by the
client, never by the transport. :class:`~wxpay_chain._aiohttp_transport.AiohttpTransport` is the one
that goes on the wire; :class:`MemoryTransport` answers in memory, for tests of code that uses a client.
A transport that can also hand a body on as it arrives is a :class:`StreamingTransport` (bill downloads
then never hold the file whole); :func:`send_streamed` serves a download from any transport.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import NamedTuple, Protocol, cast, runtime_checkable

from ._errors import TransportError, TransportTimeoutError
from ._http import Headers, Request

__all__ = [
    "CLOSED",
    "BorrowedTransport",
    "MemoryTransport",
    "RawResponse",
    "Sink",
    "StreamingTransport",
    "Transport",
    "send_streamed",
]

CLOSED = "The client is closed; create a new one to send more requests"  # one wording, every transport

Sink = Callable[[Headers], Callable[[bytes], None]]
"""Takes a 2xx answer's headers, returns what each chunk of its body is handed to (a download to a file)."""


class RawResponse(NamedTuple):
    """An answer as it arrived, before any verification."""

    status: int
    headers: Headers
    body: bytes

    def __repr__(self) -> str:
        return f"RawResponse(status={self.status}, body=<{len(self.body)} bytes>)"


@runtime_checkable
class Transport(Protocol):
    """What a client needs to send requests: pass one as ``AsyncClient(transport=...)``.

    ``send`` delivers ``request.body`` to ``request.url`` exactly as given (the signature covers them),
    within ``request.timeout`` (the client does not cut a transport short: that could cut a request off
    mid-send), raising TransportError when no complete answer arrives. ``check_open`` raises
    TransportError when no request can be sent (it is called before each attempt is signed).

    The client checks what a transport of yours returns: a RawResponse with an int status and the body's
    bytes (TypeError otherwise); headers that are a plain mapping are looked up case-insensitively. A
    ``ConnectionRefusedError``, another ``OSError`` or a ``TimeoutError`` it raises becomes the
    TransportError the aiohttp transport gives for each (never sent; may have arrived; timed out).
    """

    @property
    def closed(self) -> bool: ...

    def check_open(self) -> None: ...

    async def open(self) -> None: ...

    async def send(self, request: Request) -> RawResponse: ...

    async def aclose(self) -> None: ...


class StreamingTransport(Transport, Protocol):
    """A transport that can also hand the body of a 2xx answer on chunk by chunk, as it arrives (a bill
    download then never holds the file whole).

    ``stream(request, sink)`` sends like ``send``. For a 2xx answer it calls ``sink(headers)`` once,
    before any of the body, and hands each chunk of the body to the function that returns, in order;
    the RawResponse it returns then has an empty body. Any other answer comes back whole, and the sink
    is not called. Whatever the sink raises (the file is too large, say) ends the call.
    """

    async def stream(self, request: Request, sink: Sink) -> RawResponse: ...


async def send_streamed(transport: Transport, request: Request, sink: Sink) -> RawResponse:
    """``request`` through ``transport`` with a 2xx body handed to ``sink``: streamed where the transport
    can, else in one piece once it has arrived."""
    if streams(transport):
        return await cast(StreamingTransport, transport).stream(request, sink)
    return _handed_on(await transport.send(request), sink)


def streams(transport: Transport) -> bool:
    """Whether ``transport`` is a StreamingTransport. Asked of the class: a Mock answers to every attribute
    name, and would be taken to stream."""
    return getattr(type(transport), "stream", None) is not None


def _handed_on(raw: RawResponse, sink: Sink) -> RawResponse:
    if 200 <= raw.status < 300:
        sink(raw.headers)(raw.body)
        return raw._replace(body=b"")  # the same answer a streaming transport gives: the body went to the sink
    return raw


class BorrowedTransport:
    """A transport the caller passed in, seen by one client: closing the client closes only this view.

    Own only what you create: the transport stays open for its owner, while the client (and the copies
    ``with_options()`` makes of it, which share this view) refuses further calls.
    """

    def __init__(self, inner: Transport) -> None:
        self._inner = inner
        self._closed = False
        self._source = f"the transport= {type(inner).__name__}"  # what its answers' checks name

    @property
    def closed(self) -> bool:
        return self._closed or self._inner.closed

    def check_open(self) -> None:
        if self._closed:
            raise TransportError(CLOSED)
        self._inner.check_open()

    async def open(self) -> None:
        self.check_open()
        await self._inner.open()

    async def send(self, request: Request) -> RawResponse:
        self.check_open()
        return await answer_of(request, self._inner.send, self._source)

    async def stream(self, request: Request, sink: Sink) -> RawResponse:
        self.check_open()
        if not streams(self._inner):
            return _handed_on(await self.send(request), sink)
        inner = cast(StreamingTransport, self._inner)
        return await answer_of(request, lambda sent: inner.stream(sent, sink), self._source)

    async def aclose(self) -> None:
        self._closed = True


Handler = Callable[[Request], "RawResponse | Awaitable[RawResponse]"]


class MemoryTransport:
    """Answers every request with ``handler(request)`` (a function or coroutine function), in memory.

    ``requests`` lists what was sent, in order. The answers still go through the client's verification,
    so a handler must sign them as WeChat Pay would (or the test expects a SignatureError).

    A handler simulates the network failing by raising what a socket would: ``ConnectionRefusedError``
    (nothing was sent), another ``OSError`` (the request may have arrived) or ``TimeoutError``. The client
    then sees the TransportError the aiohttp transport gives for each, and retries as it would. Any
    other exception from the handler is a bug in the test and reaches the caller as it is.
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._closed = False
        self.requests: list[Request] = []

    @property
    def closed(self) -> bool:
        return self._closed

    def check_open(self) -> None:
        if self._closed:
            raise TransportError(CLOSED)

    async def open(self) -> None:
        self.check_open()

    async def send(self, request: Request) -> RawResponse:
        self.check_open()
        self.requests.append(request)
        return await answer_of(request, self._handler, "the MemoryTransport handler")

    async def aclose(self) -> None:
        self._closed = True


async def answer_of(request: Request, send: Handler, source: str) -> RawResponse:
    """``send(request)``'s answer, checked; a socket's failure it raises becomes the TransportError the aiohttp
    transport gives for it (``source``, for the message, names what sent it)."""
    try:
        answer = send(request)
        if inspect.isawaitable(answer):
            answer = await answer
    except TransportError:  # raised as the client would see it (a TimeoutError too)
        raise
    except (TimeoutError, asyncio.TimeoutError):  # the same class from Python 3.11
        raise TransportTimeoutError(f"{request.method} {request.template} timed out ({source})") from None
    except ConnectionRefusedError as exc:
        raise TransportError(f"{request.method} {request.template}: {exc}", connect_failed=True) from exc
    except OSError as exc:
        raise TransportError(f"{request.method} {request.template} failed ({type(exc).__name__})") from exc
    sent = "; it was handed the request, so treat that as sent"  # a bug of the transport's, after sending
    if not isinstance(answer, RawResponse):
        raise TypeError(f"{source} must return a RawResponse, not {type(answer).__name__}{sent}")
    status, headers, body = answer
    if type(status) is not int or not 100 <= status <= 599:
        raise TypeError(f"{source} returned the status {status!r}, not an int from 100 to 599{sent}")
    if type(body) is not bytes:
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError(f"{source} returned a {type(body).__name__} body, not the bytes received{sent}")
        answer = answer._replace(body=bytes(body))
    if isinstance(headers, Headers):
        return answer
    if not isinstance(headers, Mapping):
        raise TypeError(f"{source} returned {type(headers).__name__} headers, not Headers or a mapping{sent}")
    return answer._replace(headers=Headers(headers))  # a plain dict's names, looked up case-insensitively

