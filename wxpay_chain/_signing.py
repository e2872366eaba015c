"""The APIv3 signature protocol, as small pure steps.

Request:  ``METHOD\\nPATH_AND_QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n`` → SHA256withRSA → Authorization header.
Response: ``TIMESTAMP\\nNONCE\\nBODY\\n`` verified with the key named by ``Wechatpay-Serial``.

Nothing here does I/O or reads a clock: the caller passes the timestamp, the nonce and ``now``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import string
import sys
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Literal, TypeVar, overload

import attrs
from cryptography.hazmat.primitives.asymmetric import rsa

from ._certificates import in_effect, period
from ._crypto import PublicKeySource, certificate_serial, load_public_source, rsa_sign, rsa_verify_bytes
from ._errors import ConfigurationError, SignatureError

__all__ = [
    "BRAND_SCHEME",
    "MAX_CLOCK_SKEW",
    "MAX_SIGNATURE_LENGTH",
    "MERCHANT_SCHEME",
    "PUB_KEY_ID_PREFIX",
    "KeyStore",
    "SignedHeaders",
    "Signer",
    "check_signed_headers",
    "request_message",
    "response_message",
    "verify_signed",
    "verify_signed_message",
]

MERCHANT_SCHEME = "WECHATPAY2-SHA256-RSA2048"
BRAND_SCHEME = "WECHATPAY-BRAND-SHA256-RSA2048"
PUB_KEY_ID_PREFIX = "PUB_KEY_ID_"
SIGNTEST_PREFIX = "WECHATPAY/SIGNTEST/"
MAX_CLOCK_SKEW = 300
SIGNED_HEADERS = ("Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial")
# The shapes of the signed headers (checked before any key is looked up) are: a timestamp of 1 to 12
# ASCII digits, a nonce of 1 to 64 printable ASCII characters but space, a serial of 1 to 64 ASCII
# letters, digits or "_". ASCII is checked first: str.isdigit() and int() also take other scripts' digits.
MAX_SIGNATURE_LENGTH = 1024  # base64 of a 4096-bit RSA signature has 684 characters

log = logging.getLogger("wxpay_chain.signing")
T = TypeVar("T")
Validity = tuple[datetime | None, datetime | None]  # a certificate's effective and expire times
_NEVER = datetime.max.replace(tzinfo=timezone.utc)


def request_message(method: str, path_and_query: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    """The canonical request message; ``path_and_query`` is exactly what goes on the wire."""
    head = f"{method}\n{path_and_query}\n{timestamp}\n{nonce}\n".encode()
    return head + body + b"\n"


def response_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def shown_message(message: bytes, with_body: bool) -> str:
    """A request message as a DEBUG line shows it: the body (names, phone numbers…) only when asked for."""
    head = message.split(b"\n", 4)
    if with_body or len(head) < 5:
        return message.decode("utf-8", "replace")
    body = len(head[4]) - 1  # the message ends with the body's own newline
    kept = b"\n".join(head[:4]).decode("utf-8", "replace")
    return f"{kept}\n<{body} bytes of body; log_bodies=True shows them>\n" if body else f"{kept}\n\n"


def mask(signature: str) -> str:
    """What a log line may show of a signature."""
    return signature[:6] + "…" if len(signature) > 6 else "…"


@attrs.frozen
class Signer:
    """Who signs: a merchant (``mchid``) or a brand (``brand_id``), its certificate serial and key."""

    mode: Literal["merchant", "brand"]
    identity: str
    serial: str
    key: rsa.RSAPrivateKey = attrs.field(repr=False)
    log_bodies: bool = attrs.field(default=False, repr=False, eq=False)  # the body in the DEBUG line below
    # The Authorization header up to the nonce, the same for every request of this signer.
    _head: str = attrs.field(
        init=False,
        repr=False,
        eq=False,
        default=attrs.Factory(
            lambda self: f'{self.scheme} {self.id_field}="{self.identity}",nonce_str=', takes_self=True
        ),
    )

    @property
    def scheme(self) -> str:
        return BRAND_SCHEME if self.mode == "brand" else MERCHANT_SCHEME

    @property
    def id_field(self) -> str:
        return "brand_id" if self.mode == "brand" else "mchid"

    @property
    def who(self) -> str:
        """``mchid=…`` or ``brand_id=…``: how log lines name whose call it was (not a secret: the
        Authorization header carries it in clear)."""
        return f"{self.id_field}={self.identity}"

    def authorization(self, method: str, path_and_query: str, body: bytes, timestamp: int, nonce: str) -> str:
        message = request_message(method, path_and_query, timestamp, nonce, body)
        return self.header(message, nonce, timestamp, rsa_sign(self.key, message))

    def header(self, message: bytes, nonce: str, timestamp: int, signature: str) -> str:
        """The Authorization header for a message signed elsewhere (see SigningThread).

        ``SCHEME mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"`` (``brand_id`` for a
        brand); the part before the nonce is made once per signer.
        """
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "signing %s message %r -> signature %s",
                self.scheme,
                shown_message(message, self.log_bodies),
                mask(signature),
            )
        return f'{self._head}"{nonce}",timestamp="{timestamp}",serial_no="{self.serial}",signature="{signature}"'


@attrs.frozen
class KeyStore(Mapping[str, rsa.RSAPublicKey]):
    """WeChat Pay's verification keys by the ``Wechatpay-Serial`` they answer to (immutable).

    A ``PUB_KEY_ID_...`` matches exactly; a certificate serial matches as hex in any case.
    """

    _keys: Mapping[str, rsa.RSAPublicKey] = attrs.field(factory=dict, repr=False, alias="keys")
    # When each key that came with a certificate is in effect: encrypt() must not pick an expired one.
    _validity: Mapping[str, Validity] = attrs.field(factory=dict, repr=False, alias="validity")

    @classmethod
    def load(cls, sources: Mapping[str, PublicKeySource] | None) -> KeyStore:
        if sources is not None and not isinstance(sources, Mapping):  # a str, a list of pairs: not a falsy "none"
            raise ConfigurationError(
                f"platform_keys must be a dict {{Wechatpay-Serial: key}}, not {type(sources).__name__}: e.g. "
                "{'PUB_KEY_ID_...': 'pub_key.pem'}, or None when apiv3_key= downloads the certificates"
            )
        keys: dict[str, rsa.RSAPublicKey] = {}
        validity: dict[str, Validity] = {}
        for serial, source in (sources or {}).items():
            named = isinstance(serial, str) and (serial.startswith(PUB_KEY_ID_PREFIX) or is_certificate_serial(serial))
            if not named:
                raise ConfigurationError(
                    "platform_keys: name each key by its Wechatpay-Serial: a PUB_KEY_ID_... for WeChat Pay's public "
                    "key, or the platform certificate's serial (up to 40 hex digits)"
                )
            what = f"platform_keys[{serial!r}]"
            key, cert = load_public_source(source, what)
            cert_serial = None if cert is None else certificate_serial(cert)
            if serial.startswith(PUB_KEY_ID_PREFIX):
                if cert_serial is not None:
                    raise ConfigurationError(
                        f"{what}: a PUB_KEY_ID names WeChat Pay's public key (pub_key.pem), "
                        f"but a certificate with serial {cert_serial} was given"
                    )
                keys[serial] = key
            else:
                normalized = serial.upper()
                if cert_serial is not None and cert_serial.lstrip("0") != normalized.lstrip("0"):
                    raise ConfigurationError(
                        f"{what}: the certificate's serial is {cert_serial}; key each certificate by its own serial"
                    )
                keys[normalized] = key
                if cert is not None:
                    validity[normalized] = period(cert)
        return cls(keys=keys, validity=validity)

    def merged(self, other: Mapping[str, rsa.RSAPublicKey]) -> KeyStore:
        added = {_normalize(k): v for k, v in other.items()}
        dates = {_normalize(k): v for k, v in other._validity.items()} if isinstance(other, KeyStore) else {}
        kept = {k: v for k, v in self._validity.items() if k not in added}  # a replaced key's dates go with it
        return KeyStore(keys={**self._keys, **added}, validity={**kept, **dates})

    def encryption_serial(self, now: datetime) -> str:
        """The serial to encrypt a sensitive field for: of the certificates in effect at ``now``, the one
        that expires last; else a key whose dates are not known (a public key given without a certificate)."""
        current = [serial for serial, period in self._validity.items() if in_effect(*period, now)]
        if current:
            return max(current, key=lambda serial: self._validity[serial][1] or _NEVER)
        undated = [s for s in self._keys if s not in self._validity]
        if undated:
            return undated[0]
        if not self._keys:
            raise ConfigurationError("No WeChat Pay key to encrypt with yet: configure platform_keys or download them")
        periods = ", ".join(f"{s} from {b:%Y-%m-%d} to {e:%Y-%m-%d}" for s, (b, e) in self._validity.items() if b and e)
        raise ConfigurationError(
            f"No platform certificate is in effect now ({periods}): WeChat Pay refuses what is encrypted for "
            "another; configure a current certificate or WeChat Pay's public key (PUB_KEY_ID_...)"
        )

    @property
    def pub_key_ids(self) -> tuple[str, ...]:
        return tuple(k for k in self._keys if k.startswith(PUB_KEY_ID_PREFIX))

    def __getitem__(self, serial: str) -> rsa.RSAPublicKey:
        return self._keys[_normalize(serial)]

    @overload
    def get(self, serial: str, /) -> rsa.RSAPublicKey | None: ...
    @overload
    def get(self, serial: str, /, default: rsa.RSAPublicKey | T) -> rsa.RSAPublicKey | T: ...
    def get(self, serial: str, /, default: object = None) -> object:  # skips the Mapping mixin's try/except
        if not isinstance(serial, str):
            return default
        found = self._keys.get(serial)  # a PUB_KEY_ID, or a serial already in canonical form
        if found is None:
            found = self._keys.get(_normalize(serial))
        return default if found is None else found

    def __contains__(self, serial: object) -> bool:
        return isinstance(serial, str) and _normalize(serial) in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def is_certificate_serial(serial: str) -> bool:
    """An X.509 serial as WeChat Pay writes it: 1 to 40 hex digits (20 bytes at most), any case."""
    return 0 < len(serial) <= 40 and serial.isascii() and all(c in string.hexdigits for c in serial)


def _normalize(serial: str) -> str:
    return serial if serial.startswith(PUB_KEY_ID_PREFIX) else serial.upper()


@attrs.frozen(slots=False)  # made for every answer: a __dict__ class stores its fields as dict items
class SignedHeaders:
    """The four ``Wechatpay-*`` headers of a signed answer or notification, checked for shape and age."""

    timestamp: str
    nonce: str
    signature: str = attrs.field(repr=False)
    serial: str
    # The signature's bytes, decoded once by the shape check that already had to decode them.
    decoded: bytes = attrs.field(default=b"", repr=False, eq=False)


def _shown(value: str) -> str:
    """An attacker-chosen header value as an error message may quote it: short, and repr'd."""
    return repr(value[:64]) + ("…" if len(value) > 64 else "")


if sys.version_info >= (3, 11):
    # Strict decoding in C, called directly (base64.b64decode adds two Python calls); a regex over the
    # ~344 characters cost more than the rest of the checks.
    _strict_b64 = functools.partial(binascii.a2b_base64, strict_mode=True)
else:  # pragma: no cover - Python 3.10 has no strict_mode
    _strict_b64 = functools.partial(base64.b64decode, validate=True)


def check_signed_headers(
    headers: Mapping[str, str], now: float, *, what: str = "response", request_id: str | None = None
) -> SignedHeaders:
    """The cheap checks of a signed answer or notification, before any key is looked up or downloaded.

    All four ``Wechatpay-*`` headers present and well formed, no SIGNTEST probe, and a timestamp within
    MAX_CLOCK_SKEW of ``now``. ``headers`` must be case-insensitive (or use the canonical spelling).
    Raises SignatureError naming the reason; the message never quotes more than 64 characters of a header.
    """
    get = headers.get
    timestamp, nonce = get("Wechatpay-Timestamp"), get("Wechatpay-Nonce")
    signature, serial = get("Wechatpay-Signature"), get("Wechatpay-Serial")
    if not (
        timestamp and nonce and signature and serial and str is type(timestamp) is type(nonce) is type(signature)
        and type(serial) is str
    ):
        for name, value in zip(SIGNED_HEADERS, (timestamp, nonce, signature, serial), strict=True):
            if not value:
                raise SignatureError(
                    f"The {what} is not signed: header {name} is missing, so it cannot be trusted",
                    request_id=request_id,
                )
            if not isinstance(value, str):
                raise SignatureError(f"The {what}'s header {name} is not text", request_id=request_id)
    assert timestamp and nonce and signature and serial  # checked above; tells the type checker
    if signature.startswith(SIGNTEST_PREFIX):
        raise SignatureError(
            f"The {what} carries a WECHATPAY/SIGNTEST/ probe signature; WeChat Pay sends these to check that "
            "answers are verified. Nothing was trusted.",
            request_id=request_id,
        )
    if not (len(timestamp) <= 12 and timestamp.isascii() and timestamp.isdigit()):
        raise SignatureError(
            f"The {what}'s Wechatpay-Timestamp {_shown(timestamp)} is not Unix seconds (1 to 12 ASCII digits)",
            request_id=request_id,
        )
    offset = now - int(timestamp)
    if not abs(offset) <= MAX_CLOCK_SKEW:  # written so that a nan clock fails too
        raise SignatureError(
            f"The {what}'s Wechatpay-Timestamp is {offset:.0f} s away from this machine's clock "
            f"(at most {MAX_CLOCK_SKEW} s allowed): check the clock, or the {what} was replayed",
            request_id=request_id,
        )
    if not (len(nonce) <= 64 and nonce.isascii() and nonce.isprintable() and " " not in nonce):
        raise SignatureError(
            f"The {what}'s Wechatpay-Nonce {_shown(nonce)} is not 1 to 64 printable ASCII characters",
            request_id=request_id,
        )
    if not (len(serial) <= 64 and serial.isascii() and serial.replace("_", "0").isalnum()):
        raise SignatureError(
            f"The {what}'s Wechatpay-Serial {_shown(serial)} is not a key serial (1 to 64 letters, digits or _)",
            request_id=request_id,
        )
    try:
        decoded = _strict_b64(signature) if len(signature) <= MAX_SIGNATURE_LENGTH else b""
    except (binascii.Error, ValueError):  # ValueError: not ASCII
        decoded = b""
    if not decoded:
        raise SignatureError(
            f"The {what}'s signature does not verify: Wechatpay-Signature is not base64 of at most "
            f"{MAX_SIGNATURE_LENGTH} characters",
            request_id=request_id,
        )
    return SignedHeaders(timestamp, nonce, signature, serial, decoded)


def verify_signed_message(
    headers: Mapping[str, str],
    body: bytes,
    keys: Mapping[str, rsa.RSAPublicKey],
    now: float,
    *,
    what: str = "response",
    request_id: str | None = None,
) -> str:
    """Verify a WeChat Pay signed answer or notification; return the serial of the key that verified it.

    ``headers`` must be case-insensitive (or use the canonical ``Wechatpay-*`` spelling).
    Raises SignatureError naming the reason; the caller must not hand out ``body`` then.
    """
    signed = check_signed_headers(headers, now, what=what, request_id=request_id)
    return verify_signed(signed, body, keys, what=what, request_id=request_id)


def verify_signed(
    signed: SignedHeaders,
    body: bytes,
    keys: Mapping[str, rsa.RSAPublicKey],
    *,
    what: str = "response",
    request_id: str | None = None,
) -> str:
    """The second step of :func:`verify_signed_message`, for headers :func:`check_signed_headers` passed:
    the key the serial names, and the RSA signature over ``TIMESTAMP\nNONCE\nBODY\n``."""
    serial = signed.serial
    key = keys.get(serial)
    if key is None:
        key = keys.get(_normalize(serial))
    if key is None:
        known = ", ".join(sorted(keys)) or "none"
        raise SignatureError(
            f"The {what} was signed with key {serial!r}, which is not among the configured platform_keys "
            f"({known}): add WeChat Pay's public key or the current platform certificate",
            request_id=request_id,
        )
    message = response_message(signed.timestamp, signed.nonce, body)
    if not rsa_verify_bytes(key, message, signed.decoded):  # decoded by check_signed_headers
        raise SignatureError(
            f"The {what}'s signature does not verify with key {serial!r}: it was altered, or signed by another key",
            request_id=request_id,
        )
    return serial
