"""Reading query strings, path values and JSON bodies without trusting any of them.

Every problem becomes a 400 PARAM_ERROR that names the field; nothing here can raise anything else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote

from ._failures import clean_text, param_error

_DIGITS = re.compile(r"[0-9]{1,9}")
INTEGER_MAX = 999_999_999  # the largest number _DIGITS reads


class Charset(NamedTuple):
    """The characters a field may use, and how an error message describes them."""

    pattern: re.Pattern[str]
    described: str


# The rule WeChat Pay documents for request numbers and caller-chosen codes.
ID_CHARSET = Charset(re.compile(r"[0-9A-Za-z_-]*"), "digits, letters, '_' and '-' (数字、大小写字母、下划线_、短横线-)")


def _well_formed(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def split_target(raw_path: str) -> tuple[str, str]:
    path, _, query = raw_path.partition("?")
    return path, query


def placeholder_values(pattern: Sequence[str], segments: Sequence[str]) -> dict[str, str] | None:
    """The raw values of ``pattern``'s ``{name}`` segments in a path's ``segments``, or None when the path is
    not one of the pattern: a placeholder takes exactly one non-empty segment, the rest must be equal."""
    if len(pattern) != len(segments):
        return None
    values: dict[str, str] = {}
    for want, got in zip(pattern, segments, strict=True):
        if want.startswith("{") and want.endswith("}"):
            if not got:
                return None
            values[want[1:-1]] = got
        elif want != got:
            return None
    return values


def path_value(name: str, raw_segment: str, *, max_length: int = 128) -> str:
    """A percent-decoded path segment (``{openid}``), refused when it is not clean UTF-8."""
    try:
        value = unquote(raw_segment, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise param_error(name, "is not valid UTF-8 after percent-decoding", location="path") from None
    if not _well_formed(value):
        raise param_error(name, "is not valid UTF-8", location="path")
    if value in (".", ".."):
        # Proxies and servers collapse dot segments, so such a value can never reach the intended API.
        raise param_error(name, "must not be a dot segment ('.' or '..')", location="path", value=value)
    if not value or len(value) > max_length:
        raise param_error(name, f"must be 1 to {max_length} characters", location="path", value=value)
    return value


class Query:
    """The decoded query string; each name at most once."""

    def __init__(self, raw_query: str) -> None:
        try:
            pairs = parse_qsl(raw_query, keep_blank_values=True, encoding="utf-8", errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise param_error("query", "is not valid percent-encoded UTF-8", location="query") from None
        values: dict[str, str] = {}
        for name, value in pairs:
            if not (_well_formed(name) and _well_formed(value)):
                raise param_error(clean_text(name), "is not valid UTF-8", location="query")
            if name in values:
                raise param_error(name, "appears more than once", location="query")
            values[name] = value
        self.values: Mapping[str, str] = values

    def text(self, name: str, *, required: bool = False, max_length: int = 64) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise param_error(name, "is required", location="query")
            return None
        if len(value) > max_length:
            raise param_error(name, f"must be at most {max_length} characters", location="query", value=value)
        return value

    def required_text(self, name: str, *, max_length: int = 64) -> str:
        value = self.text(name, required=True, max_length=max_length)
        assert value is not None
        return value

    def enum(self, name: str, allowed: Collection[str]) -> str | None:
        value = self.text(name)
        if value is not None and value not in allowed:
            raise param_error(name, f"must be one of {' | '.join(allowed)}", location="query", value=value)
        return value

    def integer(self, name: str, *, default: int, minimum: int, maximum: int = INTEGER_MAX) -> int:
        value = self.text(name)
        if value is None:
            return default
        if not _DIGITS.fullmatch(value):
            raise param_error(name, "must be a non-negative integer", location="query", value=value)
        number = int(value)
        if not minimum <= number <= maximum:
            raise param_error(name, f"must be between {minimum} and {maximum}", location="query", value=number)
        return number


class Body:
    """A JSON object body; string fields only, as every coupon-sending field is a string."""

    def __init__(self, raw: bytes) -> None:
        if not raw.strip():
            raise param_error("body", "is required: send a JSON object", location="body")
        try:
            parsed: Any = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise param_error("body", "is not valid UTF-8 JSON", location="body") from None
        if not isinstance(parsed, dict):
            raise param_error("body", "must be a JSON object", location="body")
        self.values: Mapping[str, Any] = parsed

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int = 64,
        min_length: int = 0,
        charset: Charset | None = None,
    ) -> str | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise param_error(name, "is required", location="body")
            return None
        if not isinstance(value, str):
            raise param_error(name, f"must be a string, not {_json_type(value)}", location="body", value=value)
        if not _well_formed(value):
            raise param_error(name, "is not valid UTF-8", location="body")
        if required and not value:
            raise param_error(name, "must not be empty", location="body")
        if not min_length <= len(value) <= max_length:
            limit = f"{min_length} to {max_length}" if min_length else f"at most {max_length}"
            raise param_error(name, f"must be {limit} characters", location="body", value=value)
        if charset is not None and not charset.pattern.fullmatch(value):
            raise param_error(name, f"may use only {charset.described}", location="body", value=value)
        return value

    def required_text(
        self, name: str, *, max_length: int = 64, min_length: int = 0, charset: Charset | None = None
    ) -> str:
        value = self.text(name, required=True, max_length=max_length, min_length=min_length, charset=charset)
        assert value is not None
        return value


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"
