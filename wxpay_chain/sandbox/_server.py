"""Sandbox: the running emulator (``async with``); ``_threaded.ThreadedSandbox`` serves it from a thread."""

from __future__ import annotations

import importlib
import ipaddress
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._app import AnswerMode, SandboxApp
from ._auth import AnswerSigner
from ._clock import Clock, system_clock
from ._credentials import SandboxCredentials
from ._faults import FaultInjector
from ._gate import APIV2_CALLS, SERVED_TEMPLATES
from ._keys import KeySet, default_key_set, generate_key_set, load_key_set, save_key_set
from ._notifier import NotificationRecord, Notifier
from ._persist import STATE_DB, prepare
from ._record import KEEP_BODY_BYTES, KEEP_REQUESTS, RequestLog
from ._records import BusifavorCoupon, FavorCoupon, IssuedCoupon, ProductCoupon, Stock
from ._relay import Relay
from ._seed import seed_demo_data
from ._server_log import server_logger
from ._state import SandboxState
from ._tls_state import keep_tls
from ._v2 import V2Service

if TYPE_CHECKING:  # for annotations only: the sandbox never imports the client to run
    from typing_extensions import Unpack

    from .._client import AsyncClient
    from .._sync import Client
    from .._typed._options import AsyncClientOptions, ClientOptions
    from ._threaded import ThreadedSandbox

#: Seconds before each retry of a notification no 2xx answered; after the last one it is given up.
NOTIFY_RETRY_DELAYS = (0.5, 2.0, 8.0)


class Sandbox:
    """A local WeChat Pay APIv3 emulator on aiohttp.web, for demos and tests.

    It verifies every request's signature from the raw bytes it received, signs every 2xx answer with its
    platform key, keeps coupon state (idempotent sends, send-rule limits, paging), can notify a URL after
    each coupon it issues, and injects faults on demand (``sb.faults``). Serves:

    * ``POST``/``GET /v3/marketing/partner/product-coupon/users/{openid}/coupons`` (merchant scheme)
    * ``POST``/``GET /brand/marketing/product-coupon/users/{openid}/coupons`` (brand scheme)
    * ``GET /v3/marketing/busifavor/users/{openid}/coupons``
    * ``GET /v3/marketing/favor/users/{openid}/coupons/{coupon_id}``
    * ``GET /v3/certificates``
    * the uploads (``POST /v3/merchant/media/upload``, ``.../product-coupon/media/upload-image``, the brand
      one and the rest: multipart, signed over meta; see ``._media``) and ``GET /v3/merchant-service/images/{id}``
    * ``GET /v3/bill/tradebill``, ``/v3/bill/fundflowbill``, ``/v3/bill/sub-merchant-fundflowbill`` (encrypted)
      and ``/v3/billdownload/file`` (unsigned, behind a 5-minute token): bills of the ledger, see ``._bills``

    Demo data (see :mod:`wxpay_chain.sandbox._seed` for the full table): brand ``120344``, AppID
    ``wx233544546545989``, users ``DEMO_OPENIDS`` = (``oh-394z-6CGkNoJrsDLTTUKiAnp4``: a coupon in every
    state; ``oUpF8uMuAJO_M2pxb1Q9zNjWeS6o``: a few; ``oh-394z-FreshUserNoCoupons01``: none), product
    coupons ``1000000013``..``1000000018`` with stocks ``1000000013001`` (max 2 per user), ``1000000013002``
    (max 3 in all, 2 a day), ``1000000014001`` (API_ASSIGN codes), ``1000000015001`` (5 uploaded codes),
    ``1000000016001``, ``1000000017001`` (PAUSED) and ``1000000018001``.

    Errors, each a JSON ``{"code", "message"[, "detail"]}`` with a Request-ID header (never signed):

    * 400 ``INVALID_REQUEST``: missing ``Accept``/``User-Agent``; a brand request without
      ``Wechatpay-Serial: <PUB_KEY_ID>`` (400, not 401); an unknown ``Wechatpay-Serial`` on a merchant request;
      business rules (stock not SENDING, ``max_count``/``max_count_per_day``/``max_count_per_user`` reached,
      ``send_request_no`` reused with other parameters, duplicate or exhausted coupon codes), with
      ``detail.issue`` naming the rule. 413 ``INVALID_REQUEST`` for a body over 1 MiB.
    * 400 ``PARAM_ERROR``: malformed JSON, wrong types, unknown enum values, missing or oversized fields,
      bad ``page_size``/``limit``/``offset``/``page_token``; ``detail.field`` names the field.
    * 401 ``SIGN_ERROR``: missing/unparseable Authorization, wrong scheme for the path, unknown
      mchid/brand_id or serial_no, a signature that does not match, a timestamp over 300 s off ("stale").
    * 403 ``NO_AUTH``: a partner call for a brand this merchant does not serve.
    * 404 ``NOT_FOUND``: unknown path or method, unknown product_coupon_id/stock_id, unknown favor coupon.
    * 429 ``RATELIMIT_EXCEEDED`` (``Retry-After: 1``) over ``rate_limit`` requests/second per caller.
    * 500 ``SYSTEM_ERROR`` only for a sandbox bug (or an injected fault).

    Busifavor paging follows its seed literally: ``offset`` is the page number from 0, ``limit`` the page
    size (default 20; WeChat Pay documents no maximum). Product coupon lists page with ``page_size``
    (default 20, at most 50) and ``page_token``/``next_page_token``; ``total_count`` is only on the first page.

    Parameters beyond the common ones: ``keys`` (a :class:`KeySet`, default: one generated per process; a
    ``state_dir`` that already holds keys keeps its own, and ``keys`` is not used),
    ``notify_retry_delays`` (seconds before each retry), ``notify_timeout``, ``demo_data`` (seed the catalogue),
    ``keep_requests`` (how many requests ``received`` and ``faults.injected`` keep, default 1,000) and
    ``keep_body_bytes`` (the request bodies ``received`` keeps in all, default 16 MiB): see
    :class:`~wxpay_chain.sandbox.RequestLog`; ``https_port``, the HTTPS port (APIv2) to listen on when it is
    free, else any free one (default 0: any free one; ``credentials.https_base_url`` says which);
    ``answer_mode``, whose key signs the answers: ``"pubkey"`` (default, WeChat Pay's public key, serial
    ``PUB_KEY_ID_...``) or ``"certificate"`` (the platform certificate's key, for clients that download
    certificates); ``seed``, of the random numbers behind generated coupon codes and SIGNTEST probes
    (default 0: the same every run).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: str | os.PathLike[str] | None = None,
        probe_rate: float = 0.0,
        answer_mode: AnswerMode = "pubkey",
        rate_limit: float | None = None,
        notify_url: str | None = None,
        seed: int = 0,
        clock: Clock | None = None,
        *,
        keys: KeySet | None = None,
        notify_retry_delays: Sequence[float] = NOTIFY_RETRY_DELAYS,
        notify_timeout: float = 5.0,
        demo_data: bool = True,
        keep_requests: int = KEEP_REQUESTS,
        keep_body_bytes: int = KEEP_BODY_BYTES,
        https_port: int = 0,
    ) -> None:
        if not 0.0 <= probe_rate <= 1.0:
            raise ValueError("probe_rate must be within [0, 1]")
        if not 0 <= https_port <= 65535:
            raise ValueError("https_port must be 0-65535 (0 picks a free port)")
        if answer_mode not in ("pubkey", "certificate"):
            raise ValueError("answer_mode must be 'pubkey' or 'certificate'")
        if rate_limit is not None and rate_limit <= 0:
            raise ValueError("rate_limit must be a positive number of requests per second, or None")
        if any(delay < 0 for delay in notify_retry_delays):
            raise ValueError("notify_retry_delays must not be negative")
        self._host = host
        self._port = port
        self._https_port = https_port
        self._probe_rate = probe_rate
        self._answer_mode: AnswerMode = answer_mode
        self._rate_limit = rate_limit
        self._seed = seed
        self._clock: Clock = clock or system_clock
        self._state_dir = Path(state_dir) if state_dir is not None else None
        self.keys = self._load_keys(keys)
        if self._state_dir is not None:  # the same CA and apiclient_cert.pem after a restart, as the same keys
            keep_tls(self.keys, self._state_dir)
        self.state = self._load_state(seed, demo_data)
        self.received = RequestLog(keep_requests, keep_body_bytes)
        self.faults = FaultInjector(SERVED_TEMPLATES, apiv2=APIV2_CALLS, keep=keep_requests)
        self.v2 = V2Service(self.keys, self.state, self._clock)  # APIv2, and the H5/plugin coupon pages
        self._notifier = (
            Notifier(
                url=notify_url,
                signer=AnswerSigner(self.keys),
                apiv3_key=self.keys.apiv3_key,
                clock=self._clock,
                retry_delays=notify_retry_delays,
                timeout=notify_timeout,
                probe_rate=probe_rate,
                seed=seed,
            )
            if notify_url
            else None
        )
        self._runner: web.AppRunner | None = None
        self._relay: Relay | None = None
        self._base_url: str | None = None
        self._https_base_url = ""

    # -- set-up -------------------------------------------------------------------------------------

    def _load_keys(self, keys: KeySet | None) -> KeySet:
        if self._state_dir is None:
            return keys or default_key_set()
        self._state_dir.mkdir(parents=True, exist_ok=True)
        saved = load_key_set(self._state_dir)
        if saved is not None:
            return saved
        chosen = keys or generate_key_set()
        save_key_set(chosen, self._state_dir)
        return chosen

    def _load_state(self, seed: int, demo_data: bool) -> SandboxState:
        # A state dir keeps coupons in SQLite (one transaction per change); without one they live in memory.
        state = SandboxState(seed=seed, path=self._state_dir / STATE_DB if self._state_dir is not None else None)

        def fill(new: SandboxState) -> None:
            if demo_data:
                seed_demo_data(new, brand_id=self.keys.brand_id, mchid=self.keys.mchid, now=self._clock())

        prepare(state, self._state_dir, fill)
        return state

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("this sandbox is already running")
        app, relay = SandboxApp(
            keys=self.keys,
            state=self.state,
            faults=self.faults,
            clock=self._clock,
            probe_rate=self._probe_rate,
            answer_mode=self._answer_mode,
            rate_limit=self._rate_limit,
            seed=self._seed,
            notifier=self._notifier,
            received=self.received,
            v2=self.v2,
        ).build()
        # A short shutdown: a handler held up by a delay fault must not hold up the test suite.
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.5, logger=server_logger()
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
            # The same app over HTTPS with the sandbox's own CA: APIv2 security calls need a client certificate.
            https_port = await self.v2.listen(runner, self._host, self._https_port)
        except BaseException:
            await runner.cleanup()
            relay.drop()
            raise
        self._runner, self._relay = runner, relay
        port = runner.addresses[0][1]
        self._base_url = f"http://{_url_host(self._host)}:{port}/"
        self._https_base_url = f"https://{_url_host(self._host)}:{https_port}/"
        if self._notifier is not None:
            await self._notifier.start()

    async def close(self) -> None:
        if self._notifier is not None:
            await self._notifier.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        if self._relay is not None:
            relay, self._relay = self._relay, None
            relay.drop()  # what aiohttp still caches of the app no longer reaches this sandbox
        if self._state_dir is not None:  # no descriptor onto the SQLite files outlives close() (reopened on use)
            self.state.close()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @classmethod
    def in_thread(cls, **options: Any) -> ThreadedSandbox:
        """The same sandbox on its own event loop in a daemon thread (``with Sandbox.in_thread() as sb``)."""
        from ._threaded import ThreadedSandbox  # it wraps this class

        return ThreadedSandbox(cls(**options))

    # -- what callers use ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the sandbox is not running: use 'async with Sandbox() as sb'")
        return self._base_url

    @property
    def credentials(self) -> SandboxCredentials:
        return SandboxCredentials.from_keys(self.keys, self.base_url, https_base_url=self._https_base_url)

    def now(self) -> float:
        """The sandbox clock (Unix seconds)."""
        return self._clock()

    def write_config(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``directory/config.json`` (PEM files beside it) for another process; returns its path."""
        return self.credentials.write_config(directory)

    def client(self, **overrides: Unpack[AsyncClientOptions]) -> AsyncClient:
        """A ``wxpay_chain.AsyncClient`` for the merchant API of this sandbox (create it inside your loop).

        Each client maker here signs and checks timestamps by the sandbox clock unless given ``clock=``.
        """
        cls: type[AsyncClient] = _client_class("AsyncClient")
        return cls(**self._client_options(self.credentials.merchant_options(), overrides))

    def brand_client(self, **overrides: Unpack[AsyncClientOptions]) -> AsyncClient:
        """A ``wxpay_chain.AsyncClient`` for the brand API of this sandbox."""
        cls: type[AsyncClient] = _client_class("AsyncClient")
        return cls(**self._client_options(self.credentials.brand_options(), overrides))

    def blocking_client(self, **overrides: Unpack[ClientOptions]) -> Client:
        """A blocking ``wxpay_chain.Client`` for the merchant API; close it when done."""
        cls: type[Client] = _client_class("Client")
        return cls(**self._client_options(self.credentials.merchant_options(), overrides))

    def blocking_brand_client(self, **overrides: Unpack[ClientOptions]) -> Client:
        """A blocking ``wxpay_chain.Client`` for the brand API; close it when done."""
        cls: type[Client] = _client_class("Client")
        return cls(**self._client_options(self.credentials.brand_options(), overrides))

    def _client_options(self, options: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
        # The sandbox's clock by default: a moved clock would otherwise make its answers look stale.
        merged = {**options, **overrides}
        if merged.get("clock") is None:
            merged["clock"] = self._clock
        return merged

    def issued_coupons(self) -> list[IssuedCoupon]:
        """The ledger of user product coupons in issue order (seeded ones have ``issued_by == 'seed'``)."""
        return self.state.issued()

    @property
    def notifications(self) -> list[NotificationRecord]:
        return list(self._notifier.records) if self._notifier is not None else []

    async def notifications_delivered(self, n: int = 1, *, timeout: float = 10.0) -> None:
        """Wait until ``n`` notifications were acknowledged with a 2xx (TimeoutError after ``timeout``)."""
        await self._require_notifier().wait_delivered(n, timeout)

    async def notifications_settled(self, n: int = 1, *, timeout: float = 10.0) -> None:
        """Wait until ``n`` notifications were either acknowledged or abandoned after their last retry."""
        await self._require_notifier().wait_settled(n, timeout)

    def _require_notifier(self) -> Notifier:
        if self._notifier is None:
            raise RuntimeError("this sandbox sends no notifications: pass notify_url=")
        return self._notifier

    # -- seeding hooks ------------------------------------------------------------------------------

    def add_product_coupon(self, document: Mapping[str, Any]) -> ProductCoupon:
        """Add a product coupon (see ``product_coupon_document``)."""
        return self.state.add_product_coupon(document)

    def add_stock(self, document: Mapping[str, Any], *, uploaded_codes: Iterable[str] = ()) -> Stock:
        """Add a stock of an existing product coupon (see ``stock_document``)."""
        return self.state.add_stock(document, uploaded_codes=uploaded_codes)

    def add_user_coupon(self, *, openid: str, stock_id: str, appid: str, **fields: Any) -> IssuedCoupon:
        """Put a coupon in a user's wallet without the send rules (state, times, codes optional)."""
        return self.state.add_user_coupon(openid=openid, stock_id=stock_id, appid=appid, now=self._clock(), **fields)

    def add_busifavor_coupon(self, coupon: BusifavorCoupon) -> None:
        self.state.add_busifavor_coupon(coupon)

    def add_favor_coupon(self, coupon: FavorCoupon) -> None:
        self.state.add_favor_coupon(coupon)

    def seed_data(
        self,
        *,
        product_coupons: Iterable[Mapping[str, Any]] = (),
        stocks: Iterable[Mapping[str, Any]] = (),
        user_coupons: Iterable[Mapping[str, Any]] = (),
        busifavor_coupons: Iterable[BusifavorCoupon] = (),
        favor_coupons: Iterable[FavorCoupon] = (),
    ) -> None:
        """Add several things at once; ``user_coupons`` items are keyword arguments of add_user_coupon."""
        for document in product_coupons:
            self.add_product_coupon(document)
        for document in stocks:
            self.add_stock(document, uploaded_codes=document.get("uploaded_codes", ()))
        for fields in user_coupons:
            self.add_user_coupon(**fields)
        for busifavor in busifavor_coupons:
            self.add_busifavor_coupon(busifavor)
        for favor in favor_coupons:
            self.add_favor_coupon(favor)


def _client_class(name: str) -> Any:
    # Imported on use: the sandbox must load (and run) without the client, and must not sign with its code.
    return getattr(importlib.import_module("wxpay_chain"), name)


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]"
    except ValueError:
        pass
    return host
