"""The sandbox's key material: a merchant, a brand and a WeChat Pay platform key pair.

RSA key generation takes a noticeable fraction of a second, so the default set is made once per
process; a ``state_dir`` keeps its own set on disk so restarts keep working with the same config.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .._files import replace_whole
from ._persist import StateFileError, unreadable

DEFAULT_MCHID = "1900000001"
DEFAULT_BRAND_ID = "120344"

_KEYS_FILE = "sandbox-keys.json"
_PEM_DIR = "sandbox-keys"
_PEM_FILES = {
    "merchant_private_key": "merchant_private_key.pem",
    "brand_private_key": "brand_private_key.pem",
    "platform_private_key": "platform_private_key.pem",
    "platform_public_key": "platform_public_key.pem",
    "platform_certificate": "platform_certificate.pem",
}


@attrs.frozen
class KeySet:
    """Every identifier and key the sandbox needs; private parts stay out of repr."""

    mchid: str
    merchant_serial: str
    merchant_private_key: str = attrs.field(repr=False)
    brand_id: str
    brand_serial: str
    brand_private_key: str = attrs.field(repr=False)
    platform_private_key: str = attrs.field(repr=False)
    pub_key_id: str
    platform_public_key: str
    platform_serial: str
    platform_certificate: str
    apiv3_key: str = attrs.field(repr=False)


def _new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def _upper_hex_serial() -> str:
    return secrets.token_hex(20).upper()


def _certificate(key: rsa.RSAPrivateKey, mchid: str) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "wxpay_chain sandbox (Tenpay.com look-alike)"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, mchid),
            x509.NameAttribute(NameOID.COMMON_NAME, "WeChat Pay sandbox platform certificate"),
        ]
    )
    now = datetime.now(timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=5 * 365))
        .sign(key, hashes.SHA256())
    )


def generate_key_set(*, mchid: str = DEFAULT_MCHID, brand_id: str = DEFAULT_BRAND_ID) -> KeySet:
    """A fresh, random key set (three RSA-2048 keys, serials, a public key id and an APIv3 key)."""
    merchant = _new_rsa_key()
    brand = _new_rsa_key()
    platform = _new_rsa_key()
    certificate = _certificate(platform, mchid)
    alphabet = string.ascii_letters + string.digits
    return KeySet(
        mchid=mchid,
        merchant_serial=_upper_hex_serial(),
        merchant_private_key=_private_pem(merchant),
        brand_id=brand_id,
        brand_serial=_upper_hex_serial(),
        brand_private_key=_private_pem(brand),
        platform_private_key=_private_pem(platform),
        pub_key_id="PUB_KEY_ID_" + "".join(secrets.choice(string.digits) for _ in range(28)),
        platform_public_key=platform.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii"),
        platform_serial=format(certificate.serial_number, "X"),
        platform_certificate=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        apiv3_key="".join(secrets.choice(alphabet) for _ in range(32)),
    )


_default: KeySet | None = None
_default_lock = threading.Lock()


def default_key_set() -> KeySet:
    """The process-wide key set, generated on first use (sandboxes in one test run share it)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = generate_key_set()
        return _default


def save_key_set(keys: KeySet, directory: Path) -> None:
    pem_dir = directory / _PEM_DIR
    pem_dir.mkdir(parents=True, exist_ok=True)
    values = attrs.asdict(keys)
    for field, filename in _PEM_FILES.items():
        write_file(pem_dir / filename, values.pop(field), private=True)
    write_file(directory / _KEYS_FILE, json.dumps(values, indent=2, sort_keys=True) + "\n", private=True)


def load_key_set(directory: Path) -> KeySet | None:
    """The key set saved in ``directory``, or None when there is none yet.

    StateFileError for a key index or key file that is damaged or missing.
    """
    index = directory / _KEYS_FILE
    if not index.exists():
        return None
    remedy = (
        f"restore it from a copy, or move {_KEYS_FILE} and {_PEM_DIR} aside to start with new keys "
        "(config.json is then written anew)"
    )
    try:
        values = json.loads(index.read_text("utf-8"))
        if not isinstance(values, dict):
            raise TypeError("not a JSON object")
    except (ValueError, TypeError) as exc:
        raise StateFileError(index, unreadable(exc), remedy) from None
    for field, filename in _PEM_FILES.items():
        path = directory / _PEM_DIR / filename
        try:
            values[field] = path.read_text("ascii")
        except FileNotFoundError:
            raise StateFileError(path, "is missing", remedy) from None
        except UnicodeDecodeError:
            raise StateFileError(path, "is not a PEM file", remedy) from None
    try:
        return KeySet(**values)
    except TypeError as exc:  # fields missing or unknown
        raise StateFileError(index, unreadable(exc), remedy) from None


def load_or_create_key_set(directory: Path) -> KeySet:
    existing = load_key_set(directory)
    if existing is not None:
        return existing
    keys = generate_key_set()
    save_key_set(keys, directory)
    return keys


def write_file(path: Path, text: str, *, private: bool) -> None:
    """Write ``text`` to ``path`` whole or not at all; ``private``: mode 0600. Through a new name of its own,
    so that a link or a file a crash left at a fixed name is neither followed nor lends its mode."""
    replace_whole(path, text.encode("utf-8"), 0o600 if private else 0o644)
