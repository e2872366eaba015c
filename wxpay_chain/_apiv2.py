"""APIv2, pure: the XML body, the MD5 and HMAC-SHA256 signs, and a parser that never resolves an entity.

The sign (APIv2 安全规范): every parameter but ``sign`` whose value is not empty, sorted by name, joined as
``k=v&k=v``, then ``&key=<APIv2 key>``; MD5 of that, or HMAC-SHA256 keyed with the APIv2 key, in
upper-case hex. The same rule signs the mini-program coupon plugin and H5 coupons (see _client_signs).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Literal

from ._errors import ApiError, ConfigurationError, InvalidRequestError, SignatureError
from ._secret import SecretText
from ._uri import plain_value, unencodable

__all__ = [
    "DECIMAL",
    "HMAC_SHA256",
    "MD5",
    "TEXT",
    "WHOLE_NUMBER",
    "SignType",
    "answer_error",
    "check_answer",
    "check_apiv2_key",
    "fill_payload",
    "is_decimal_text",
    "is_text",
    "is_whole_number",
    "missing_apiv2_key",
    "parse_xml",
    "sign",
    "sign_type_of",
    "string_to_sign",
    "to_xml",
    "utf8_text",
]

SignType = Literal["MD5", "HMAC-SHA256"]
MD5: SignType = "MD5"
HMAC_SHA256: SignType = "HMAC-SHA256"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# XML 1.0 refuses these characters in any document, escaped or not.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # a lone surrogate: UTF-8 cannot encode it
# "<!" opens a DOCTYPE, ENTITY, ELEMENT... declaration unless it opens a CDATA section or a comment.
_DECLARATION = re.compile(r"<!(?!\[CDATA\[|--)")
_XML_DECL = re.compile(r"<\?xml[^>]*encoding\s*=\s*['\"]([^'\"]*)['\"]", re.IGNORECASE)
MAX_FIELDS = 1000  # an answer with more top-level fields is no APIv2 answer
# Bounded: int() refuses text of more than a few thousand digits, and no APIv2 field needs 33.
_WHOLE = re.compile(r"-?[0-9]{1,32}")
_DECIMAL = re.compile(r"-?[0-9]{1,32}(\.[0-9]{1,32})?")
WHOLE_LIMIT = 10**32  # an int sent as text of at most 32 digits, as _WHOLE allows


# What a value becomes on the wire decides whether it is good, in an APIv2 body (see fill_payload: text or
# whole numbers) and in a query alike. How a rejection names each rule (the seed models' check and the
# data's "types" check alike):
TEXT = "text (a string or a whole number)"
WHOLE_NUMBER = "a whole number (or its text)"
BOOLEAN = 'a boolean (or "true", "false")'
DECIMAL = "a whole number or decimal text (a float is not sent)"


def is_text(value: object) -> bool:
    """Whether ``value`` can be sent as a text field (a query's, an APIv2 body's): a str, or an int
    (``1757`` is ``"1757"``)."""
    value = plain_value(value)
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def is_boolean_text(value: object) -> bool:
    """Whether ``value`` is sent as a boolean (a query's): ``True``/``False``, or their text."""
    value = plain_value(value)
    return type(value) is bool or value in ("true", "false")


def is_whole_number(value: object) -> bool:
    """Whether ``value`` is sent as a whole number: an int, or its text (``"1"``, never ``"1.5"``)."""
    value = plain_value(value)
    if isinstance(value, str):
        return _WHOLE.fullmatch(value) is not None
    return isinstance(value, int) and not isinstance(value, bool) and -WHOLE_LIMIT < value < WHOLE_LIMIT


def is_decimal_text(value: object) -> bool:
    """Whether ``value`` is sent as a number: an int, or decimal text (``"0.5"``); a float is not sent."""
    value = plain_value(value)
    if isinstance(value, str):
        return _DECIMAL.fullmatch(value) is not None
    return is_whole_number(value)


def check_apiv2_key(key: object) -> str:
    """The APIv2 key as given, if it is one: 32 characters set on the merchant platform."""
    if not isinstance(key, str):
        raise ConfigurationError("apiv2_key must be the 32-character APIv2 key (a str)")
    if len(key) != 32:
        raise ConfigurationError(
            f"apiv2_key must be the 32-character APIv2 key from the merchant platform (got {len(key)} characters)"
        )
    if not key.isascii():
        raise ConfigurationError("apiv2_key must be the APIv2 key from the merchant platform: letters and digits only")
    return SecretText(key)  # in a traceback's locals, "<secret>"


def missing_apiv2_key(what: str) -> ConfigurationError:
    """The error for something signed with the APIv2 key when the client was given none."""
    return ConfigurationError(f"{what} is signed with the APIv2 key: pass apiv2_key= to the client")


def string_to_sign(params: Mapping[str, str], key: str) -> str:
    """``k=v&...&key=<key>`` over the non-empty parameters but ``sign``, sorted by name."""
    pairs = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if v != "" and k != "sign")
    return f"{pairs}&key={key}"


def sign(params: Mapping[str, str], key: str, sign_type: SignType = MD5) -> str:
    """The APIv2 sign of ``params``: upper-case hex MD5, or HMAC-SHA256 keyed with ``key``."""
    message = string_to_sign(params, key).encode("utf-8")
    if sign_type == HMAC_SHA256:
        return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest().upper()
    return hashlib.md5(message).hexdigest().upper()


def sign_type_of(params: Mapping[str, str]) -> SignType:
    """The sign a payload asks for with ``sign_type`` (MD5 when it names none)."""
    named = params.get("sign_type", MD5) or MD5
    if named not in (MD5, HMAC_SHA256):
        raise InvalidRequestError("Unknown APIv2 sign type", [("xml.sign_type", 'use "MD5" or "HMAC-SHA256"')])
    return MD5 if named == MD5 else HMAC_SHA256


def utf8_text(field: str, text: str, what: str = "An APIv2 value") -> str:
    """``text``, if UTF-8 can encode it; else InvalidRequestError naming ``field``, worded as v3's check of
    a path or query parameter (_uri)."""
    if not text.isascii() and _SURROGATE.search(text):
        raise unencodable(field, what)
    return text


def _text(name: str, value: object) -> str:
    value = plain_value(value)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidRequestError(
            "APIv2 values are text or whole numbers",
            [(f"xml.{name}", f"got {type(value).__name__}; send nested data as a JSON string")],
        )
    text = utf8_text(f"xml.{name}", str(value))
    if _NOT_XML.search(text):
        raise InvalidRequestError(
            "An APIv2 value holds a character XML cannot carry", [(f"xml.{name}", "a control character")]
        )
    if "\r" in text:  # an XML parser reads "\r\n" as "\n": WeChat Pay would check the sign over other text
        raise InvalidRequestError(
            "An APIv2 value holds a carriage return, which does not reach WeChat Pay as signed",
            [(f"xml.{name}", "write line breaks as \\n")],
        )
    return text


def fill_payload(payload: object, *, key: str, mch_id: str, nonce: str) -> dict[str, str]:
    """The fields sent: the caller's, ``mch_id`` unless given (as mch_id or mchid), ``nonce_str`` unless
    given, and ``sign`` over all of them. InvalidRequestError names a field that cannot be sent."""
    if not isinstance(payload, Mapping):
        raise InvalidRequestError("xml= must be a dict of APIv2 fields", [("xml", type(payload).__name__)])
    fields: dict[str, str] = {}
    for name, value in payload.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InvalidRequestError(
                "APIv2 field names are letters, digits and _", [(f"xml.{str(name)[:40]!r}", "rename it")]
            )
        if name == "sign":
            raise InvalidRequestError("The SDK computes the APIv2 sign", [("xml.sign", "remove it")])
        if value is not None:
            fields[name] = _text(name, value)
    if "mch_id" not in fields and "mchid" not in fields:
        fields["mch_id"] = mch_id
    fields.setdefault("nonce_str", nonce)
    fields["sign"] = sign(fields, key, sign_type_of(fields))
    return fields


def to_xml(fields: Mapping[str, str]) -> bytes:
    """``<xml><name>value</name>...</xml>`` in UTF-8, values escaped."""
    inner = "".join(f"<{k}>{_escape(v)}</{k}>" for k, v in fields.items())
    return f"<xml>{inner}</xml>".encode()


def _escape(text: str) -> str:
    # What xml.sax.saxutils.escape does, without importing the SAX package for it.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def parse_xml(body: bytes | str) -> dict[str, str]:
    """The top-level fields of an APIv2 document as strings. A DOCTYPE (or any other declaration) is refused
    before parsing, so no entity or DTD is ever read; SignatureError for anything that is not such a document."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise SignatureError("The APIv2 answer is not UTF-8 text; it was not used") from None
    if _DECLARATION.search(text):
        raise SignatureError("The APIv2 answer has a DOCTYPE or another declaration, which is refused; it was not used")
    declared = _XML_DECL.search(text[:200])
    if declared and declared.group(1).lower().replace("-", "") != "utf8":
        raise SignatureError("The APIv2 answer declares an encoding other than UTF-8; it was not used")
    from xml.etree import ElementTree  # on the first APIv2 answer, not at import wxpay_chain

    try:
        root = ElementTree.fromstring(body if isinstance(body, bytes) else text.encode("utf-8"))
    except ElementTree.ParseError:
        raise SignatureError("The APIv2 answer is not well-formed XML; it was not used") from None
    if len(root) > MAX_FIELDS:
        raise SignatureError("The APIv2 answer has too many fields; it was not used")
    return {child.tag: "".join(child.itertext()) for child in root}


def check_answer(fields: Mapping[str, str], key: str, *, signed: bool = True) -> None:
    """Check an answer's sign (MD5 or HMAC-SHA256, told apart by length). ``signed``: the endpoint's
    answers always carry one, so an answer without it is refused; else only a sign it carries is checked."""
    given = fields.get("sign")
    if given is None:
        if signed:
            raise SignatureError("The APIv2 answer carries no sign, which this endpoint's answers have; not used")
        return
    # A sign is hex: other text cannot match (and compare_digest refuses non-ASCII str).
    sign_type: SignType | None = {32: MD5, 64: HMAC_SHA256}.get(len(given)) if given.isascii() else None
    expected = sign(fields, key, sign_type) if sign_type else ""
    if not expected or not hmac.compare_digest(expected, given.upper()):
        raise SignatureError("The APIv2 answer's sign does not match (check apiv2_key); it was not used")


def answer_error(
    fields: Mapping[str, str], *, status: int, method: str, path: str, request_id: str | None = None
) -> ApiError | None:
    """ApiError for ``return_code`` FAIL (the call failed) or ``result_code`` FAIL (the business failed)."""
    for flag, messages in (("return_code", ("return_msg",)), ("result_code", ("err_code_des", "return_msg"))):
        value = fields.get(flag)
        if value is not None and value != "SUCCESS":
            code = fields.get("err_code") or value
            message = next((fields[m] for m in messages if fields.get(m)), None)
            return ApiError(status, code, message, detail=dict(fields), request_id=request_id, method=method, path=path)
    return None
