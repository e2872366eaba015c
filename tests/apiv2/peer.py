"""An independent APIv2 peer for the tests: a throwaway CA, server and client certificates made here with
``cryptography``, and an aiohttp HTTPS server on 127.0.0.1 that reads the raw XML with its own regex,
recomputes the MD5 / HMAC-SHA256 sign by hand and records the client certificate of each connection.
Nothing here uses wxpay_chain's code.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import ipaddress
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

APIV2_KEY = "192006250b4c09247ec02edce69f6a2d"  # the APIv2 signing guide's example key
MCHID = "1900000001"
_FIELD = re.compile(r"<([a-z_]+)>(?:<!\[CDATA\[(.*?)\]\]>|([^<]*))</\1>", re.DOTALL)


def hand_sign(fields: dict[str, str], key: str, kind: str = "MD5") -> str:
    """The APIv2 rule, written out: sorted non-empty k=v but sign, "&key=", MD5 or HMAC-SHA256, upper hex."""
    text = "&".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "sign" and fields[k] != "")
    text += "&key=" + key
    if kind == "HMAC-SHA256":
        return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    return hashlib.md5(text.encode()).hexdigest().upper()


def read_fields(body: bytes) -> dict[str, str]:
    text = body.decode("utf-8")
    assert text.startswith("<xml>") and text.endswith("</xml>"), text
    unescape = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
    out = {}
    for m in _FIELD.finditer(text):
        value = (
            m.group(2) if m.group(2) is not None else re.sub("&lt;|&gt;|&amp;", lambda e: unescape[e[0]], m.group(3))
        )
        out[m.group(1)] = value
    return out


def xml_of(fields: dict[str, str]) -> bytes:
    return ("<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()) + "</xml>").encode()


_CA_USAGE = x509.KeyUsage(
    digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
    key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
)


def _cert(
    subject: str, public: object, issuer_key: object, issuer: str, ca: bool, sans: list[x509.GeneralName]
) -> x509.Certificate:
    now = datetime.now(timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        # Python 3.13 verifies with VERIFY_X509_STRICT: RFC 5280's key identifiers, and a CA's key usage.
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)  # type: ignore[arg-type]
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),  # type: ignore[attr-defined]
            critical=False,
        )
    )
    if ca:
        builder = builder.add_extension(_CA_USAGE, critical=True)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())  # type: ignore[arg-type]


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Pki:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate for the merchant key."""

    ca: x509.Certificate
    server: x509.Certificate
    server_key: ec.EllipticCurvePrivateKey
    client: x509.Certificate

    @classmethod
    def make(cls, merchant_key: rsa.RSAPrivateKey) -> Pki:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _cert("test CA", ca_key.public_key(), ca_key, "test CA", True, [])
        server_key = ec.generate_private_key(ec.SECP256R1())
        server = _cert(
            "127.0.0.1",
            server_key.public_key(),
            ca_key,
            "test CA",
            False,
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
        )
        client = _cert(MCHID, merchant_key.public_key(), ca_key, "test CA", False, [])
        return cls(ca, server, server_key, client)

    def server_context(self, folder: Path) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.verify_mode = ssl.CERT_OPTIONAL  # so that a call without a certificate is seen, and judged
        context.load_verify_locations(cadata=pem(self.ca).decode())
        (folder / "server.pem").write_bytes(pem(self.server))
        (folder / "server.key").write_bytes(
            self.server_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context.load_cert_chain(folder / "server.pem", folder / "server.key")
        return context

    def trust(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=pem(self.ca).decode())


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    fields: dict[str, str]
    sign_ok: bool
    peer_cn: str | None
    peer_public: rsa.RSAPublicKey | None


Answer = Callable[[dict[str, str]], "dict[str, str] | web.StreamResponse | Awaitable[web.StreamResponse]"]


def signed_success(fields: dict[str, str], **extra: str) -> dict[str, str]:
    answer = {"return_code": "SUCCESS", "result_code": "SUCCESS", "mch_id": MCHID, "nonce_str": "peer", **extra}
    answer["sign"] = hand_sign(answer, APIV2_KEY, fields.get("sign_type") or "MD5")
    return answer


@dataclass
class V2Peer:
    answer: Answer = signed_success
    seen: list[Seen] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        fields = read_fields(body)
        kind = fields.get("sign_type") or "MD5"
        ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        cert = x509.load_der_x509_certificate(der) if der else None
        public = cert.public_key() if cert is not None else None
        self.seen.append(
            Seen(
                path=request.raw_path,
                headers=dict(request.headers),
                body=body,
                fields=fields,
                sign_ok=hand_sign(fields, APIV2_KEY, kind) == fields.get("sign"),
                peer_cn=str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value) if cert else None,
                peer_public=public if isinstance(public, rsa.RSAPublicKey) else None,
            )
        )
        reply = self.answer(fields)
        if inspect.isawaitable(reply):
            reply = await reply
        if isinstance(reply, web.StreamResponse):
            return reply
        return web.Response(body=xml_of(reply), content_type="text/xml")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app
