"""The sandbox's own reading of the APIv3 signature rules, written from the protocol, not from the client.

Requests: ``METHOD\\nPATH_AND_QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n`` signed SHA256withRSA by the caller.
Answers and notifications: ``TIMESTAMP\\nNONCE\\nBODY\\n`` signed with the platform key.
Nothing here imports the client's signing code, so the two cannot share a bug.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import secrets
import string
from collections.abc import Mapping
from typing import Literal

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._failures import ApiFailure, clean_text, invalid_request, sign_error
from ._keys import KeySet

Scheme = Literal["merchant", "brand"]

MERCHANT_SCHEME = "WECHATPAY2-SHA256-RSA2048"
BRAND_SCHEME = "WECHATPAY-BRAND-SHA256-RSA2048"
SCHEME_NAMES: Mapping[Scheme, str] = {"merchant": MERCHANT_SCHEME, "brand": BRAND_SCHEME}
IDENTITY_PARAM: Mapping[Scheme, str] = {"merchant": "mchid", "brand": "brand_id"}

#: WeChat Pay refuses requests whose timestamp is further than this from its own clock.
MAX_CLOCK_SKEW = 300
PROBE_PREFIX = "WECHATPAY/SIGNTEST/"

_ALNUM = string.ascii_letters + string.digits
_PARAM = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"([^"]*)"|([^",\s]*))\s*(?:,|$)')


@attrs.frozen
class Caller:
    """Who a verified request came from."""

    scheme: Scheme
    identity: str
    serial: str

    @property
    def label(self) -> str:
        """``merchant:<mchid>`` or ``brand:<brand_id>``: how the request log and the rate limit name it."""
        return f"{self.scheme}:{self.identity}"


def make_nonce(length: int = 32) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def parse_authorization(header: str) -> tuple[str, dict[str, str]]:
    """Split ``SCHEME k="v",k2="v2"`` into the scheme and its parameters, in any order.

    Raises ValueError for anything that is not exactly that shape (duplicates included).
    """
    scheme, _, rest = header.strip().partition(" ")
    if not scheme or not rest.strip():
        raise ValueError("Authorization must be '<scheme> key=\"value\",...'")
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None or match.end() == position:
            raise ValueError(f"unparseable Authorization parameters near offset {position}")
        name = match.group(1)
        if name in params:
            raise ValueError(f"Authorization parameter {name} appears twice")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        position = match.end()
    return scheme, params


def request_message(method: str, raw_path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    # raw_path came off the wire as UTF-8 with surrogateescape: encoding it back gives the exact bytes.
    head = f"{method}\n{raw_path}".encode("utf-8", "surrogateescape")
    return head + f"\n{timestamp}\n{nonce}\n".encode("utf-8", "surrogateescape") + body + b"\n"


def answer_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n".encode("ascii") + body + b"\n"


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def rsa_verify(key: rsa.RSAPublicKey, message: bytes, signature_b64: str) -> bool:
    try:
        signature = base64.b64decode(signature_b64.encode("ascii"), validate=True)
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return True


def aes_gcm_encrypt(apiv3_key: str, nonce: str, associated_data: str, plaintext: bytes) -> str:
    """AEAD_AES_256_GCM as WeChat Pay ships it: base64(ciphertext || 16-byte tag)."""
    sealed = AESGCM(apiv3_key.encode("ascii")).encrypt(
        nonce.encode("ascii"), plaintext, associated_data.encode("utf-8")
    )
    return base64.b64encode(sealed).decode("ascii")


@functools.lru_cache(maxsize=16)
def _load_private(pem: str) -> rsa.RSAPrivateKey:
    # Cached: loading validates the RSA key (~30 ms), and test suites start many sandboxes on one key set.
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("sandbox keys must be RSA")
    return key


class RequestVerifier:
    """Checks a request's Authorization against the callers the sandbox knows."""

    def __init__(self, keys: KeySet) -> None:
        merchant = _load_private(keys.merchant_private_key).public_key()
        brand = _load_private(keys.brand_private_key).public_key()
        self._known: dict[tuple[Scheme, str], dict[str, rsa.RSAPublicKey]] = {
            ("merchant", keys.mchid): {keys.merchant_serial: merchant},
            ("brand", keys.brand_id): {keys.brand_serial: brand},
        }
        self._pub_key_id = keys.pub_key_id
        self._platform_serials = {keys.pub_key_id, keys.platform_serial}

    def verify(
        self,
        *,
        scheme: Scheme,
        method: str,
        raw_path: str,
        headers: Mapping[str, str],
        body: bytes,
        now: float,
    ) -> Caller:
        """The verified caller, or ApiFailure (401 SIGN_ERROR; 400 INVALID_REQUEST for a bad serial header or a
        missing Accept or User-Agent, which WeChat Pay refuses before it looks at the signature)."""
        refused = _bad_request_headers(headers)
        if refused is not None:
            raise refused
        header = headers.get("Authorization")
        if not header:
            raise sign_error("缺少 Authorization 头 (missing Authorization header)")
        try:
            scheme_name, params = parse_authorization(header)
        except ValueError as exc:
            raise sign_error(f"Authorization 无法解析 (unparseable Authorization: {exc})") from None
        expected = SCHEME_NAMES[scheme]
        if scheme_name != expected:
            raise sign_error(f"认证类型错误 (this path expects the {expected} scheme, got {clean_text(scheme_name)})")
        id_param = IDENTITY_PARAM[scheme]
        missing = [p for p in (id_param, "nonce_str", "timestamp", "serial_no", "signature") if not params.get(p)]
        if missing:
            raise sign_error(f"Authorization 缺少参数 (missing {', '.join(missing)})")
        identity = params[id_param]
        serials = self._known.get((scheme, identity))
        if serials is None:
            raise sign_error(f"{id_param} {clean_text(identity)} 未知 (unknown {id_param})")
        key = serials.get(params["serial_no"])
        if key is None:
            raise sign_error(f"serial_no {clean_text(params['serial_no'])} 不是该商户的证书序列号 (unknown serial_no)")
        timestamp = params["timestamp"]
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise sign_error(f"timestamp {clean_text(timestamp)} 不是 Unix 秒数 (timestamp must be Unix seconds)")
        skew = int(timestamp) - now
        if abs(skew) > MAX_CLOCK_SKEW:
            raise sign_error(
                f"timestamp 已过期 (the timestamp is stale: {int(skew):+d} s from the server clock, "
                f"more than {MAX_CLOCK_SKEW} s; check the system clock)"
            )
        message = request_message(method, raw_path, timestamp, params["nonce_str"], body)
        if not rsa_verify(key, message, params["signature"]):
            raise sign_error("签名验证失败 (the signature does not match the request as received)")
        serial_header = headers.get("Wechatpay-Serial")
        if scheme == "brand" and serial_header != self._pub_key_id:
            # Documented choice: WeChat Pay answers a wrong or missing public key id as a bad request.
            raise invalid_request(
                "Wechatpay-Serial 必须是品牌对应的微信支付公钥ID "
                f"(brand requests must send Wechatpay-Serial: {self._pub_key_id})"
            )
        if scheme == "merchant" and serial_header is not None and serial_header not in self._platform_serials:
            raise invalid_request(
                f"Wechatpay-Serial {clean_text(serial_header)} 不是有效的平台证书序列号或公钥ID "
                "(unknown platform serial)"
            )
        return Caller(scheme=scheme, identity=identity, serial=params["serial_no"])


class AnswerSigner:
    """Signs answers and notifications with the platform key."""

    def __init__(self, keys: KeySet) -> None:
        self._key = _load_private(keys.platform_private_key)

    def headers(self, body: bytes, *, timestamp: int, serial: str, scheme: Scheme) -> dict[str, str]:
        nonce = make_nonce()
        stamp = str(timestamp)
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": rsa_sign(self._key, answer_message(stamp, nonce, body)),
            "Wechatpay-Serial": serial,
            "Wechatpay-Signature-Type": SCHEME_NAMES[scheme],
        }


def probe_signature(random_bytes: bytes) -> str:
    """A deliberately invalid signature, the way WeChat Pay tests that merchants verify."""
    return PROBE_PREFIX + base64.b64encode(random_bytes).decode("ascii")


def _bad_request_headers(headers: Mapping[str, str]) -> ApiFailure | None:
    """Missing Accept or User-Agent: WeChat Pay refuses those before looking at the signature."""
    for name in ("Accept", "User-Agent"):
        if not headers.get(name):
            return invalid_request(f"HTTP 头缺少 {name} (the {name} header is required)")
    return None
