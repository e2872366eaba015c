"""URI templates: attribute-segment normalisation, template parsing and expansion, query encoding.

Pure functions. The expensive parts (normalising a segment, parsing a template) are cached, so a
chain hop or an expansion costs a dictionary lookup plus the string work that cannot be avoided.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import quote

from ._errors import InvalidRequestError

__all__ = [
    "encode_query",
    "expand",
    "normalize_segment",
    "parse_template",
    "placeholders",
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


_RESERVED = ":/?#[]@!$&'()*+,;="
_KEEPS_RESERVED = _UNRESERVED + _RESERVED + "%"  # what {+name} leaves as it is
_quote_name = lru_cache(maxsize=512)(_quote)  # query names are code, a few dozen per program


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
    return path[1:] if path.startswith("/") else path


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


def _path_value(name: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidRequestError(
            "Path parameter has the wrong type",
            [(name, f"expected str or int, got {type(value).__name__}")],
        )
    return str(value)


def expand(template: str, values: Mapping[str, object]) -> str:
    """Expand ``template`` with ``values``, percent-encoding each value as one path segment.

    ``{name}`` encodes everything outside RFC 3986's unreserved set, so ``/``, ``?``, ``#``, ``%``,
    spaces and non-ASCII text can never change the path; ``{+name}`` keeps reserved characters.
    """
    literals, holes = parse_template(template)
    if not holes:
        return template
    out = [literals[0]]
    for (name, keeps_reserved), literal in zip(holes, literals[1:], strict=True):
        if name not in values:
            raise _missing(template, holes, values)
        value = values[name]
        text = value if type(value) is str else _path_value(name, value)
        out.append(_quote(text, _KEEPS_RESERVED if keeps_reserved else _UNRESERVED))
        out.append(literal)
    return "".join(out)


def _missing(template: str, holes: tuple[tuple[str, bool], ...], values: Mapping[str, object]) -> InvalidRequestError:
    return InvalidRequestError(
        f"Missing path parameter for {template!r}",
        [(name, "required by the path; pass it as a keyword argument") for name, _ in holes if name not in values],
    )


def _query_value(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    raise InvalidRequestError(
        "Query parameter has the wrong type",
        [(f"query.{name}", f"expected str, int or bool, got {type(value).__name__}")],
    )


def encode_query(query: Mapping[str, object] | None) -> str:
    """Encode ``query`` in order, RFC 3986 style (space as ``%20``); ``None`` values are dropped."""
    if not query:
        return ""
    pairs = []
    for name, value in query.items():
        if value is None:
            continue
        if not isinstance(name, str):
            raise InvalidRequestError("Query parameter names must be strings", [(repr(name), "not a str")])
        if type(value) is str:
            text = _quote(value)
        elif type(value) is int:
            text = str(value)  # digits and "-" never need escaping
        else:
            text = _quote(_query_value(name, value))
        pairs.append(f"{_quote_name(name)}={text}")
    return "&".join(pairs)
