"""The generated stubs take what the run time takes, on every verb (the samples check one of each):

* an upload (the SDK's upload table, ``_media.UPLOADS``) has a typed POST taking ``media=`` alone, since
  ``_media.encode`` refuses json= or data= beside it;
* a v3 body verb takes ``json=`` or a raw ``data=`` body (two overloads, never both: ``_prepare``);
* every APIv2 body names ``sign_type`` with only the values ``_apiv2.sign_type_of`` accepts.
"""

from __future__ import annotations

import ast
from pathlib import Path

from wxpay_chain._apiv2 import HMAC_SHA256, MD5
from wxpay_chain._media import UPLOADS

STUB = Path(__file__).resolve().parents[2] / "wxpay_chain" / "_typed" / "_nodes.pyi"
BODY_VERBS = ("POST", "PUT", "PATCH")


def _verbs() -> dict[tuple[str, str], list[ast.FunctionDef]]:
    """Every typed verb by (method, template), from its docstring's third line: its signatures, overloads too."""
    found: dict[tuple[str, str], list[ast.FunctionDef]] = {}
    for cls in ast.parse(STUB.read_text("utf-8")).body:
        if not isinstance(cls, ast.ClassDef):
            continue
        defs = [f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name in ("__call__", "get", "post",
                                                                                       "put", "patch", "delete")]
        for group in {f.name for f in defs}:
            signatures = [f for f in defs if f.name == group]
            docstring = next(ast.get_docstring(f) for f in signatures if ast.get_docstring(f))
            assert docstring is not None
            method, template = docstring.splitlines()[2].split(" ", 1)
            found[(method, template)] = signatures
    return found


def _keywords(function: ast.FunctionDef) -> set[str]:
    return {a.arg for a in function.args.kwonlyargs}


def _options(function: ast.FunctionDef) -> str:
    assert function.args.kwarg is not None
    return ast.unparse(function.args.kwarg.annotation)  # type: ignore[arg-type]


def test_every_upload_of_the_sdks_table_takes_media_alone() -> None:
    verbs = _verbs()
    for template in UPLOADS:
        signatures = verbs.get(("POST", template))
        assert signatures is not None, f"no typed POST {template}"
        assert len(signatures) == 1, template
        keywords = _keywords(signatures[0])
        assert "media" in keywords and not keywords & {"json", "data", "xml"}, (template, keywords)
        assert _options(signatures[0]) == "Unpack[Options]", template  # Options has no data
    others = [key for key, signatures in verbs.items() if any("media" in _keywords(f) for f in signatures)]
    assert sorted(others) == sorted(("POST", template) for template in UPLOADS)  # v2/secapi/mch/uploadmedia too


def test_every_v3_body_verb_takes_json_or_data_never_both() -> None:
    verbs = _verbs()
    body_verbs = {k: v for k, v in verbs.items() if k[0] in BODY_VERBS and not k[1].startswith("v2/")}
    assert len(body_verbs) >= 600
    for (method, template), signatures in body_verbs.items():
        if template in UPLOADS:
            continue
        by_body = {frozenset(_keywords(f) & {"json", "data"}): f for f in signatures}
        assert set(by_body) == {frozenset({"json"}), frozenset({"data"})}, (method, template)
        json_form, data_form = by_body[frozenset({"json"})], by_body[frozenset({"data"})]
        assert _keywords(json_form) - {"json"} == _keywords(data_form) - {"data"}, template  # the same path, query
        annotation = next(a.annotation for a in data_form.args.kwonlyargs if a.arg == "data")
        assert annotation is not None and ast.unparse(annotation) == "str | bytes"
        assert {_options(f) for f in signatures} == {"Unpack[Options]"}, template


def test_every_apiv2_xml_typed_dict_has_sign_type_of_the_accepted_values() -> None:
    tree = ast.parse(STUB.read_text("utf-8"))
    v2_dicts = [c for c in tree.body if isinstance(c, ast.ClassDef) and c.name.startswith("N_v2_") and "_xml" in c.name]
    assert len(v2_dicts) > 100
    for cls in v2_dicts:
        fields = {f.target.id: f.annotation for f in cls.body if isinstance(f, ast.AnnAssign)
                  and isinstance(f.target, ast.Name)}
        assert "sign_type" in fields, cls.name
        annotation = fields["sign_type"]
        assert isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) == "Literal", cls.name
        members = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
        values = {ast.literal_eval(member) for member in members}
        assert values and values <= {MD5, HMAC_SHA256}, (cls.name, values)
