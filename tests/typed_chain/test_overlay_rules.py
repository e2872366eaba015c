"""The overlay's own rules: a fix that names nothing to change, or a key the field does not have, fails
loudly (a typo there would leave the data's wrong fact in force, silently)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from wxpay_chain._typed._data import apply_overlay

OPS: list[Any] = [
    {"method": "POST", "template": "v3/things", "body": {"properties": {"kind": {"type": "string", "enum": ["A"]}}}}
]


def fix(**change: Any) -> dict[str, Any]:
    return {"fix": [{"method": "POST", "template": "v3/things", "field": "json.kind", **change}]}


def test_unset_drops_the_key() -> None:
    ops = apply_overlay(copy.deepcopy(OPS), fix(unset=["enum"]))
    assert ops[("POST", "v3/things")]["body"]["properties"]["kind"] == {"type": "string"}


@pytest.mark.parametrize("change", [{"unset": ["enmu"]}, {"unset": "enum"}, {}])
def test_a_fix_that_would_change_nothing_fails(change: dict[str, Any]) -> None:
    with pytest.raises((KeyError, ValueError)):
        apply_overlay(copy.deepcopy(OPS), fix(**change))
