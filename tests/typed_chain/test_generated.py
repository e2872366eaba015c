"""The vendored data, its overlay and the generated stubs: current, and built the way they say."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from wxpay_chain._typed import _data

ROOT = Path(__file__).resolve().parents[2]
TYPED = ROOT / "wxpay_chain" / "_typed"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_chain", ROOT / "tools" / "generate_chain.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_stubs_are_current(generator: ModuleType) -> None:
    # Regenerated in memory from operations.json + overlay.json; run `python -m tools.generate_chain` if this fails.
    for path, text in generator.generate().items():
        assert path.read_text("utf-8") == text, f"{path.name} is stale: run python -m tools.generate_chain"
    assert generator.main(["--check"]) == 0


def test_the_vendored_data_keeps_its_origin_and_licence() -> None:
    vendored = json.loads((TYPED / "operations.json").read_text("utf-8"))
    assert "TheNorthMemory/wechatpay-openapi (MIT)" in vendored["_about"]
    assert len(vendored["operations"]) == 1155
    licence = (TYPED / "LICENSE-wechatpay-openapi").read_text("utf-8")
    assert "MIT License" in licence and "TheNorthMemory/wechatpay-openapi" in licence


def test_vendoring_flattens_allof_and_drops_what_is_not_a_json_type(generator: ModuleType) -> None:
    merged = generator._merge(
        {"allOf": [{"type": "object", "required": ["a"], "properties": {"a": {"type": "string "}}},
                   {"allOf": [{"required": ["b"], "properties": {"b": {"type": "粤b888888", "label": "x"}}}]}]}
    )
    assert merged == {
        "type": "object",
        "required": ["a", "b"],
        "properties": {"a": {"type": "string"}, "b": {"label": "x"}},
    }


def test_each_overlay_entry_says_why_and_changes_what_it_names() -> None:
    overlay = json.loads((TYPED / "overlay.json").read_text("utf-8"))
    assert all(entry.get("why") for entry in overlay["add"] + overlay["fix"])
    busifavor = _data.operation("GET", "v3/marketing/busifavor/users/{openid}/coupons")
    assert busifavor is not None
    kinds = {p["name"]: p.get("type") for p in busifavor["query"]}
    assert kinds["offset"] == kinds["limit"] == "integer"  # "number" in the vendored data; seeds 000/001
    brand = _data.operation("POST", "brand/marketing/product-coupon/users/{openid}/coupons")
    assert brand is not None and "brand_id" not in brand["body"]["properties"]
    assert "brand_id" not in brand["body"]["required"] and "product_coupon_id" in brand["body"]["required"]


def test_apiv2_bodies_leave_the_sign_and_the_nonce_to_the_sdk() -> None:
    op = _data.operation("POST", "v2/mmpaymkttransfers/send_coupon")
    assert op is not None
    assert "sign" not in op["body"]["properties"]
    assert not {"mch_id", "nonce_str", "sign"} & set(op["body"]["required"])


def test_attribute_names_spell_segments_the_way_chains_read_them() -> None:
    assert _data.attribute_name("{openid}") == "_openid_"
    assert _data.attribute_name("product-coupon") == "productCoupon"
    assert _data.attribute_name("complaints-v2") == "complaintsV2"
    assert _data.attribute_name("global") == "global_"
    assert _data.attribute_name("addInstitutionsub") is None  # chains turn capitals into kebab-case
    assert _data.attribute_name("template") is None  # a Chain's own name: chain() reaches it


def test_every_rooted_operation_with_spellable_segments_is_in_the_tree() -> None:
    tree = _data.tree()
    reached = {(m, t) for t, n in tree.items() for m in n.verbs}
    rooted = [
        key for key in _data.operations()
        if key[1].split("/")[0] in _data.ROOTS
        and not (key[1].startswith("v2/") and key[0] != "POST")
        and all(_data.attribute_name(s) for s in key[1].split("/"))
    ]
    assert set(rooted) == reached
    assert len(reached) > 1000
