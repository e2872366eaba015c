"""The product-coupon send fields follow WeChat Pay's documented rules (doc 4015781605 / 4015736390, 2025.11.07).

send_request_no: 6-128 of digits, letters, '_' and '-'; coupon_code: at most 40 of the same; attach: at most 150
characters. Also: a changed attach is a different request, and the busifavor list has no invented page cap.
"""

from __future__ import annotations

from typing import Any

import pytest

from wxpay_chain.sandbox import DEMO_APPID, Sandbox

from ._paths import FRESH, brand_path, busifavor, partner, send_body
from ._wire import Answer, Wire

API_ASSIGN = {"product_coupon_id": "1000000014", "stock_id": "1000000014001"}


async def _send(wire: Wire, scheme: str, body: dict[str, Any], openid: str = FRESH) -> Answer:
    if scheme == "brand":
        # The brand API names its brand in the Authorization header, not the body.
        return await wire.send("POST", brand_path(openid), {k: v for k, v in body.items() if k != "brand_id"})
    return await wire.send("POST", partner(openid), body)


@pytest.fixture(params=["partner", "brand"])
def scheme(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def wire(scheme: str, merchant: Wire, brand: Wire) -> Wire:
    return brand if scheme == "brand" else merchant


def _param_error(answer: Answer, field: str, words: str) -> None:
    body = answer.json()
    assert (answer.status, body["code"], body["detail"]["field"]) == (400, "PARAM_ERROR", field)
    assert words in body["detail"]["issue"] and field in body["message"]


# -- send_request_no --------------------------------------------------------------------------------------


async def test_send_request_no_is_6_to_128_characters(sandbox: Sandbox, wire: Wire, scheme: str) -> None:
    for n, number in enumerate(("a" * 6, "A1_b-2", "9" * 65, "x" * 128)):
        # One user per coupon: the stock allows two per user.
        answer = await _send(wire, scheme, send_body(number), openid=f"o-length-{n}")
        assert (answer.status, answer.json()["send_request_no"]) == (200, number)
    for number in ("ab", "abcde", "x" * 129):
        _param_error(await _send(wire, scheme, send_body(number)), "send_request_no", "must be 6 to 128 characters")
    numbers = [c.send_request_no for c in sandbox.issued_coupons()]
    assert ("x" * 128 in numbers, "abcde" in numbers, "x" * 129 in numbers) == (True, False, False)


@pytest.mark.parametrize("number", ["单号!@#xyz", "order 0001", "order.0001", "order+0001"])
async def test_send_request_no_with_other_characters_is_param_error(
    sandbox: Sandbox, wire: Wire, scheme: str, number: str
) -> None:
    answer = await _send(wire, scheme, send_body(number))
    _param_error(answer, "send_request_no", "may use only digits, letters, '_' and '-'")
    assert answer.json()["detail"]["value"] == number
    assert number not in [c.send_request_no for c in sandbox.issued_coupons()]


# -- coupon_code ------------------------------------------------------------------------------------------


async def test_coupon_code_is_at_most_40_characters(wire: Wire, scheme: str) -> None:
    code = "Code_-" + "7" * 34
    kept = await _send(wire, scheme, send_body("code-40-ok", coupon_code=code, **API_ASSIGN))
    assert (kept.status, kept.json()["coupon_code"]) == (200, code)
    refused = await _send(wire, scheme, send_body("code-41-no", coupon_code=code + "7", **API_ASSIGN))
    _param_error(refused, "coupon_code", "must be at most 40 characters")


@pytest.mark.parametrize(
    ("code", "words"),
    [("C" * 60, "must be at most 40 characters"), ("券码 001", "may use only"), ("CODE.001", "may use only")],
    ids=["60", "cjk-and-space", "dot"],
)
async def test_coupon_code_breaking_the_rule_is_param_error(wire: Wire, scheme: str, code: str, words: str) -> None:
    answer = await _send(wire, scheme, send_body("code-bad-1", coupon_code=code, **API_ASSIGN))
    _param_error(answer, "coupon_code", words)


# -- attach -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["a", "附"], ids=["ascii", "cjk"])
async def test_attach_is_at_most_150_characters(sandbox: Sandbox, wire: Wire, scheme: str, char: str) -> None:
    kept = await _send(wire, scheme, send_body("attach-150", attach=char * 150))
    assert (kept.status, kept.json()["attach"]) == (200, char * 150)
    refused = await _send(wire, scheme, send_body("attach-151", attach=char * 151))
    _param_error(refused, "attach", "must be at most 150 characters")
    assert "attach-151" not in [c.send_request_no for c in sandbox.issued_coupons()]


async def test_attach_of_500_characters_is_param_error(wire: Wire, scheme: str) -> None:
    answer = await _send(wire, scheme, send_body("attach-500", attach="a" * 500))
    _param_error(answer, "attach", "must be at most 150 characters")


# -- a reused send_request_no and attach ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "same", "other"),
    [("first", "first", "second"), ("first", "first", None), (None, "", "x"), ("", None, "x")],
    ids=["changed", "dropped", "absent-then-empty", "empty-then-absent"],
)
async def test_reused_send_request_no_replays_only_the_same_attach(
    sandbox: Sandbox, wire: Wire, scheme: str, first: str | None, same: str | None, other: str | None
) -> None:
    sent = (await _send(wire, scheme, send_body("attach-reuse", attach=first))).json()
    # An absent and an empty attach are one request: a retry serialised either way replays.
    again = await _send(wire, scheme, send_body("attach-reuse", attach=same))
    assert (again.status, again.json()["coupon_code"]) == (200, sent["coupon_code"])
    changed = await _send(wire, scheme, send_body("attach-reuse", attach=other))
    assert (changed.status, changed.code, changed.json()["detail"]["issue"]) == (400, "INVALID_REQUEST", "REUSED")
    assert [c.send_request_no for c in sandbox.issued_coupons()].count("attach-reuse") == 1


# -- busifavor page size ----------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [51, 1000, 999_999_999])
async def test_busifavor_limit_has_no_invented_maximum(merchant: Wire, limit: int) -> None:
    answer = await merchant.send("GET", busifavor(appid=DEMO_APPID, limit=limit))
    assert answer.status == 200, answer.body
    body = answer.json()
    assert (body["limit"], body["total_count"], len(body["data"])) == (limit, 7, 7)
    beyond = (await merchant.send("GET", busifavor(appid=DEMO_APPID, limit=limit, offset=1))).json()
    assert beyond["data"] == []
