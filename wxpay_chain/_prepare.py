"""Preparing a call, a pure step: options in, the exact target, headers and bytes to send and to sign out.

Path values are split from options, typed endpoints are validated, the template is expanded and the query
encoded once, the body is serialised once; nothing here signs, sends or reads a clock.
"""

from __future__ import annotations

import json as _json
import platform
from collections.abc import Mapping
from functools import lru_cache
from types import ModuleType
from typing import Any, Literal, NamedTuple

import aiohttp
import attrs

from ._errors import ConfigurationError, InvalidRequestError
from ._http import Timeout, check_header
from ._media import encode as encode_media
from ._typed._check import Validate, check_call
from ._uri import check_literal, encode_query, expand, placeholders, split_base_url
from ._v2_pipeline import V2Settings, is_v2, prepare_v2
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "OPTIONS",
    "USER_AGENT",
    "EncryptedField",
    "PreparedRequest",
    "RequestDefaults",
    "client_timeout",
    "headers_for",
    "merge_arguments",
    "parse_base_url",
    "prepare",
    "to_wire",
    "typed",
]

DEFAULT_BASE_URL = "https://api.mch.weixin.qq.com/"
OPTIONS = frozenset({"query", "json", "data", "headers", "timeout", "base_url", "media"})

USER_AGENT = (
    f"wxpay-chain/{__version__} (aiohttp/{aiohttp.__version__}; "
    f"Python/{platform.python_version()}; {platform.system() or 'unknown'})"
)


def parse_base_url(base_url: object, option: bool = False) -> tuple[str, str]:
    """Split a base URL into its origin and its path prefix (always ending with ``/``).

    A bad client setting is a ConfigurationError; a bad per-call ``base_url=`` an InvalidRequestError."""
    try:
        if not isinstance(base_url, str):
            raise ConfigurationError(f"base_url must be a str like {DEFAULT_BASE_URL!r}")
        return split_base_url(base_url)
    except ConfigurationError as exc:
        if not option:
            raise
        raise InvalidRequestError("Bad base_url option", [("base_url", str(exc))]) from None


def client_timeout(value: float | Timeout | None) -> Timeout:
    try:
        return Timeout.of(value)
    except InvalidRequestError as exc:
        raise ConfigurationError(str(exc)) from None


@lru_cache(maxsize=1)
def typed() -> ModuleType:
    """The typed layer, imported on first use so that ``import wxpay_chain`` stays light."""
    from . import models

    return models


def to_wire(value: object) -> Any:
    """Request models become plain dicts without None fields; everything else passes through."""
    if value is None or type(value) is dict or not attrs.has(type(value)):
        return value
    return typed().request_to_wire(value)


@lru_cache(maxsize=2048)
def _placeholders(method: str, template: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The path placeholders of a template and every argument name a call may pass, after the checks
    that depend on the template alone."""
    check_literal(template)
    names = placeholders(template)
    return names, OPTIONS.union(names)


class PreparedRequest(NamedTuple):
    """A call checked and encoded but not signed: everything that stays the same between attempts.

    ``target`` is the exact path and query sent, ``body`` the exact bytes sent, and ``signed_body`` the
    bytes the signature covers in the body's place (the same bytes, but for uploads, where it is the
    meta JSON). A tuple, not an attrs class: one is made per call, and a tuple costs a third as much.
    """

    method: str
    template: str
    origin: str
    target: str
    body: bytes
    headers: tuple[tuple[str, str], ...]
    timeout: Timeout
    signed_body: bytes
    protocol: str = "v3"  # or "v2": which CallProtocol sends it
    security: bool = False  # APIv2: present the merchant API certificate

    def __repr__(self) -> str:
        return f"PreparedRequest(method={self.method!r}, target={self.target!r}, body=<{len(self.body)} bytes>)"


@attrs.frozen
class RequestDefaults:
    """What a client adds to every call it prepares; ``with_options()`` derives new ones with evolve()."""

    mode: Literal["merchant", "brand"]
    pub_key_id: str | None
    origin_prefix: tuple[str, str]
    timeout: Timeout
    apiv2: V2Settings | None = None
    validate: Validate = "strict"  # the validation policy (_typed/_check.py)
    # What every call without a body, headers= or encrypted fields sends: built once.
    plain_headers: tuple[tuple[str, str], ...] = attrs.field(
        init=False, default=attrs.Factory(lambda self: headers_for(self, None, None), takes_self=True)
    )




def prepare(
    defaults: RequestDefaults,
    method: str,
    template: str,
    args: tuple[Any, ...] = (),
    kwargs: Mapping[str, Any] | None = None,
) -> PreparedRequest:
    """Check and encode a call without sending it; every local error is raised here. Pure."""
    try:
        return _prepare(defaults, method, template, args, kwargs)
    except RecursionError:  # a self-referencing or absurdly deep query, json or model
        raise InvalidRequestError(
            f"The arguments of {method} {template} are nested too deeply", [("json", "flatten it")]
        ) from None


def _prepare(
    defaults: RequestDefaults, method: str, template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any] | None
) -> PreparedRequest:
    options = merge_arguments(args, kwargs or {}) if args else kwargs or {}
    if is_v2(template):  # the PHP SDK's rule: v2/ chains are APIv2 XML calls
        return prepare_v2(defaults, method, template, options)
    names, allowed = _placeholders(method, template)
    if template.startswith("brand/") and defaults.mode != "brand":
        raise InvalidRequestError(
            f"{template} is a brand API path: create the client with brand_id= and the brand's key"
        )
    if not allowed.issuperset(options):
        raise InvalidRequestError(
            f"Unexpected arguments for {method} {template}",
            [
                (
                    k,
                    f"neither a path placeholder ({', '.join(names) or 'none'}) nor an option "
                    f"({', '.join(sorted(OPTIONS))})",
                )
                for k in options
                if k not in allowed
            ],
        )
    # Each step below is skipped when its option is absent: this runs on every call.
    query = options.get("query")
    if query is not None and type(query) is not dict:
        query = to_wire(query)
        if not isinstance(query, Mapping):
            raise InvalidRequestError(
                "query must be a dict (or a request model)", [("query", type(query).__name__)]
            )
    payload = options.get("json")
    if payload is not None:
        payload = to_wire(payload)
    data = options.get("data")
    extra_headers = options.get("headers")
    media, signed = options.get("media"), None
    if payload is None and data is None and extra_headers is None and media is None:
        body, headers = b"", defaults.plain_headers
    else:
        body, content_type = _encode_body(payload, data)
        if media is not None:  # an upload: a multipart body, whose signature covers only its meta JSON
            body, signed, content_type = encode_media(media, template, other=body)
        headers = headers_for(defaults, content_type, extra_headers, _encryption_serial(payload))
    timeout = Timeout.of(options["timeout"]) if "timeout" in options else defaults.timeout
    base_url = options.get("base_url")
    origin, prefix = parse_base_url(base_url, option=True) if base_url is not None else defaults.origin_prefix
    if defaults.validate != "off":
        check_call(defaults.validate, method, template, options, query, payload)  # reads path values by name
    target = prefix + expand(template, options)
    encoded_query = encode_query(query)
    if encoded_query:
        target += ("&" if "?" in target else "?") + encoded_query
    return PreparedRequest(method, template, origin, target, body, headers, timeout, body if signed is None else signed)

def headers_for(
    defaults: RequestDefaults, content_type: str | None, extra: object, encrypted_for: str | None = None
) -> tuple[tuple[str, str], ...]:
    """The headers of a call (Authorization aside): the SDK's own, then the caller's, checked."""
    headers: dict[str, str] = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if content_type:
        headers["Content-Type"] = content_type
    serial = encrypted_for or defaults.pub_key_id
    if serial:
        headers["Wechatpay-Serial"] = serial
    if extra is not None:
        if not isinstance(extra, Mapping):
            raise InvalidRequestError("headers must be a dict of str to str", [("headers", type(extra).__name__)])
        lower = {k.lower(): k for k in headers}
        for item in extra.items():
            name, value = check_header(*item)
            headers.pop(lower.get(name.lower(), name), None)
            headers[name] = value
    return tuple(headers.items())


class EncryptedField(str):
    """A sensitive field's ciphertext, remembering the Wechatpay-Serial of the key it was made with."""

    __slots__ = ("serial",)
    serial: str

    def __new__(cls, value: str, serial: str) -> EncryptedField:
        self = super().__new__(cls, value)
        self.serial = serial
        return self


def _encryption_serial(payload: object) -> str | None:
    """The serial every encrypted field of ``payload`` was made for (they must agree)."""
    if payload is None:
        return None
    found: set[str] = set()
    stack = [payload]
    while stack:
        item = stack.pop()
        if isinstance(item, EncryptedField):
            found.add(item.serial)
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    if len(found) > 1:
        raise InvalidRequestError(
            "Sensitive fields were encrypted with different WeChat Pay keys; encrypt them all with one client",
            [("Wechatpay-Serial", ", ".join(sorted(found)))],
        )
    return found.pop() if found else None


def merge_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    if not args:
        return dict(kwargs)
    if len(args) > 1 or not isinstance(args[0], Mapping):
        raise InvalidRequestError(
            "Pass path values and options as keyword arguments, or as one dict: .get({'openid': ..., 'query': {...}})"
        )
    clash = sorted(set(args[0]) & set(kwargs))
    if clash:
        raise InvalidRequestError("Arguments given twice", [(k, "in the dict and as a keyword") for k in clash])
    merged = {str(k): v for k, v in args[0].items()}
    merged.update(kwargs)
    return merged


def _encode_body(payload: object, data: object) -> tuple[bytes, str | None]:
    """Serialise the body once; these exact bytes are signed and sent."""
    if payload is not None and data is not None:
        raise InvalidRequestError("Pass json= or data=, not both", [("data", "drop it, or drop json")])
    if payload is not None:
        try:
            text = _json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            return text.encode("utf-8"), "application/json"
        except RecursionError:
            raise InvalidRequestError("json= is nested too deeply to serialise", [("json", "flatten it")]) from None
        except UnicodeEncodeError:
            raise InvalidRequestError(
                "json= holds text UTF-8 cannot encode", [("json", "a string has a lone surrogate")]
            ) from None
        except (TypeError, ValueError) as exc:
            raise InvalidRequestError("json= is not serialisable as JSON", [("json", str(exc)[:200])]) from None
    if data is None:
        return b"", None
    if isinstance(data, str):
        try:
            return data.encode("utf-8"), "application/json"
        except UnicodeEncodeError:
            raise InvalidRequestError(
                "data= holds text UTF-8 cannot encode", [("data", "it has a lone surrogate")]
            ) from None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), "application/json"
    raise InvalidRequestError("data= must be str or bytes (a raw body, sent as is)", [("data", type(data).__name__)])
