"""Client: the blocking twin of AsyncClient, running its own event loop on a background thread.

Callers on any thread hand coroutines to that loop and wait for them. Three rules keep every wait
finite: ``close()`` ends every call in flight (TransportError) before it stops the loop, a call made
from the loop thread itself (an on_request/on_response hook) is refused instead of waiting for itself,
and a forked child, which has no loop thread, starts one of its own on first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import ssl
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from ._aiohttp_transport import DEFAULT_MAX_BODY
from ._certificates import PlatformCertificate
from ._chain import Chain, root_chain
from ._client import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, AsyncClient, Attempt
from ._client_signs import ClientSignatures
from ._config import UNCHANGED, ClientConfig, Offload, Unchanged
from ._crypto import KeySource, PublicKeySource, make_nonce
from ._download import Downloadable, Progress, Target
from ._env import options_from_env
from ._errors import ConfigurationError, InvalidRequestError, TransportError
from ._http import Request, Response, Timeout
from ._loop_thread import closed_if_refused, keep_inherited, real_threads, serve, stop_when_collected, submit
from ._paging import blocking_pages
from ._process import current_pid, process_lock
from ._request import PreparedRequest
from ._retry import RetryPolicy
from ._signing import KeyStore
from ._tls import ClientCertSource
from ._transport import CLOSED, Transport
from ._typed._check import Validate
from ._uri import split_literal
from .notifications import Notification, NotificationHeaders, RecentNotifications, handle_notification_sync

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._typed._nodes import N_brand, N_hk, N_v2, N_v3
    from ._typed._options import ClientOptions

__all__ = ["Client"]

log = logging.getLogger("wxpay_chain")

_CLOSE_GRACE = 5.0  # seconds close() gives each stage (cut off, cancel) before it stops the loop anyway

_HOOK_CALL = (
    "The blocking Client was called from the client's own on_request/on_response hook thread; hooks must not "
    "make calls (they run on the client's event loop, which would wait for itself): record what you need and "
    "call from your own code"
)


class Client(ClientSignatures):
    """The blocking twin of :class:`AsyncClient`, with the same three call styles.

    It runs its own event loop on a background thread, so it works from plain scripts and from code
    that already runs an event loop (Jupyter, an async web app calling a sync library). Any number of
    threads may call it at once. A process forked from one that made it (gunicorn --preload, Celery,
    multiprocessing) gets its own loop thread and connections on first use. Hooks (``on_request``,
    ``on_response``) run on the loop thread and must not call the client.
    Use it as ``with Client(...) as client:`` or call :meth:`close`.
    """

    def __init__(
        self,
        *,
        mchid: str | None = None,
        brand_id: str | None = None,
        serial: str,
        private_key: KeySource,
        platform_keys: Mapping[str, PublicKeySource] | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        passphrase: str | bytes | None = None,
        pool_limit: int = 100,
        clock: Callable[[], float] = time.time,
        nonce_factory: Callable[[], str] = make_nonce,
        retry: RetryPolicy | int | None = None,
        backup_base_url: str | None = None,
        offload_crypto: Offload = "auto",
        on_request: Callable[[Request], None] | None = None,
        on_response: Callable[[Attempt], None] | None = None,
        apiv3_key: str | bytes | None = None,
        certificate_refresh: float = 12 * 3600,
        max_response_bytes: int = DEFAULT_MAX_BODY,
        transport: Transport | None = None,
        apiv2_key: str | None = None,
        client_cert: ClientCertSource | None = None,
        ssl_context: ssl.SSLContext | None = None,
        proxy: str | None = None,
        trust_env: bool = False,
        log_bodies: bool = False,
        session: None = None,
        validate: Validate = "strict",
    ) -> None:
        """The same parameters as :class:`AsyncClient`, typed (a type checker catches a misspelled one), but
        ``session=``, typed None: an aiohttp session belongs to one event loop, and this client runs its own."""
        if session is not None:
            raise ConfigurationError("Client runs its own event loop; pass session= to AsyncClient instead")
        real_threads()  # before the client starts any thread
        self._async = AsyncClient(
            mchid=mchid,
            brand_id=brand_id,
            serial=serial,
            private_key=private_key,
            platform_keys=platform_keys,
            base_url=base_url,
            timeout=timeout,
            passphrase=passphrase,
            pool_limit=pool_limit,
            clock=clock,
            nonce_factory=nonce_factory,
            retry=retry,
            backup_base_url=backup_base_url,
            offload_crypto=offload_crypto,
            on_request=on_request,
            on_response=on_response,
            apiv3_key=apiv3_key,
            certificate_refresh=certificate_refresh,
            max_response_bytes=max_response_bytes,
            transport=transport,
            apiv2_key=apiv2_key,
            client_cert=client_cert,
            ssl_context=ssl_context,
            proxy=proxy,
            trust_env=trust_env,
            log_bodies=log_bodies,
            validate=validate,
        )
        self._owner: Client | None = None  # set on copies made by with_options(): they run on its loop
        self._lock = threading.RLock()  # orders calls against close(), which a signal handler may call mid-call
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._closed = False
        self._stopped = threading.Event()  # set once close() has finished, for a second closer to wait on
        self._pid = current_pid()
        self._start_loop()

    def _start_loop(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=serve, args=(self._loop,), name="wxpay-chain-loop", daemon=True)
        self._thread.start()
        self._loop_thread: int | None = self._thread.ident
        if "_collected" in self.__dict__:  # after a fork: the parent's names the parent's loop
            self.__dict__["_collected"].detach()
        self._collected = stop_when_collected(self, self._loop, *self._async._leftovers)  # a Client never closed

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Unpack[ClientOptions]) -> Client:
        """A client from the WXPAY_* variables (README: "From the environment"); keywords win."""
        return cls(**options_from_env(environ, overrides))

    @property
    def async_client(self) -> AsyncClient:
        """The AsyncClient this client runs on its loop thread (its calls belong to that loop only)."""
        return self._async

    @property
    def mode(self) -> Literal["merchant", "brand"]:
        """"merchant" (mchid=) or "brand" (brand_id=): see :attr:`AsyncClient.mode`."""
        return self._async.mode

    @property
    def keys(self) -> KeyStore:
        """The verification keys, by Wechatpay-Serial."""
        return self._async.keys

    @property
    def certificates(self) -> tuple[PlatformCertificate, ...]:
        """The platform certificates downloaded so far (automatic mode or download_certificates())."""
        return self._async.certificates

    def prepare(
        self, method: str, template: str, args: tuple[Any, ...] = (), kwargs: Mapping[str, Any] | None = None
    ) -> PreparedRequest:
        """Check and encode a call without sending it; every local error is raised here."""
        return self._async.prepare(method, template, args, kwargs)

    def sign(self, prepared: PreparedRequest, origin: str | None = None) -> Request:
        """Sign a prepared call now (fresh timestamp and nonce): the Request that goes on the wire."""
        return self._async.sign(prepared, origin)

    def with_options(
        self,
        *,
        timeout: float | Timeout | Unchanged | None = UNCHANGED,
        base_url: str | Unchanged = UNCHANGED,
        retry: RetryPolicy | int | Unchanged | None = UNCHANGED,
        on_request: Callable[[Request], None] | Unchanged | None = UNCHANGED,
        on_response: Callable[[Attempt], None] | Unchanged | None = UNCHANGED,
        validate: Validate | Unchanged = UNCHANGED,
    ) -> Client:
        """A copy with other defaults that shares this client's keys, connection pool and loop thread; closing
        the copy leaves them to the original, and closing the original ends the copy's calls too. A setting
        given means what it means to the constructor (``timeout=None``: no limit); one left out stays."""
        derived: Client = object.__new__(type(self))
        derived._async = self._async.with_options(
            timeout=timeout, base_url=base_url, retry=retry, on_request=on_request, on_response=on_response,
            validate=validate,
        )
        derived._owner = self._owner or self
        return derived

    def _sign_config(self) -> ClientConfig:  # for ClientSignatures (sign_jsapi, sign_app...)
        return self._async._config

    def __repr__(self) -> str:
        return "<Client" + (repr(self._async)[len("<AsyncClient") :] if "_async" in vars(self) else " (not built)>")

    if TYPE_CHECKING:  # the typed chain (_typed/_nodes.pyi); at run time __getattr__ makes these Chains
        v2: N_v2[Response]
        v3: N_v3[Response]
        brand: N_brand[Response]
        hk: N_hk[Response]

    if not TYPE_CHECKING:  # the roots are typed above; to a type checker any other name is a mistake

        def __getattr__(self, name: str) -> Chain[Response]:
            if name.startswith("_") and not name.endswith("_"):
                raise AttributeError(name)
            # A with_options() copy keeps no roots: one made per call must not form a cycle.
            return root_chain(self, None if self._owner is not None else self.__dict__, name)

    def __getitem__(self, path: str) -> Chain[Response]:
        return Chain(self, split_literal(path))

    chain = __getitem__

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        if self._owner is not None:
            return self._owner._run(coro)
        if self._pid != current_pid():
            with closed_if_refused(coro):  # refused in a child that patched threads: the call never runs
                self._after_fork()
        if threading.get_ident() == self._loop_thread:
            coro.close()
            raise InvalidRequestError(_HOOK_CALL)
        # Made and held before the call is queued: an interrupt anywhere from here on reaches it (below).
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            with self._lock:
                if self._closed:
                    coro.close()
                    raise TransportError(CLOSED)
                self._pending.add(future)
                try:
                    submit(self._loop, coro, future)
                except RuntimeError:  # its loop closed meanwhile: close() ran in a signal handler of this thread
                    coro.close()
                    raise TransportError(CLOSED) from None
            if self._stopped.is_set():  # closed meanwhile by a signal handler of this thread, which missed this call
                future.cancel()
            return future.result()
        except concurrent.futures.CancelledError:
            if not self._closed:
                raise
            cut = "The call was cut off because the client was closed; one that changes something may have reached"
            raise TransportError(cut + " WeChat Pay: query it or resend it with the same request number") from None
        except BaseException:  # Ctrl-C, or a signal's time limit (Celery's): no later attempt may go out
            future.cancel()
            raise
        finally:
            self._pending.discard(future)

    def _after_fork(self) -> None:
        """In a forked child: the loop thread did not come along, so this copy starts a loop of its own. The
        transport then sees another process and loop, and opens fresh connections (see _transport)."""
        with process_lock("a forked child's loop"):  # its Clients start their own loops in turn
            if self._pid == current_pid():
                return
            real_threads()  # a child that patched since the fork (gunicorn --preload -k gevent): nothing changed yet
            keep_inherited(self._loop)
            self._lock = threading.RLock()
            self._pending = set()  # the parent's calls: its own threads wait for them
            self._stopped = threading.Event()
            self._loop_thread = None
            if self._closed:  # closed, or closing, in the parent: closed here too
                self._stopped.set()
            else:
                self._start_loop()
            self._pid = current_pid()

    def _dispatch(self, method: str, template: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Response:
        return cast(Response, self._run(self._async._dispatch(method, template, args, kwargs)))

    def _paginate(self, template: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[Any]:
        pages = self._async._paginate(template, args, kwargs)
        return blocking_pages(pages, self._run, lambda: (self._owner or self)._closed)

    def download_certificates(self) -> tuple[PlatformCertificate, ...]:
        """Blocking :meth:`AsyncClient.download_certificates`."""
        return cast(tuple[PlatformCertificate, ...], self._run(self._async.download_certificates()))

    def parse_notification(self, headers: NotificationHeaders, body: bytes | str) -> Notification:
        """Blocking :meth:`AsyncClient.parse_notification`."""
        return cast(Notification, self._run(self._async.parse_notification(headers, body)))

    def handle_notification(
        self, headers: NotificationHeaders, body: bytes | str, callback: Callable[[Notification], None],
        *, recent: RecentNotifications | None = None,
    ) -> tuple[int, bytes]:
        """Verify, decrypt and hand a notification to ``callback`` on this thread: the (status, body) to
        answer, e.g. ``client.handle_notification(request.META, request.body, on_event)`` in Django."""
        return handle_notification_sync(self, headers, body, callback, recent=recent)

    def encrypt(self, text: str) -> str:
        """Encrypt a sensitive field for WeChat Pay (RSA-OAEP); see :meth:`AsyncClient.encrypt`."""
        return self._async.encrypt(text)

    def decrypt(self, ciphertext: str) -> str:
        """Decrypt a sensitive field WeChat Pay encrypted for this merchant (RSA-OAEP, merchant key)."""
        return self._async.decrypt(ciphertext)

    @overload
    def download(
        self, answer: Downloadable, to: None = None, *, hash_type: str | None = None,
        hash_value: str | None = None, progress: Progress | None = None,
    ) -> bytes: ...
    @overload
    def download(
        self, answer: Downloadable, to: Target, *, hash_type: str | None = None, hash_value: str | None = None,
        progress: Progress | None = None,
    ) -> Path: ...
    def download(
        self, answer: Downloadable, to: Target | None = None, *, hash_type: str | None = None,
        hash_value: str | None = None, progress: Progress | None = None,
    ) -> bytes | Path:
        """Blocking :meth:`AsyncClient.download` (``progress`` is called on the client's loop thread)."""
        coro = self._async.download(answer, to, hash_type=hash_type, hash_value=hash_value, progress=progress)
        result: bytes | Path = self._run(coro)
        return result

    def close(self) -> None:
        """Close the connection pool and stop the background loop; every call in flight ends with TransportError.
        Idempotent, and safe from any thread: a second caller waits until the first has finished. A copy made
        by :meth:`with_options` leaves everything to its original."""
        if self._owner is not None:
            return
        if self._pid != current_pid():
            self._after_fork()
        if threading.get_ident() == self._loop_thread:
            raise InvalidRequestError(_HOOK_CALL)
        with self._lock:
            first, self._closed = not self._closed, True
        if not first:
            self._stopped.wait()
            return
        try:
            self._shutdown()
        finally:
            self._collected.detach()  # closed: neither collection nor exit has anything left to let go of
            self._stopped.set()

    def _shutdown(self) -> None:
        loop, thread = self._loop, self._thread
        finished = asyncio.run_coroutine_threadsafe(self._finish(), loop)
        try:
            finished.result(timeout=3 * _CLOSE_GRACE)
        except Exception as exc:  # a hook that blocks the loop, say: the callers are released below anyway
            log.warning("closing the client did not finish cleanly: %s: %s", type(exc).__name__, exc)
        for future in list(self._pending):  # nothing may wait past close(), whatever the loop did
            future.cancel()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_CLOSE_GRACE)
        if not thread.is_alive():
            loop.close()
        self._loop_thread = None

    async def _finish(self) -> None:
        # The network first: a call waiting for an answer ends with the transport's TransportError, and one
        # whose answer is already here still returns it.
        try:
            await asyncio.wait_for(self._async.aclose(), _CLOSE_GRACE)
        except Exception as exc:
            log.warning("closing the connection pool failed: %s: %s", type(exc).__name__, exc)
        # Then whatever still waits (a retry delay, a signature, a free connection) is cancelled; its
        # caller gets TransportError from _run.
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_CLOSE_GRACE)
        await asyncio.get_running_loop().shutdown_asyncgens()  # unfinished pagination

    def __enter__(self) -> Client:
        self._run(asyncio.sleep(0))  # a closed client refuses here, as each of its calls would
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
