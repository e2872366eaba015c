"""The endpoint facts behind the typed chain: vendored data plus a small overlay, read on first use.

``operations.json`` is trimmed from TheNorthMemory/wechatpay-openapi (MIT, see ``LICENSE-wechatpay-openapi``)
by ``python -m tools.generate_chain --vendor <schemas.json>``; ``overlay.json`` holds the fixes where a seed
document or an official page disagrees with it, each with its reason. Nothing here runs at
``import wxpay_chain``: ``dir()`` on a chain, a verb's ``__doc__`` and the ``types`` check load it once.

The generated stubs (``_nodes.pyi``) are made from the same functions, so the docstring an editor shows on
hover is the one ``help()`` prints.
"""

from __future__ import annotations

import functools
import json
import keyword
from pathlib import Path
from typing import Any

from .._roots import ROOTS, body_option, is_v2
from .._uri import EMPTY_PLACEHOLDER, normalize_segment, placeholders

__all__ = [
    "VERBS",
    "Node",
    "attribute_name",
    "doc",
    "listing",
    "node",
    "operation",
    "operations",
    "pages",
    "verb_doc",
]

Operation = dict[str, Any]
VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Names a chain already has: a segment spelled like one of them is reached with chain() or [...].
_METHODS = ("chain", "paginate", "template")
_TAKEN = frozenset(_METHODS)


def _read(name: str) -> Any:
    return json.loads(Path(__file__).with_name(name).read_text("utf-8"))


def apply_overlay(ops: list[Operation], overlay: dict[str, Any]) -> dict[tuple[str, str], Operation]:
    """The vendored operations with the overlay's additions and fixes applied (a pure function)."""
    by_key = {(op["method"], op["template"]): op for op in ops}
    for added in overlay.get("add", ()):
        like = by_key[tuple(added["like"])]
        op = json.loads(json.dumps(like))  # a deep copy
        op.update({k: v for k, v in added.items() if k in ("method", "template", "title", "doc_url")})
        for where in added.get("drop", ()):
            _drop(op, where)
        by_key[(op["method"], op["template"])] = as_sent(op)  # a template of its own: its own placeholders
    for fix in overlay.get("fix", ()):
        field = _field(by_key[(fix["method"], fix["template"])], fix["field"])
        unset = fix.get("unset", [])
        if not isinstance(unset, list) or not (unset or fix.get("set")):
            raise ValueError(f"overlay fix of {fix['field']}: give 'set' (an object) and/or 'unset' (a list of keys)")
        field.update(fix.get("set", {}))
        for key in unset:  # a fact the data gets wrong and no page gives right (an enum): a typo fails here
            del field[key]
    return dict(sorted(by_key.items(), key=lambda item: (item[0][1], VERBS.index(item[0][0]))))


def _field(op: Operation, where: str) -> dict[str, Any]:
    """``query.offset`` / ``path.openid`` / ``json.stock.name``: the entry the overlay edits."""
    part, _, rest = where.partition(".")
    if part == "json":
        schema = op["body"]
        for name in rest.split("."):
            schema = schema["properties"][name]
        return schema  # type: ignore[no-any-return]
    return next(p for p in op[part] if p["name"] == rest)


def _drop(op: Operation, where: str) -> None:
    part, _, name = where.partition(".")
    if part == "json":
        op["body"]["properties"].pop(name)
        op["body"]["required"] = [r for r in op["body"].get("required", ()) if r != name]
    else:
        op[part] = [p for p in op[part] if p["name"] != name]


@functools.cache
def operations() -> dict[tuple[str, str], Operation]:
    """Every known operation by (method, template), overlay applied, shaped as the SDK sends it; loaded once."""
    vendored = [as_sent(op) for op in _read("operations.json")["operations"]]
    ops = apply_overlay(vendored, _read("overlay.json"))
    for (_, template), op in ops.items():
        if is_v2(template):
            _sdk_fills_v2(op)
    return ops


def as_sent(op: Operation) -> Operation:
    """``op`` (changed in place) as the SDK sends it: the template's placeholders are its path arguments, and a
    list the data puts in the query is one text (a query value is text, :func:`wxpay_chain._uri.encode_query`).

    The data sometimes names a placeholder otherwise (``use_id`` for ``{user_id}``), files it under the query
    (``{service_id}``) or the body, or leaves it out; the URI the SDK expands is the template, so the template
    wins and the data only lends a matching entry its type and label. Idempotent."""
    names = [n for n in placeholders(op["template"]) if n != EMPTY_PLACEHOLDER]  # {empty} may be left out
    given = op.get("path", [])
    by_name = {p["name"]: p for p in given}
    query = {p["name"]: p for p in op.get("query", ())}
    body = (op.get("body") or {}).get("properties") or {}
    misnamed = [p for p in given if p["name"] not in names]
    unnamed = [n for n in names if n not in by_name and n not in query and n not in body]
    path = []
    for name in names:
        entry = by_name.get(name) or query.get(name)
        if entry is None:
            # As many misnamed entries as placeholders without one: the same places, spelled otherwise.
            lent = body.get(name) or (misnamed[unnamed.index(name)] if len(misnamed) == len(unnamed) else {})
            entry = {k: lent[k] for k in ("type", "label", "enum") if k in lent}
        path.append({**entry, "name": name, "required": True})
    if path or "path" in op:
        op["path"] = path
    if op.get("query"):
        op["query"] = [_one_text(p) for p in op["query"] if p["name"] not in names]
        if not op["query"]:
            del op["query"]
    return op


def _one_text(param: dict[str, Any]) -> dict[str, Any]:
    """A list in a query: the SDK sends text, so the caller sends the list's values as WeChat Pay's page says."""
    if param.get("type") != "array":
        return param
    items = param.get("items") or {}
    values = "|".join(map(str, items.get("enum", ())))
    label = param.get("label", "")
    note = "a list: send its values as one text" + (f"; values {values}" if values else "")
    out = {k: v for k, v in param.items() if k not in ("type", "items", "example", "enum", "label")}
    return {**out, "type": "string", "label": f"{label} ({note})".strip(), "list": True}


# What the SDK writes into every APIv2 call (_apiv2.fill_payload): never the caller's to give, or optional.
_V2_FILLED = ("mch_id", "nonce_str", "sign_type")


def _sdk_fills_v2(op: Operation) -> None:
    body = op.get("body")
    if body and "properties" in body:
        body["properties"].pop("sign", None)
        body["required"] = [n for n in body.get("required", ()) if n not in _V2_FILLED and n != "sign"]


def operation(method: str, template: str) -> Operation | None:
    return operations().get((method, template))


def attribute_name(segment: str) -> str | None:
    """How an attribute chain spells ``segment`` (``{openid}`` → ``_openid_``, ``product-coupon`` →
    ``productCoupon``, ``global`` → ``global_``), or None when no attribute reaches it."""
    if segment.startswith("{") and segment.endswith("}"):
        name = f"_{segment[1:-1]}_"
    else:
        head, *rest = segment.split("-")
        name = head + "".join(part[:1].upper() + part[1:] for part in rest)
        if keyword.iskeyword(name):
            name += "_"
    if not name.isidentifier() or name in _TAKEN or normalize_segment(name) != segment:
        return None
    return name


class Node:
    """One path node: its children by attribute name and the verbs it has operations for."""

    __slots__ = ("children", "template", "verbs")

    def __init__(self, template: str) -> None:
        self.template = template
        self.children: dict[str, str] = {}
        self.verbs: list[str] = []


@functools.cache
def tree() -> dict[str, Node]:
    """Every node an attribute chain can reach from a root, by template (``""`` is the client)."""
    nodes: dict[str, Node] = {"": Node("")}
    for method, template in operations():
        segments = template.split("/")
        if segments[0] not in ROOTS or (segments[0] == "v2" and method != "POST"):
            continue  # APIv2 calls are POST requests (_v2_pipeline)
        names = [attribute_name(s) for s in segments]
        if None in names:
            continue  # a segment no attribute spells (capitals, ...): chain() reaches it
        parent = ""
        for segment, name in zip(segments, names, strict=True):
            here = f"{parent}/{segment}" if parent else segment
            nodes[parent].children[name] = here  # type: ignore[index]
            nodes.setdefault(here, Node(here))
            parent = here
        nodes[template].verbs.append(method)
    return nodes


def node(template: str) -> Node | None:
    return tree().get(template)


# --- the docstring of a verb ------------------------------------------------------------------------

_PLAIN = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "array": "list", "object": "dict"}


def _kind(entry: dict[str, Any]) -> str:
    kind = _PLAIN.get(entry.get("type", ""), "any")
    if "enum" in entry:
        kind += " " + "|".join(map(str, entry["enum"][:8])) + ("|…" if len(entry["enum"]) > 8 else "")
    return kind


def _line(name: str, entry: dict[str, Any], required: bool) -> str:
    label = entry.get("label", "")
    return f"    {name} ({_kind(entry)}{', required' if required else ''}){' ' + label if label else ''}"


def _text(value: object) -> str:
    return json.dumps(str(value), ensure_ascii=False)


def _example_value(entry: dict[str, Any]) -> str:
    if "enum" in entry:
        first = entry["enum"][0]
        return _text(first) if isinstance(first, str) or entry.get("type") == "string" else repr(first)
    example = entry.get("example")
    kind = entry.get("type")
    if kind in ("integer", "number"):
        return repr(example) if isinstance(example, (int, float)) and not isinstance(example, bool) else "1"
    if kind == "boolean":
        return "True" if example in (True, "true") else "False"
    if kind == "object":
        return "{...}"
    if kind == "array":
        return "[...]"
    return _text(example) if example is not None else '"..."'


def _example(op: Operation) -> str:
    method, template = op["method"], op["template"]
    segments = template.split("/")
    names = [attribute_name(s) for s in segments]
    chain = (
        "client." + ".".join(names)  # type: ignore[arg-type]
        if segments[0] in ROOTS and None not in names
        else f'client.chain("{template}")'
    )
    args = [f"{p['name']}={_example_value(p)}" for p in op.get("path", ())]
    query = [p for p in op.get("query", ()) if p.get("required")]
    if query:
        args.append("query={" + ", ".join(f'"{p["name"]}": {_example_value(p)}' for p in query) + "}")
    body = op.get("body") or {}
    required = [n for n in body.get("required", ()) if n in body.get("properties", {})]
    if required:
        word = body_option(template)
        fields = ", ".join(f'"{n}": {_example_value(body["properties"][n])}' for n in required[:6])
        args.append(word + "={" + fields + (", ..." if len(required) > 6 else "") + "}")
    elif method in ("POST", "PUT", "PATCH") and body.get("properties"):
        args.append(body_option(template) + "={...}")
    if op.get("upload") and not is_v2(template):  # an APIv2 call takes xml= only (_v2_pipeline.V2_OPTIONS)
        args.append('media=Media(content, filename="image.png")')
    if _presents_certificate(template):
        args.append("security=True")
    return f"await {chain}.{method.lower()}({', '.join(args)})"


# APIv2 calls documented to present the merchant API certificate (the seed pages of send_coupon and
# sendredpack, and every secapi path): an example without security=True would be refused by WeChat Pay.
_CERTIFICATE_CALLS = frozenset({"v2/mmpaymkttransfers/send_coupon", "v2/mmpaymkttransfers/sendredpack"})


def _presents_certificate(template: str) -> bool:
    return template in _CERTIFICATE_CALLS or template.startswith("v2/secapi/")


def doc(op: Operation) -> str:
    """Title, doc link, parameters and an example call: a verb's ``__doc__`` and its stub's docstring."""
    lines = [op["title"], "", f"{op['method']} {op['template']}", op["doc_url"], ""]
    for part in ("path", "query"):
        params = op.get(part, ())
        if params:
            lines.append(f"{part}:" if part == "path" else "query=:")
            lines.extend(_line(p["name"], p, part == "path" or bool(p.get("required"))) for p in params)
    body = op.get("body") or {}
    if body.get("properties"):
        required = set(body.get("required", ()))
        lines.append(body_option(op["template"]) + "=:")
        lines.extend(_line(name, entry, name in required) for name, entry in body["properties"].items())
    lines += ["", "Example (the blocking Client: without await)::", "", "    " + _example(op)]
    return "\n".join(lines)


# --- what a chain shows at run time -------------------------------------------------------------------


def pages(template: str) -> bool:
    """Whether a GET of ``template`` has known paging (a registered spec's), so ``paginate()`` can page it."""
    from ..models import lookup

    spec = lookup("GET", template)
    return spec is not None and spec.paging is not None


def listing(template: str) -> list[str]:
    """``dir(chain)``: its methods, its known children and its known verbs (every verb where none is known);
    ``paginate`` only where paging is known, since anywhere else it raises."""
    methods = [m for m in _METHODS if m != "paginate" or pages(template)]
    known = node(template)
    if known is None:
        return sorted((*methods, *(v.lower() for v in VERBS)))
    return sorted({*methods, *known.children, *(v.lower() for v in known.verbs)})


def verb_doc(method: str, template: str) -> str | None:
    """A verb's ``__doc__``: :func:`doc` of its endpoint, or None for an endpoint without data."""
    op = operation(method, template)
    return doc(op) if op is not None else None
