"""The verifier: WeChat Pay's keys, platform certificates and their refresh, and the checks of every answer
and notification against them.

One verifier serves a client and every copy ``with_options()`` makes of it, so a certificate one of them
downloads is known to all. It does no I/O of its own: a download is the ``fetch`` coroutine function the
client passes in (a signed GET v3/certificates, answered unverified), and what it returns is checked here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING

from ._certificates import PlatformCertificate, decrypt_certificates, period
from ._crypto import secret_bytes
from ._errors import (
    ApiError,
    ConfigurationError,
    SignatureError,
    TransportError,
    TransportTimeoutError,
    WxPayError,
    may_have_run,
)
from ._http import Request, Response
from ._secret import masked
from ._signing import PUB_KEY_ID_PREFIX, KeyStore, check_signed_headers, verify_signed, verify_signed_message
from ._transport import RawResponse
from .notifications import (
    Notification,
    NotificationHeaders,
    notification_body,
    notification_headers,
    notification_request_id,
    parse_notification,
)

__all__ = ["REFRESH_INTERVAL", "Verifier", "check_apiv3_key"]

if TYPE_CHECKING:
    from ._config import ClientConfig

log = logging.getLogger("wxpay_chain")

REFRESH_INTERVAL = 60.0  # seconds between certificate downloads asked for by unknown serials or notifications

Fetch = Callable[[], Awaitable[Response]]


def check_apiv3_key(key: object) -> str | bytes:
    """The APIv3 key as given, if it is one: 32 characters (bytes) from the merchant platform."""
    if not isinstance(key, (str, bytes)):
        raise ConfigurationError("apiv3_key must be the 32-character APIv3 key (str or bytes)")
    raw = secret_bytes(key, "apiv3_key")
    if len(raw) != 32:
        raise ConfigurationError(
            f"apiv3_key must be the 32-character APIv3 key from the merchant platform (got {len(raw)} characters)"
        )
    return masked(key)  # in a traceback's locals, "<secret>"


class Verifier:
    """Which keys verify an answer signed by which ``Wechatpay-Serial``, kept up to date.

    With an APIv3 key and no platform keys, certificates are downloaded before the first request is sent
    (:meth:`keys_before_sending`), every ``refresh`` seconds, and when an answer names an unknown serial
    (one download shared by every caller waiting for it). After a download that did not help (it failed,
    or the serial is still unknown), the next download waits until REFRESH_INTERVAL has passed, however
    many calls, unknown serials or notifications (anyone can send one) ask; meanwhile the last good keys
    verify. Only the first download, with no keys to fall back on, is tried on every call.
    """

    def __init__(
        self,
        keys: KeyStore,
        *,
        apiv3_key: str | bytes | None,
        refresh: float,
        clock: Callable[[], float],
        who: str = "",
    ) -> None:
        self._keys = keys
        self._configured = keys  # platform_keys as given: a download replaces only what it brought
        self._apiv3_key = apiv3_key
        # Automatic certificates: an APIv3 key and nothing to verify with yet (public-key mode needs none).
        self._auto = apiv3_key is not None and not keys
        self.unkeyed = self._auto  # nothing yet to verify an answer with: asked by the pipeline on every call
        self._refresh = refresh
        self._clock = clock
        self._who = who  # "mchid=…": whose certificates a log line is about
        self._certificates: tuple[PlatformCertificate, ...] = ()
        self._certificates_at: float | None = None
        self._fruitless_at: float | None = None
        self._closing = False  # the client is closing: a refresh still running then fails, as expected
        # Why the last download failed, until one succeeds, and whether WeChat Pay said it has no certificates
        # for this merchant (kept as text: the error itself would hold its traceback's frames).
        self._failed: tuple[str, bool] | None = None
        self._refreshing: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, config: ClientConfig) -> Verifier:
        """The verifier of a client built with ``config`` (shared by its ``with_options()`` copies)."""
        refresh, who = config.certificate_refresh, config.signer.who
        return cls(config.keys, apiv3_key=config.apiv3_key, refresh=refresh, clock=config.clock, who=who)

    def __repr__(self) -> str:
        return f"<Verifier keys={list(self._keys)!r}>"

    @property
    def keys(self) -> KeyStore:
        return self._keys

    @property
    def certificates(self) -> tuple[PlatformCertificate, ...]:
        return self._certificates

    def apiv3_key(self, needed_by: str) -> str | bytes:
        if self._apiv3_key is None:
            raise ConfigurationError(f"{needed_by} needs apiv3_key= (the 32-character APIv3 key)")
        return self._apiv3_key

    # -- answers and notifications -------------------------------------------------------------------
    async def verify(
        self, request: Request, raw: RawResponse, request_id: str | None, fetch: Fetch, deadline: float | None = None
    ) -> None:
        """Raise SignatureError unless WeChat Pay signed this answer with a key this verifier trusts.

        (The pipeline's verification step for APIv3: ``CallProtocol.verify``.)"""
        try:
            # A malformed or stale answer fails here, before it can cause a download; checked once.
            signed = check_signed_headers(raw.headers, self._clock(), request_id=request_id)
            keys = self._keys
            if self._apiv3_key is not None:  # only then can a download change the keys
                unverified = partial(SignatureError, request_id=request_id)
                keys = await self._trusted_keys(signed.serial, fetch, "answer", unverified, deadline=deadline)
            verify_signed(signed, raw.body, keys, request_id=request_id)
        except SignatureError as exc:
            # The request was answered 2xx: WeChat Pay may well have done it (sent the coupon, say).
            doubt = may_have_run(request.method, "may have been carried out all the same (it was answered 2xx)")
            if not doubt:
                raise
            changed = SignatureError(f"{exc}{doubt}")
            changed.request_id = exc.request_id
            raise changed from exc.__cause__  # a failed certificate download stays visible

    async def keys_before_sending(self, fetch: Fetch, deadline: float | None) -> None:
        """Download the platform certificates of a client that has none yet, before its request goes out: an
        answer it could not check would leave a call WeChat Pay carried out (a coupon sent) in doubt."""
        try:
            await self._keys_for(None, fetch, deadline=deadline)
        except WxPayError as exc:
            raise TransportError(
                f"Nothing was sent: the platform certificates to check its answer with could not be downloaded ({exc})",
                connect_failed=True,
            ) from exc

    async def notification(self, headers: NotificationHeaders, body: bytes | str, fetch: Fetch) -> Notification:
        apiv3_key = self.apiv3_key("parse_notification")
        raw = notification_body(body)
        view = notification_headers(headers)  # Django's META spelling too
        # Anyone can POST a notification: the cheap checks (headers' shape, timestamp window) come before
        # a key lookup that could make this client download certificates on a stranger's behalf.
        request_id = notification_request_id(view)
        signed = check_signed_headers(view, self._clock(), what="notification", request_id=request_id)
        # A download that fails is the merchant's side failing, not the sender's: a TransportError (500).
        keys = await self._trusted_keys(signed.serial, fetch, "notification", TransportError, unasked=True)
        return parse_notification(view, raw, keys=keys, apiv3_key=apiv3_key, now=self._clock(), signed=signed)

    def encryption_serial(self, pub_key_id: str | None) -> str:
        """The serial of the key to encrypt a sensitive field with: the public key, else the certificate
        in effect that expires last."""
        return pub_key_id or self._keys.encryption_serial(datetime.fromtimestamp(self._clock(), timezone.utc))

    # -- certificates ----------------------------------------------------------------------------------
    async def download(self, fetch: Fetch) -> tuple[PlatformCertificate, ...]:
        """Fetch v3/certificates, decrypt each certificate with the APIv3 key, verify the answer with the
        certificates it carries (or a key already trusted: WeChat Pay's public key, while a merchant moves
        to it, signs this answer), and trust them from now on in place of those the last download listed."""
        apiv3_key = self.apiv3_key("download_certificates")
        response = await fetch()
        # Every listed certificate verifies (the list is sealed with the APIv3 key and signed): judged by its
        # dates, a clock a minute behind WeChat Pay's would refuse a new one at each rotation. The dates
        # choose only what encrypt() encrypts for.
        certificates = decrypt_certificates(response.body, apiv3_key)
        if not certificates:  # trusting none would refuse every answer: the last good set is kept
            raise SignatureError("The v3/certificates answer lists no certificate: not trusted")
        carried = KeyStore(
            keys={c.serial: c.public_key for c in certificates},
            validity={c.serial: period(c.certificate) for c in certificates},
        )
        signers = self._keys.merged(carried)
        verify_signed_message(response.headers, response.body, signers, self._clock(), request_id=response.request_id)
        self._certificates = certificates
        self._certificates_at = self._clock()
        self._keys = self._configured.merged(carried)  # a certificate WeChat Pay no longer lists is dropped
        self.unkeyed = False
        self._failed = self._fruitless_at = None  # a download by hand counts as much as one asked for
        log.info("platform certificates of %s now %s", self._who, ", ".join(c.serial for c in certificates))
        return certificates

    async def _trusted_keys(
        self,
        serial: str,
        fetch: Fetch,
        what: str,
        error: Callable[[str], WxPayError],
        *,
        deadline: float | None = None,
        unasked: bool = False,
    ) -> KeyStore:
        """The keys to verify ``serial``'s signature with, or ``error`` when there are none to trust (the
        certificate download failed): that is not the sender's doing, and says so."""
        try:
            keys = await self._keys_for(serial, fetch, deadline=deadline, unasked=unasked)
        except WxPayError as exc:
            why = f"downloading WeChat Pay's platform certificates failed ({exc})"
            raise error(f"The {what} cannot be verified: {exc if isinstance(exc, _OutOfTime) else why}") from exc
        if self._failed is not None and self._unknown(serial):
            why, none_issued = self._failed
            if none_issued:  # a certificate WeChat Pay never issued this merchant: not genuine (401)
                raise SignatureError(
                    f"The {what} cannot be verified: it names the platform certificate {serial[:64]!r}, and WeChat "
                    f"Pay issues this merchant no platform certificates ({why})"
                )
            raise error(
                f"The {what} cannot be verified: it names the platform certificate {serial[:64]!r}, and the "
                f"download that could bring it failed less than {REFRESH_INTERVAL:.0f} s ago ({why})"
            )
        return keys

    def _unknown(self, serial: str) -> bool:
        """A certificate serial no trusted key answers to (a PUB_KEY_ID is configured, never downloaded)."""
        return not serial.startswith(PUB_KEY_ID_PREFIX) and serial not in self._keys

    async def _keys_for(
        self, serial: str | None, fetch: Fetch, *, deadline: float | None = None, unasked: bool = False
    ) -> KeyStore:
        now = self._clock()
        due = self._auto and (self._certificates_at is None or now - self._certificates_at > self._refresh)
        unknown = serial is not None and self._unknown(serial)
        if not (due or unknown):
            return self._keys
        task = self._refreshing
        running = task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop()
        # Only a first download asked for by an answer, with no keys at all, always tries; one in flight is joined.
        if not running and (unasked or self._keys):
            fruitless = self._fruitless_at
            if fruitless is not None and 0 <= now - fruitless < REFRESH_INTERVAL:
                return self._keys  # verification then fails on the unknown serial, as it should
        if not unknown and self._keys:  # only the schedule: the keys in hand verify while it runs behind the call
            self._download_task("schedule", fetch)
            return self._keys
        await self._refresh_once("unknown serial " + str(serial)[:64] if unknown else "schedule", fetch, deadline)
        if unknown and serial not in self._keys:  # WeChat Pay does not list it: a forger's serial, most likely
            self._fruitless_at = now
        return self._keys

    async def _refresh_once(self, reason: str, fetch: Fetch, deadline: float | None) -> None:
        """Wait, until ``deadline`` at most, for the one download in flight, starting it if there is none.

        The download is a task of its own: a caller that gives up (cancelled, or out of time) leaves it to
        the others. One left by another event loop (closed, or the parent's before a fork) never finishes here.
        """
        task = self._download_task(reason, fetch)
        left = None if deadline is None else max(deadline - time.monotonic(), 0)
        try:
            await asyncio.wait_for(asyncio.shield(task), left)
        except asyncio.TimeoutError:
            if task.done():  # the download's own timeout (a TimeoutError too): its error, as it is
                raise
            raise _OutOfTime(  # this call's time ran out; the download goes on for the others
                "WeChat Pay's platform certificates were still being downloaded when the call's timeout ran out"
            ) from None

    def closing(self) -> None:
        """The client closes: a refresh still running (one behind the calls) is about to fail on it."""
        self._closing = True

    def _download_task(self, reason: str, fetch: Fetch) -> asyncio.Task[None]:
        """The one download in flight on this loop, started if there is none."""
        loop = asyncio.get_running_loop()
        task = self._refreshing
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._refreshing = loop.create_task(self._download_and_log(reason, fetch))
            task.add_done_callback(_retrieved)
        return task

    async def _download_and_log(self, reason: str, fetch: Fetch) -> None:
        try:
            await self.download(fetch)
        except Exception as exc:
            # 404: a merchant on WeChat Pay's public key has no certificates to list (not an outage to wait out).
            self._failed = (str(exc)[:300], isinstance(exc, ApiError) and exc.status == 404)
            self._fruitless_at = self._clock()
            if not self._keys:
                raise
            level = logging.DEBUG if self._closing else logging.WARNING
            log.log(
                level,
                "platform certificate refresh of %s (%s) failed, keeping the last good set: %s",
                self._who,
                reason,
                exc,
            )


class _OutOfTime(TransportTimeoutError):
    """A call gave up waiting for the download it needs; the download itself goes on."""


def _retrieved(task: asyncio.Task[None]) -> None:
    """A download whose every waiter gave up still fails quietly: its callers were told already."""
    if not task.cancelled():
        task.exception()
