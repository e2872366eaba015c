"""Key loading and the WeChat Pay primitives: SHA256withRSA, RSA-OAEP (SHA-1) and AEAD_AES_256_GCM.

Pure functions over ``cryptography``. Errors never echo key material: a message says which argument was
wrong and what shape was expected, never what was in it.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections import deque
from pathlib import Path
from typing import TypeAlias, Union
from urllib.parse import unquote, urlparse

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._errors import ConfigurationError, InvalidRequestError, SignatureError
from ._secret import SecretBytes
from ._uri import unencodable

__all__ = [
    "KeySource",
    "PublicKeySource",
    "aes_gcm_decrypt",
    "aes_gcm_encrypt",
    "certificate_serial",
    "load_certificate",
    "load_private_key",
    "load_public_key",
    "load_public_source",
    "make_nonce",
    "rsa_oaep_decrypt",
    "rsa_oaep_encrypt",
    "rsa_oaep_open",
    "rsa_sign",
    "rsa_verify",
    "rsa_verify_bytes",
    "secret_bytes",
]

KeySource: TypeAlias = Union[str, bytes, Path, rsa.RSAPrivateKey]  # noqa: UP007 (runtime alias on 3.10)
PublicKeySource: TypeAlias = Union[str, bytes, Path, rsa.RSAPublicKey, x509.Certificate]  # noqa: UP007

_PKCS1v15 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


# Nonces are drawn from the OS CSPRNG 64 at a time: each os.urandom call releases the GIL, and on a busy
# event loop every release is a chance to lose the GIL to the signing thread for a while.
_NONCE_BATCH = 64
_nonces: deque[str] = deque()
os.register_at_fork(after_in_child=_nonces.clear)  # a forked worker must never repeat its parent's nonces


def make_nonce(length: int = 32) -> str:
    """A random string of [0-9a-f] (within the protocol's [0-9A-Za-z]) from the operating system's CSPRNG.

    Hex carries 4 bits a character, 128 bits for the default 32: as unguessable as needed, and ~40× cheaper
    than picking 32 characters one by one. Every nonce is used once.
    """
    if length != 32:
        return secrets.token_hex((length + 1) // 2)[:length]
    try:
        return _nonces.popleft()  # deque operations are atomic: safe from several threads
    except IndexError:
        pool = os.urandom(16 * _NONCE_BATCH).hex()
        _nonces.extend(pool[i : i + 32] for i in range(32, len(pool), 32))
        return pool[:32]


# Keys from environment variables and secret stores come as one line of base64 DER, without PEM armour.
# Such a string is a key when it decodes to a DER SEQUENCE with a long-form length (any key or certificate
# is over 127 bytes) and is long: no plausible path passes both tests (a DER key's base64 opens with "MI").
_B64_TEXT = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_B64_KEY_MIN = 100
_URLSAFE = str.maketrans("-_", "+/")
_APIV3_LIKE = re.compile(r"[A-Za-z0-9]{32}")
_FORMS = "expected PEM text, one-line base64 DER, a file:// URL or a path"


def _b64_der(text: str) -> bytes | None:
    """The DER bytes if ``text`` is base64 of a key or certificate (whitespace, padding optional, standard
    or URL-safe alphabet); None if it is something else, such as a path."""
    compact = "".join(text.split())
    if len(compact) < _B64_KEY_MIN or not _B64_TEXT.fullmatch(compact):
        return None
    body = compact.rstrip("=").translate(_URLSAFE)
    if len(body) % 4 == 1:
        body = body[:-1]  # cut mid-character: decode the rest, so the DER parser reports the truncation
    raw = base64.b64decode(body + "=" * (-len(body) % 4))
    return raw if _is_der(raw) else None


def _is_der(data: bytes) -> bool:
    # 0x30 alone is also ASCII "0": the long-form length byte (never ASCII) tells DER from text.
    return len(data) > 1 and data[0] == 0x30 and 0x81 <= data[1] <= 0x84


def _classify(data: bytes) -> tuple[bytes, bool]:
    """Bytes (given, or read from a file) as ``(PEM or DER bytes, is_der)``."""
    if b"-----BEGIN" in data or _is_der(data):
        return data, _is_der(data)
    try:
        der = _b64_der(data.decode("ascii"))
    except UnicodeDecodeError:
        der = None
    return (der, True) if der is not None else (data, False)


def _read_source(source: str | bytes | Path, what: str, kind: str) -> tuple[bytes, bool]:
    """Resolve a key source to ``(PEM or DER bytes, is_der)``.

    No error quotes the source, not even as a path: a string that misses every expected shape may be a
    key (or the APIv3 key) in the wrong place, and error messages end up in logs.
    """
    if isinstance(source, Path):
        return _classify(_read_file(source, what))
    if isinstance(source, bytes):
        return _classify(source)
    text = source.strip()
    if text.startswith("-----BEGIN"):
        if "\n" not in text and "\\n" in text:
            text = text.replace("\\n", "\n")  # PEM from an env file or JSON with its newlines left escaped
        return text.encode("ascii", "replace"), False
    der = _b64_der(text)
    if der is not None:
        return der, True
    if text.startswith("file://"):
        parsed = urlparse(text)
        if parsed.netloc not in ("", "localhost"):  # RFC 8089: file://host/path; this machine only
            raise ConfigurationError(f"{what}: a file:// URL names a file on this machine: file:///path/to/key.pem")
        return _classify(_read_file(Path(unquote(parsed.path)), what))
    if _APIV3_LIKE.fullmatch(text) and not os.path.isfile(text):
        raise ConfigurationError(f"{what}: this looks like a 32-character APIv3 key, not a {kind}; {_FORMS}")
    if "\n" not in text and len(text) < 4096:
        # Long base64-only text that is no file is most likely a key cut short or mangled.
        keyish = len(text) >= 40 and _B64_TEXT.fullmatch(text) is not None
        hint = "; if it is a key, its base64 is cut short or mangled" if keyish else ""
        return _classify(_read_file(Path(text), what, hint))
    raise ConfigurationError(f"{what}: this is not a {kind}; {_FORMS}")


def _read_file(path: Path, what: str, hint: str = "") -> bytes:
    try:
        return path.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the name
        reason = (exc.strerror if isinstance(exc, OSError) else None) or type(exc).__name__
    # Raised outside the handler, so that no __context__ (whose text names the path) rides along.
    raise ConfigurationError(f"{what}: cannot read the file given ({reason}){hint}; {_FORMS}")


def load_private_key(source: KeySource, passphrase: str | bytes | None = None) -> rsa.RSAPrivateKey:
    """Load an RSA private key from PEM or one-line base64 DER (PKCS#1, PKCS#8, encrypted PKCS#8), a path,
    a URL or an object."""
    what = "private_key"
    if isinstance(source, rsa.RSAPrivateKey):
        return source
    if not isinstance(source, (str, bytes, Path)):
        raise ConfigurationError(
            f"{what}: expected PEM text or bytes, one-line base64 DER, a file:// URL, a path or an RSA "
            f"private key object, got {type(source).__name__}"
        )
    data, der = _read_source(source, what, "private key")
    public_hint = (
        "this is a public key or certificate; pass the merchant's private key "
        "(apiclient_key.pem) here and WeChat Pay's public keys in platform_keys"
    )
    if not der and b"PRIVATE KEY" not in data:
        if b"CERTIFICATE" in data or b"PUBLIC KEY" in data:
            raise ConfigurationError(f"{what}: {public_hint}")
        raise ConfigurationError(f"{what}: no PEM private key found (expected '-----BEGIN PRIVATE KEY-----')")
    password = None if passphrase is None else secret_bytes(passphrase, "passphrase")
    loader = serialization.load_der_private_key if der else serialization.load_pem_private_key
    key: PrivateKeyTypes | None = None
    try:
        key = loader(data, password=password)
    except TypeError:
        problem = "the key is not encrypted; drop the passphrase"
        if password is None:
            problem = "the key is encrypted; pass its passphrase"
    except (ValueError, UnsupportedAlgorithm):
        hint = "wrong passphrase, or " if password is not None else ""
        problem = f"cannot load the key ({hint}truncated or corrupted {'DER' if der else 'PEM'})"
        if der and _load_der_public(data) is not None:
            problem = public_hint
    # Raised outside the handlers: the parser's own exception is no part of the message.
    if key is None:
        raise ConfigurationError(f"{what}: {problem}")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError(f"{what}: WeChat Pay keys are RSA; got {type(key).__name__}")
    return key


def _load_der_public(data: bytes) -> x509.Certificate | PublicKeyTypes | None:
    """A DER certificate or public key (SPKI or PKCS#1), or None."""
    try:
        return x509.load_der_x509_certificate(data)
    except ValueError:
        pass
    try:
        return serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        return None


def _is_der_private(data: bytes) -> bool:
    try:
        serialization.load_der_private_key(data, password=None)
    except TypeError:
        return True  # encrypted: a private key all the same
    except (ValueError, UnsupportedAlgorithm):
        return False
    return True


def load_certificate(data: bytes, what: str = "certificate") -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        pass
    # Raised outside the handler: the parser's own exception is no part of the message.
    raise ConfigurationError(f"{what}: truncated or corrupted PEM certificate")


def certificate_serial(cert: x509.Certificate) -> str:
    """The certificate serial as WeChat Pay writes it: upper-case hex."""
    return format(cert.serial_number, "X")


def load_public_key(source: PublicKeySource, what: str = "public key") -> tuple[rsa.RSAPublicKey, str | None]:
    """Load an RSA public key from SPKI or PKCS#1, or from an X.509 certificate, in PEM or one-line base64
    DER.

    Returns the key and, for a certificate, its serial in upper-case hex.
    """
    key, cert = load_public_source(source, what)
    return key, None if cert is None else certificate_serial(cert)


def load_public_source(source: PublicKeySource, what: str) -> tuple[rsa.RSAPublicKey, x509.Certificate | None]:
    """:func:`load_public_key`, with the certificate itself when the source is one (its validity counts)."""
    if isinstance(source, rsa.RSAPublicKey):
        return source, None
    if isinstance(source, x509.Certificate):
        return _certificate_key(source, what)
    if not isinstance(source, (str, bytes, Path)):
        raise ConfigurationError(
            f"{what}: expected PEM text or bytes, one-line base64 DER, a file:// URL, a path, a public key or "
            f"a certificate, got {type(source).__name__}"
        )
    data, der = _read_source(source, what, "public key or certificate")
    private_hint = f"{what}: this is a private key; pass WeChat Pay's public key or platform certificate"
    parsed: x509.Certificate | PublicKeyTypes | None
    if der:
        parsed = _load_der_public(data)
        if parsed is None:
            broken = f"{what}: cannot load the public key or certificate (truncated or corrupted DER)"
            raise ConfigurationError(private_hint if _is_der_private(data) else broken)
    elif b"PRIVATE KEY" in data:
        raise ConfigurationError(private_hint)
    elif b"CERTIFICATE" in data:
        parsed = load_certificate(data, what)
    else:
        try:
            parsed = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm):
            parsed = None
        # Raised outside the handler: the parser's own exception is no part of the message.
        if parsed is None:
            raise ConfigurationError(f"{what}: cannot load the public key (truncated or corrupted PEM)")
    if isinstance(parsed, x509.Certificate):
        return _certificate_key(parsed, what)
    if not isinstance(parsed, rsa.RSAPublicKey):
        raise ConfigurationError(f"{what}: WeChat Pay keys are RSA; got {type(parsed).__name__}")
    return parsed, None


def _certificate_key(cert: x509.Certificate, what: str) -> tuple[rsa.RSAPublicKey, x509.Certificate]:
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ConfigurationError(f"{what}: WeChat Pay certificates carry RSA keys")
    return public, cert


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64."""
    return base64.b64encode(key.sign(message, _PKCS1v15, _SHA256)).decode("ascii")


def rsa_verify(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    return rsa_verify_bytes(key, message, raw)


def rsa_verify_bytes(key: rsa.RSAPublicKey, message: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, message, _PKCS1v15, _SHA256)
    except InvalidSignature:
        return False
    return True


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def rsa_oaep_encrypt(key: rsa.RSAPublicKey, plaintext: str) -> str:
    """RSAES-OAEP with SHA-1 and MGF1-SHA-1, base64: WeChat Pay's sensitive-field encryption."""
    data = _utf8(plaintext)
    if data is None:  # raised outside the handler, whose UnicodeEncodeError holds the text
        raise unencodable("text", "The text to encrypt")
    try:
        return base64.b64encode(key.encrypt(data, _oaep())).decode("ascii")
    except ValueError:
        raise InvalidRequestError("text is too long to encrypt with RSA-OAEP (at most 214 bytes)") from None


def rsa_oaep_decrypt(key: rsa.RSAPrivateKey, ciphertext: str) -> str:
    opened = rsa_oaep_open(key, ciphertext)
    try:
        if opened is not None:
            return opened.decode("utf-8")
    except ValueError:
        pass
    # Raised outside the handler: no decoder exception rides along.
    raise InvalidRequestError("cannot decrypt: not base64, or not encrypted for this merchant key")


def rsa_oaep_open(key: rsa.RSAPrivateKey, ciphertext: str) -> bytes | None:
    """The bytes RSA-OAEP (SHA-1) encrypted for ``key`` as base64, or None when they do not open."""
    try:
        return key.decrypt(base64.b64decode(ciphertext, validate=True), _oaep())
    except (ValueError, binascii.Error):
        return None


def _aes_key(key: str | bytes) -> bytes:
    if not isinstance(key, (str, bytes)):
        raise ConfigurationError("apiv3_key: must be the 32-character APIv3 key (str or bytes)")
    raw = secret_bytes(key, "apiv3_key")
    if len(raw) not in (16, 24, 32):
        raise ConfigurationError(
            f"apiv3_key: must be the 32-character APIv3 key set in the merchant platform (got {len(raw)} bytes)"
        )
    return raw


def aes_gcm_encrypt(key: str | bytes, nonce: str | bytes, associated_data: str | bytes, plaintext: str | bytes) -> str:
    """AEAD_AES_256_GCM: base64(ciphertext || 16-byte tag)."""
    sealed = AESGCM(_aes_key(key)).encrypt(_b(nonce), _b(plaintext), _b(associated_data) or None)
    return base64.b64encode(sealed).decode("ascii")


def aes_gcm_decrypt(key: str | bytes, nonce: str | bytes, associated_data: str | bytes, ciphertext: str) -> bytes:
    """Open an AEAD_AES_256_GCM box; a wrong key or tampered data raises SignatureError."""
    box = AESGCM(_aes_key(key))  # outside the try: a malformed key is the caller's setting, not tampering
    try:
        sealed = base64.b64decode(ciphertext, validate=True)
        return box.decrypt(_b(nonce), sealed, _b(associated_data) or None)
    except (InvalidTag, ValueError, binascii.Error):
        raise SignatureError(
            "AES-GCM decryption failed: wrong APIv3 key, or the ciphertext, nonce or associated data was altered"
        ) from None


def secret_bytes(value: str | bytes, what: str) -> bytes:
    """A key or passphrase as bytes; ConfigurationError, never quoting it, for text UTF-8 cannot encode."""
    raw = value if isinstance(value, bytes) else _utf8(value)
    if raw is not None:
        return SecretBytes(raw)  # in a traceback's locals, "<secret>"
    # Raised outside the handler: the UnicodeEncodeError holds the whole secret.
    raise ConfigurationError(
        f"{what} holds text UTF-8 cannot encode (a lone surrogate, such as a byte the environment could not "
        "decode): set it again as the merchant platform shows it"
    )


def _utf8(text: str) -> bytes | None:
    """``text`` in UTF-8, or None for a lone surrogate (the caller raises its own error, without this one's)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


def _b(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value
