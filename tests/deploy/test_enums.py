"""Fields typed as enums keep the enum: every enum-typed field of every model structures each documented
value to its member (and an unknown value to the plain text), and busifavor's code_display_mode, which
the API documents as an enumeration, is typed as one."""

from __future__ import annotations

import enum
import json
import types
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest

import wxpay_chain.models as models
from wxpay_chain._converter import structure, unstructure
from wxpay_chain.models import BusifavorCodeDisplayMode, BusifavorCoupon, BusifavorCouponPage, BusifavorCustomEntrance

SAMPLES = Path(__file__).resolve().parents[1] / "models" / "data"


def enum_fields() -> list[tuple[type, str, Any]]:
    found = []
    for name in models.__all__:
        cls = getattr(models, name)
        if isinstance(cls, type) and attrs.has(cls):
            hints = typing.get_type_hints(cls)
            found += [(cls, f.name, hints[f.name]) for f in attrs.fields(cls) if _enums(hints[f.name])]
    return found


def _enums(tp: Any) -> list[type[enum.Enum]]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType, list):
        return [e for arg in typing.get_args(tp) for e in _enums(arg)]
    return [tp] if isinstance(tp, type) and issubclass(tp, enum.Enum) else []


FIELDS = enum_fields()


def test_there_are_enum_fields_to_check() -> None:
    assert len(FIELDS) >= 25 and (BusifavorCustomEntrance, "code_display_mode") in {(c, n) for c, n, _ in FIELDS}


@pytest.mark.parametrize(("cls", "name", "tp"), FIELDS, ids=[f"{c.__name__}.{n}" for c, n, _ in FIELDS])
def test_every_documented_value_structures_to_its_member(cls: type, name: str, tp: Any) -> None:
    (kind,) = _enums(tp)
    is_list = typing.get_origin(tp) is list or any(typing.get_origin(a) is list for a in typing.get_args(tp))
    for member in kind:
        got = structure([member.value] if is_list else member.value, tp)
        value = got[0] if is_list else got
        assert type(value) is kind and value is member
        assert unstructure(got) == ([member.value] if is_list else member.value)


def test_busifavor_code_display_mode_is_an_enum_and_stays_open() -> None:
    page = structure(json.loads((SAMPLES / "busifavor_coupon_page.json").read_text("utf-8")), BusifavorCouponPage)
    entrance = (page.data or [])[0].custom_entrance
    assert entrance is not None and entrance.code_display_mode is BusifavorCodeDisplayMode.BARCODE
    later = structure({"custom_entrance": {"code_display_mode": "NFC"}}, BusifavorCoupon)
    assert later.custom_entrance is not None and later.custom_entrance.code_display_mode == "NFC"  # a value added later
    assert [m.value for m in BusifavorCodeDisplayMode] == ["NOT_SHOW", "BARCODE", "QRCODE"]
