"""The one cattrs converter of wxpay_chain, configured in one place (:func:`_make_converter`).

Rules it applies to every model:

* JSON keys the model does not know are ignored, so new API fields never break an old client.
* ``str``, ``int`` and ``bool`` fields take only their own JSON type (``"20"`` is not an int, ``true``
  is not an int, ``"false"`` is not a bool) and lists take only JSON arrays: a mismatch is reported,
  never silently coerced.
* A field typed ``SomeEnum | str`` (or ``SomeIntEnum | int``) takes the enum member when the value is
  known and the plain value otherwise, so a state added by WeChat Pay later stays readable.
* RFC 3339 times, with or without seconds (``2025-01-01T00:00+08:00``), become timezone-aware
  :class:`datetime.datetime` objects; unstructuring writes back the exact text that was received, and
  ``YYYY-MM-DDTHH:MM:SS[.ffffff]±HH:MM`` for datetimes built in code.
* Unstructuring drops fields that are ``None`` and turns enums into their values.

:func:`structure` raises :class:`~wxpay_chain._errors.StructureError` naming every failing field path
(``$.user_coupon_list[0].coupon_state``).
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import IterableValidationError, IterableValidationNote
from cattrs.v import format_exception

from ._errors import StructureError
from ._uri import enum_value

__all__ = ["converter", "format_rfc3339", "parse_rfc3339", "structure", "unstructure"]

T = TypeVar("T")

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


class WireTypeError(TypeError):
    """A JSON value has the wrong JSON type for its field; the message says what was expected."""


class WireFormatError(ValueError):
    """A JSON string does not have the format its field needs (an RFC 3339 time)."""


class UnsendableTimeError(ValueError):
    """A datetime to be sent that RFC 3339 cannot carry as meant: no UTC offset, or one with seconds."""


class _WireDateTime(datetime):
    """A datetime that remembers the RFC 3339 text it was parsed from, to write it back unchanged.

    Arithmetic and ``replace()`` build new instances without the text; those are formatted afresh.
    """

    __slots__ = ("_wire_text",)
    _wire_text: str

    def __repr__(self) -> str:
        text = datetime.__repr__(self)
        return "datetime.datetime" + text[text.index("(") :]


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 time (seconds and fraction optional) into an aware datetime.

    Raises :class:`ValueError` for anything else, including times without an offset.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 time with offset: {_clipped(text)}")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if zulu:
        tz = timezone.utc
    else:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        if offset >= timedelta(hours=24) or int(off_m) > 59:
            raise ValueError(f"offset out of range in {_clipped(text)}")
        tz = timezone(-offset if sign == "-" else offset)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        value = _WireDateTime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tzinfo=tz
        )
    except ValueError as exc:
        raise ValueError(f"not a valid time: {_clipped(text)} ({exc})") from None
    value._wire_text = text
    return value


def _clipped(text: str) -> str:
    """An answer's text as an error quotes it: a server's value can be any size, a message stays short."""
    return repr(text) if len(text) <= 64 else f"{text[:64]!r}... ({len(text)} characters)"


def format_rfc3339(value: datetime) -> str:
    """The RFC 3339 text of an aware datetime: the received text if it was parsed, else isoformat."""
    text: str | None = getattr(value, "_wire_text", None)
    if text is not None:
        return text
    problem = time_problem(value)
    if problem is not None:
        raise UnsendableTimeError(f"{problem} (got {value!r})")
    return value.isoformat()


def time_problem(value: datetime) -> str | None:
    """Why RFC 3339 cannot carry ``value`` as meant, or None."""
    offset = value.utcoffset()
    if offset is None:
        return (
            "a naive datetime (no UTC offset), which WeChat Pay would read in a zone nobody chose: "
            "give it its zone, e.g. tzinfo=ZoneInfo('Asia/Shanghai')"
        )
    if offset % timedelta(minutes=1):
        return f"its UTC offset {offset} has seconds, which RFC 3339 cannot write: use whole minutes"
    return None


def _structure_datetime(value: object, _: type) -> datetime:
    if not isinstance(value, str):
        raise WireTypeError(f"expected an RFC 3339 time string, got {_json_type(value)}")
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise WireFormatError(str(exc)) from None


def _strict(kind: type, name: str) -> Callable[[object, type], Any]:
    """A hook for JSON type ``kind`` (bool is no int) that also serves enums based on ``kind``.

    Class hooks dispatch on the MRO, where ``str`` comes before ``Enum`` in ``class E(str, Enum)``:
    so enums (closed: unknown values are errors) are built here.
    """

    def check(value: object, target: type) -> Any:
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise WireTypeError(f"expected {name}, got {_json_type(value)}")
        if target is not kind and isinstance(target, type) and issubclass(target, enum.Enum):
            return target(value)
        return value

    return check


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _open_enum_parts(tp: Any) -> tuple[tuple[type[enum.Enum], ...], type, bool] | None:
    """For ``E | str`` / ``E | int`` (optionally ``| None``) return (enums, base, optional)."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    args = typing.get_args(tp)
    enums = tuple(a for a in args if isinstance(a, type) and issubclass(a, enum.Enum))
    bases = [a for a in args if a in (str, int)]
    optional = type(None) in args
    if not enums or len(bases) != 1 or len(enums) + 1 + optional != len(args):
        return None
    base = bases[0]
    if not all(issubclass(e, base) for e in enums):
        return None
    return enums, base, optional


def _open_enum_hook(tp: Any) -> Callable[[object, type], Any]:
    parts = _open_enum_parts(tp)
    assert parts is not None
    enums, base, optional = parts
    check = _strict(base, "a string" if base is str else "an integer")

    def structure_open_enum(value: object, _: type) -> Any:
        if value is None and optional:
            return None
        check(value, base)
        for kind in enums:
            try:
                return kind(value)
            except ValueError:
                continue
        return value

    return structure_open_enum


def _is_list(tp: Any) -> bool:
    return typing.get_origin(tp) is list


def _strict_list_hook(tp: Any, conv: cattrs.Converter) -> Callable[[object, type], Any]:
    (item_type,) = typing.get_args(tp)

    def structure_json_array(value: object, _: type) -> list[Any]:
        if not isinstance(value, list):
            raise WireTypeError(f"expected an array, got {_json_type(value)}")
        items: list[Any] = []
        errors: list[Exception] = []
        for index, item in enumerate(value):
            try:
                items.append(conv.structure(item, item_type))
            except Exception as exc:  # collected, then raised together like cattrs does
                note = IterableValidationNote(f"Structuring {tp} @ index {index}", index, item_type)
                setattr(exc, "__notes__", [*getattr(exc, "__notes__", []), note])  # noqa: B010 (3.10 typing)
                errors.append(exc)
        if errors:
            raise IterableValidationError(f"While structuring {tp!r}", errors, tp)
        return items

    return structure_json_array


def _json_object_hook(inner: Callable[[Any, Any], Any]) -> Callable[[object, type], Any]:
    def structure_json_object(value: object, cl: type) -> Any:
        if not isinstance(value, Mapping):
            raise WireTypeError(f"expected an object, got {_json_type(value)}")
        return inner(value, cl)

    return structure_json_object


def _make_converter() -> cattrs.Converter:
    """Build the converter; every rule of this module is configured here and nowhere else."""
    conv = cattrs.Converter(forbid_extra_keys=False, omit_if_default=True, detailed_validation=True)
    conv.register_structure_hook(str, _strict(str, "a string"))  # also str-based enums
    conv.register_structure_hook(int, _strict(int, "an integer"))  # also IntEnums
    conv.register_structure_hook(bool, _strict(bool, "a boolean"))
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, format_rfc3339)
    # str and int too: class hooks follow the MRO, where str comes before Enum in class E(str, Enum).
    for kind in (enum.Enum, str, int):
        conv.register_unstructure_hook(kind, enum_value)
    conv.register_structure_hook_factory(attrs.has, lambda cl: _json_object_hook(conv.gen_structure_attrs_fromdict(cl)))
    conv.register_structure_hook_factory(_is_list, lambda tp: _strict_list_hook(tp, conv))
    conv.register_structure_hook_factory(lambda tp: _open_enum_parts(tp) is not None, _open_enum_hook)
    return conv


converter: cattrs.Converter = _make_converter()


def _format_problem(exc: BaseException, tp: type | None) -> str:
    if isinstance(exc, (WireTypeError, WireFormatError)):
        return str(exc)
    return format_exception(exc, tp)


def structure(data: object, cls: type[T]) -> T:
    """Structure parsed JSON into ``cls``; raise StructureError naming every failing field path."""
    try:
        return converter.structure(data, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError, AttributeError) as exc:
        paths = cattrs.transform_error(exc, path="$", format_exception=_format_problem)
        raise StructureError(f"the JSON does not fit {getattr(cls, '__name__', cls)}", paths) from exc


def unstructure(obj: object) -> Any:
    """Turn a model into plain JSON-ready data: None fields dropped, enums as values, RFC 3339 times."""
    return converter.unstructure(obj)
