"""AsyncClient: the three call styles over one pipeline, and the loop that drives each call through it.

prepare (pure, ``_prepare``) → sign (inline, or on a worker) → send (a ``Transport``) → verify (the
``Verifier``), or raise ApiError; retried by ``RetryPolicy`` within the call's deadline.
"""

from __future__ import annotations

import copy
import ssl
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import aiohttp

from ._aiohttp_transport import DEFAULT_MAX_BODY, AiohttpTransport
from ._authorize import Authorizer
from ._certificates import PlatformCertificate
from ._chain import Chain, root_chain
from ._client_signs import ClientSignatures
from ._config import UNCHANGED, ClientConfig, Offload, Unchanged
from ._crypto import KeySource, PublicKeySource, make_nonce, rsa_oaep_decrypt, rsa_oaep_encrypt
from ._download import Downloadable, Progress, Target, download
from ._env import options_from_env
from ._errors import ConfigurationError, InvalidRequestError
from ._http import Attempt, Request, Response, Timeout
from ._paging import paginate
from ._pipeline import Pipeline
from ._prepare import prepare as prepare_call
from ._protocols import protocols
from ._request import DEFAULT_BASE_URL, EncryptedField, PreparedRequest, parse_base_url
from ._retry import RetryPolicy
from ._signing import (
    KeyStore,
)
from ._tls import ClientCertSource
from ._transport import BorrowedTransport, Transport
from ._typed._check import Validate
from ._uri import split_literal
from ._verifier import Verifier
from .notifications import (
    Notification,
    NotificationHeaders,
    OnNotification,
    RecentNotifications,
    handle_notification,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._typed._nodes import N_brand, N_hk, N_v2, N_v3
    from ._typed._options import AsyncClientOptions

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "AsyncClient", "Attempt"]

DEFAULT_TIMEOUT = Timeout()


class AsyncClient(ClientSignatures):
    """The asynchronous WeChat Pay client.

    Exactly one of ``mchid`` (merchant API) or ``brand_id`` (brand API, ``brand/`` paths) is given.
    ``private_key`` is PEM text or bytes, one line of base64 DER, DER bytes, a ``file://`` URL, a path, or
    a key object. ``platform_keys`` maps each ``Wechatpay-Serial`` (a ``PUB_KEY_ID_...`` or a platform
    certificate serial) to its key, in the same forms or as a certificate object.

    ``max_response_bytes`` caps what is read of an answer (16 MiB by default; ResponseTooLargeError past it).
    ``transport`` replaces the aiohttp one (see :class:`Transport`, e.g. a :class:`MemoryTransport` in tests);
    it stays its owner's: :meth:`aclose` closes only this client's view of it. ``session`` (an aiohttp
    ``ClientSession`` of one's own, never closed here) keeps aiohttp's own silent resend of a GET, PUT or
    DELETE whose connection drops, which ``retry`` neither counts nor logs. ``proxy`` (``http://user:pass@host:3128``)
    and ``trust_env`` (HTTPS_PROXY, NO_PROXY) route every request through a proxy; ``log_bodies`` logs bodies at DEBUG.
    APIv2 (``v2/...`` chains, and the coupon plugin and H5 signs) uses ``apiv2_key`` (32 characters);
    ``security=True`` calls present ``client_cert`` (apiclient_cert.pem, or a .p12 with ``passphrase``).
    ``ssl_context`` sets whom every connection trusts (a private CA, a TLS-inspecting proxy's CA).

    ``offload_crypto`` says where the RSA signature of each request is computed: ``"auto"`` (default) on a
    worker thread while other calls are in flight, and inline for a lone call or when that thread is
    three signatures behind (then both cores sign); ``"always"`` on the thread; ``"never"`` inline;
    ``"process"`` in a child process while calls overlap, started on first use (POSIX only; the child
    gets a copy of the key through a pipe and is stopped by :meth:`aclose`).

    Use it as ``async with AsyncClient(...) as client:`` or call :meth:`aclose` when done.
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
        session: aiohttp.ClientSession | None = None,
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
        validate: Validate = "strict",
    ) -> None:
        config = ClientConfig.build(
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
            apiv2_key=apiv2_key,
            client_cert=client_cert,
            ssl_context=ssl_context,
            proxy=proxy,
            trust_env=trust_env,
            log_bodies=log_bodies,
            validate=validate,
        )
        # What is not configuration is made here once, and shared by every with_options() copy: the
        # transport, the signing worker (close() of this client stops it) and the verifier (a certificate
        # one of them downloads serves them all).
        self._transport = transport = _transport_for(config, session, transport)
        self._authorizer = Authorizer(config)
        self._verifier = Verifier.of(config)
        self._pipeline = Pipeline(config, transport, protocols(self._authorizer, self._verifier, config.apiv2_key))
        self._derived: AsyncClient | None = None  # in a with_options() copy: its original, kept alive by it
        # Dropped without aclose(), what holds no code of the caller's (a hook, a clock, a transport= could
        # refer back to the client and keep it alive through a finalizer) is let go of all the same.
        own_pool = isinstance(transport, AiohttpTransport) and session is None
        self._leftovers = self._authorizer.worker_closer(), transport if own_pool else None
        if self._leftovers[0] is not None:  # the signing worker, which holds the private key
            weakref.finalize(self, self._leftovers[0]).atexit = False
        self._apply(config)

    def _apply(self, config: ClientConfig) -> None:
        self._config = config
        self._defaults = config.defaults  # read on every call

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Unpack[AsyncClientOptions]
    ) -> AsyncClient:
        """A client from the WXPAY_* variables (README: "From the environment"); keywords win."""
        return cls(**options_from_env(environ, overrides))

    # -- identity --------------------------------------------------------------------------------
    @property
    def mode(self) -> Literal["merchant", "brand"]:
        """"merchant" (mchid=, the merchant API) or "brand" (brand_id=, the brand API and brand/ paths)."""
        return self._config.signer.mode

    @property
    def keys(self) -> KeyStore:
        """The verification keys, by Wechatpay-Serial."""
        return self._verifier.keys

    def _sign_config(self) -> ClientConfig:  # for ClientSignatures (sign_jsapi, sign_app...)
        return self._config

    def __repr__(self) -> str:
        if "_verifier" not in self.__dict__:  # mid-construction (a traceback's locals): nothing to show yet
            return "<AsyncClient (not built)>"
        who = "mchid" if self._config.signer.mode == "merchant" else "brand_id"
        return (
            f"<AsyncClient {who}={self._config.signer.identity!r} serial={self._config.signer.serial!r} "
            f"base_url={''.join(self._defaults.origin_prefix)!r} keys={list(self._verifier.keys)!r}>"
        )

    # -- the three call styles -------------------------------------------------------------------
    if TYPE_CHECKING:  # the typed chain (_typed/_nodes.pyi); at run time __getattr__ makes these Chains
        v2: N_v2[Coroutine[Any, Any, Response]]
        v3: N_v3[Coroutine[Any, Any, Response]]
        brand: N_brand[Coroutine[Any, Any, Response]]
        hk: N_hk[Coroutine[Any, Any, Response]]

    if not TYPE_CHECKING:  # the roots are typed above; to a type checker any other name is a mistake

        def __getattr__(self, name: str) -> Chain[Coroutine[Any, Any, Response]]:
            if name.startswith("_") and not name.endswith("_"):
                raise AttributeError(name)  # before reading self._derived, which may not exist yet
            # client.v3 etc. become attributes, so that a whole chain is plain attribute reads from the second
            # call on (see Chain.__getattr__). A with_options() copy keeps none: one made per call must not
            # form a cycle.
            return root_chain(self, None if self._derived else self.__dict__, name)

    def __getitem__(self, path: str) -> Chain[Coroutine[Any, Any, Response]]:
        return Chain(self, split_literal(path))

    def chain(self, path: str) -> Chain[Coroutine[Any, Any, Response]]:
        """A chain from literal template text: ``client.chain("v3/certificates")``."""
        return self[path]

    # -- lifecycle -------------------------------------------------------------------------------
    async def __aenter__(self) -> AsyncClient:
        await self._transport.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool if this client created it. Calls in flight end with TransportError.

        A client made by :meth:`with_options` shares its parent's pool and leaves it open.
        """
        if self._derived:
            return
        self._verifier.closing()
        try:
            await self._transport.aclose()
            self._pipeline.closing()
        finally:
            self._authorizer.close()  # the signing worker holds the private key: it stops whatever happened

    def with_options(
        self,
        *,
        timeout: float | Timeout | Unchanged | None = UNCHANGED,
        base_url: str | Unchanged = UNCHANGED,
        retry: RetryPolicy | int | Unchanged | None = UNCHANGED,
        on_request: Callable[[Request], None] | Unchanged | None = UNCHANGED,
        on_response: Callable[[Attempt], None] | Unchanged | None = UNCHANGED,
        validate: Validate | Unchanged = UNCHANGED,
    ) -> AsyncClient:
        """A copy with other defaults that shares this client's keys and connection pool.

        ``client.with_options(timeout=5, retry=1).v3...`` never changes ``client`` itself; closing the
        copy leaves the pool to the original. A setting given means what it means to the constructor
        (``timeout=None``: no limit; ``on_request=None``: no hook); one left out stays as it is.
        """
        derived = copy.copy(self)
        derived._derived = self._derived or self
        for name, value in vars(self).items():
            if isinstance(value, Chain):  # the parent's roots dispatch to the parent
                del derived.__dict__[name]
        config = self._config.derive(
            timeout=timeout, base_url=base_url, retry=retry, on_request=on_request, on_response=on_response,
            validate=validate,
        )
        derived._apply(config)
        derived._pipeline = self._pipeline.derive(config)
        return derived

    # -- the pipeline ----------------------------------------------------------------------------
    def _dispatch(
        self, method: str, template: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Coroutine[Any, Any, Response]:
        return self._pipeline.call(prepare_call(self._defaults, method, template, args, kwargs))

    def prepare(
        self, method: str, template: str, args: tuple[Any, ...] = (), kwargs: Mapping[str, Any] | None = None
    ) -> PreparedRequest:
        """Check and encode a call without sending it; every local error is raised here."""
        return prepare_call(self._defaults, method, template, args, kwargs)

    def sign(self, prepared: PreparedRequest, origin: str | None = None) -> Request:
        """Sign a prepared call now (fresh timestamp and nonce): the Request that goes on the wire."""
        return self._authorizer.sign(prepared, None if origin is None else _origin(origin))

    def _paginate(self, template: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> AsyncGenerator[Any, None]:
        return paginate(self._dispatch, template, args, kwargs)

    # -- platform certificates -------------------------------------------------------------------
    @property
    def certificates(self) -> tuple[PlatformCertificate, ...]:
        """The platform certificates downloaded so far (automatic mode or download_certificates())."""
        return self._verifier.certificates

    async def download_certificates(self) -> tuple[PlatformCertificate, ...]:
        """GET v3/certificates, decrypt each certificate with the APIv3 key, verify the answer with the
        certificates it carries, and add them to this client's verification keys."""
        return await self._verifier.download(self._pipeline.certificates)

    # -- notifications and sensitive fields --------------------------------------------------------
    async def parse_notification(self, headers: NotificationHeaders, body: bytes | str) -> Notification:
        """Verify a notification's signature and decrypt its resource with the APIv3 (or brand API) key."""
        return await self._verifier.notification(headers, body, self._pipeline.certificates)

    async def handle_notification(
        self, headers: NotificationHeaders, body: bytes | str, callback: OnNotification,
        *, recent: RecentNotifications | None = None,
    ) -> tuple[int, bytes]:
        """Verify, decrypt, hand to ``callback``: the (status, body) to answer (:mod:`wxpay_chain.notifications`)."""
        return await handle_notification(self, headers, body, callback, recent=recent)

    def encrypt(self, text: str) -> str:
        """Encrypt a sensitive field (name, ID number…) for WeChat Pay with RSA-OAEP.

        The result remembers which key it was made for: a request carrying it in ``json=``, ``query=`` or an
        upload's meta sends the matching ``Wechatpay-Serial`` by itself.
        """
        if not isinstance(text, str):
            why = f"a str, not {type(text).__name__}"
            raise InvalidRequestError("encrypt() takes the field's text", [("text", why)])
        serial = self._verifier.encryption_serial(self._defaults.pub_key_id)
        return EncryptedField(rsa_oaep_encrypt(self._verifier.keys[serial], text), serial)

    def decrypt(self, ciphertext: str) -> str:
        """Decrypt a sensitive field WeChat Pay encrypted for this merchant (RSA-OAEP, merchant key)."""
        if not isinstance(ciphertext, (str, bytes)):
            why = f"its base64 text, not {type(ciphertext).__name__}"
            raise InvalidRequestError("decrypt() takes the field's ciphertext", [("ciphertext", why)])
        return rsa_oaep_decrypt(self._config.signer.key, ciphertext)

    @overload
    async def download(
        self, answer: Downloadable, to: None = None, *, hash_type: str | None = None,
        hash_value: str | None = None, progress: Progress | None = None,
    ) -> bytes: ...
    @overload
    async def download(
        self, answer: Downloadable, to: Target, *, hash_type: str | None = None, hash_value: str | None = None,
        progress: Progress | None = None,
    ) -> Path: ...
    async def download(
        self,
        answer: Downloadable,
        to: Target | None = None,
        *,
        hash_type: str | None = None,
        hash_value: str | None = None,
        progress: Progress | None = None,
    ) -> bytes | Path:
        """A bill (or another file WeChat Pay gives a download_url and a hash for), checked against its hash:
        its bytes, or streamed to ``to`` and the path returned; ``progress(received, total or None)`` is told
        each chunk's arrival. README: "Downloading bills"."""
        checks = {"hash_type": hash_type, "hash_value": hash_value}
        return await download(self._pipeline, self._config, answer, to, **checks, progress=progress)


def _transport_for(config: ClientConfig, session: aiohttp.ClientSession | None, given: Transport | None) -> Transport:
    if given is None:
        return AiohttpTransport(
            session,
            pool_limit=config.pool_limit,
            max_body=config.max_response_bytes,
            proxy=config.proxy,
            trust_env=config.trust_env,
            ssl_context=config.ssl_context,
            client_cert=config.client_cert,
        )
    if session is not None:
        raise ConfigurationError("Pass session= or transport=, not both (a session belongs to the aiohttp one)")
    if config.proxy is not None or config.trust_env or config.ssl_context is not None:
        raise ConfigurationError(
            "proxy=, trust_env= and ssl_context= set up the aiohttp transport; a transport= sends on its own"
        )
    if not isinstance(given, Transport):
        raise ConfigurationError("transport must have closed, check_open(), open(), send() and aclose()")
    return BorrowedTransport(given)  # the caller's: aclose() leaves it open


def _origin(origin: object) -> str:
    """sign()'s ``origin=``: scheme://host[:port], parsed as base_url is; the path is the prepared call's."""
    try:
        given, path = parse_base_url(origin, name="origin")
    except ConfigurationError as exc:
        raise InvalidRequestError("Bad origin", [("origin", str(exc))]) from None
    if path != "/":
        raise InvalidRequestError("Bad origin", [("origin", f"no path ({path!r}): the prepared call's target has it")])
    return given
