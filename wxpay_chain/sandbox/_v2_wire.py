"""The sandbox's own reading and writing of APIv2 XML, and its own APIv2 sign (never the client's code)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from html import escape

from aiohttp import web

__all__ = ["Fail", "page", "read_xml", "v2_sign", "v2_sign_matches", "xml_answer"]

_FIELD = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>(?:<!\[CDATA\[(.*?)\]\]>|([^<]*))</\1>", re.DOTALL)
_ENTITY = re.compile(r"&(lt|gt|amp|quot|apos);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


class Fail(Exception):
    """A call that fails as a call: answered return_code FAIL with this message."""

    def __init__(self, message: str) -> None:
        self.message = message


def read_xml(body: bytes) -> dict[str, str]:
    """The sandbox's own reading of an APIv2 body: flat ``<xml><k>v</k>...</xml>``, nothing declared."""
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise Fail("XML格式错误 (the body is not UTF-8)") from None
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise Fail("XML格式错误 (a DOCTYPE or ENTITY is not accepted)")
    if not (text.startswith("<xml>") and text.endswith("</xml>")):
        raise Fail("XML格式错误 (expected <xml>...</xml>)")
    inner = text[5:-6]
    fields: dict[str, str] = {}
    end = 0
    for match in _FIELD.finditer(inner):
        if inner[end : match.start()].strip():
            raise Fail("XML格式错误 (text between fields)")
        cdata, text = match.group(2), match.group(3)
        fields[match.group(1)] = cdata if cdata is not None else _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)
        end = match.end()
    if inner[end:].strip():
        raise Fail("XML格式错误 (a field is not closed)")
    return fields


def v2_sign(fields: Mapping[str, str], key: str, kind: str) -> str:
    """The APIv2 sign, computed here from the rule: sorted non-empty k=v, "&key=", MD5 or HMAC-SHA256."""
    parts = []
    for name in sorted(fields):
        if name != "sign" and fields[name] != "":
            parts.append(name + "=" + fields[name])
    text = ("&".join(parts) + "&key=" + key).encode("utf-8")
    if kind == "HMAC-SHA256":
        return hmac.new(key.encode("utf-8"), text, hashlib.sha256).hexdigest().upper()
    return hashlib.md5(text).hexdigest().upper()


def v2_sign_matches(fields: Mapping[str, str], key: str, kind: str, sign: str) -> bool:
    """Whether ``sign`` is the APIv2 sign of ``fields`` (compared in constant time). A sign that is not
    ASCII, or fields UTF-8 cannot encode (a lone surrogate a JSON escape can carry), never match."""
    try:
        expected = v2_sign(fields, key, kind)
    except UnicodeEncodeError:
        return False
    return sign.isascii() and hmac.compare_digest(expected, sign)


def xml_answer(fields: Mapping[str, str]) -> web.Response:
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    return web.Response(body=f"<xml>{inner}</xml>".encode(), content_type="text/xml", charset="utf-8")


def page(title: str, text: str) -> str:
    body = f"<h1>{title}</h1><p>{escape(text)}</p>"
    return f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>"
