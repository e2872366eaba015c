"""WeChat Pay notifications (callbacks): verify the signature, then open the encrypted resource. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import attrs
from cryptography.hazmat.primitives.asymmetric import rsa

from ._crypto import aes_gcm_decrypt
from ._errors import ConfigurationError, SignatureError
from ._http import Headers
from ._signing import BRAND_SCHEME, MERCHANT_SCHEME, verify_signed_message

__all__ = ["MAX_NOTIFICATION_BODY", "Notification", "parse_notification"]

T = TypeVar("T")
SIGNATURE_TYPES = frozenset({MERCHANT_SCHEME, BRAND_SCHEME})
MAX_NOTIFICATION_BODY = 1024 * 1024
"""The largest notification body parse_notification accepts; WeChat Pay's are a few KiB."""
_NOT_A_NOTIFICATION = "The notification body is not a WeChat Pay encrypted notification"


@attrs.frozen
class Notification:
    """A verified, decrypted notification. ``resource`` is the decrypted JSON object."""

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
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    keys: Mapping[str, rsa.RSAPublicKey],
    apiv3_key: str | bytes,
    now: float,
) -> Notification:
    """Verify and decrypt a notification from its HTTP headers and raw body.

    Raises SignatureError when the signature, timestamp, signature type or encryption does not check out,
    and for any body that is not a WeChat Pay notification: nothing a sender controls raises anything else.
    """
    try:
        raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    except UnicodeEncodeError:  # lone surrogates in a str body
        raise SignatureError(_NOT_A_NOTIFICATION) from None
    view = headers if isinstance(headers, Headers) else Headers(tuple(headers.items()))
    request_id = view.get("Request-ID")
    request_id = request_id if isinstance(request_id, str) else None
    kind = view.get("Wechatpay-Signature-Type")
    if kind is not None and kind not in SIGNATURE_TYPES:
        shown = repr(kind[:64]) if isinstance(kind, str) else type(kind).__name__
        raise SignatureError(f"Unsupported Wechatpay-Signature-Type {shown}", request_id=request_id)
    if len(raw) > MAX_NOTIFICATION_BODY:
        raise SignatureError(
            f"The notification body has {len(raw)} bytes, more than the {MAX_NOTIFICATION_BODY} accepted",
            request_id=request_id,
        )
    serial = verify_signed_message(view, raw, keys, now, what="notification", request_id=request_id)
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
    except (ValueError, TypeError):  # aes_gcm_decrypt maps what it knows; this keeps any other input error typed
        raise SignatureError(_NOT_A_NOTIFICATION, request_id=request_id) from None
    try:
        decrypted = json.loads(plaintext)
    except (ValueError, RecursionError):
        decrypted = plaintext.decode("utf-8", "replace")
    created = document.get("create_time")
    try:
        create_time = datetime.fromisoformat(created) if isinstance(created, str) else None
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
