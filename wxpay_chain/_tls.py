"""TLS settings of a client: the merchant API certificate presented on APIv2 security calls, and trust.

``client_cert=`` is apiclient_cert.pem (PEM text or bytes, a ``file://`` URL or a path), whose key is the
client's ``private_key``; or apiclient_cert.p12 (bytes, URL or path), unlocked with ``passphrase=``
(WeChat Pay sets it to the merchant id). ``ssl_context=`` sets whom every connection trusts.
"""

from __future__ import annotations

import os
import secrets
import ssl
import tempfile
from pathlib import Path
from typing import TypeAlias, Union

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from ._crypto import KeySource, _read_source, certificate_serial, load_certificate, load_private_key, secret_bytes
from ._errors import ConfigurationError

__all__ = [
    "ClientCertSource",
    "ClientCertificate",
    "load_client_certificate",
    "load_merchant_key",
    "security_context",
]

ClientCertSource: TypeAlias = Union[str, bytes, Path]  # noqa: UP007 (runtime alias on 3.10)


@attrs.frozen
class ClientCertificate:
    """The merchant API certificate and its key; the repr shows the serial only."""

    certificate: x509.Certificate = attrs.field(repr=False)
    key: rsa.RSAPrivateKey = attrs.field(repr=False)
    serial: str

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def load_merchant_key(source: KeySource, passphrase: str | bytes | None, with_cert: bool) -> rsa.RSAPrivateKey:
    """private_key=, unlocked with passphrase=; with a client certificate the passphrase may be the .p12's
    alone (WeChat Pay sets it to the merchant id) and the key file plain, so that is tried too."""
    try:
        return load_private_key(source, passphrase)
    except ConfigurationError as first:
        if not with_cert or passphrase is None:
            raise
        problem = first
    try:
        return load_private_key(source, None)
    except ConfigurationError:
        pass
    raise problem


def load_client_certificate(
    source: object, private_key: rsa.RSAPrivateKey, passphrase: str | bytes | None
) -> ClientCertificate:
    """The certificate of ``client_cert=``; ConfigurationError (never quoting the source) when it is not one
    or does not belong to the merchant's private key."""
    what = "client_cert"
    if not isinstance(source, (str, bytes, Path)):
        raise ConfigurationError(f"{what}: expected apiclient_cert.pem (text, bytes, file:// URL, path) or .p12 bytes")
    data, der = _read_source(source, what, "certificate")
    key: rsa.RSAPrivateKey = private_key
    cert: x509.Certificate | None = None
    problem = "no certificate found (expected apiclient_cert.pem or apiclient_cert.p12)"
    if not der:
        if b"PRIVATE KEY" in data and b"CERTIFICATE" not in data:
            problem = "this is a private key; pass apiclient_cert.pem here and apiclient_key.pem as private_key"
        else:
            cert = load_certificate(data, what)
    else:
        try:
            cert = x509.load_der_x509_certificate(data)
        except ValueError:
            cert, key, problem = _load_p12(data, passphrase, private_key)
    # Raised outside the handlers: no parser exception (or the data) rides along in the message.
    if cert is None:
        raise ConfigurationError(f"{what}: {problem}")
    public, merchant = cert.public_key(), private_key.public_key().public_numbers()
    # Against the key requests are signed with: a .p12 bringing its own key must bring that one.
    matches = isinstance(public, rsa.RSAPublicKey) and public.public_numbers() == merchant
    if not matches or key.public_key().public_numbers() != merchant:
        raise ConfigurationError(
            f"{what}: the certificate does not belong to the private key; pass the apiclient_cert that was "
            "issued with apiclient_key.pem"
        )
    return ClientCertificate(cert, key, certificate_serial(cert))


def _load_p12(
    data: bytes, passphrase: str | bytes | None, fallback: rsa.RSAPrivateKey
) -> tuple[x509.Certificate | None, rsa.RSAPrivateKey, str]:
    password = None if passphrase is None else secret_bytes(passphrase, "passphrase")
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(data, password)
    except (ValueError, TypeError):
        hint = "wrong passphrase (WeChat Pay sets it to the merchant id), or " if password else "pass passphrase=, or "
        return None, fallback, f"cannot open the .p12 ({hint}a truncated or corrupted file)"
    if cert is None or not isinstance(key, rsa.RSAPrivateKey):
        return None, fallback, "the .p12 holds no RSA key and certificate"
    return cert, key, ""


def security_context(cert: ClientCertificate, trust: ssl.SSLContext | None) -> ssl.SSLContext:
    """A client context that presents ``cert``, trusting what ``trust`` trusts (the CA certificates it
    lists, its verification flags, options, versions and TLS 1.2 ciphers), or the system's CAs when it is
    None. A ``trust`` that lists no CA (the system store, or ``capath=``, both loaded lazily) trusts the
    system's CAs here: load a private CA with ``cafile=`` or ``cadata=``."""
    if trust is None:
        context = ssl.create_default_context()
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = trust.check_hostname
        context.verify_mode = trust.verify_mode
        context.minimum_version = trust.minimum_version
        context.maximum_version = trust.maximum_version
        context.verify_flags = trust.verify_flags  # CRL checks, strict or partial chains
        context.options = trust.options
        below_13 = [c["name"] for c in trust.get_ciphers() if c.get("protocol") != "TLSv1.3"]
        if below_13:  # TLS 1.3 suites are not settable from Python, and stay OpenSSL's
            context.set_ciphers(":".join(below_13))
        cas = trust.get_ca_certs(binary_form=True)
        if cas:
            for der in cas:
                context.load_verify_locations(cadata=der)
        else:  # a context that trusts the system store (loaded lazily, so get_ca_certs lists nothing)
            context.load_default_certs()
    # ssl loads a certificate chain from files only: a private directory, the key encrypted with a
    # password used once, both files gone before this returns.
    password = secrets.token_hex(16).encode()
    key_pem = cert.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    with tempfile.TemporaryDirectory(prefix="wxpay-chain-") as folder:
        cert_path, key_path = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
        for path, content in ((cert_path, cert.pem()), (key_path, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
        context.load_cert_chain(cert_path, key_path, password=password)
    return context
