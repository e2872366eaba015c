"""Key loading and the WeChat Pay primitives: SHA256withRSA, RSA-OAEP (SHA-1) and AEAD_AES_256_GCM.

Pure functions over ``cryptography``. Errors never echo key material: a message says which argument was
wrong and what shape was expected, never what was in it.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections import deque
from pathlib import Path
from typing import TypeAlias, Union
from urllib.parse import unquote, urlparse

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._errors import ConfigurationError, InvalidRequestError, SignatureError

__all__ = [
    "KeySource",
    "PublicKeySource",
    "aes_gcm_decrypt",
    "aes_gcm_encrypt",
    "certificate_serial",
    "load_certificate",
    "load_private_key",
    "load_public_key",
    "make_nonce",
    "oaep_decrypt",
    "oaep_encrypt",
    "rsa_sign",
    "rsa_verify",
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


def _read_source(source: str | bytes | Path, what: str) -> bytes:
    """Resolve ``file://`` URLs and filesystem paths; PEM text and bytes pass through."""
    if isinstance(source, Path):
        return _read_file(source, what)
    if isinstance(source, bytes):
        return source
    text = source.strip()
    if text.startswith("-----BEGIN"):
        return text.encode("ascii", "replace")
    if text.startswith("file://"):
        parsed = urlparse(text)
        return _read_file(Path(unquote(parsed.netloc + parsed.path)), what)
    if "\n" not in text and len(text) < 4096:
        return _read_file(Path(text), what)
    raise ConfigurationError(f"{what}: expected PEM text, a file:// URL or a path to a PEM file")


def _read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{what}: cannot read {str(path)!r} ({exc.strerror or exc})") from None


def load_private_key(source: KeySource, passphrase: str | bytes | None = None) -> rsa.RSAPrivateKey:
    """Load an RSA private key from PEM (PKCS#1, PKCS#8, encrypted PKCS#8), a path, a URL or an object."""
    what = "private_key"
    if isinstance(source, rsa.RSAPrivateKey):
        return source
    if not isinstance(source, (str, bytes, Path)):
        raise ConfigurationError(
            f"{what}: expected PEM text or bytes, a file:// URL, a path or an RSA private key object, "
            f"got {type(source).__name__}"
        )
    data = _read_source(source, what)
    if b"PRIVATE KEY" not in data:
        if b"CERTIFICATE" in data or b"PUBLIC KEY" in data:
            raise ConfigurationError(
                f"{what}: this is a public key or certificate; pass the merchant's private key "
                "(apiclient_key.pem) here and WeChat Pay's public keys in platform_keys"
            )
        raise ConfigurationError(f"{what}: no PEM private key found (expected '-----BEGIN PRIVATE KEY-----')")
    password = passphrase.encode() if isinstance(passphrase, str) else passphrase
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError:
        if password is None:
            raise ConfigurationError(f"{what}: the key is encrypted; pass its passphrase") from None
        raise ConfigurationError(f"{what}: the key is not encrypted; drop the passphrase") from None
    except (ValueError, UnsupportedAlgorithm):
        hint = "wrong passphrase, or " if password is not None else ""
        raise ConfigurationError(f"{what}: cannot load the key ({hint}truncated or corrupted PEM)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError(f"{what}: WeChat Pay keys are RSA; got {type(key).__name__}")
    return key


def load_certificate(data: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise ConfigurationError("certificate: truncated or corrupted PEM certificate") from None


def certificate_serial(cert: x509.Certificate) -> str:
    """The certificate serial as WeChat Pay writes it: upper-case hex."""
    return format(cert.serial_number, "X")


def load_public_key(source: PublicKeySource, what: str = "public key") -> tuple[rsa.RSAPublicKey, str | None]:
    """Load an RSA public key from SPKI or PKCS#1 PEM, or from an X.509 certificate.

    Returns the key and, for a certificate, its serial in upper-case hex.
    """
    serial: str | None = None
    if isinstance(source, rsa.RSAPublicKey):
        return source, None
    if isinstance(source, x509.Certificate):
        cert = source
    elif isinstance(source, (str, bytes, Path)):
        data = _read_source(source, what)
        if b"PRIVATE KEY" in data:
            raise ConfigurationError(
                f"{what}: this is a private key; pass WeChat Pay's public key or platform certificate"
            )
        if b"CERTIFICATE" in data:
            cert = load_certificate(data)
        else:
            try:
                key = serialization.load_pem_public_key(data)
            except (ValueError, UnsupportedAlgorithm):
                raise ConfigurationError(f"{what}: cannot load the public key (truncated or corrupted PEM)") from None
            if not isinstance(key, rsa.RSAPublicKey):
                raise ConfigurationError(f"{what}: WeChat Pay keys are RSA; got {type(key).__name__}")
            return key, None
    else:
        raise ConfigurationError(
            f"{what}: expected PEM text or bytes, a file:// URL, a path, a public key or a certificate, "
            f"got {type(source).__name__}"
        )
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ConfigurationError(f"{what}: WeChat Pay certificates carry RSA keys")
    serial = certificate_serial(cert)
    return public, serial


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64."""
    return base64.b64encode(key.sign(message, _PKCS1v15, _SHA256)).decode("ascii")


def rsa_verify(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        key.verify(raw, message, _PKCS1v15, _SHA256)
    except InvalidSignature:
        return False
    return True


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def oaep_encrypt(key: rsa.RSAPublicKey, plaintext: str) -> str:
    """RSAES-OAEP with SHA-1 and MGF1-SHA-1, base64: WeChat Pay's sensitive-field encryption."""
    try:
        return base64.b64encode(key.encrypt(plaintext.encode("utf-8"), _oaep())).decode("ascii")
    except ValueError:
        raise InvalidRequestError("text is too long to encrypt with RSA-OAEP (at most 214 bytes)") from None


def oaep_decrypt(key: rsa.RSAPrivateKey, ciphertext: str) -> str:
    try:
        return key.decrypt(base64.b64decode(ciphertext, validate=True), _oaep()).decode("utf-8")
    except (ValueError, binascii.Error):
        raise InvalidRequestError("cannot decrypt: not base64, or not encrypted for this merchant key") from None


def _aes_key(key: str | bytes) -> bytes:
    raw = key.encode("utf-8") if isinstance(key, str) else key
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
    try:
        sealed = base64.b64decode(ciphertext, validate=True)
        return AESGCM(_aes_key(key)).decrypt(_b(nonce), sealed, _b(associated_data) or None)
    except (InvalidTag, ValueError, binascii.Error):
        raise SignatureError(
            "AES-GCM decryption failed: wrong APIv3 key, or the ciphertext, nonce or associated data was altered"
        ) from None


def _b(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value
