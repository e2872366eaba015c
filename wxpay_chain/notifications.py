"""WeChat Pay notifications (callbacks): verify, decrypt, and answer them from a web application.

``parse_notification`` is the pure step: the signature checked, the resource opened with the APIv3 key.
``handle_notification`` is framework-neutral: give it the headers and the raw body, get back the status
and body to answer (``client.handle_notification(...)`` on either client; the blocking one runs the
callback on the caller's thread, so a Django or Flask view can do anything in it, the client's calls
included). ``aiohttp_handler`` wraps it for aiohttp.web. WeChat Pay retries a notification until it
gets a 2xx, so every failure answers 4xx/5xx with ``{"code": "FAIL", "message": ...}``.

Headers come in any of the spellings frameworks give (:func:`notification_headers`): a mapping with
canonical or lower-case names, werkzeug's headers, or a WSGI environ / Django ``request.META``, where
``Wechatpay-Signature`` is ``HTTP_WECHATPAY_SIGNATURE``.

Because of those redeliveries, a callback must be idempotent by notification id: the same event can
arrive more than once. :class:`RecentNotifications` answers a repeat within a few minutes without calling
the callback again; it is a help against replays and quick redeliveries, not a substitute for idempotency.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs
from cryptography.hazmat.primitives.asymmetric import rsa

from ._converter import parse_rfc3339
from ._crypto import aes_gcm_decrypt
from ._errors import ApiError, ConfigurationError, SignatureError, TransportError, WxPayError
from ._http import Headers
from ._recent import RecentNotifications
from ._secret import masked
from ._signing import BRAND_SCHEME, MERCHANT_SCHEME, SignedHeaders, verify_signed, verify_signed_message

if TYPE_CHECKING:
    from aiohttp import web

__all__ = [
    "MAX_NOTIFICATION_BODY",
    "Notification",
    "NotificationHeaders",
    "RecentNotifications",
    "aiohttp_handler",
    "handle_notification",
    "handle_notification_sync",
    "notification_headers",
    "parse_notification",
]

T = TypeVar("T")
SIGNATURE_TYPES = frozenset({MERCHANT_SCHEME, BRAND_SCHEME})
MAX_NOTIFICATION_BODY = 1024 * 1024
"""The largest notification body parse_notification accepts; WeChat Pay's are a few KiB."""
_NOT_A_NOTIFICATION = "The notification body is not a WeChat Pay encrypted notification"


class NotificationHeaders(Protocol):
    """Anything with ``items()`` of (name, value): a dict, aiohttp's or Starlette's headers, werkzeug's
    (Flask), Django's ``request.headers`` or ``request.META``, a WSGI environ."""

    def items(self) -> Iterable[tuple[str, Any]]: ...


_CGI_PREFIX = "HTTP_"


def notification_headers(headers: NotificationHeaders) -> Headers:
    """The headers of a notification as one case-insensitive view, whatever the framework's spelling.

    ``HTTP_WECHATPAY_SIGNATURE`` (WSGI environ, Django's ``request.META``) becomes
    ``WECHATPAY-SIGNATURE``; other names are kept as they are and looked up without regard to case.
    Entries whose name is not a str are skipped (an environ also holds ``wsgi.input`` and the like).
    """
    if isinstance(headers, Headers):
        return headers
    if not callable(getattr(headers, "items", None)):  # duck-typed: werkzeug's headers are no Mapping
        raise SignatureError(f"Not a notification: headers must be a mapping of them, not {type(headers).__name__}")
    pairs: list[tuple[str, Any]] = []
    for name, value in headers.items():
        if not isinstance(name, str):
            continue
        if name[:5].upper() == _CGI_PREFIX:
            name = name[5:].replace("_", "-")
        pairs.append((name, value))
    return Headers(tuple(pairs))


def notification_body(body: object) -> bytes:
    """The bytes a notification's signature covers; SignatureError for anything but a request body."""
    if not isinstance(body, (str, bytes, bytearray, memoryview)):
        raise SignatureError(f"Not a notification: body must be the raw request body, not {type(body).__name__}")
    try:
        return body.encode("utf-8") if isinstance(body, str) else bytes(body)
    except UnicodeEncodeError:  # lone surrogates in a str body
        raise SignatureError(_NOT_A_NOTIFICATION) from None


def notification_request_id(view: Headers) -> str | None:
    """The notification's Request-ID, to quote in errors; None when a sender put anything but text there."""
    request_id = view.get("Request-ID")
    return request_id if isinstance(request_id, str) else None


@attrs.frozen
class Notification:
    """A verified, decrypted notification. ``resource`` is the decrypted JSON object; ``create_time`` is
    aware, or None when the notification's is missing or not an RFC 3339 time with its offset."""

    id: str
    create_time: datetime | None
    event_type: str
    resource_type: str
    summary: str
    resource: Any = attrs.field(repr=False)
    original_type: str | None = None
    serial: str = ""

    def structure(self, cls: type[T]) -> T:
        """The decrypted resource as an instance of ``cls``; StructureError names bad fields."""
        from ._converter import structure

        return structure(self.resource, cls)

    @property
    def model(self) -> Any:
        """The resource as its typed model for known events (COUPON.SEND, COUPON.USE…); LookupError otherwise."""
        from .models import notification_model

        cls = notification_model(self.event_type, self.original_type)
        if cls is None:
            raise LookupError(f"No model is registered for {self.event_type}; use .resource or .structure(Model)")
        return self.structure(cls)


def parse_notification(
    headers: NotificationHeaders,
    body: bytes | str,
    *,
    keys: Mapping[str, rsa.RSAPublicKey],
    apiv3_key: str | bytes,
    now: float,
    signed: SignedHeaders | None = None,
) -> Notification:
    """Verify and decrypt a notification from its HTTP headers and raw body.

    ``signed``: its headers as :func:`check_signed_headers` already passed them (then not checked again).

    Raises SignatureError when the signature, timestamp, signature type or encryption does not check out,
    and for any body that is not a WeChat Pay notification: nothing a sender controls raises anything else.
    """
    if isinstance(apiv3_key, (str, bytes)):
        apiv3_key = masked(apiv3_key)  # in a traceback's locals, "<secret>"
    raw = notification_body(body)
    view = notification_headers(headers)
    request_id = notification_request_id(view)
    kind = view.get("Wechatpay-Signature-Type")
    if kind is not None and (not isinstance(kind, str) or kind not in SIGNATURE_TYPES):
        shown = repr(kind[:64]) if isinstance(kind, str) else type(kind).__name__
        raise SignatureError(f"Unsupported Wechatpay-Signature-Type {shown}", request_id=request_id)
    if len(raw) > MAX_NOTIFICATION_BODY:
        raise SignatureError(
            f"The notification body has {len(raw)} bytes, more than the {MAX_NOTIFICATION_BODY} accepted",
            request_id=request_id,
        )
    if signed is None:
        serial = verify_signed_message(view, raw, keys, now, what="notification", request_id=request_id)
    else:
        serial = verify_signed(signed, raw, keys, what="notification", request_id=request_id)
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nesting like "[[[[…"
        raise SignatureError(_NOT_A_NOTIFICATION, request_id=request_id) from None
    resource = document.get("resource") if isinstance(document, dict) else None
    if not isinstance(resource, dict):
        raise SignatureError(_NOT_A_NOTIFICATION, request_id=request_id)
    algorithm = resource.get("algorithm")
    if algorithm != "AEAD_AES_256_GCM":
        shown = repr(algorithm[:64]) if isinstance(algorithm, str) else type(algorithm).__name__
        raise SignatureError(f"Unsupported notification encryption {shown}", request_id=request_id)
    nonce, associated, ciphertext = (resource.get(k) for k in ("nonce", "associated_data", "ciphertext"))
    if not (isinstance(nonce, str) and isinstance(associated, (str, type(None))) and isinstance(ciphertext, str)):
        raise SignatureError(_NOT_A_NOTIFICATION, request_id=request_id)
    try:
        plaintext = aes_gcm_decrypt(apiv3_key, nonce, associated or "", ciphertext)
    except ConfigurationError:  # a ValueError too: the apiv3_key is wrong, not the notification
        raise
    except SignatureError:
        # The signature over this very ciphertext verified, so it is as WeChat Pay sent it: the key is ours.
        raise ConfigurationError(
            f"A notification signed by WeChat Pay (key {serial}) does not decrypt with this client's apiv3_key: "
            "set apiv3_key to the current APIv3 key (it changes when it is reset in the merchant platform)"
        ) from None
    except (ValueError, TypeError):  # aes_gcm_decrypt maps what it knows; this keeps any other input error typed
        raise SignatureError(_NOT_A_NOTIFICATION, request_id=request_id) from None
    try:
        decrypted = json.loads(plaintext)
    except (ValueError, RecursionError):
        decrypted = plaintext.decode("utf-8", "replace")
    created = document.get("create_time")
    try:  # RFC 3339 with its offset, as answers are read: fromisoformat took a bare date or local time
        create_time = parse_rfc3339(created) if isinstance(created, str) else None
    except ValueError:
        create_time = None
    original_type = resource.get("original_type")
    return Notification(
        id=_text(document.get("id")),
        create_time=create_time,
        event_type=_text(document.get("event_type")),
        resource_type=_text(document.get("resource_type")),
        summary=_text(document.get("summary")),
        resource=decrypted,
        original_type=original_type if isinstance(original_type, str) else None,
        serial=serial,
    )


def _text(value: object) -> str:
    """A notification's text field; numbers become text, anything else (lists, objects) is dropped."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # an int too long to print
            return ""
    return ""


log = logging.getLogger("wxpay_chain.notifications")

OnNotification = Callable[[Notification], "Awaitable[None] | None"]


def _fail(status: int, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"code": "FAIL", "message": message}, ensure_ascii=False).encode("utf-8")


def _refused(exc: WxPayError) -> tuple[int, bytes]:
    if isinstance(exc, ConfigurationError):  # ours to mend, not the sender's: WeChat Pay sends it again later
        log.error("cannot handle notifications until the client is configured for them: %s", exc)
        return _fail(500, "the merchant cannot verify notifications yet; please retry")
    if isinstance(exc, (TransportError, ApiError)):  # the certificate download failed: ours too
        log.error("cannot verify notifications right now: %s", exc)
        return _fail(500, "the merchant cannot verify notifications right now; please retry")
    log.warning("rejected a notification: %s", exc)
    if isinstance(exc, SignatureError):
        return _fail(401, "signature or decryption failed")
    return _fail(400, "malformed notification")


def _check_recent(recent: object) -> None:
    """``recent=`` is refused before the notification is read, not by an AttributeError once it verified."""
    if recent is not None and not all(callable(getattr(recent, name, None)) for name in ("claim", "add", "release")):
        kind = type(recent).__name__
        raise ConfigurationError(f"recent must be a RecentNotifications() kept for the process, or None; got {kind}")


def _claim(notification: Notification, recent: RecentNotifications | None) -> tuple[int, bytes] | None:
    """The answer to a notification handled lately or being handled now; None when the callback is to run."""
    if recent is None or not notification.id:
        return None
    claim = recent.claim(notification.id)
    if claim == "handled":
        log.info("notification %s was handled a moment ago; not calling the callback again", notification.id)
        return 204, b""
    if claim == "handling":  # the same delivery twice at once: the first one's outcome decides
        log.info("notification %s is being handled now; asking for it again later", notification.id)
        return _fail(503, "the same notification is being handled; please retry")
    return None


def _settle(notification: Notification, recent: RecentNotifications | None, handled: bool) -> None:
    if recent is not None and notification.id:
        (recent.add if handled else recent.release)(notification.id)


def _callback_failed(notification: Notification) -> tuple[int, bytes]:
    log.exception("the notification callback failed for %s %s", notification.event_type, notification.id)
    return _fail(500, "the merchant could not process the notification; please retry")


class AsyncParser(Protocol):
    """What the async handlers need of a client: an AsyncClient (typed here without importing it)."""

    async def parse_notification(self, headers: NotificationHeaders, body: bytes | str) -> Notification: ...


class BlockingParser(Protocol):
    """What :func:`handle_notification_sync` needs of a client: a blocking Client."""

    def parse_notification(self, headers: NotificationHeaders, body: bytes | str) -> Notification: ...


# The two handlers below differ only in how they wait: the answers and the log lines are the helpers' above.
async def handle_notification(
    client: AsyncParser,
    headers: NotificationHeaders,
    body: bytes | str,
    on_notification: OnNotification,
    *,
    recent: RecentNotifications | None = None,
) -> tuple[int, bytes]:
    """Verify, decrypt and hand a notification to ``on_notification``; return (status, body) to answer.

    204 with an empty body on success; 401 when it cannot be verified (not WeChat Pay's, or altered); 500
    when the callback raised, or when the fault is the merchant's (no certificates could be downloaded to
    verify it, or it verifies but does not decrypt with the apiv3_key), so that WeChat Pay sends it again.
    With ``recent``, a notification handled successfully a moment ago is answered 204 without calling the
    callback again.
    """
    _check_recent(recent)
    try:
        notification = await client.parse_notification(headers, body)
    except WxPayError as exc:
        return _refused(exc)
    answer = _claim(notification, recent)
    if answer is not None:
        return answer
    handled = False
    try:
        outcome = on_notification(notification)
        if inspect.isawaitable(outcome):
            await outcome
        handled = True
    except Exception:
        return _callback_failed(notification)
    finally:  # a cancelled handler too gives its claim back
        _settle(notification, recent, handled)
    return 204, b""


def handle_notification_sync(
    client: BlockingParser,
    headers: NotificationHeaders,
    body: bytes | str,
    on_notification: Callable[[Notification], None],
    *,
    recent: RecentNotifications | None = None,
) -> tuple[int, bytes]:
    """:func:`handle_notification` for the blocking :class:`~wxpay_chain.Client`, with the same answers.

    The callback runs on the calling thread (a Django or Flask worker), never on the client's loop
    thread, so it may use the database and the client itself. It must be a plain function: an ``async
    def`` callback is a type error, and raises TypeError (use AsyncClient in an async application).
    """
    _check_recent(recent)
    try:
        notification = client.parse_notification(headers, body)
    except WxPayError as exc:
        return _refused(exc)
    answer = _claim(notification, recent)
    if answer is not None:
        return answer
    call: Callable[[Notification], object] = on_notification  # typed None, but untyped code may pass a coroutine
    handled = False
    try:
        outcome = call(notification)
        handled = not inspect.isawaitable(outcome)
    except Exception:
        return _callback_failed(notification)
    finally:  # as in handle_notification: whatever ends the callback settles the claim
        _settle(notification, recent, handled)
    if inspect.isawaitable(outcome):
        close = getattr(outcome, "close", None)
        if callable(close):
            close()  # never started: no "coroutine was never awaited" warning
        raise TypeError(
            "Client.handle_notification takes a plain function as callback, not an async one; "
            "use AsyncClient.handle_notification in an async application"
        )
    return 204, b""


def aiohttp_handler(
    client: AsyncParser, on_notification: OnNotification, *, recent: RecentNotifications | None = None
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp.web handler: ``app.router.add_post("/wxpay/notify", aiohttp_handler(client, on_event))``."""
    from aiohttp import web

    _check_recent(recent)

    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:  # the app's client_max_size: answered like every refusal
            log.warning("rejected a notification: its body is over the application's client_max_size")
            status, answer = _fail(413, "notification body too large")
            return web.Response(status=status, body=answer, content_type="application/json")
        status, answer = await handle_notification(client, request.headers, body, on_notification, recent=recent)
        if status == 204:
            return web.Response(status=204)
        return web.Response(status=status, body=answer, content_type="application/json")

    return handler
