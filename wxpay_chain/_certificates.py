"""Platform certificates from GET v3/certificates: decrypt, check, and turn into verification keys. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ._crypto import aes_gcm_decrypt, certificate_serial, load_certificate
from ._errors import ConfigurationError, SignatureError

__all__ = ["PlatformCertificate", "decrypt_certificates", "in_effect", "period"]

_CHINA = timezone(timedelta(hours=8))


@attrs.frozen
class PlatformCertificate:
    """One WeChat Pay platform certificate, decrypted and checked against the serial it was listed under."""

    serial: str
    effective_time: datetime | None
    expire_time: datetime | None
    certificate: x509.Certificate = attrs.field(repr=False, eq=False)

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        key = self.certificate.public_key()
        assert isinstance(key, rsa.RSAPublicKey)  # decrypt_certificates only admits RSA certificates
        return key

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def valid_at(self, now: datetime) -> bool:
        return in_effect(self.effective_time, self.expire_time, now)


def period(certificate: x509.Certificate) -> tuple[datetime, datetime]:
    """When a certificate is in effect, by its own (signed) dates."""
    return certificate.not_valid_before_utc, certificate.not_valid_after_utc


def in_effect(begins: datetime | None, ends: datetime | None, now: datetime) -> bool:
    """Whether ``now`` falls in a certificate's validity (an unknown bound does not bound it)."""
    return (begins is None or begins <= now) and (ends is None or now < ends)


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        written = datetime.fromisoformat(value)
    except ValueError:
        return None
    # WeChat Pay writes its times in China Standard Time; one without an offset compared with an aware time
    # would raise TypeError.
    return written if written.tzinfo is not None else written.replace(tzinfo=_CHINA)


def decrypt_certificates(body: bytes | Mapping[str, Any], apiv3_key: str | bytes) -> tuple[PlatformCertificate, ...]:
    """Open every ``encrypt_certificate`` of a v3/certificates answer with the APIv3 key.

    A box that does not open, or a certificate whose serial differs from its ``serial_no``, raises
    SignatureError: such a list must not be trusted.
    """
    if isinstance(body, (bytes, str)):
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nesting like "[[[[…"
            raise SignatureError("The v3/certificates answer is not JSON") from None
    else:
        document = body
    items = document.get("data") if isinstance(document, Mapping) else None
    if not isinstance(items, list):
        raise SignatureError("The v3/certificates answer has no data list")
    out = []
    for item in items:
        box = item.get("encrypt_certificate") if isinstance(item, Mapping) else None
        box = {} if box is None else box
        if not isinstance(box, Mapping):
            raise SignatureError("A v3/certificates entry has no encrypt_certificate object")
        algorithm = box.get("algorithm", "AEAD_AES_256_GCM")
        if algorithm != "AEAD_AES_256_GCM":
            raise SignatureError(f"Unknown certificate encryption {_shown(algorithm)}")
        nonce, associated, ciphertext = (box.get(k, "") for k in ("nonce", "associated_data", "ciphertext"))
        if not (isinstance(nonce, str) and isinstance(associated, str) and isinstance(ciphertext, str)):
            raise SignatureError("A v3/certificates entry's encrypt_certificate fields are not text")
        try:
            pem = aes_gcm_decrypt(apiv3_key, nonce, associated, ciphertext)
        except ConfigurationError:  # a ValueError too: the apiv3_key is wrong, not the answer
            raise
        except (ValueError, TypeError):
            raise SignatureError("A listed platform certificate does not decrypt") from None
        try:
            cert = load_certificate(pem)
            key = cert.public_key()
        except (ConfigurationError, ValueError, UnsupportedAlgorithm):
            raise SignatureError("A listed platform certificate decrypts to no readable certificate") from None
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureError("A listed platform certificate does not carry an RSA key")
        serial = certificate_serial(cert)
        listed = item.get("serial_no", "")
        listed = listed.upper() if isinstance(listed, str) else ""
        if serial.lstrip("0") != listed.lstrip("0"):
            raise SignatureError(f"Certificate listed as {_shown(listed)} decrypts to serial {serial}: not trusted")
        out.append(PlatformCertificate(listed, _time(item.get("effective_time")), _time(item.get("expire_time")), cert))
    return tuple(out)


def _shown(value: object) -> str:
    """A value from the answer as an error message may quote it: short, and repr'd."""
    text = repr(value[:64]) if isinstance(value, str) else type(value).__name__
    return text if not isinstance(value, str) or len(value) <= 64 else text + "…"
