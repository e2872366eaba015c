"""The sandbox's TLS: its own CA, a server certificate for the loopback names, the merchant API certificate
(apiclient_cert.pem) it issues for the merchant key, and its APIv2 key. Made once per key set and process.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import os
import ssl
import tempfile
import threading
from datetime import datetime, timedelta, timezone

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ._auth import _load_private
from ._keys import KeySet

__all__ = ["SandboxTls", "adopt", "apiv2_key_of", "peer_is_merchant", "tls_for"]


@attrs.frozen
class SandboxTls:
    """PEM texts; the private parts stay out of repr."""

    ca_certificate: str
    server_certificate: str
    server_key: str = attrs.field(repr=False)
    client_certificate: str

    def server_context(self) -> ssl.SSLContext:
        """Asks every client for a certificate (CERT_OPTIONAL): security endpoints refuse a call without one.
        Made once per process: load_cert_chain reads files, and every sandbox start asks for it."""
        return _server_context(self)


@functools.lru_cache(maxsize=8)
def _server_context(tls: SandboxTls) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(cadata=tls.ca_certificate)
    with tempfile.TemporaryDirectory(prefix="wxpay-sandbox-") as folder:
        cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
        for path, text in ((cert, tls.server_certificate), (key, tls.server_key)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(text)
        context.load_cert_chain(cert, key)
    return context


def apiv2_key_of(keys: KeySet) -> str:
    """The sandbox's APIv2 key: 32 characters derived from its APIv3 key (stable across restarts)."""
    return hashlib.sha256(b"sandbox apiv2 key:" + keys.apiv3_key.encode()).hexdigest()[:32]


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _issue(
    subject: x509.Name,
    public: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    ca: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    now = datetime.now(timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=5 * 365))
        # Python 3.13's default contexts verify with VERIFY_X509_STRICT, which wants RFC 5280's key identifiers.
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(ca, hashes.SHA256())


def _make(keys: KeySet) -> SandboxTls:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("wxpay-chain sandbox CA")
    ca_usage = x509.KeyUsage(
        digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
    )
    ca_extensions: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (ca_usage, True),  # VERIFY_X509_STRICT refuses a CA certificate without one
    ]
    ca = _issue(ca_name, ca_key.public_key(), ca_key, ca_name, ca_extensions)
    server_key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    names.append(x509.IPAddress(ipaddress.ip_address("::1")))
    server = _issue(
        _name("localhost"),
        server_key.public_key(),
        ca_key,
        ca_name,
        [(x509.SubjectAlternativeName(names), False), (x509.BasicConstraints(ca=False, path_length=None), True)],
    )
    merchant = _load_private(keys.merchant_private_key)
    # WeChat Pay's apiclient_cert.pem names the merchant id as its CN.
    client = _issue(
        _name(keys.mchid),
        merchant.public_key(),
        ca_key,
        ca_name,
        [(x509.BasicConstraints(ca=False, path_length=None), True)],
    )
    server_pem = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return SandboxTls(_pem(ca), _pem(server), server_pem, _pem(client))


_made: dict[str, SandboxTls] = {}
_lock = threading.Lock()


def tls_for(keys: KeySet) -> SandboxTls:
    """The TLS material of ``keys``' sandbox (made on first use, then shared by this process)."""
    with _lock:
        found = _made.get(keys.merchant_private_key)
        if found is None:
            found = _made[keys.merchant_private_key] = _make(keys)
        return found


def adopt(keys: KeySet, tls: SandboxTls) -> SandboxTls:
    """Use ``tls`` (kept in a state dir) for ``keys`` in this process, unless it made or adopted one already:
    returns the one in use."""
    with _lock:
        return _made.setdefault(keys.merchant_private_key, tls)


def peer_is_merchant(peer_der: bytes | None, keys: KeySet) -> bool:
    """Whether the certificate the TLS handshake verified is one for the merchant's key (and id)."""
    if not peer_der:
        return False
    cert = x509.load_der_x509_certificate(peer_der)
    merchant = _load_private(keys.merchant_private_key)  # parsed once: it costs ~30 ms of RSA checks
    public = cert.public_key()
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return (
        isinstance(public, rsa.RSAPublicKey)
        and public.public_numbers() == merchant.public_key().public_numbers()
        and bool(names)
        and names[0].value == keys.mchid
    )
