"""WeChat Pay notifications (callbacks): verify the signature, then open the encrypted resource. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import attrs
from cryptography.hazmat.primitives.asymmetric import rsa

from ._crypto import aes_gcm_decrypt
from ._errors import SignatureError
from ._models import Headers
from ._signing import BRAND_SCHEME, MERCHANT_SCHEME, verify_signed_message

__all__ = ["Notification", "parse_notification"]

T = TypeVar("T")
SIGNATURE_TYPES = frozenset({MERCHANT_SCHEME, BRAND_SCHEME})


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

    Raises SignatureError when the signature, timestamp, signature type or encryption does not check out.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    view = headers if isinstance(headers, Headers) else Headers(tuple(headers.items()))
    kind = view.get("Wechatpay-Signature-Type")
    if kind is not None and kind not in SIGNATURE_TYPES:
        raise SignatureError(f"Unsupported Wechatpay-Signature-Type {kind!r}")
    request_id = view.get("Request-ID")
    serial = verify_signed_message(view, raw, keys, now, what="notification", request_id=request_id)
    try:
        document = json.loads(raw)
        resource = document["resource"]
        algorithm = resource.get("algorithm")
        if algorithm != "AEAD_AES_256_GCM":
            raise SignatureError(f"Unsupported notification encryption {algorithm!r}")
        plaintext = aes_gcm_decrypt(
            apiv3_key, resource["nonce"], resource.get("associated_data") or "", resource["ciphertext"]
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SignatureError("The notification body is not a WeChat Pay encrypted notification") from None
    try:
        decrypted = json.loads(plaintext)
    except ValueError:
        decrypted = plaintext.decode("utf-8", "replace")
    created = document.get("create_time")
    try:
        create_time = datetime.fromisoformat(created) if isinstance(created, str) else None
    except ValueError:
        create_time = None
    return Notification(
        id=str(document.get("id", "")),
        create_time=create_time,
        event_type=str(document.get("event_type", "")),
        resource_type=str(document.get("resource_type", "")),
        summary=str(document.get("summary", "")),
        resource=decrypted,
        original_type=resource.get("original_type"),
        serial=serial,
    )
