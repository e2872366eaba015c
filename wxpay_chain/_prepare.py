"""Preparing a call, a pure step: options in, the exact target, headers and bytes to send and to sign out.

Path values are split from options, typed endpoints are validated, the template is expanded and the query
encoded once, the body is serialised once; nothing here signs, sends or reads a clock.
"""

from __future__ import annotations

import decimal
import json as _json
import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ._errors import InvalidRequestError
from ._media import encode as encode_media
from ._request import (
    UPLOAD_OWNS,
    EncryptedField,
    PreparedRequest,
    RequestDefaults,
    headers_for,
    timeout_and_origin,
    to_wire,
)
from ._roots import is_v2
from ._typed._check import check_call
from ._uri import check_literal, encode_query, expand, placeholders
from ._v2_pipeline import prepare_v2
from .models._validation import RAW_BODY

__all__ = ["OPTIONS", "merge_arguments", "prepare"]

OPTIONS = frozenset({"query", "json", "data", "headers", "timeout", "base_url", "media"})


@lru_cache(maxsize=2048)
def _template(template: str) -> tuple[bool, tuple[str, ...], frozenset[str], bool]:
    """What a call's checks need of its template alone, worked out once: whether it is APIv2, its path
    placeholders, every argument name a call may pass, and whether it is a brand API path."""
    if not isinstance(template, str):
        raise _not_a_path(template)
    if is_v2(template):
        return True, (), OPTIONS, False
    check_literal(template)
    names = placeholders(template)
    return False, names, OPTIONS.union(names), template.startswith("brand/")


METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


def _method(method: object) -> str:
    """A method given in another case, upper-cased as it is sent (and signed); anything else refused."""
    upper = method.upper() if isinstance(method, str) else None
    if upper not in METHODS:
        shown = repr(method)[:40] if isinstance(method, str) else type(method).__name__
        raise InvalidRequestError("Unknown HTTP method", [("method", f"{shown}: use GET, POST, PUT, PATCH or DELETE")])
    return upper


def _not_a_path(template: object) -> InvalidRequestError:
    return InvalidRequestError(
        "The path must be text", [("path", f"got {type(template).__name__}; name the endpoint, e.g. 'v3/certificates'")]
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
        options = merge_arguments(args, kwargs or {}) if args else kwargs or {}
        if method not in METHODS:
            method = _method(method)
        try:
            v2, names, allowed, brand = _template(template)
        except TypeError:  # unhashable: no cache lookup
            raise _not_a_path(template) from None
        if v2:
            return prepare_v2(defaults, method, template, options)
        if brand and defaults.mode != "brand":
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
            query = to_wire(query, "query")
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
        # A sensitive field is sent with the serial of the key it was encrypted for, wherever it goes.
        encrypted_for = _encryption_serial(payload, query, getattr(media, "meta", None))
        if payload is None and data is None and extra_headers is None and media is None and encrypted_for is None:
            body, headers = b"", defaults.plain_headers
        else:
            body, content_type = _encode_body(payload, data)
            if media is not None:  # an upload: a multipart body, whose signature covers only its meta JSON
                body, signed, content_type = encode_media(media, template, other=body)
            owned = None if media is None else UPLOAD_OWNS
            headers = headers_for(defaults, content_type, extra_headers, encrypted_for, owned)
        if "timeout" in options or "base_url" in options:
            timeout, origin, prefix = timeout_and_origin(defaults, options)
        else:
            timeout, (origin, prefix) = defaults.timeout, defaults.origin_prefix
        if defaults.validate != "off":
            # A data= body is sent as it is: only json= is judged (path values are read by name from options).
            check_call(defaults.validate, method, template, options, query, payload if data is None else RAW_BODY)
        target = prefix + expand(template, options)
        encoded_query = encode_query(query)
        if encoded_query:
            target += ("&" if "?" in target else "?") + encoded_query
        signed_body = body if signed is None else signed
        return PreparedRequest(method, template, origin, target, body, headers, timeout, signed_body)
    except RecursionError:  # a self-referencing or absurdly deep query, json or model
        raise InvalidRequestError(
            f"The arguments of {method} {template} are nested too deeply", [("json", "flatten it")]
        ) from None


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _encryption_serial(*parts: object) -> str | None:
    """The serial every encrypted field of the JSON body, the query and an upload's meta was made for (they
    must agree)."""
    # A flat dict of plain values (the usual query) is passed over in C: an EncryptedField is no plain str.
    stack = [p for p in parts if p is not None and not (type(p) is dict and _PLAIN.issuperset(map(type, p.values())))]
    if not stack:
        return None
    found: set[str] = set()
    walked: set[int] = set()  # a container that holds itself is walked once (json= refuses it later)
    while stack:
        item = stack.pop()
        if isinstance(item, EncryptedField):
            found.add(item.serial)
        elif isinstance(item, (Mapping, list, tuple)) and id(item) not in walked:
            walked.add(id(item))
            stack.extend(item.values() if isinstance(item, Mapping) else item)
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
            where, why = _unsendable(payload) or ("json", str(exc)[:200])
            raise InvalidRequestError("json= is not serialisable as JSON", [(where, why)]) from None
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


def _unsendable(payload: object) -> tuple[str, str] | None:
    """Where in ``payload`` the first value JSON cannot carry is, and what it is (only for an error)."""
    stack: list[tuple[object, str]] = [(payload, "json")]
    walked: set[int] = set()
    while stack:
        item, where = stack.pop()
        if isinstance(item, (Mapping, list, tuple)):
            if id(item) in walked:  # shared, or holding itself (json's own message then says which)
                continue
            walked.add(id(item))
        if isinstance(item, Mapping):
            for key in item:
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    return f"{where}.{key!r}"[:80], f"a {type(key).__name__} key; keys are text"
            stack.extend((value, f"{where}.{key}") for key, value in list(item.items())[::-1])
        elif isinstance(item, (list, tuple)):
            stack.extend((value, f"{where}[{index}]") for index, value in reversed(list(enumerate(item))))
        elif isinstance(item, float) and not math.isfinite(item):
            return where, f"{item!r} has no JSON form"
        elif item is not None and not isinstance(item, (str, int, float)):
            hint = "; send amounts as whole fen (int)" if isinstance(item, decimal.Decimal) else ""
            return where, f"a {type(item).__name__} has no JSON form{hint}"
    return None
