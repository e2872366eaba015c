"""The sandbox's TLS material kept in its state dir (``sandbox-tls.json``, owner-only: it holds the HTTPS
server's private key), so that a restarted sandbox serves HTTPS under the same CA and accepts the
apiclient_cert.pem it issued before: a client configured from config.json before the restart still connects.

A file that is unreadable, for other keys, or expired is replaced by this process's material (clients then
need config.json again, as after a first start).
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from pathlib import Path

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ._keys import KeySet, write_file
from ._tls import SandboxTls, adopt, peer_is_merchant, tls_for

__all__ = ["TLS_FILE", "keep_tls"]

TLS_FILE = "sandbox-tls.json"


def keep_tls(keys: KeySet, directory: Path) -> SandboxTls:
    """The TLS material of ``keys``' sandbox: the one saved in ``directory`` when it is still good for these
    keys, else this process's, saved there."""
    path = directory / TLS_FILE
    saved = _read(path, keys)
    tls = adopt(keys, saved) if saved is not None else tls_for(keys)
    if tls != saved:
        # A dir that cannot be written to keeps nothing: its database then fails to open, with its own message.
        with contextlib.suppress(OSError):
            write_file(path, json.dumps(attrs.asdict(tls), indent=2, sort_keys=True) + "\n", private=True)
    return tls


def _read(path: Path, keys: KeySet) -> SandboxTls | None:
    try:
        values = json.loads(path.read_text("utf-8"))
        tls = SandboxTls(**{field: str(values[field]) for field in attrs.fields_dict(SandboxTls)})
        certificates = [
            x509.load_pem_x509_certificate(pem.encode("ascii"))
            for pem in (tls.ca_certificate, tls.server_certificate, tls.client_certificate)
        ]
        server_key = serialization.load_pem_private_key(tls.server_key.encode("ascii"), None)
    except (OSError, ValueError, KeyError, TypeError, UnicodeError):  # none yet, or not one a sandbox wrote
        return None
    now = datetime.now(timezone.utc)
    if any(not cert.not_valid_before_utc <= now < cert.not_valid_after_utc for cert in certificates):
        return None
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if certificates[1].public_key().public_bytes(*spki) != server_key.public_key().public_bytes(*spki):
        return None
    client = certificates[2].public_bytes(serialization.Encoding.DER)
    return tls if peer_is_merchant(client, keys) else None
