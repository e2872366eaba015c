"""The aiohttp Transport, the only module that talks to aiohttp's client: ``send(Request) -> RawResponse``.

The URL is handed to aiohttp pre-encoded (``yarl.URL(..., encoded=True)``) and the body as the exact
bytes that were signed, so nothing is re-quoted or re-serialised on the way out.

A session is bound to the event loop and the process it was made in. The transport notices when it is
used from another loop (two ``asyncio.run()`` in a row) or from a forked child, and then lets the old
session go without any I/O on its sockets and opens a fresh one: a child must never send on, read
from, or close (TLS close_notify) a connection its parent still uses, or answers reach the wrong request.
"""

from __future__ import annotations

import asyncio
import io
import ssl
import weakref
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from ._abandon import abandon as _abandon
from ._errors import (
    MAX_ERROR_BODY,
    ConfigurationError,
    InvalidRequestError,
    ResponseTooLargeError,
    TLSError,
    TransportError,
    TransportTimeoutError,
    may_have_run,
)
from ._http import Request, multidict_view, plain_encoding
from ._process import current_pid, process_lock
from ._proxy import ProxySetting, Route, proxied, proxy_from_environment, route
from ._tls import ClientCertificate, security_context
from ._transport import CLOSED, RawResponse, Sink
from ._user_session import PER_REQUEST, check_session, closed_session, foreign_loop

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

__all__ = ["DEFAULT_MAX_BODY", "AiohttpTransport"]

DEFAULT_MAX_BODY = 16 * 1024 * 1024
"""The most bytes of a 2xx answer's (decompressed) body the transport reads before giving up."""
_CHUNK = 64 * 1024
_CONNECT_TIMEOUT = aiohttp.ConnectionTimeoutError  # a timeout before any connection: nothing was sent

class AiohttpTransport:
    """Sends requests through one pooled ``aiohttp.ClientSession``.

    It closes the session only if it created it: a session passed in stays the caller's (and keeps aiohttp's
    own resend of a GET/PUT/DELETE whose connection drops, which ``retry=`` does not count), and is never
    replaced; using it from another event loop or after ``fork()`` raises TransportError.

    ``max_body`` caps the decompressed body of a 2xx answer (ResponseTooLargeError past it); an error
    answer's body is read up to MAX_ERROR_BODY bytes and cut there.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        pool_limit: int = 100,
        max_body: int = DEFAULT_MAX_BODY,
        proxy: ProxySetting | None = None,
        trust_env: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        client_cert: ClientCertificate | None = None,
    ) -> None:
        if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1:
            raise ValueError("max_body must be a positive number of bytes")
        # Every request names its proxy (certificate downloads too): proxy=, or with trust_env the one the
        # environment gives its origin, read once per origin (see _proxy). Credentials travel only in the
        # Proxy-Authorization header, never in a URL aiohttp could quote in an error.
        self._proxy = route(proxy)
        self._from_env = trust_env and proxy is None
        self._env_routes: dict[tuple[str, str], Route] = {}
        # ssl_context: whom every connection trusts. APIv2 security calls present the merchant certificate
        # from a second context (made on first use); aiohttp pools connections per context, so none is shared.
        self._trust: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._client_cert = client_cert
        self._security: ssl.SSLContext | None = None
        if session is not None:
            check_session(session)
        self._session = session
        self._owns_session = session is None
        self._per_request = {} if session is None else PER_REQUEST  # what a session passed in is told each time
        self._pool_limit = pool_limit
        self._max_body = max_body
        self._closed = False
        # Where the session lives: a session passed in is bound to the loop of its first use.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = current_pid()
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}
        self._reading: weakref.WeakSet[aiohttp.ClientResponse] = weakref.WeakSet()  # answers being read now

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def max_body(self) -> int:
        return self._max_body

    def check_open(self) -> None:
        """Raise TransportError if no request can be sent from here: a closed client, or a pool that cannot
        serve this event loop or process (called before signing, so that such a call is not retried)."""
        if self._closed:
            raise TransportError(CLOSED)
        if self._session is not None:
            if not self._owns_session and self._session.closed:
                raise closed_session()
            loop = asyncio._get_running_loop()
            if loop is not None and (loop is not self._loop or self._pid != current_pid()):
                self._ensure_session()

    def _ensure_session(self) -> aiohttp.ClientSession:
        # Two threads' loops making a fresh client's pool at once: one makes it, the other is told it
        # belongs to another loop (not given a second pool that nothing would close).
        with process_lock("a client's pool"):
            return self._bound_session()

    def _bound_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise TransportError(CLOSED)
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and (self._pid != current_pid() or self._loop is not loop):
            session = self._rebind(session, loop)
        if session is None:
            connector = _Connector(limit=self._pool_limit, ttl_dns_cache=300)
            # No cookie jar: APIv3 is stateless, and a cookie an answer set would ride on signed requests unsigned.
            jar = aiohttp.DummyCookieJar()
            session = self._session = aiohttp.ClientSession(connector=connector, auto_decompress=True, cookie_jar=jar)
            if hasattr(session, "_retry_connection"):  # else aiohttp resends a GET/PUT/DELETE that retry= never sees
                session._retry_connection = False
            self._loop, self._pid = loop, current_pid()
        return session

    def _rebind(self, session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession | None:
        """The session to use from ``loop`` in this process, or None when a fresh one must be made."""
        forked = self._pid != current_pid()
        if not self._owns_session:
            if forked:
                raise TransportError(
                    "This process was forked from the one that made the session= passed to the client; its "
                    "connections are shared with the parent. Create the client (and its session) after the fork"
                )
            if self._loop is None and not foreign_loop(session, loop):  # first use of a session passed in
                self._loop = loop
                return session
            raise TransportError(
                "The session= passed to the client belongs to another event loop; an aiohttp session serves the "
                "loop it was made in: create the session and the client in each event loop that sends requests"
            )
        old = self._loop
        if forked:
            if old is loop:
                raise TransportError(
                    "This process was forked while its event loop was running and goes on in the parent's copy of "
                    "that loop, which shares its sockets and event queue with the parent. Start a new event loop "
                    "in the child (asyncio.run) or create the client after the fork"
                )
        elif old is not None and not old.is_closed():
            raise TransportError(
                "This client's connection pool belongs to another event loop that is still open; a client serves "
                "one event loop at a time: create one client per event loop, or close the first loop before "
                "using the client in another"
            )
        # The parent's connections (after fork) or a dead loop's: let go of them without I/O.
        _abandon(session)
        self._session = None
        return None

    async def open(self) -> None:
        self._ensure_session()

    async def stream(self, request: Request, sink: Sink) -> RawResponse:
        return await self.send(request, sink)

    async def send(self, request: Request, sink: Sink | None = None) -> RawResponse:
        session = self._session
        here = self._pid == current_pid() and self._loop is asyncio.get_running_loop()
        if session is None or self._closed or not here:
            session = self._ensure_session()
        if not self._owns_session and session.closed:
            raise closed_session(request)
        limits = request.timeout
        key = (limits.total, limits.connect)  # a plain tuple hashes in C; the attrs class would call Python
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(total=limits.total, connect=limits.connect)
            if len(self._timeouts) < 64:  # a program uses a handful of timeouts; never let this grow
                self._timeouts[key] = timeout
        url = URL(request.url, encoded=True)
        if url.raw_path_qs != request.target:  # the last guard of "what is signed is what is sent"
            raise InvalidRequestError(
                f"{_where(request)} would go on the wire as {url.raw_path_qs!r}, not as signed",
                [("path", "pass query values in query= and path values as parameters")],
            )
        proxy, proxy_headers = self._env_route(url) if self._from_env else self._proxy
        headers = request.headers.items_list()
        if proxy_headers is not None:
            headers = proxied(headers, url, proxy_headers)
        body = request.body
        # Only what differs from aiohttp's defaults: every keyword goes through two **kwargs dicts on its way
        # to the request, and a call without a body, proxy or TLS setting (the common one) needs none.
        options: dict[str, Any] = {**self._per_request}
        if body:
            options["data"] = body if len(body) <= _INLINE_BODY else io.BytesIO(body)
        if proxy is not None:
            options["proxy"], options["proxy_headers"] = proxy, proxy_headers
        if request.security:
            options["ssl"] = self._security_context(request)
        elif self._trust is not True:
            options["ssl"] = self._trust
        answered: aiohttp.ClientResponse | None = None  # once the answer's head is in: its Request-ID helps support
        try:
            async with session.request(
                request.method, url, headers=headers, timeout=timeout, allow_redirects=False, **options
            ) as response:
                answered = response
                self._reading.add(response)
                status, answer = response.status, response.headers
                if status == 407 and proxy is not None and url.scheme == "http":  # the proxy answered, not WeChat Pay
                    raise TransportError(
                        f"{_where(request)}: the proxy refused the request (407, its credentials); nothing was sent",
                        connect_failed=True,
                    )
                ok = 200 <= status < 300
                if sink is not None and ok:
                    body = await _pipe(response, sink)
                elif _whole(response, answer, cap := self._max_body if ok else MAX_ERROR_BODY):
                    body = await response.read()  # the common case: the parser stops at Content-Length
                else:
                    body = await _read(response, request, ok, cap)
                return RawResponse(status, multidict_view(answer), body)  # lookups stay in multidict's C code
        except asyncio.CancelledError:
            # Closing the pool cancels the calls waiting for one of its connections; the caller's own task
            # was not cancelled, so it gets the closed client's TransportError like every other call.
            cancelling = getattr(asyncio.current_task(), "cancelling", None)  # Python 3.11+
            if self._closed and (cancelling is None or not cancelling()):
                raise _closed_on(request) from None
            raise
        except asyncio.TimeoutError as exc:
            if isinstance(exc, _CONNECT_TIMEOUT):  # no connection was made: nothing was sent
                raise TransportTimeoutError(
                    f"{_where(request)}: no connection within {_seconds(limits.connect)}; nothing was sent",
                    connect_failed=True,
                ) from None
            took = _seconds(limits.total)
            doubt = may_have_run(request.method, "may have reached WeChat Pay")
            raise TransportTimeoutError(
                f"{_where(request)} timed out after {took}{doubt}", request_id=_request_id(answered)
            ) from None
        except aiohttp.ClientSSLError as exc:  # before its base class: a handshake that failed fails again
            raise TLSError(f"{_where(request)}: the TLS handshake with {exc.host}:{exc.port} failed ({exc})") from exc
        except aiohttp.ClientConnectorError as exc:
            reason = str(exc.os_error) or type(exc.os_error).__name__  # a reset in the TLS handshake has no text
            raise TransportError(
                f"{_where(request)}: cannot connect to {exc.host}:{exc.port} ({reason})", connect_failed=True
            ) from exc
        except aiohttp.ClientError as exc:
            failed = _failed(request, url, exc, self._closed, _request_id(answered))
            # An error about an answer (a proxy's refused CONNECT, among others) holds the request's headers,
            # a proxy's credentials among them: it is raised below, outside this handler, so that not even
            # its context keeps it.
            if not isinstance(exc, aiohttp.ClientResponseError):
                raise failed from exc
        raise failed  # reached only for an error about an answer: every other path returns or raises

    def _security_context(self, request: Request) -> ssl.SSLContext:
        if self._security is None:
            if self._client_cert is None:
                raise ConfigurationError(
                    f"{_where(request)} presents the merchant API certificate: pass client_cert= to the client"
                )
            trust = self._trust if isinstance(self._trust, ssl.SSLContext) else None
            self._security = security_context(self._client_cert, trust)
        return self._security

    def _env_route(self, url: URL) -> Route:
        key = (url.scheme, url.host or "")
        found = self._env_routes.get(key)
        if found is None:
            found = route(proxy_from_environment(*key))
            if len(self._env_routes) < 64:  # a client talks to a handful of origins
                self._env_routes[key] = found
        return found

    async def aclose(self) -> None:
        self._closed = True
        session = self._session
        if not self._owns_session or session is None:
            return
        loop = self._loop
        if self._pid != current_pid() or loop is None or loop.is_closed():
            _abandon(session)  # the parent's connections, or a dead loop's: no I/O on them
        elif loop is asyncio.get_running_loop():
            await self._shut(session)
        elif loop.is_running():  # closed from another loop: the session is closed on its own
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._shut(session), loop))
        # else its loop is stopped but open: only that loop may close its sockets, so they stay as they are

    async def _shut(self, session: aiohttp.ClientSession) -> None:
        for response in list(self._reading):  # a body still arriving: closing the session leaves it be
            response.close()
        await session.close()


class _Connector(aiohttp.TCPConnector):
    """A pool that never hands out a connection on which bytes arrived while it sat idle: an answer to no
    request (a proxy's duplicate, a replay), which the next request would read as its own. Go's net/http
    closes such a connection too."""

    async def _get(self, *args: Any, **kwargs: Any) -> Any:  # aiohttp's private pool lookup (3.11+)
        while (connection := await super()._get(*args, **kwargs)) is not None:
            protocol = connection.protocol
            if protocol is None or not protocol.should_close:  # should_close: unread bytes, among others
                return connection
            connection.close()
        return None


def _closed_on(request: Request) -> TransportError:
    doubt = may_have_run(request.method, "may have reached WeChat Pay")  # closing does not unsend it
    return TransportError(f"{_where(request)} was cut off because the client was closed{doubt}")


def _seconds(limit: float | None) -> str:
    return "its time" if limit is None else f"{limit:.3g} s"  # what is left of a deadline is no round number


# aiohttp warns that a large bytes body blocks the loop while it is written; an upload streams instead.
_INLINE_BODY = 1024 * 1024


def _whole(response: aiohttp.ClientResponse, headers: CIMultiDictProxy[str], cap: int) -> bool:
    """Whether the body can be read in one piece: a Content-Length within the cap, and no encoding that
    could inflate it past the cap."""
    length = response.content_length
    encodings = headers.getall("Content-Encoding", ())
    return length is not None and length <= cap and (not encodings or plain_encoding(encodings))


async def _read(response: aiohttp.ClientResponse, request: Request, ok: bool, cap: int) -> bytes:
    """The body, never reading more than the cap: a small gzip body can inflate to gigabytes."""
    length = response.content_length  # send() has read the body whole when it could
    if ok and length is not None and length > cap and request.method != "HEAD":  # HEAD: a length, no body
        raise ResponseTooLargeError(cap, method=request.method, path=request.target)
    # One byte past the cap is read to know there is more: then a 2xx answer is refused, and an error
    # body is kept cut (ApiError.body_truncated). The rest is never read; the connection is not reused.
    content = response.content
    body = bytearray()
    while len(body) <= cap:
        chunk = await content.read(min(_CHUNK, cap + 1 - len(body)))
        if not chunk:
            break
        body += chunk
    if ok and len(body) > cap:
        raise ResponseTooLargeError(cap, method=request.method, path=request.target)
    return bytes(body)


async def _pipe(response: aiohttp.ClientResponse, sink: Sink) -> bytes:
    """A 2xx body handed on chunk by chunk, never held whole: ``max_body`` is then the sink's business."""
    write = sink(multidict_view(response.headers))
    async for chunk in response.content.iter_chunked(_CHUNK):
        write(chunk)
    return b""


def _request_id(answer: aiohttp.ClientResponse | None) -> str | None:
    return None if answer is None else answer.headers.get("Request-ID")


def _failed(request: Request, url: URL, exc: aiohttp.ClientError, closed: bool, answer: str | None) -> TransportError:
    if isinstance(exc, aiohttp.ClientHttpProxyError):  # no tunnel: nothing reached WeChat Pay; a backup may
        return TransportError(
            f"{_where(request)}: the proxy did not connect to {url.host}:{url.port} ({exc.status} {exc.message}); "
            "nothing was sent",
            connect_failed=True,
        )
    if closed:
        return _closed_on(request)
    cut = f"{_where(request)} failed before a complete answer arrived ({type(exc).__name__}: {exc})"
    return TransportError(cut + may_have_run(request.method, "may have reached WeChat Pay"), request_id=answer)


def _where(request: Request) -> str:
    return f"{request.method} {request.target}"
