"""What the client makes of an answer: its signature and signed headers, its age, and the typed error a
non-2xx answer becomes. The client's own logic, so the independent peer (wire.py) answers in memory; the
wire tests (test_wire.py) prove the same peer's answers are read off a real socket."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from wxpay_chain import ApiError, AsyncClient, RateLimitError, ServerError, SignatureError

from .wire import WirePeer


def drop(name: str) -> Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]:
    return lambda h, b: ({k: v for k, v in h.items() if k != name}, b)


TAMPERS: dict[str, tuple[Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]], str]] = {
    "no timestamp": (drop("Wechatpay-Timestamp"), "Wechatpay-Timestamp is missing"),
    "no nonce": (drop("Wechatpay-Nonce"), "Wechatpay-Nonce is missing"),
    "no signature": (drop("Wechatpay-Signature"), "Wechatpay-Signature is missing"),
    "no serial": (drop("Wechatpay-Serial"), "Wechatpay-Serial is missing"),
    "body altered": (lambda h, b: (h, b.replace(b"true", b"false")), "does not verify"),
    "nonce altered": (lambda h, b: ({**h, "Wechatpay-Nonce": "x" + h["Wechatpay-Nonce"]}, b), "does not verify"),
    "signtest probe": (lambda h, b: ({**h, "Wechatpay-Signature": "WECHATPAY/SIGNTEST/abc=="}, b), "SIGNTEST"),
    "unknown serial": (lambda h, b: ({**h, "Wechatpay-Serial": "PUB_KEY_ID_0000"}, b), "not among"),
    "garbage signature": (lambda h, b: ({**h, "Wechatpay-Signature": "%%%"}, b), "does not verify"),
}


@pytest.mark.parametrize("case", sorted(TAMPERS))
async def test_tampered_answers_raise_signature_error_and_hand_back_nothing(
    memory_client: AsyncClient, peer: WirePeer, case: str
) -> None:
    peer.tamper, expected = TAMPERS[case]
    with pytest.raises(SignatureError, match=expected) as info:
        await memory_client.v3.things.get()
    assert "true" not in str(info.value)
    assert info.value.request_id == "req-1"


@pytest.mark.parametrize("skew", [-301, 301])
async def test_stale_answer_timestamp_fails(memory_client: AsyncClient, peer: WirePeer, skew: int) -> None:
    peer.clock = lambda: time.time() + skew
    with pytest.raises(SignatureError, match="300 s"):
        await memory_client.v3.things.get()


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, ApiError), (404, ApiError), (429, RateLimitError), (500, ServerError), (503, ServerError)],
)
async def test_non_2xx_raise_api_error_with_details(
    memory_client: AsyncClient, peer: WirePeer, status: int, kind: type
) -> None:
    peer.status = status
    peer.body = json.dumps({"code": "PARAM_ERROR", "message": "参数错误", "detail": {"field": "appid"}}).encode()
    with pytest.raises(kind) as info:
        await memory_client.v3.things.get()
    err = info.value
    assert (err.status, err.code, err.message, err.detail) == (status, "PARAM_ERROR", "参数错误", {"field": "appid"})
    assert err.request_id and err.request_id in str(err)
    assert err.method == "GET" and err.path == "/v3/things"


async def test_non_json_error_body_is_still_an_api_error(memory_client: AsyncClient, peer: WirePeer) -> None:
    peer.status, peer.body = 502, b"<html>bad gateway</html>"
    with pytest.raises(ServerError, match="bad gateway"):
        await memory_client.v3.things.get()


async def test_a_gateways_html_page_is_named_by_its_title_not_quoted(
    memory_client: AsyncClient, peer: WirePeer
) -> None:
    # A 502 quoted its markup ("<html><head><title>502 Bad Gateway</title>...") as the message.
    page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    peer.status, peer.body = 502, page
    with pytest.raises(ServerError) as caught:
        await memory_client.v3.things.get()
    said = "an HTML page titled '502 Bad Gateway' (a gateway's or proxy's answer, not WeChat Pay's JSON)"
    assert caught.value.message == said
    assert "<html>" not in str(caught.value) and caught.value.body == page


@pytest.mark.parametrize(
    ("method", "status", "code"),
    [
        ("POST", 500, "SYSTEM_ERROR"),
        ("GET", 500, "SYSTEM_ERROR"),
        ("POST", 400, "PARAM_ERROR"),
        ("POST", 200, "SYSTEMERROR"),
    ],
)
def test_a_server_fault_on_a_call_that_changes_something_says_it_may_have_been_done(
    method: str, status: int, code: str
) -> None:
    # 5xx, and APIv2's SYSTEMERROR ("accepted, query with the same number"), leave a coupon's fate open.
    error = ApiError(status, code, "busy", method=method, path="/v3/things")
    in_doubt = method == "POST" and code != "PARAM_ERROR"
    assert ("may have been carried out" in str(error) and "same request number" in str(error)) is in_doubt


def test_an_answer_too_large_to_read_on_a_post_may_have_been_done() -> None:
    from wxpay_chain import ResponseTooLargeError

    assert "same request number" in str(ResponseTooLargeError(65536, method="POST", path="/v3/things"))
    assert "request number" not in str(ResponseTooLargeError(65536, method="GET", path="/v3/things"))
