"""The one check a typed request passes before it is sent, derived from its request models.

Rules: a field without a default is required (and a required string must not be empty), values must have
the field's JSON type (``bool`` is not an ``int``), enum fields take only the enum's values, and
``attrs`` field metadata ``minimum``/``maximum`` bound integers. Path values follow the one rule every
endpoint uses (:func:`wxpay_chain._uri.path_value_problem`).

A query and an APIv2 body (``xml=``) are text on the wire, so there the rule is about the text sent: a
string field also takes a whole number (``1`` and ``"1"`` are the same text), an integer field also takes
the text of one (``"1"``, never ``"1.5"`` or ``"one"``), an enum field the text of a member and a boolean
``"true"`` or ``"false"``; the problems are named ``query.<field>`` and ``xml.<field>``.

Each rule is written once, as a check compiled per model and type. A check answers None for a good value,
so a valid request costs a walk over what was given and no string work; a wrong one answers its problems,
and the same walk names every wrong field (``path.openid``, ``query.page_size``, ``json.brand_id``...).
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .._apiv2 import BOOLEAN, TEXT, WHOLE_LIMIT, WHOLE_NUMBER, is_boolean_text, is_text, is_whole_number
from .._errors import InvalidRequestError
from .._roots import is_v2
from .._uri import is_plain_segment, path_value_problem, plain_value

if TYPE_CHECKING:
    from ._spec import EndpointSpec

__all__ = ["RAW_BODY", "RequestCheck", "model_check", "rejection_title", "request_check", "validate_request"]

Problems = list[tuple[str, str]]
# A value's check: None when it is good, else (where below the value, why) pairs. "where" is "" for the
# value itself, "[2]" for a list item, ".name" for a field of a nested object.
Check = Callable[[Any], "Problems | None"]
# A request's check: (path values, query, json) -> None, or the problems with full field names.
RequestCheck = Callable[[Mapping[str, object], object, object], "Problems | None"]

_NOTHING_GIVEN: Mapping[str, object] = types.MappingProxyType({})
#: The ``json`` a check is given for a call with a raw ``data=`` body: sent as it is, so not judged.
RAW_BODY: object = object()


def validate_request(
    spec: EndpointSpec,
    path_params: Mapping[str, object],
    query: Mapping[str, object] | object | None,
    json: Mapping[str, object] | object | None,
) -> None:
    """Check a request against ``spec`` before anything is sent.

    ``query`` and ``json`` may be dicts or instances of the spec's request models. Raises
    InvalidRequestError listing every wrong field (``path.openid``, ``query.page_size``,
    ``json.brand_id``…) with the reason.
    """
    problems = request_check(spec)(path_params, query, json)
    if problems:
        raise InvalidRequestError(rejection_title(spec.method, spec.template), problems)


def rejection_title(method: str, template: str) -> str:
    """The title of the InvalidRequestError a check raises for a call to ``method template``."""
    return f"invalid request for {method} {template}"


@functools.cache
def request_check(spec: EndpointSpec) -> RequestCheck:
    """The check of requests to ``spec``, compiled once."""
    names = spec.path_params
    query_model, json_model = spec.query, spec.body
    text = is_v2(spec.template)  # an APIv2 body: XML text, passed as xml=
    body_name = "xml" if text else "json"
    query_fields = model_check(query_model, text=True) if query_model is not None else None  # sent as text
    json_fields = model_check(json_model, text=text) if json_model is not None else None

    def check(path_params: Mapping[str, object], query: object, json: object) -> Problems | None:
        problems: Problems | None = None
        for name in names:
            value = path_params.get(name)
            if is_plain_segment(value):
                continue  # the common id: nothing to encode, nothing to judge
            why = "required path parameter is missing" if value is None else path_value_problem(value)
            if why is not None:
                problems = [*(problems or ()), (f"path.{name}", why)]
        # A plain dict is the common case (the client has turned models into dicts by now).
        if query_fields is not None:
            found = query_fields(query) if type(query) is dict else _part(query_model, query_fields, query)
            if found is not None:
                problems = [*(problems or ()), *(("query" + below, why) for below, why in found)]
        if json_fields is not None and json is not RAW_BODY:
            found = json_fields(json) if type(json) is dict else _part(json_model, json_fields, json)
            if found is not None:
                problems = [*(problems or ()), *((body_name + below, why) for below, why in found)]
        return problems

    return check


def _part(model: Any, fields: Check, given: object) -> Problems | None:
    """The query or the JSON body when it is not a dict: nothing, another mapping or a model instance."""
    if given is None:
        return fields(_NOTHING_GIVEN)
    if isinstance(given, Mapping):
        return fields(given)
    if isinstance(given, model):
        return fields(_shallow_fields(given))
    return [("", f"expected {model.__name__} or a dict, got {_kind(given)}")]


def _shallow_fields(instance: Any) -> dict[str, object]:
    return attrs.asdict(instance, recurse=False)


@functools.cache
def _field_types(model: type) -> dict[str, Any]:
    return typing.get_type_hints(model)


@functools.cache
def model_check(model: type, *, text: bool = False) -> Check:
    """The check of a mapping against ``model``'s fields; problems come in the model's field order.

    With ``text`` the mapping is an APIv2 body, judged by the text each value is sent as."""
    hints = _field_types(model)
    fields = attrs.fields(model)
    value_check = _text_check if text else _value_check
    checks = {field.name: value_check(hints[field.name], field.metadata) for field in fields}
    required = tuple(field.name for field in fields if field.default is attrs.NOTHING)
    order = {field.name: index for index, field in enumerate(fields)}

    # Walks what was given, not every field of the model: a query sets a few of its many optional fields.
    def check(data: Mapping[str, object]) -> Problems | None:
        found: dict[str, Problems] | None = None
        get = data.get
        for name in required:
            value = get(name)
            if value is None:
                found = found or {}
                found[name] = [(f".{name}", "required field is missing")]
            elif isinstance(value, str) and not value.strip():
                found = found or {}
                found[name] = [(f".{name}", "required field must not be empty")]
        check_of = checks.get
        for name, value in data.items():
            value_check = check_of(name)  # other keys are not the model's business
            if value_check is None or value is None:
                continue
            wrong = value_check(value)
            if wrong is not None:
                found = found or {}
                # A wrong type is the first thing to fix: it goes before "must not be empty".
                found.setdefault(name, [])[:0] = [(f".{name}{below}", why) for below, why in wrong]
        if found is None:
            return None
        return [problem for name in sorted(found, key=order.__getitem__) for problem in found[name]]

    return check


def _value_check(tp: Any, meta: Mapping[Any, Any]) -> Check:
    tp = _without_none(tp)
    if typing.get_origin(tp) is list:
        return _list_check(_value_check(typing.get_args(tp)[0], {}))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_check(tp)
    if attrs.has(tp):
        return _object_check(tp)
    if tp is bool:
        return _bool_check
    if tp is int:
        return _int_check(meta.get("minimum"), meta.get("maximum"))
    if tp is str:
        return _str_check
    raise TypeError(f"no request check for {tp!r}")  # a model bug, not the caller's


def _text_check(tp: Any, meta: Mapping[Any, Any]) -> Check:
    """The check of a query or APIv2 field: what matters is the text it is sent as (the module docstring).
    Each check lets the common value (a str, an int in range) through before any text rule: it runs for
    every field of every call."""
    tp = _without_none(tp)
    if tp is str:
        return _text_str_check
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        values = [str(member.value) for member in tp]
        allowed, wrong = frozenset(values), f"must be one of {', '.join(values)}; got "

        def member(value: object) -> Problems | None:
            value = plain_value(value)
            return None if is_text(value) and str(value) in allowed else [("", f"{wrong}{value!r}")]

        return member
    if tp is bool:
        return _text_bool_check
    if tp is int:
        bounds = _int_check(meta.get("minimum"), meta.get("maximum"))

        def check(value: object) -> Problems | None:
            if type(value) is not int or not -WHOLE_LIMIT < value < WHOLE_LIMIT:
                value = plain_value(value)
                if not is_whole_number(value):
                    return [("", f"must be {WHOLE_NUMBER}, got {_kind(value)}")]
            return bounds(int(value) if isinstance(value, str) else value)

        return check
    raise TypeError(f"text request fields are str, int, bool or enums, not {tp!r}")  # a model bug


def _text_bool_check(value: object) -> Problems | None:
    return None if is_boolean_text(value) else [("", f"must be {BOOLEAN}, got {_kind(plain_value(value))}")]


def _text_str_check(value: object) -> Problems | None:
    return None if type(value) is str or is_text(value) else [("", f"must be {TEXT}, got {_kind(value)}")]


def _list_check(item_check: Check) -> Check:
    def check(value: object) -> Problems | None:
        if not isinstance(value, (list, tuple)):
            return [("", f"must be a list, got {_kind(value)}")]
        problems: Problems | None = None
        for index, item in enumerate(value):
            wrong = item_check(item)
            if wrong is not None:
                problems = [*(problems or ()), *((f"[{index}]{below}", why) for below, why in wrong)]
        return problems

    return check


def _enum_check(tp: type[enum.Enum]) -> Check:
    values = [member.value for member in tp]
    allowed = frozenset(values)
    wrong = f"must be one of {', '.join(map(str, values))}; got "

    def check(value: object) -> Problems | None:
        try:
            if type(value) is not bool and value in allowed:
                return None
        except TypeError:  # unhashable: certainly not a member
            pass
        return [("", f"{wrong}{value!r}")]

    return check


def _object_check(model: type) -> Check:
    def check(value: object) -> Problems | None:
        if isinstance(value, model):
            value = _shallow_fields(value)
        if not isinstance(value, Mapping):
            return [("", f"must be an object, got {_kind(value)}")]
        return model_check(model)(value)

    return check


def _bool_check(value: object) -> Problems | None:
    return None if type(value) is bool else [("", f"must be a boolean, got {_kind(value)}")]


def _int_check(low: int | None, high: int | None) -> Check:
    bounds = f"between {low} and {high}" if high is not None else f"at least {low}"

    def check(value: object) -> Problems | None:
        if not isinstance(value, int) or type(value) is bool:
            return [("", f"must be an integer, got {_kind(value)}")]
        if (low is not None and value < low) or (high is not None and value > high):
            return [("", f"must be {bounds}, got {value}")]
        return None

    return check


def _str_check(value: object) -> Problems | None:
    return None if isinstance(value, str) else [("", f"must be a string, got {_kind(value)}")]


def _without_none(tp: Any) -> Any:
    """``X | None`` → ``X``; request fields take one type besides None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"request fields take one type, not {tp!r}")  # a model bug, not the caller's
        return options[0]
    return tp


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if attrs.has(type(value)):
        return f"a {type(value).__name__}"
    return type(value).__name__
