"""AsyncClient and its blocking twin Client: credentials, keys, one transport, the request pipeline.

Pipeline of one call: split options from path values → validate (typed endpoints) → expand the
template and encode the query once → serialise the body once → sign exactly those bytes → send →
verify the answer's signature (2xx) or raise ApiError.
"""

from __future__ import annotations

import asyncio
import copy
import json as _json
import logging
import platform
import threading
import time
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterator, Mapping
from datetime import datetime, timezone
from functools import lru_cache
from types import ModuleType
from typing import Any, Literal, NamedTuple

import aiohttp
import attrs
from yarl import URL

from ._certificates import PlatformCertificate, decrypt_certificates
from ._chain import Chain, root_chain
from ._crypto import KeySource, PublicKeySource, load_private_key, make_nonce, oaep_decrypt, oaep_encrypt
from ._errors import ApiError, ConfigurationError, InvalidRequestError, TransportError, TransportTimeoutError
from ._models import Headers, Request, Response, Timeout
from ._notify import Notification, parse_notification
from ._retry import RetryPolicy
from ._signing import PUB_KEY_ID_PREFIX, KeyStore, Signer, request_message, verify_signed_message
from ._signing_process import SigningProcess, check_platform
from ._signing_thread import SigningThread
from ._transport import AiohttpTransport
from ._uri import encode_query, expand, placeholders, split_literal
from ._version import __version__

__all__ = ["DEFAULT_BASE_URL", "AsyncClient", "Attempt", "Client", "EncryptedField"]

DEFAULT_BASE_URL = "https://api.mch.weixin.qq.com/"
DEFAULT_TIMEOUT = Timeout()
OPTIONS = frozenset({"query", "json", "data", "headers", "timeout", "base_url"})
_RESERVED_HEADERS = frozenset({"authorization"})

log = logging.getLogger("wxpay_chain")

USER_AGENT = (
    f"wxpay-chain/{__version__} (aiohttp/{aiohttp.__version__}; "
    f"Python/{platform.python_version()}; {platform.system() or 'unknown'})"
)


@lru_cache(maxsize=64)
def _parse_base_url(base_url: str) -> tuple[str, str]:
    """Split a base URL into its origin and its path prefix (always ending with ``/``)."""
    if not isinstance(base_url, str):
        raise ConfigurationError(f"base_url must be a str like {DEFAULT_BASE_URL!r}")
    url = URL(base_url if base_url.endswith("/") else base_url + "/", encoded=True)
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(f"base_url must be an http(s) URL like {DEFAULT_BASE_URL!r}, got {base_url!r}")
    if url.raw_query_string or url.raw_fragment:
        raise ConfigurationError("base_url must not carry a query or fragment")
    origin = str(url.origin())
    return origin, url.raw_path


@lru_cache(maxsize=1)
def _typed() -> ModuleType:
    """The typed layer, imported on first use so that ``import wxpay_chain`` stays light."""
    from . import models

    return models


def _to_wire(value: object) -> Any:
    """Request models become plain dicts without None fields; everything else passes through."""
    if value is None or type(value) is dict or not attrs.has(type(value)):
        return value
    return _typed().request_to_wire(value)


@lru_cache(maxsize=2048)
def _placeholders(method: str, template: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The path placeholders of a template and every argument name a call may pass, after the checks
    that depend on the template alone."""
    if template.startswith("v2/") or template == "v2":
        raise InvalidRequestError(f"APIv2 is not supported yet ({method} {template}): use an APIv3 endpoint (v3/...)")
    names = placeholders(template)
    return names, OPTIONS.union(names)


class _Prepared(NamedTuple):
    """Everything about a call that does not change between attempts (the signature does).

    A tuple, not an attrs class: one is made per call, and a tuple costs a third as much to build.
    """

    method: str
    template: str
    origin: str
    target: str
    body: bytes
    headers: tuple[tuple[str, str], ...]
    timeout: Timeout

    def __repr__(self) -> str:
        return f"_Prepared(method={self.method!r}, target={self.target!r}, body=<{len(self.body)} bytes>)"


class AsyncClient:
    """The asynchronous WeChat Pay client.

    Exactly one of ``mchid`` (merchant API) or ``brand_id`` (brand API, ``brand/`` paths) is given.
    ``platform_keys`` maps each ``Wechatpay-Serial`` (a ``PUB_KEY_ID_...`` or a platform certificate
    serial) to its key: PEM text or bytes, a ``file://`` URL, a path, or a key/certificate object.

    ``offload_crypto`` says where the RSA signature of each request is computed: ``"auto"`` (default) on a
    worker thread while other calls are in flight and inline for a lone call; ``"always"`` on the thread;
    ``"never"`` inline; ``"process"`` like auto, but in a child process started on first use, which
    keeps signing off the interpreter lock (faster at high concurrency; POSIX only; the child gets a
    copy of the key through a pipe and is stopped by :meth:`aclose`).

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
        timeout: float | Timeout = DEFAULT_TIMEOUT,
        passphrase: str | bytes | None = None,
        session: aiohttp.ClientSession | None = None,
        pool_limit: int = 100,
        clock: Callable[[], float] = time.time,
        nonce_factory: Callable[[], str] = make_nonce,
        retry: RetryPolicy | int | None = None,
        backup_base_url: str | None = None,
        offload_crypto: Literal["auto", "always", "never", "process"] = "auto",
        on_request: Callable[[Request], None] | None = None,
        on_response: Callable[[Attempt], None] | None = None,
        apiv3_key: str | bytes | None = None,
        certificate_refresh: float = 12 * 3600,
    ) -> None:
        if (mchid is None) == (brand_id is None):
            raise ConfigurationError("Pass exactly one of mchid= (merchant API) or brand_id= (brand API)")
        identity = mchid if mchid is not None else brand_id
        mode: Literal["merchant", "brand"] = "merchant" if mchid is not None else "brand"
        if not isinstance(identity, str) or not identity.strip():
            raise ConfigurationError(f"{'mchid' if mode == 'merchant' else 'brand_id'} must be a non-empty str")
        if not isinstance(serial, str) or not serial.strip():
            raise ConfigurationError("serial must be the merchant API certificate serial number (a non-empty str)")
        key = load_private_key(private_key, passphrase)
        self._signer = Signer(mode=mode, identity=identity, serial=serial.strip(), key=key)
        self._keys = KeyStore.load(platform_keys)
        if apiv3_key is not None:
            _check_apiv3_key(apiv3_key)
        self._apiv3_key = apiv3_key
        # Automatic certificates: an APIv3 key and nothing to verify with yet (public-key mode needs none).
        self._auto_certificates = apiv3_key is not None and not self._keys
        if not self._keys and apiv3_key is None:
            raise ConfigurationError(
                "Answers cannot be verified without keys: pass platform_keys={PUB_KEY_ID or certificate serial: "
                "key}, or apiv3_key= to download platform certificates automatically"
            )
        self._certificate_refresh = certificate_refresh
        self._certificates: tuple[PlatformCertificate, ...] = ()
        self._certificates_at: float | None = None
        self._refreshing: asyncio.Future[KeyStore] | None = None
        pub_key_ids = self._keys.pub_key_ids
        if mode == "brand" and not pub_key_ids:
            raise ConfigurationError(
                "The brand API verifies with WeChat Pay public keys only: add your brand's "
                "PUB_KEY_ID_... and its pub_key.pem to platform_keys"
            )
        self._pub_key_id = pub_key_ids[0] if pub_key_ids else None
        # What every call without a body, headers= or encrypted fields sends: built once, here.
        self._plain_headers = self._headers(None, None)
        self._origin_prefix = _parse_base_url(base_url)
        self._timeout = Timeout.of(timeout)
        self._transport = AiohttpTransport(session, pool_limit=pool_limit)
        self._derived = False
        self._clock = clock
        self._nonce = nonce_factory
        if isinstance(retry, bool) or not isinstance(retry, (RetryPolicy, int, type(None))):
            raise ConfigurationError("retry must be a RetryPolicy, a number of attempts, or None for the default")
        self._retry = RetryPolicy(attempts=retry) if isinstance(retry, int) else retry or RetryPolicy()
        self._backup_origin = _parse_base_url(backup_base_url)[0] if backup_base_url else None
        if offload_crypto not in ("auto", "always", "never", "process"):
            raise ConfigurationError('offload_crypto must be "auto", "always", "never" or "process"')
        self._offload = offload_crypto
        # Made here, so that copies from with_options() share it and close() of this client stops it.
        self._offloader: SigningThread | SigningProcess | None = None
        if offload_crypto == "process":
            check_platform()
            self._offloader = SigningProcess(key)
        elif offload_crypto != "never":
            self._offloader = SigningThread(key)
        self._in_flight = 0
        self._on_request = on_request
        self._on_response = on_response

    # -- identity --------------------------------------------------------------------------------
    @property
    def mode(self) -> Literal["merchant", "brand"]:
        return self._signer.mode

    @property
    def keys(self) -> KeyStore:
        """The verification keys, by Wechatpay-Serial."""
        return self._keys

    def __repr__(self) -> str:
        who = "mchid" if self._signer.mode == "merchant" else "brand_id"
        return (
            f"<AsyncClient {who}={self._signer.identity!r} serial={self._signer.serial!r} "
            f"base_url={''.join(self._origin_prefix)!r} keys={list(self._keys)!r}>"
        )

    # -- the three call styles -------------------------------------------------------------------
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
        await self._transport.aclose()
        if self._offloader is not None:
            self._offloader.close()

    def with_options(
        self,
        *,
        timeout: float | Timeout | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | int | None = None,
        on_request: Callable[[Request], None] | None = None,
        on_response: Callable[[Attempt], None] | None = None,
    ) -> AsyncClient:
        """A copy with other defaults that shares this client's keys and connection pool.

        ``client.with_options(timeout=5, retry=1).v3...`` never changes ``client`` itself; closing the
        copy leaves the pool to the original.
        """
        derived = copy.copy(self)
        derived._derived = True
        for name, value in vars(self).items():
            if isinstance(value, Chain):  # the parent's roots dispatch to the parent
                del derived.__dict__[name]
        if timeout is not None:
            derived._timeout = Timeout.of(timeout)
        if base_url is not None:
            derived._origin_prefix = _parse_base_url(base_url)
        if retry is not None:
            derived._retry = RetryPolicy(attempts=retry) if isinstance(retry, int) else retry
        if on_request is not None:
            derived._on_request = on_request
        if on_response is not None:
            derived._on_response = on_response
        return derived

    # -- the pipeline ----------------------------------------------------------------------------
    def _dispatch(
        self, method: str, template: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Coroutine[Any, Any, Response]:
        prepared = self.prepare(method, template, args, kwargs)
        return self._attempts(prepared)

    def prepare(
        self, method: str, template: str, args: tuple[Any, ...] = (), kwargs: Mapping[str, Any] | None = None
    ) -> _Prepared:
        """Check and encode a call without sending it; every local error is raised here."""
        options = _merge_arguments(args, kwargs or {}) if args else kwargs or {}
        names, allowed = _placeholders(method, template)
        if template.startswith("brand/") and self._signer.mode != "brand":
            raise InvalidRequestError(
                f"{template} is a brand API path: create the client with brand_id= and the brand's key"
            )
        if not allowed.issuperset(options):
            raise InvalidRequestError(
                f"Unexpected arguments for {method} {template}",
                [
                    (
                        k,
                        f"neither a path placeholder ({', '.join(names) or 'none'}) nor an option "
                        f"({', '.join(sorted(OPTIONS))})",
                    )
                    for k in options
                    if k not in allowed
                ],
            )
        # Each step below is skipped when its option is absent: this runs on every call.
        query = options.get("query")
        if query is not None and type(query) is not dict:
            query = _to_wire(query)
            if not isinstance(query, Mapping):
                raise InvalidRequestError(
                    "query must be a dict (or a request model)", [("query", type(query).__name__)]
                )
        payload = options.get("json")
        if payload is not None:
            payload = _to_wire(payload)
        data = options.get("data")
        extra_headers = options.get("headers")
        if payload is None and data is None and extra_headers is None:
            body, headers = b"", self._plain_headers
        else:
            body, content_type = _encode_body(payload, data)
            headers = self._headers(content_type, extra_headers, _encryption_serial(payload))
        timeout = Timeout.of(options["timeout"]) if "timeout" in options else self._timeout
        base_url = options.get("base_url")
        origin, prefix = _parse_base_url(base_url) if base_url else self._origin_prefix
        _typed().validate_call(method, template, options, query, payload)  # reads the path values by name
        target = prefix + expand(template, options)
        encoded_query = encode_query(query)
        if encoded_query:
            target += ("&" if "?" in target else "?") + encoded_query
        return _Prepared(method, template, origin, target, body, headers, timeout)

    def _headers(
        self, content_type: str | None, extra: object, encrypted_for: str | None = None
    ) -> tuple[tuple[str, str], ...]:
        headers: dict[str, str] = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if content_type:
            headers["Content-Type"] = content_type
        serial = encrypted_for or self._pub_key_id
        if serial:
            headers["Wechatpay-Serial"] = serial
        if extra is not None:
            if not isinstance(extra, Mapping):
                raise InvalidRequestError("headers must be a dict of str to str", [("headers", type(extra).__name__)])
            lower = {k.lower(): k for k in headers}
            for name, value in extra.items():
                if not isinstance(name, str) or not isinstance(value, str):
                    raise InvalidRequestError(
                        "headers must be a dict of str to str", [(f"headers.{name}", "not a str")]
                    )
                if name.lower() in _RESERVED_HEADERS:
                    raise InvalidRequestError(
                        "Authorization is computed by the SDK", [(f"headers.{name}", "remove it")]
                    )
                headers.pop(lower.get(name.lower(), name), None)
                headers[name] = value
        return tuple(headers.items())

    def sign(self, prepared: _Prepared, origin: str | None = None) -> Request:
        """Sign a prepared call now (fresh timestamp and nonce): the Request that goes on the wire."""
        timestamp = int(self._clock())
        authorization = self._signer.authorization(
            prepared.method, prepared.target, prepared.body, timestamp, self._nonce()
        )
        return self._request(prepared, origin, authorization)

    def _request(self, prepared: _Prepared, origin: str | None, authorization: str) -> Request:
        headers = Headers((*prepared.headers, ("Authorization", authorization)))
        return Request(
            method=prepared.method,
            url=(origin or prepared.origin) + prepared.target,
            target=prepared.target,
            template=prepared.template,
            headers=headers,
            body=prepared.body,
            timeout=prepared.timeout,
        )

    async def _sign_elsewhere(
        self, offloader: SigningThread | SigningProcess, prepared: _Prepared, origin: str
    ) -> Request:
        timestamp, nonce = int(self._clock()), self._nonce()
        message = request_message(prepared.method, prepared.target, timestamp, nonce, prepared.body)
        signature = await offloader.sign(message)
        return self._request(prepared, origin, self._signer.header(message, nonce, timestamp, signature))

    async def _paginate(
        self, template: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> AsyncGenerator[Any, None]:
        options = _merge_arguments(args, kwargs)
        max_pages = options.pop("max_pages", None)
        if max_pages is not None and (isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1):
            raise InvalidRequestError("max_pages must be a positive int", [("max_pages", repr(max_pages))])
        spec = _typed().lookup("GET", template)
        if spec is None or spec.paging is None:
            raise InvalidRequestError(f"GET {template} has no known paging; loop over .get() yourself")
        next_page = _typed().next_page
        query: dict[str, Any] | None = dict(_to_wire(options.pop("query", None)) or {})
        pages = 0
        while query is not None:
            response = await self._dispatch("GET", template, (), {**options, "query": query})
            page = response.parsed
            pages += 1
            for item in getattr(page, spec.items_field) or ():
                yield item
            following = next_page(spec, query, page)
            if following == query or (max_pages is not None and pages >= max_pages):
                break
            query = following

    # -- platform certificates -------------------------------------------------------------------
    @property
    def certificates(self) -> tuple[PlatformCertificate, ...]:
        """The platform certificates downloaded so far (automatic mode or download_certificates())."""
        return self._certificates

    async def download_certificates(self) -> tuple[PlatformCertificate, ...]:
        """GET v3/certificates, decrypt each certificate with the APIv3 key, verify the answer with the
        certificates it carries, and add them to this client's verification keys."""
        if self._apiv3_key is None:
            raise ConfigurationError("download_certificates needs apiv3_key= (the 32-character APIv3 key)")
        response = await self._attempts(self.prepare("GET", "v3/certificates"), verify=False)
        certificates = decrypt_certificates(response.body, self._apiv3_key)
        carried = KeyStore(keys={c.serial: c.public_key for c in certificates})
        verify_signed_message(response.headers, response.body, carried, self._clock(), request_id=response.request_id)
        self._certificates = certificates
        self._certificates_at = self._clock()
        self._keys = self._keys.merged(carried)
        log.info("platform certificates now %s", ", ".join(c.serial for c in certificates))
        return certificates

    async def _keys_for(self, serial: str | None) -> KeyStore:
        """The keys to verify an answer signed by ``serial``, downloading certificates when that can help."""
        if self._apiv3_key is None:
            return self._keys
        due = self._auto_certificates and (
            self._certificates_at is None or self._clock() - self._certificates_at > self._certificate_refresh
        )
        unknown = serial is not None and not serial.startswith(PUB_KEY_ID_PREFIX) and serial not in self._keys
        if due or unknown:
            await self._refresh_certificates(reason="unknown serial " + str(serial) if unknown else "schedule")
        return self._keys

    async def _refresh_certificates(self, reason: str) -> None:
        # One download at a time; everyone waiting for it shares its outcome.
        if self._refreshing is None or self._refreshing.done():
            loop = asyncio.get_running_loop()
            future: asyncio.Future[KeyStore] = loop.create_future()
            self._refreshing = future
            try:
                await self.download_certificates()
                future.set_result(self._keys)
            except Exception as exc:
                future.set_result(self._keys)
                if not self._keys:
                    raise
                log.warning("platform certificate refresh (%s) failed, keeping the last good set: %s", reason, exc)
            return
        await asyncio.shield(self._refreshing)

    # -- notifications and sensitive fields --------------------------------------------------------
    async def parse_notification(self, headers: Mapping[str, str], body: bytes | str) -> Notification:
        """Verify a notification's signature and decrypt its resource with the APIv3 (or brand API) key."""
        if self._apiv3_key is None:
            raise ConfigurationError("parse_notification needs apiv3_key= to decrypt the resource")
        serial = Headers(tuple(headers.items())).get("Wechatpay-Serial")
        keys = await self._keys_for(serial)
        return parse_notification(headers, body, keys=keys, apiv3_key=self._apiv3_key, now=self._clock())

    def encrypt(self, text: str) -> str:
        """Encrypt a sensitive field (name, ID number…) for WeChat Pay with RSA-OAEP.

        The result remembers which key it was made for: a request carrying it in ``json=`` sends the
        matching ``Wechatpay-Serial`` by itself.
        """
        serial = self._encryption_serial()
        return EncryptedField(oaep_encrypt(self._keys[serial], text), serial)

    def _encryption_serial(self) -> str:
        if self._pub_key_id:
            return self._pub_key_id
        now = datetime.now(timezone.utc)
        valid = [c for c in self._certificates if c.valid_at(now)]
        if valid:
            return max(valid, key=lambda c: c.expire_time or now).serial
        if self._keys:
            return next(iter(self._keys))
        raise ConfigurationError("No WeChat Pay key to encrypt with yet: configure platform_keys or download them")

    def decrypt(self, ciphertext: str) -> str:
        """Decrypt a sensitive field WeChat Pay encrypted for this merchant (RSA-OAEP, merchant key)."""
        return oaep_decrypt(self._signer.key, ciphertext)

    async def _attempts(self, prepared: _Prepared, verify: bool = True) -> Response:
        # Counted while signing, sending and verifying: "auto" offloads the RSA signature only when calls overlap.
        self._in_flight += 1
        try:
            policy = self._retry
            failures: list[str] = []
            origin = prepared.origin
            for attempt in range(1, policy.attempts + 1):
                last = attempt == policy.attempts
                try:
                    self._transport.check_open()  # before signing: a closed client's signing worker has stopped
                except TransportError as closed:
                    closed.attempts = tuple(failures)
                    raise
                offloader = self._offloader
                if offloader is not None and (self._in_flight > 1 or self._offload == "always"):
                    # Both cores sign while calls overlap; a lone call signs inline, where a hop only adds latency.
                    request = await self._sign_elsewhere(offloader, prepared, origin)
                else:
                    request = self.sign(prepared, origin)
                if self._on_request is not None:
                    self._on_request(request)
                started = time.perf_counter()
                try:
                    raw = await self._transport.send(request)
                except TransportError as exc:
                    elapsed = time.perf_counter() - started
                    self._record(request, attempt, None, None, elapsed, exc)
                    failures.append(f"#{attempt} {type(exc).__name__}")
                    timed_out = isinstance(exc, TransportTimeoutError)
                    if last or self._transport.closed or (timed_out and not policy.retry_timeouts):
                        exc.attempts = tuple(failures)
                        raise
                    if exc.connect_failed and self._backup_origin is not None:
                        origin = self._backup_origin
                    await asyncio.sleep(policy.delay(attempt))
                    continue
                request_id = raw.headers.get("Request-ID")
                elapsed = time.perf_counter() - started
                self._record(request, attempt, raw.status, request_id, elapsed, None)
                if 200 <= raw.status < 300:
                    if verify:
                        keys = self._keys
                        if self._apiv3_key is not None:  # only then can a download change the keys
                            keys = await self._keys_for(raw.headers.get("Wechatpay-Serial"))
                        verify_signed_message(raw.headers, raw.body, keys, self._clock(), request_id=request_id)
                    return Response(raw.status, raw.headers, raw.body, request)
                error = ApiError.from_parts(
                    raw.status, raw.body, request_id=request_id, method=request.method, path=request.target
                )
                failures.append(f"#{attempt} {raw.status} {error.code or ''}".rstrip())
                if last or not policy.retries_status(raw.status):
                    error.attempts = tuple(failures)
                    raise error
                await asyncio.sleep(policy.delay(attempt, raw.headers.get("Retry-After")))
            raise AssertionError("unreachable: the last attempt always returns or raises")
        finally:
            self._in_flight -= 1

    def _record(
        self,
        request: Request,
        attempt: int,
        status: int | None,
        request_id: str | None,
        elapsed: float,
        error: Exception | None,
    ) -> None:
        if log.isEnabledFor(logging.INFO):  # one check when logging is off, as it is for most programs
            outcome = status if error is None else type(error).__name__
            log.info(
                "%s %s -> %s request_id=%s attempt=%d elapsed=%.3fs",
                request.method,
                request.target,
                outcome,
                request_id,
                attempt,
                elapsed,
            )
            if log.isEnabledFor(logging.DEBUG):
                log.debug("request headers %r", request.headers)
        if self._on_response is not None:
            self._on_response(Attempt(request, attempt, status, request_id, elapsed, error))


@attrs.frozen
class Attempt:
    """What the ``on_response`` hook receives after every attempt (for metrics)."""

    request: Request
    number: int
    status: int | None
    request_id: str | None
    elapsed: float
    error: Exception | None


class EncryptedField(str):
    """A sensitive field's ciphertext, remembering the Wechatpay-Serial of the key it was made with."""

    __slots__ = ("serial",)
    serial: str

    def __new__(cls, value: str, serial: str) -> EncryptedField:
        self = super().__new__(cls, value)
        self.serial = serial
        return self


def _encryption_serial(payload: object) -> str | None:
    """The serial every encrypted field of ``payload`` was made for (they must agree)."""
    if payload is None:
        return None
    found: set[str] = set()
    stack = [payload]
    while stack:
        item = stack.pop()
        if isinstance(item, EncryptedField):
            found.add(item.serial)
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    if len(found) > 1:
        raise InvalidRequestError(
            "Sensitive fields were encrypted with different WeChat Pay keys; encrypt them all with one client",
            [("Wechatpay-Serial", ", ".join(sorted(found)))],
        )
    return found.pop() if found else None


async def _next_item(pages: AsyncGenerator[Any, None]) -> Any:
    return await pages.__anext__()


def _check_apiv3_key(key: str | bytes) -> None:
    raw = key.encode("utf-8") if isinstance(key, str) else key
    if len(raw) != 32:
        raise ConfigurationError(
            f"apiv3_key must be the 32-character APIv3 key from the merchant platform (got {len(raw)} characters)"
        )


def _merge_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    if not args:
        return dict(kwargs)
    if len(args) > 1 or not isinstance(args[0], Mapping):
        raise InvalidRequestError(
            "Pass path values and options as keyword arguments, or as one dict: .get({'openid': ..., 'query': {...}})"
        )
    clash = sorted(set(args[0]) & set(kwargs))
    if clash:
        raise InvalidRequestError("Arguments given twice", [(k, "in the dict and as a keyword") for k in clash])
    merged = {str(k): v for k, v in args[0].items()}
    merged.update(kwargs)
    return merged


def _encode_body(payload: object, data: object) -> tuple[bytes, str | None]:
    """Serialise the body once; these exact bytes are signed and sent."""
    if payload is not None and data is not None:
        raise InvalidRequestError("Pass json= or data=, not both", [("data", "drop it, or drop json")])
    if payload is not None:
        try:
            text = _json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidRequestError("json= is not serialisable as JSON", [("json", str(exc))]) from None
        return text.encode("utf-8"), "application/json"
    if data is None:
        return b"", None
    if isinstance(data, str):
        return data.encode("utf-8"), "application/json"
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), "application/json"
    raise InvalidRequestError("data= must be str or bytes (a raw body, sent as is)", [("data", type(data).__name__)])


class Client:
    """The blocking twin of :class:`AsyncClient`, with the same three call styles.

    It runs its own event loop on a background thread, so it works from plain scripts and from code
    that already runs an event loop (Jupyter, an async web app calling a sync library).
    Use it as ``with Client(...) as client:`` or call :meth:`close`.
    """

    def __init__(self, **options: Any) -> None:
        if options.get("session") is not None:
            raise ConfigurationError("Client runs its own event loop; pass session= to AsyncClient instead")
        self._async = AsyncClient(**options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="wxpay-chain-loop", daemon=True)
        self._thread.start()
        self._closed = False

    @property
    def async_client(self) -> AsyncClient:
        return self._async

    def __repr__(self) -> str:
        return "<Client" + repr(self._async)[len("<AsyncClient") :]

    def __getattr__(self, name: str) -> Chain[Response]:
        if name.startswith("_") and not name.endswith("_"):
            raise AttributeError(name)
        return root_chain(self, self.__dict__, name)

    def __getitem__(self, path: str) -> Chain[Response]:
        return Chain(self, split_literal(path))

    def chain(self, path: str) -> Chain[Response]:
        return self[path]

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        if self._closed:
            coro.close()
            raise TransportError("The client is closed; create a new one to send more requests")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _dispatch(self, method: str, template: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Response:
        result: Response = self._run(self._async._dispatch(method, template, args, kwargs))
        return result

    def _paginate(self, template: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[Any]:
        pages = self._async._paginate(template, args, kwargs)
        try:
            while True:
                try:
                    yield self._run(_next_item(pages))
                except StopAsyncIteration:
                    return
        finally:
            if not self._closed:
                self._run(pages.aclose())

    def download_certificates(self) -> tuple[PlatformCertificate, ...]:
        """Blocking :meth:`AsyncClient.download_certificates`."""
        result: tuple[PlatformCertificate, ...] = self._run(self._async.download_certificates())
        return result

    def parse_notification(self, headers: Mapping[str, str], body: bytes | str) -> Notification:
        """Blocking :meth:`AsyncClient.parse_notification`."""
        result: Notification = self._run(self._async.parse_notification(headers, body))
        return result

    def encrypt(self, text: str) -> str:
        return self._async.encrypt(text)

    def decrypt(self, ciphertext: str) -> str:
        return self._async.decrypt(ciphertext)

    def close(self) -> None:
        """Close the connection pool and stop the background loop."""
        if self._closed:
            return
        self._run(self._async.aclose())
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
