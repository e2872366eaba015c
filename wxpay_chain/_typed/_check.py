"""The validation policy of a client: which check a call passes before anything is sent.

* ``"strict"`` (the default): the hand-verified seed endpoints (``wxpay_chain.models``) check everything,
  required fields included; every other endpoint in the vendored data gets the ``"types"`` check;
* ``"types"``: the fields that are given must have the documented JSON type and, for enums, one of the
  documented values. Missing fields are never an error, because third-party data can lag the live API;
  unknown fields are left to WeChat Pay for the same reason;
* ``"off"``: no check (the client's own path and encoding rules still apply).

A query is text on the wire, so its parameters are judged by the text each is sent as (``5`` and ``"5"``
alike for an integer); JSON bodies keep their JSON types.

APIv2 calls (``v2/...``) get the same policies, with every field judged by the text it is sent as
(``"1"`` and ``1`` alike, ``"1.5"`` no whole number): ``"strict"`` checks the seed models (send_coupon,
query_coupon_stock, querycouponsinfo, sendredpack) in full, and the data's types and enums of the fields
given on those and on every other APIv2 operation of the data; ``"types"`` checks only the latter.

A check is compiled once per (policy, method, template) and remembered, so a call pays one dict lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from .._apiv2 import BOOLEAN, DECIMAL, TEXT, WHOLE_NUMBER, is_boolean_text, is_decimal_text, is_text, is_whole_number
from .._errors import InvalidRequestError
from .._roots import is_v2
from .._uri import plain_value

__all__ = ["VALIDATE_MODES", "Validate", "check_call", "forget", "types_check"]

Validate = Literal["strict", "types", "off"]
VALIDATE_MODES: tuple[Validate, ...] = ("strict", "types", "off")

Problems = list[tuple[str, str]]
ValueCheck = Callable[[object, str, Problems], None]  # (value, field name, problems to add to)
CallCheck = Callable[[Mapping[str, Any], object, object], None]  # (options, query, json) -> raises

_CHECKS: dict[tuple[str, str, str], CallCheck | None] = {}
_CHECKS_MAX = 4096  # templates can be built from data: bounded


def check_call(
    policy: str, method: str, template: str, options: Mapping[str, Any], query: object, json: object
) -> None:
    """Raise InvalidRequestError (naming every wrong field) if the call breaks ``policy``'s rules."""
    key = (policy, method, template)
    try:
        check = _CHECKS[key]
    except KeyError:
        check = _compile(policy, method, template)
        if len(_CHECKS) < _CHECKS_MAX:
            _CHECKS[key] = check
    if check is not None:
        check(options, query, json)


def forget() -> None:
    """Drop every compiled check: ``models.register()`` calls it, so a spec registered later applies."""
    _CHECKS.clear()


def _compile(policy: str, method: str, template: str) -> CallCheck | None:
    if policy == "strict":
        from ..models._registry import lookup
        from ..models._validation import rejection_title, request_check

        spec = lookup(method, template)
        if spec is not None:
            # The hand-verified models judge what they model; the data, by type, whatever they leave out.
            # An APIv2 model types its enum fields as str: there the data's enums apply as well.
            json_rest = spec.body is None or is_v2(template)
            rest = types_check(method, template, check_query=spec.query is None, check_json=json_rest)
            return _strict(rejection_title(spec.method, spec.template), request_check(spec), rest)
    return types_check(method, template)


def _strict(title: str, check: Callable[..., Any], rest: CallCheck | None) -> CallCheck:
    def strict(options: Mapping[str, Any], query: object, json: object) -> None:
        problems = check(options, query, json)
        if problems:
            raise InvalidRequestError(title, problems)
        if rest is not None:
            rest(options, query, json)

    return strict


def types_check(
    method: str, template: str, *, check_query: bool = True, check_json: bool = True
) -> CallCheck | None:
    """The ``"types"`` check of an endpoint's query and/or JSON body from the vendored data, or None."""
    from ._data import operation

    op = operation(method, template)
    if op is None:
        return None
    text = is_v2(template)  # an APIv2 body (xml=): judged by the text each field is sent as
    # A query is text on the wire too: 5 and "5" are one value there.
    params = {p["name"]: p for p in op.get("query", ())} if check_query and not text else {}
    query_check = _text_fields_check({"properties": params}, booleans=True) if params else None
    body = (op.get("body") or {}) if check_json else {}
    body_check = (_text_fields_check if text else _value_check)(body) if body.get("properties") else None
    if query_check is None and body_check is None:
        return None
    from ..models._validation import rejection_title

    title = rejection_title(method, template)
    body_name = "xml" if text else "json"

    def check(options: Mapping[str, Any], query: object, json: object) -> None:
        problems: Problems = []
        if query_check is not None:
            query_check(query, "query", problems)
        if body_check is not None and isinstance(json, Mapping):
            body_check(json, body_name, problems)
        if problems:
            raise InvalidRequestError(title, problems)

    return check


_PYTHON: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (Mapping,),
}
_WORD = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
         "array": "a list", "object": "an object"}


def _value_check(schema: Mapping[str, Any]) -> ValueCheck:
    kind = schema.get("type")
    allowed = _PYTHON.get(kind, ()) if isinstance(kind, str) else ()
    enum_values: list[Any] = schema.get("enum") or []
    if kind == "string":  # the data writes some text members as numbers (organization_type 2401): as text
        enum_values = [v if isinstance(v, str) else str(v) for v in enum_values]
    members = frozenset(enum_values) if enum_values else None
    properties = {name: _value_check(sub) for name, sub in (schema.get("properties") or {}).items()}
    items = _value_check(schema["items"]) if kind == "array" and "items" in schema else None

    def check(value: object, where: str, problems: Problems) -> None:
        value = plain_value(value)
        if allowed and (not isinstance(value, allowed) or (isinstance(value, bool) and kind != "boolean")):
            problems.append((where, f"must be {_WORD[kind]}, got {_kind(value)}"))  # type: ignore[index]
            return
        if members is not None:
            try:
                good = value in members
            except TypeError:  # unhashable: certainly not a member
                good = False
            if not good:
                shown = ", ".join(map(str, enum_values[:12])) + (", ..." if len(enum_values) > 12 else "")
                problems.append((where, f"must be one of {shown}; got {value!r}"))
                return
        if properties and isinstance(value, Mapping):
            for name, sub in value.items():
                sub_check = properties.get(name)
                if sub_check is not None and sub is not None:
                    sub_check(sub, f"{where}.{name}", problems)
        if items is not None and isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                if item is not None:
                    items(item, f"{where}[{index}]", problems)

    return check


_ONE_TEXT = "one text, as every query value is (WeChat Pay's page lists several values here: send them in one)"


def _text_fields_check(body: Mapping[str, Any], *, booleans: bool = False) -> ValueCheck:
    """The ``"types"`` check of flat text on the wire (an APIv2 body, a query): a string field takes text or
    a whole number, an integer one a whole number or its text, a number one decimal text too, and an enum
    the text of a member; with ``booleans`` (a query) a boolean takes True, False, "true" or "false".
    Other kinds (nested data an APIv2 body sends as JSON text) are left to WeChat Pay."""
    rules: dict[str, tuple[Callable[[object], bool], str]] = {
        "string": (is_text, TEXT),
        "integer": (is_whole_number, WHOLE_NUMBER),
        "number": (is_decimal_text, DECIMAL),
    }
    if booleans:
        rules["boolean"] = (is_boolean_text, BOOLEAN)
    fields: dict[str, tuple[tuple[Callable[[object], bool], str] | None, frozenset[str] | None, str]] = {}
    for name, schema in (body.get("properties") or {}).items():
        kind = schema.get("type")
        # The data writes some members as JSON true/false: on the wire they are the text "true"/"false".
        values = [("true" if v else "false") if isinstance(v, bool) else str(v) for v in schema.get("enum") or ()]
        rule = rules.get(kind) if isinstance(kind, str) else None
        if schema.get("list"):  # a list in the data, one text on the wire (_data.as_sent)
            rule = (is_text, _ONE_TEXT)
        shown = ", ".join(values[:12]) + (", ..." if len(values) > 12 else "")
        if rule is not None or values:
            fields[name] = (rule, frozenset(values) if values else None, shown)

    def check(value: object, where: str, problems: Problems) -> None:
        if not isinstance(value, Mapping):
            return  # fill_payload names a body that is no mapping
        for name, given in value.items():
            field = fields.get(name)
            if field is None or given is None:
                continue
            rule, members, shown = field
            given = plain_value(given)
            if rule is not None and not rule[0](given):
                problems.append((f"{where}.{name}", f"must be {rule[1]}, got {_kind(given)}"))
            elif members is not None and (not is_text(given) or str(given) not in members):
                problems.append((f"{where}.{name}", f"must be one of {shown}; got {given!r}"))

    return check


def _kind(value: object) -> str:
    from ..models._validation import _kind as kind  # the wording of the seed checks; only on a bad value

    return kind(value)
