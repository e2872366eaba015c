"""Build the typed chain: ``python -m tools.generate_chain`` writes wxpay_chain/_typed/_nodes.pyi.

    python -m tools.generate_chain            # regenerate the stubs from the vendored data + overlay
    python -m tools.generate_chain --check    # exit 1 if the stubs are stale (CI; the tests do the same)
    python -m tools.generate_chain --vendor ../shared/conformance/schemas.json
                                              # re-trim the vendored data from a new schemas.json

The stubs hold one class per path node (children as attributes, spelled as a chain spells them) and one
method per verb: the template's placeholders as required keyword-only arguments (what the SDK expands,
:func:`wxpay_chain._typed._data.as_sent`), ``query=``/``json=``/``xml=`` as TypedDicts (required keys,
``Literal`` enums, nested objects), the seed endpoints' attrs models accepted too, and the docstring
:func:`wxpay_chain._typed._data.doc` gives at run time. ``paginate`` only on the nodes whose GET has known
paging (``Paged``), as ``dir()`` shows at run time.

A verb takes what the run time takes (wxpay_chain._prepare, _media, _v2_pipeline): a body verb two ways (two
overloads), ``json=`` or a raw ``data=`` body, never both; an upload (a template of the SDK's upload table,
:data:`wxpay_chain._media.UPLOADS`, the authority for uploads: the overlay adds one the data lacks) ``media=``
alone; an APIv2 verb ``xml=`` with the ``sign_type`` the SDK signs by (:func:`wxpay_chain._apiv2.sign_type_of`).
"""

from __future__ import annotations

import argparse
import enum
import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TYPED = ROOT / "wxpay_chain" / "_typed"
OUTPUT = TYPED / "_nodes.pyi"

sys.path.insert(0, str(ROOT))

from wxpay_chain._apiv2 import HMAC_SHA256, MD5  # noqa: E402
from wxpay_chain._media import UPLOADS  # noqa: E402
from wxpay_chain._roots import is_v2  # noqa: E402
from wxpay_chain._typed import _data  # noqa: E402
from wxpay_chain.models import lookup  # noqa: E402

# --- vendoring: schemas.json -> operations.json ---------------------------------------------------------

_TYPES = {"string", "integer", "number", "boolean", "array", "object"}
_TYPE_FIXES = {"uint64": "integer", "int": "integer", "string ": "string"}
_KEEP = ("type", "label", "enum", "example")


def _json_type(raw: object) -> str | None:
    kind = _TYPE_FIXES.get(raw, raw) if isinstance(raw, str) else None
    return kind if kind in _TYPES else None


def _flatten(schema: dict[str, Any]) -> Any:
    yield schema
    for part in schema.get("allOf", ()):
        yield from _flatten(part)


def _merge(schema: dict[str, Any]) -> dict[str, Any]:
    """allOf flattened (properties, required and enums united), then trimmed to what the SDK uses."""
    parts = list(_flatten(schema))
    out: dict[str, Any] = {}
    for part in parts:
        for key in _KEEP:
            if key in part and key not in out:
                out[key] = part[key]
        if "enum" in part and out.get("enum") is not part["enum"]:
            out["enum"] = list(dict.fromkeys([*out.get("enum", ()), *part["enum"]]))
        for name, sub in (part.get("properties") or {}).items():
            out.setdefault("properties", {})[name] = _merge(sub)
        if isinstance(part.get("required"), list):
            out["required"] = list(dict.fromkeys([*out.get("required", ()), *part["required"]]))
        if isinstance(part.get("items"), dict):
            out["items"] = _merge(part["items"])
    kind = _json_type(out.get("type"))
    if kind is None:
        out.pop("type", None)
        if "properties" in out:
            out["type"] = "object"
    else:
        out["type"] = kind
    if "label" in out:
        out["label"] = str(out["label"])[:60]
    if not isinstance(out.get("example"), (str, int, float, bool)):
        out.pop("example", None)
    return out


def vendor(source: Path) -> dict[str, Any]:
    data = json.loads(source.read_text("utf-8"))
    ops = []
    for op in data["operations"]:
        trimmed: dict[str, Any] = {
            "method": op["method"],
            "template": op["template"],
            "title": op["title"],
            "doc_url": op["doc_url"] or "",
        }
        for part in ("path", "query"):
            params = op["params"].get(part)
            if params:
                trimmed[part] = [
                    {"name": p["name"], "required": bool(p.get("required")) or part == "path", **_merge(p)}
                    for p in params
                ]
        if op["params"].get("formData"):
            trimmed["upload"] = True
        if op["body"]:
            trimmed["body"] = _merge(op["body"])
        ops.append(trimmed)
    return {"_about": data["_about"] + " Trimmed by tools/generate_chain.py --vendor.", "operations": ops}


def dump_vendored(vendored: dict[str, Any]) -> str:
    # One operation a line: a diff of a new vendoring shows which endpoints changed.
    lines = [json.dumps(op, ensure_ascii=False, separators=(",", ":")) for op in vendored["operations"]]
    about = json.dumps(vendored["_about"], ensure_ascii=False)
    return '{"_about":' + about + ',"operations":[\n' + ",\n".join(lines) + "\n]}\n"


# --- the stubs --------------------------------------------------------------------------------------------

HEADER = '''# Generated by `python -m tools.generate_chain` from operations.json and overlay.json: do not edit.
# A generated file, exempt from the 400-line module rule. Read by type checkers and editors only: the
# clients annotate their roots with these classes under TYPE_CHECKING (at run time they are Chains).
# Data: TheNorthMemory/wechatpay-openapi (MIT, see LICENSE-wechatpay-openapi), fixed by overlay.json.
# ruff: noqa
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from typing import Any, Generic, Literal, TypeVar, overload

from typing_extensions import Required, TypedDict, Unpack

from .._chain import Chain
from .._http import Response, Timeout
from .._media import Media
{imports}
R = TypeVar("R")

class Options(TypedDict, total=False):
    headers: Mapping[str, str]
    timeout: float | Timeout | None
    base_url: str

class V2Options(Options, total=False):
    security: bool

class Node(Generic[R]):
    """A path node of the typed chain; ``chain()`` and ``[...]`` leave it for any path, untyped."""
    @property
    def template(self) -> str: ...
    def chain(self, path: str) -> Chain[R]: ...
    def __getitem__(self, path: str) -> Chain[R]: ...

class Paged(Node[R]):
    """A node whose GET has known paging: ``paginate()`` iterates over the items of every page."""
    @overload
    def paginate(
        self: Paged[Coroutine[Any, Any, Response]], *args: Mapping[str, Any], **kwargs: Any
    ) -> AsyncIterator[Any]: ...
    @overload
    def paginate(self: Paged[Response], *args: Mapping[str, Any], **kwargs: Any) -> Iterator[Any]: ...
'''

_PY = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
# APIv2 fields are text on the wire, so a number may come as its text ("1000"), and a float is never sent
# (see _apiv2.is_whole_number); a string field stays str, stricter than the run-time check.
_PY_TEXT = {"string": "str", "integer": "int | str", "number": "int | str", "boolean": "str"}
# The sign types _apiv2.sign_type_of accepts: every APIv2 call may name one, whether or not the data lists it.
_SIGN_TYPES = [MD5, HMAC_SHA256]


def _enum_fields(model: type | None) -> dict[str, type]:
    """The top-level fields of a seed model typed by an enum, by name."""
    if model is None:
        return {}
    found: dict[str, type] = {}
    for name, hint in typing.get_type_hints(model).items():
        args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
        if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], enum.Enum):
            found[name] = args[0]
    return found


class Generator:
    def __init__(self) -> None:
        self.typed_dicts: dict[str, str] = {}  # structure key -> name
        self.td_text: list[str] = []
        self.names: set[str] = set()
        self.imports: set[tuple[str, str]] = set()

    def _unique(self, base: str) -> str:
        name, n = base, 2
        while name in self.names:
            name, n = f"{base}{n}", n + 1
        self.names.add(name)
        return name

    def py_type(self, schema: dict[str, Any], hint: str, text: bool = False) -> str:
        enum = schema.get("enum")
        if enum and schema.get("type") == "string" and not text:  # members the data writes as numbers: text
            enum = [v if isinstance(v, (str, bool)) else str(v) for v in enum]
        if enum and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in enum):
            members = [*enum, *(str(v) for v in enum if isinstance(v, int))] if text else enum
            return "Literal[" + ", ".join(repr(v) for v in members) + "]"
        kind = schema.get("type")
        if kind in _PY:
            return (_PY_TEXT if text else _PY)[kind]
        if kind == "array":
            items = schema.get("items")
            return f"list[{self.py_type(items, hint) if items else 'Any'}]"
        if kind == "object" and schema.get("properties"):
            return self.typed_dict(schema["properties"], schema.get("required", ()), hint)
        if kind == "object":
            return "dict[str, Any]"
        return "Any"

    def typed_dict(
        self,
        properties: dict[str, Any],
        required: Any,
        hint: str,
        extra: str = "",
        text: bool = False,
        enums: dict[str, type] | None = None,
    ) -> str:
        """A TypedDict of ``properties``; ``enums``: a seed model's enum fields, whose members are taken too
        (the run-time check sends a member as its value)."""
        fields = [
            (n, self.py_type(s, _camel(n), text) + self._name((enums or {}).get(n)), n in required)
            for n, s in properties.items()
        ]
        key = json.dumps([fields, extra])
        known = self.typed_dicts.get(key)
        if known:
            return known
        name = self.typed_dicts[key] = self._unique(hint)
        if all(n.isidentifier() and not _is_keyword(n) for n, _, _ in fields):
            lines = [f"class {name}(TypedDict, total=False):"]
            lines += [f"    {n}: {f'Required[{t}]' if r else t}" for n, t, r in fields] or ["    pass"]
        else:
            items = ", ".join(f"{n!r}: {f'Required[{t}]' if r else t}" for n, t, r in fields)
            lines = [f"{name} = TypedDict({name!r}, {{{items}}}, total=False)"]
        self.td_text.append("\n".join(lines))
        return name

    def _model(self, model: type | None) -> str:
        return self._name(model)

    def _name(self, cls: type | None) -> str:
        """`` | Cls`` for a class the stubs import, or nothing."""
        if cls is None:
            return ""
        self.imports.add((cls.__module__, cls.__qualname__))
        return f" | {cls.__qualname__}"

    def verb(self, op: dict[str, Any], node_name: str, as_call: bool) -> list[str]:
        method, template = op["method"], op["template"]
        v2 = is_v2(template)
        upload = method == "POST" and template in UPLOADS
        spec = lookup(method, template)
        args = [f"{p['name']}: {'str' if p.get('type') == 'string' else 'str | int'}" for p in op.get("path", ())]
        query = op.get("query")
        if query:
            props = {p["name"]: p for p in query}
            model = spec.query if spec else None
            required = [p["name"] for p in query if p.get("required")]
            td = self.typed_dict(props, required, f"{node_name}_{method}_query", enums=_enum_fields(model))
            td += self._model(model)
            args.append(f"query: {td}" + ("" if any(p.get("required") for p in query) else " = ..."))
        body = op.get("body") or {}
        word = "xml" if v2 else "json"
        raw: list[str] = []  # the same call with a raw body: data= instead of json= (never both, _prepare)
        if upload:  # media= alone: an upload carries no other body (_media.encode)
            args.append("media: Media")
        elif body.get("properties"):
            hint = f"{node_name}_{method}_{word}"
            model = spec.body if spec else None
            properties = _with_sign_type(body["properties"]) if v2 else body["properties"]
            td = self.typed_dict(properties, body.get("required", ()), hint, text=v2, enums=_enum_fields(model))
            td += self._model(model)
            raw = [*args, "data: str | bytes"]
            args.append(f"{word}: {td}" + ("" if body.get("required") else " = ..."))
        elif v2 or method in ("POST", "PUT", "PATCH"):
            raw = [*args, "data: str | bytes"]
            args.append(f"{word}: Mapping[str, Any]{self._model(spec.body if spec else None)} = ...")
        if v2:
            raw = []  # APIv2 calls take xml= (_v2_pipeline.V2_OPTIONS): no data=
        options = "V2Options" if v2 else "Options"
        name = "__call__" if as_call else method.lower()
        docstring = _data.doc(op).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        lines = [f"    def {name}({_signature(args, options)}) -> R:", f'        """{_indent(docstring)}\n        """']
        if raw:
            raw_doc = f"The same call with a raw body, data= (sent and signed as is), for json=.\n\n{method} {template}"
            raw_def = f"    def {name}({_signature(raw, options)}) -> R:"
            lines = ["    @overload", *lines, "    @overload", raw_def, f'        """{_indent(raw_doc)}\n        """']
        return lines

    def build(self) -> str:
        tree, ops = _data.tree(), _data.operations()
        _check_uploads(ops)
        names = {template: self._unique(_class_name(template)) for template in tree}
        classes: list[str] = []
        for template, node in tree.items():
            base = "Paged" if "GET" in node.verbs and _data.pages(template) else "Node"
            lines = [f"class {names[template]}({base}[R]):" if template else "class Roots(Generic[R]):"]
            for attr, child in node.children.items():
                lines.append(f"    {attr}: {names[child]}[R]")
            verb_segment = template.rsplit("/", 1)[-1]
            parent = tree.get(template.rsplit("/", 1)[0]) if "/" in template else None
            if verb_segment.upper() in _data.VERBS and parent and verb_segment.upper() in parent.verbs:
                # ``receivers.delete`` is a segment and, on its parent, a verb: one object that is both.
                lines += self.verb(ops[(verb_segment.upper(), parent.template)], names[template], as_call=True)
            for method in node.verbs:
                if method.lower() not in node.children:
                    lines += self.verb(ops[(method, template)], names[template], as_call=False)
            if len(lines) == 1:
                lines.append("    pass")
            classes.append("\n".join(lines))
        imports = "".join(f"from {module} import {name}\n" for module, name in sorted(self.imports))
        return HEADER.format(imports=imports) + "\n" + "\n\n".join(self.td_text + classes) + "\n"


def _indent(docstring: str) -> str:
    return "\n".join(f"        {line}" if line else "" for line in docstring.splitlines()).lstrip()


def _signature(args: list[str], options: str) -> str:
    return ", ".join(["self", *(["*", *args] if args else []), f"**options: Unpack[{options}]"])


def _with_sign_type(properties: dict[str, Any]) -> dict[str, Any]:
    """An APIv2 body's fields with ``sign_type``, which the SDK honours on every call: the data's own entry
    (its documented values) where it has one with values, else one with the values the SDK accepts."""
    given = properties.get("sign_type")
    if given is not None and given.get("enum"):
        return properties
    entry = {**(given or {"label": "签名类型"}), "type": "string", "enum": _SIGN_TYPES}
    return {**properties, "sign_type": entry}


def _check_uploads(ops: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Every upload of the SDK's table (_media.UPLOADS) has its operation: one the data lacks is an ``add``
    of ``_typed/overlay.json``, so that the run time (dir(), __doc__) knows it as the stub does."""
    missing = [t for t in UPLOADS if ("POST", t) not in ops and None not in map(_data.attribute_name, t.split("/"))]
    if missing:
        raise SystemExit(f"uploads without an operation: {missing}; add them to wxpay_chain/_typed/overlay.json")


def _is_keyword(name: str) -> bool:
    import keyword

    return keyword.iskeyword(name)


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part) or "Field"


def _class_name(template: str) -> str:
    if not template:
        return "Roots"
    parts = [f"P{s[1:-1]}" if s.startswith("{") else s for s in template.split("/")]
    return "N_" + "_".join(re.sub(r"[^A-Za-z0-9]", "_", p) for p in parts)


def generate() -> dict[Path, str]:
    """Every generated file and its text (the tests compare these with the files on disk)."""
    return {OUTPUT: Generator().build()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the generated files are stale")
    parser.add_argument("--vendor", type=Path, help="re-trim operations.json from this schemas.json")
    args = parser.parse_args(argv)
    if args.vendor:
        (TYPED / "operations.json").write_text(dump_vendored(vendor(args.vendor)), "utf-8")
        _data.operations.cache_clear()
        _data.tree.cache_clear()
    generated = generate()
    stale = [path for path, text in generated.items() if not path.exists() or path.read_text("utf-8") != text]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run python -m tools.generate_chain)")
        return 1 if stale else 0
    for path in stale:
        path.write_text(generated[path], "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
