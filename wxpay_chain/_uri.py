"""URI templates: attribute-segment normalisation, template parsing and expansion, query encoding.

Pure functions. The expensive parts (normalising a segment, parsing a template) are cached, so a
chain hop or an expansion costs a dictionary lookup plus the string work that cannot be avoided.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from enum import Enum
from functools import lru_cache
from typing import TypeGuard
from urllib.parse import quote, unquote

from ._errors import ConfigurationError, InvalidRequestError

__all__ = [
    "check_literal",
    "encode_query",
    "enum_value",
    "expand",
    "is_plain_segment",
    "normalize_segment",
    "parse_template",
    "path_value_problem",
    "placeholders",
    "plain_value",
    "split_base_url",
    "split_literal",
]

_PLACEHOLDER_ATTR = re.compile(r"^_([A-Za-z0-9][A-Za-z0-9_]*?)_$")
_CAMEL_HUMP = re.compile(r"(?<!^)([A-Z])")
_PLACEHOLDER = re.compile(r"\{(\+?)([^{}]+)\}")
# RFC 3986: unreserved characters are never encoded; reserved ones survive only in {+name}.
_UNRESERVED = "-._~"
# Most ids and query values need no escaping at all; skip urllib's per-byte loop for them.
_PLAIN = re.compile(r"[A-Za-z0-9._~-]*").fullmatch


def _quote(text: str, safe: str = _UNRESERVED) -> str:
    return text if _PLAIN(text) else quote(text, safe=safe)


_RESERVED = ":/@!$&'()*+,;="
# What {+name} leaves as it is: a path, never a query or fragment. "?", "#", "[" and "]" would end the path
# on the wire or be dropped or refused there (a trailing "?" is), and what is sent would no longer be what
# was signed; queries go in query=. A "%" stays only as the start of a %XX triplet.
_KEEPS_RESERVED = _UNRESERVED + _RESERVED + "%"
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_quote_name = lru_cache(maxsize=512)(_quote)  # query names are code, a few dozen per program
# The one placeholder that may be empty: the PHP SDK's ``_empty_`` writes a documented trailing slash
# (POST v3/applyment4sub/applyment/). Any other empty value would name another endpoint.
EMPTY_PLACEHOLDER = "empty"
# Literal template text: RFC 3986 path characters, "/" and "%XX". No spaces, controls, "#" or "\\".
_LITERAL = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*")


@lru_cache(maxsize=4096)
def normalize_segment(name: str) -> str:
    """Turn a Python attribute name into a URI segment, the way the PHP SDK's docs write them.

    ``_openid_`` → ``{openid}``; ``productCoupon`` → ``product-coupon``; ``global_`` → ``global``.
    """
    match = _PLACEHOLDER_ATTR.match(name)
    if match:
        return "{" + match.group(1) + "}"
    if name.endswith("_") and keyword.iskeyword(name[:-1]):
        return name[:-1]
    return _CAMEL_HUMP.sub(r"-\1", name).lower()


def split_literal(path: str) -> str:
    """Item access and ``chain()`` take text literally; only one leading slash is dropped."""
    if not isinstance(path, str):
        raise InvalidRequestError(
            "chain() and client[...] take the path as text", [("path", f"a str, not {type(path).__name__}")]
        )
    if "://" in path:  # the origin is the client's: signing for a host in the path would sign for another
        raise InvalidRequestError(
            "chain() and client[...] take a path, not a URL", [("path", "drop the scheme and host; set base_url=")]
        )
    return path[1:] if path.startswith("/") else path


def _dot_segment(segment: str) -> bool:
    """``.`` or ``..`` in any spelling (``%2e``, ``.%2E``): a proxy that removes dot-segments
    (RFC 3986 §5.2.4) would route the request to another endpoint."""
    return segment in (".", "..") or ("%" in segment and unquote(segment) in (".", ".."))


@lru_cache(maxsize=2048)
def check_literal(template: str) -> None:
    """Refuse template text that cannot go on a request line as it is, or that names another path.

    Called once per template (cached): spaces, control characters, ``#``, ``\\``, a lone ``%``, non-ASCII
    text, empty segments and dot-segments all raise InvalidRequestError.
    """
    literals, _ = parse_template(template)
    for literal in literals:
        end = _LITERAL.match(literal).end()  # type: ignore[union-attr]  # "*" always matches
        if end < len(literal):
            raise InvalidRequestError(
                f"The path {template!r} has a character that cannot be sent as it is",
                [("path", f"{literal[end]!r} is not allowed in path text; pass such values as path parameters")],
            )
    path, question, query = "x".join(literals).partition("?")  # a placeholder stands for a non-empty segment
    if not path:
        raise InvalidRequestError("The path is empty", [("path", "name the endpoint, e.g. 'v3/certificates'")])
    if question and not query:  # the HTTP layer drops an empty query, so it would not be sent as signed
        raise InvalidRequestError(f"The path {template!r} ends with '?'", [("path", "remove it; use query=")])
    if path.startswith("/"):  # relative to base_url, as every template is
        raise InvalidRequestError(f"The path {template!r} starts with '/'", [("path", "remove it: 'v3/...'")])
    if "//" in path:
        raise InvalidRequestError(f"The path {template!r} has an empty segment", [("path", "remove the '//'")])
    if any(_dot_segment(segment) for segment in path.split("/")):
        raise InvalidRequestError(
            f"The path {template!r} has a dot-segment", [("path", "remove the '.' and '..' segments")]
        )


@lru_cache(maxsize=2048)
def parse_template(template: str) -> tuple[tuple[str, ...], tuple[tuple[str, bool], ...]]:
    """Split a template into its literal pieces and its placeholders ``(name, keeps_reserved)``.

    ``literals`` has one more element than ``placeholders``; they interleave.
    """
    literals: list[str] = []
    holes: list[tuple[str, bool]] = []
    last = 0
    for match in _PLACEHOLDER.finditer(template):
        literals.append(template[last : match.start()])
        holes.append((match.group(2), match.group(1) == "+"))
        last = match.end()
    literals.append(template[last:])
    return tuple(literals), tuple(holes)


def placeholders(template: str) -> tuple[str, ...]:
    """The placeholder names of ``template``, in order."""
    return tuple(name for name, _ in parse_template(template)[1])


def enum_value(value: object) -> object:
    """An enum member as its value; anything else as it is (the JSON converter unstructures with this)."""
    return value.value if isinstance(value, Enum) else value


def plain_value(value: object) -> object:
    """An enum member as its value, and a str or int subclass as the plain str or int it holds: never its
    repr (``BusifavorCouponState.SENDED``) on the wire. Path and query values and APIv2 fields alike."""
    value = enum_value(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__index__(value)
    return value


def _path_value(name: str, value: object) -> str:
    value = plain_value(value)
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    raise InvalidRequestError(
        "Path parameter has the wrong type",
        [(name, f"expected str or int, got {type(value).__name__}")],
    )


def is_plain_segment(value: object) -> TypeGuard[str]:
    """True for the common path value that needs no encoding and no further check (``o-1``, ``9856000``)."""
    return type(value) is str and bool(value) and _PLAIN(value) is not None and value not in (".", "..")


def path_value_problem(value: object) -> str | None:
    """Why ``value`` cannot fill a path placeholder, or None: the one rule for typed and untyped endpoints."""
    try:
        expand("{v}", {"v": value})
    except InvalidRequestError as exc:
        return exc.problems[0][1]
    return None


def _segment(name: str, text: str, keeps_reserved: bool) -> str:
    if text and not text.strip():
        raise InvalidRequestError("Path parameter is blank", [(name, "the value is only white space")])
    try:
        encoded = _LONE_PERCENT.sub("%25", quote(text, safe=_KEEPS_RESERVED)) if keeps_reserved else _quote(text)
    except UnicodeEncodeError:
        raise unencodable(name, "Path parameter") from None
    if encoded in ("", ".", "..") or (keeps_reserved and _bad_reserved(encoded)):
        what = "empty" if not encoded or "//" in encoded else "a dot-segment ('.' or '..')"
        raise InvalidRequestError(
            "Path parameter would change the endpoint", [(name, f"the value is {what}; pass the real id")]
        )
    return encoded


def _bad_reserved(encoded: str) -> bool:
    return any(not segment or _dot_segment(segment) for segment in encoded.split("/"))


def expand(template: str, values: Mapping[str, object]) -> str:
    """Expand ``template`` with ``values``, percent-encoding each value as one path segment.

    ``{name}`` encodes everything outside RFC 3986's unreserved set, so ``/``, ``?``, ``#``, ``%``,
    spaces and non-ASCII text can never change the path; ``{+name}`` keeps reserved characters.
    """
    literals, holes = parse_template(template)
    if not holes:
        return template
    out = literals[0]
    for index, (name, keeps) in enumerate(holes, 1):
        value, following = values.get(name, _MISSING), literals[index]
        # Most ids (``o-1``, ``9856000``) have nothing to encode or refuse: this runs on every call.
        text = value if is_plain_segment(value) else _hole(template, holes, values, name, keeps, value, following)
        out += text + following
    return out


def _hole(
    template: str,
    holes: tuple[tuple[str, bool], ...],
    values: Mapping[str, object],
    name: str,
    keeps: bool,
    value: object,
    following: str,
) -> str:
    """A placeholder's text when it is not a plain id: missing, empty, another type, or to be encoded
    (``following`` is the template text after it)."""
    if value is _MISSING:
        if name != EMPTY_PLACEHOLDER:
            raise _missing(template, holes, values)
        value = ""
    text = value if type(value) is str else _path_value(name, value)
    if is_plain_segment(text):
        return text
    if not text and name == EMPTY_PLACEHOLDER:
        if following and not following.startswith("?"):  # mid-path it would write an empty segment ('//')
            raise InvalidRequestError(
                f"The path {template!r} has {{empty}} (_empty_) before its end",
                [(name, "_empty_ writes only a documented trailing slash: put it last, or give the segment")],
            )
        return ""
    return _segment(name, text, keeps)


_MISSING = object()


def _missing(template: str, holes: tuple[tuple[str, bool], ...], values: Mapping[str, object]) -> InvalidRequestError:
    return InvalidRequestError(
        f"Missing path parameter for {template!r}",
        [
            (name, "required by the path; pass it as a keyword argument")
            for name, _ in holes
            if name not in values and name != EMPTY_PLACEHOLDER
        ],
    )


def _query_value(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    value = plain_value(value)
    if type(value) is str or type(value) is int:
        return str(value)
    raise InvalidRequestError(
        "Query parameter has the wrong type",
        [(f"query.{name}", f"expected str, int or bool, got {type(value).__name__}")],
    )


def unencodable(field: str, what: str = "Query parameter") -> InvalidRequestError:
    """The error for text UTF-8 cannot encode (a lone surrogate), wherever a request holds it."""
    why = "it holds a lone surrogate, which UTF-8 cannot encode"
    return InvalidRequestError(f"{what} is not valid text", [(field, why)])


def encode_query(query: Mapping[str, object] | None) -> str:
    """Encode ``query`` in order, RFC 3986 style (space as ``%20``); ``None`` values are dropped."""
    if not query:
        return ""
    pairs = []
    for name, value in query.items():
        if value is None:
            continue
        try:
            # The common pair, a str name with an int or a plain str value, needs no escaping of the value
            # (an int's digits and "-" never do): this runs for every pair of every call.
            if type(name) is str and (type(value) is int or (type(value) is str and _PLAIN(value) is not None)):
                pairs.append(f"{_quote_name(name)}={value}")
            else:
                pairs.append(_pair(name, value))
        except UnicodeEncodeError:  # only a str name can get this far
            text = str.__str__(name)
            raise unencodable(f"query.{text.encode('utf-8', 'backslashreplace').decode()}") from None
    return "&".join(pairs)


def _pair(name: object, value: object) -> str:
    if type(name) is not str:
        if not isinstance(name, str):
            raise InvalidRequestError("Query parameter names must be strings", [(repr(name)[:40], "not a str")])
        name = str.__str__(name)
    if type(value) is str:
        text = _quote(value)
    elif type(value) is int:
        text = str(value)
    else:
        text = _quote(_query_value(name, value))
    return f"{_quote_name(name)}={text}"


# scheme://host[:port][/path]; the host is a DNS name (ASCII; IDNA names in their xn-- form) or [IPv6].
# No user info, query, fragment, spaces or backslashes: each would change what is sent from what is signed,
# or where it is sent.
_BASE_URL = re.compile(
    r"(?P<scheme>[Hh][Tt][Tt][Pp][Ss]?)://"
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
    r"(?P<path>/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*)?"
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}


@lru_cache(maxsize=64)
def split_base_url(base_url: str, name: str = "base_url") -> tuple[str, str]:
    """``(origin, path prefix ending with "/")`` of an http(s) base URL, or ConfigurationError saying why
    (and naming the setting ``name``: ``backup_base_url``, ``download_url``...).

    The prefix keeps a gateway's path (``http://gateway/wxpay/``): the signature covers the full path sent.
    """
    example = "https://api.mch.weixin.qq.com/"
    match = _BASE_URL.fullmatch(base_url)
    if match is None:
        if "@" in base_url.split("//", 1)[-1].split("/", 1)[0]:
            why = "must not carry user info (user:password@): WeChat Pay authenticates by signature"
        elif "?" in base_url or "#" in base_url:
            why = "must not carry a query or fragment"
        elif not base_url.isascii() or any(ch.isspace() or ch == "\\" or ord(ch) < 32 for ch in base_url):
            why = "must be plain ASCII with no spaces, backslashes or control characters"
        else:
            why = f"must be an http(s) URL like {example!r}"
        raise ConfigurationError(f"{name} {why}")
    scheme, host, port = match["scheme"].lower(), match["host"].lower(), match["port"]
    if port is not None and not 0 < int(port) < 65536:
        raise ConfigurationError(f"{name} has a port outside 1-65535")
    if ".." in host:  # an empty DNS label
        raise ConfigurationError(f"{name} has a malformed host name")
    path = match["path"] or "/"
    if not path.endswith("/"):
        path += "/"
    segments = path[1:-1].split("/") if path != "/" else []
    if any(not segment or _dot_segment(segment) for segment in segments):
        raise ConfigurationError(f"{name}'s path must not have empty or dot-segments ('//', '.', '..')")
    origin = f"{scheme}://{host}" + (f":{int(port)}" if port is not None and port != _DEFAULT_PORTS[scheme] else "")
    return origin, path
