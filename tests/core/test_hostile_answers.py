"""Hostile answers and notifications end in a typed error, promptly: never a hang, a 500 or an untyped crash.

Each call goes to the independent peer (see wire.py): in memory where the client's own logic is under
test, on a real aiohttp server on 127.0.0.1 where a socket is (the notification handler). Each is bounded
by ``asyncio.wait_for`` so a regression shows up as a failure, not a stuck suite.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wxpay_chain import (
    ApiError,
    AsyncClient,
    MemoryTransport,
    Notification,
    RetryPolicy,
    ServerError,
    SignatureError,
    TransportError,
)
from wxpay_chain._certificates import decrypt_certificates
from wxpay_chain._errors import ApiError as RawApiError
from wxpay_chain._signing import verify_signed_message
from wxpay_chain.notifications import aiohttp_handler, handle_notification, parse_notification

from .conftest import PUB_KEY_ID
from .wire import WirePeer, sign

GUARD = 10  # seconds: far above what any of these calls needs, far below a hang
APIV3_KEY = "a" * 32
CAP = 64 * 1024  # ApiError keeps at most this much of a body (MAX_ERROR_BODY)
BUSY = b'{"code":"SYSTEM_ERROR","message":"busy"}'


def resigned(key: rsa.RSAPrivateKey, **changes: str) -> Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]:
    """A tamper that changes signed headers and signs again, so only the header's form is wrong."""

    def tamper(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        out = {**headers, **changes}
        message = f"{out['Wechatpay-Timestamp']}\n{out['Wechatpay-Nonce']}\n".encode() + body + b"\n"
        out["Wechatpay-Signature"] = sign(key, message)
        return out, body

    return tamper


# -- Retry-After ----------------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", ["nan", "inf", "1e400", "١٢٠"])
async def test_unreadable_retry_after_does_not_hang_the_call(
    make_client: Callable[..., AsyncClient], memory: MemoryTransport, peer: WirePeer, retry_after: str
) -> None:
    peer.status, peer.body = 503, BUSY
    peer.tamper = lambda h, b: ({**h, "Retry-After": retry_after}, b)
    retry = RetryPolicy(attempts=2, backoff=0.001, cap=0.002)
    async with make_client(transport=memory, retry=retry) as client:
        with pytest.raises(ServerError) as info:
            await asyncio.wait_for(client.v3.things.get(), GUARD)
    assert len(peer.seen) == 2 and info.value.attempts == ("#1 503 SYSTEM_ERROR", "#2 503 SYSTEM_ERROR")


# -- signed headers of an answer ------------------------------------------------------------------


async def test_a_400_digit_timestamp_is_a_signature_error(memory_client: AsyncClient, peer: WirePeer) -> None:
    peer.tamper = lambda h, b: ({**h, "Wechatpay-Timestamp": "9" * 400}, b)
    with pytest.raises(SignatureError, match="Wechatpay-Timestamp") as info:
        await asyncio.wait_for(memory_client.v3.things.get(), GUARD)
    assert len(str(info.value)) < 400 and "9" * 65 not in str(info.value)


@pytest.mark.parametrize("form", ["+{ts}", "{head}_{tail}", "0000{ts}"])
async def test_timestamps_only_int_accepts_are_refused_even_when_signed(
    memory_client: AsyncClient, peer: WirePeer, platform_key: rsa.RSAPrivateKey, form: str
) -> None:
    ts = str(int(time.time()))
    peer.tamper = resigned(platform_key, **{"Wechatpay-Timestamp": form.format(ts=ts, head=ts[:1], tail=ts[1:])})
    with pytest.raises(SignatureError, match="Wechatpay-Timestamp"):
        await asyncio.wait_for(memory_client.v3.things.get(), GUARD)


async def test_a_huge_serial_is_refused_without_echoing_it(memory_client: AsyncClient, peer: WirePeer) -> None:
    peer.tamper = lambda h, b: ({**h, "Wechatpay-Serial": "PUB_KEY_ID_" + "7" * 5000}, b)
    with pytest.raises(SignatureError, match="Wechatpay-Serial") as info:
        await asyncio.wait_for(memory_client.v3.things.get(), GUARD)
    assert len(str(info.value)) < 400


async def test_a_huge_nonce_is_refused_even_when_signed(
    memory_client: AsyncClient, peer: WirePeer, platform_key: rsa.RSAPrivateKey
) -> None:
    peer.tamper = resigned(platform_key, **{"Wechatpay-Nonce": "n" * 4000})
    with pytest.raises(SignatureError, match="Wechatpay-Nonce") as info:
        await asyncio.wait_for(memory_client.v3.things.get(), GUARD)
    assert len(str(info.value)) < 400


async def test_a_huge_request_id_is_not_echoed_whole(memory_client: AsyncClient, peer: WirePeer) -> None:
    peer.tamper = lambda h, b: ({**h, "Wechatpay-Timestamp": "x", "Request-ID": "R" * 6000}, b)
    with pytest.raises(SignatureError) as info:
        await asyncio.wait_for(memory_client.v3.things.get(), GUARD)
    assert len(str(info.value)) < 600


HOSTILE_HEADERS: dict[str, dict[str, str]] = {
    "400 digits": {"Wechatpay-Timestamp": "9" * 400},
    "Arabic-Indic digits": {"Wechatpay-Timestamp": "١٧٠٠٠٠٠٠٠٠"},
    "spaces around": {"Wechatpay-Timestamp": " 1700000000 "},
    "signed": {"Wechatpay-Timestamp": "+1700000000"},
    "fraction": {"Wechatpay-Timestamp": "1700000000.0"},
    "nonce with a newline": {"Wechatpay-Nonce": "ab\ncd"},
    "nonce with a space": {"Wechatpay-Nonce": "ab cd"},
    "nonce not ASCII": {"Wechatpay-Nonce": "随机串"},
    "nonce too long": {"Wechatpay-Nonce": "n" * 65},
    "serial with a slash": {"Wechatpay-Serial": "PUB_KEY_ID_1/../2"},
    "serial too long": {"Wechatpay-Serial": "A" * 65},
}


@pytest.mark.parametrize("case", sorted(HOSTILE_HEADERS))
def test_malformed_signed_headers_are_refused_even_when_signed(platform_key: rsa.RSAPrivateKey, case: str) -> None:
    headers = {
        "Wechatpay-Timestamp": "1700000000",
        "Wechatpay-Nonce": "0123456789abcdef",
        "Wechatpay-Serial": "PUB_KEY_ID_1",
        **HOSTILE_HEADERS[case],
    }
    body = b'{"ok":true}'
    message = f"{headers['Wechatpay-Timestamp']}\n{headers['Wechatpay-Nonce']}\n".encode() + body + b"\n"
    headers["Wechatpay-Signature"] = sign(platform_key, message)
    keys = {headers["Wechatpay-Serial"]: platform_key.public_key()}
    with pytest.raises(SignatureError) as info:
        verify_signed_message(headers, body, keys, now=1_700_000_000)
    assert len(str(info.value)) < 400


@pytest.mark.parametrize("signature", ["A" * 1025 + "==", "abc=\n", "a b", "签名"])
def test_malformed_signatures_are_refused_by_shape(platform_key: rsa.RSAPrivateKey, signature: str) -> None:
    from wxpay_chain._signing import check_signed_headers

    headers = {
        "Wechatpay-Timestamp": "1700000000",
        "Wechatpay-Nonce": "0123456789abcdef",
        "Wechatpay-Serial": "PUB_KEY_ID_1",
        "Wechatpay-Signature": signature,
    }
    with pytest.raises(SignatureError, match="does not verify") as info:
        check_signed_headers(headers, 1_700_000_000)
    assert signature not in str(info.value)


def test_check_signed_headers_hands_back_the_four_values_without_any_key() -> None:
    from wxpay_chain._signing import SignedHeaders, check_signed_headers

    headers = {
        "Wechatpay-Timestamp": "1700000000",
        "Wechatpay-Nonce": "0123456789abcdef",
        "Wechatpay-Serial": "PUB_KEY_ID_1",
        "Wechatpay-Signature": "c2ln",
    }
    assert check_signed_headers(headers, 1_700_000_100) == SignedHeaders(
        "1700000000", "0123456789abcdef", "c2ln", "PUB_KEY_ID_1"
    )
    with pytest.raises(SignatureError, match="300 s") as info:
        check_signed_headers(headers, 1_700_000_301, what="notification", request_id="R-1")
    assert info.value.request_id == "R-1" and "notification" in str(info.value)
    with pytest.raises(SignatureError, match="300 s"):
        check_signed_headers(headers, float("nan"))  # a broken clock fails closed


# -- error bodies ---------------------------------------------------------------------------------


async def test_a_huge_error_body_is_capped_on_the_error(memory_client: AsyncClient, peer: WirePeer) -> None:
    peer.status, peer.body = 500, b"<html>" + b"x" * 1_000_000
    with pytest.raises(ServerError) as info:
        await asyncio.wait_for(memory_client.v3.things.get(), GUARD)
    err = info.value
    assert len(err.body) <= CAP and err.body == peer.body[: len(err.body)]
    assert err.message is not None and len(err.message) <= 200 and len(str(err)) < 1000


async def test_a_huge_server_message_is_kept_but_not_printed_whole(memory_client: AsyncClient, peer: WirePeer) -> None:
    peer.status = 400
    peer.body = json.dumps({"code": "PARAM_ERROR", "message": "m" * 50_000}).encode()
    with pytest.raises(ApiError) as info:
        await asyncio.wait_for(memory_client.v3.things.get(), GUARD)
    err = info.value
    assert err.code == "PARAM_ERROR" and err.message == "m" * 50_000
    assert len(str(err)) < 1000


@pytest.mark.parametrize("depth", [100_000, 60_000])  # over the cap: not parsed; under it: parsed and survived
async def test_a_deeply_nested_error_body_is_an_api_error(
    memory_client: AsyncClient, peer: WirePeer, depth: int
) -> None:
    peer.status, peer.body = 500, b"[" * depth
    with pytest.raises(ServerError) as info:
        await asyncio.wait_for(memory_client.v3.things.get(), GUARD)
    assert info.value.code is None and info.value.message == "[" * 200


def test_deeply_nested_values_in_an_error_document_do_not_crash_its_fields() -> None:
    body = b'{"code":' + b"[" * 900 + b"]" * 900 + b',"message":"m"}'
    err = RawApiError.from_parts(502, body)
    assert isinstance(err, ServerError) and err.message == "m" and isinstance(err.code, str)


def test_response_too_large_error_is_a_transport_error_naming_the_call_and_limit() -> None:
    from wxpay_chain._errors import MAX_ERROR_BODY, ResponseTooLargeError

    err = ResponseTooLargeError(1_048_576, method="GET", path="/v3/things")
    assert isinstance(err, TransportError) and not err.connect_failed
    assert (err.limit, err.method, err.path) == (1_048_576, "GET", "/v3/things")
    assert "1048576" in str(err) and "GET /v3/things" in str(err)
    assert MAX_ERROR_BODY == CAP


# -- certificates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b"not json",
        b'{"data":[1]}',
        b'{"data":[{"encrypt_certificate":[]}]}',
        b'{"data":[{"encrypt_certificate":{"nonce":1,"ciphertext":"x"}}]}',
    ],
    ids=["nested", "not json", "entry not an object", "box not an object", "box fields not text"],
)
def test_a_hostile_certificate_list_is_a_signature_error(body: bytes) -> None:
    with pytest.raises(SignatureError):
        decrypt_certificates(body, APIV3_KEY)


async def test_a_deeply_nested_certificate_download_is_a_signature_error(
    make_client: Callable[..., AsyncClient], memory: MemoryTransport, peer: WirePeer
) -> None:
    peer.body = b"[" * 100_000
    async with make_client(transport=memory, platform_keys=None, apiv3_key=APIV3_KEY) as client:
        with pytest.raises(TransportError, match="could not be downloaded") as raised:
            await asyncio.wait_for(client.v3.things.get(), GUARD)
    assert isinstance(raised.value.__cause__, SignatureError)
    assert [s.raw_path for s in peer.seen] == ["/v3/certificates"]  # downloaded first, so the call was never sent


# -- notifications --------------------------------------------------------------------------------


def envelope(plaintext: bytes = b'{"coupon_code":"C-1"}', **fields: Any) -> bytes:
    nonce = "n" * 12
    box = base64.b64encode(AESGCM(APIV3_KEY.encode()).encrypt(nonce.encode(), plaintext, b"coupon")).decode()
    document = {
        "id": "EV-1",
        "create_time": "2024-01-01T00:00:00+08:00",
        "event_type": "COUPON.SEND",
        "resource_type": "encrypt-resource",
        "summary": "sent",
        "resource": {
            "algorithm": "AEAD_AES_256_GCM",
            "nonce": nonce,
            "associated_data": "coupon",
            "original_type": "product_coupon",
            "ciphertext": box,
        },
        **fields,
    }
    return json.dumps(document).encode()


def signed(key: rsa.RSAPrivateKey, body: bytes, timestamp: str | None = None) -> dict[str, str]:
    ts = timestamp or str(int(time.time()))
    nonce = "0123456789abcdef0123456789abcdef"
    return {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": PUB_KEY_ID,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        "Wechatpay-Signature": sign(key, f"{ts}\n{nonce}\n".encode() + body + b"\n"),
        "Request-ID": "notify-1",
    }


@pytest.fixture
async def notified(make_client: Callable[..., AsyncClient]) -> AsyncIterator[AsyncClient]:
    async with make_client(apiv3_key=APIV3_KEY) as client:
        yield client


HOSTILE_BODIES: dict[str, bytes] = {
    "nested JSON": b"[" * 100_000,
    "a list": b"[1, 2]",
    "resource a list": json.dumps({"resource": [1]}).encode(),
    "resource nonce a number": json.dumps({"resource": {"algorithm": "AEAD_AES_256_GCM", "nonce": 5}}).encode(),
    "not UTF-8": b"\xff\xfe{",
    "too large": b" " * (2 * 1024 * 1024) + b"{}",
}


async def test_a_well_formed_notification_is_answered_204(
    notified: AsyncClient, platform_key: rsa.RSAPrivateKey
) -> None:
    received: list[Notification] = []
    body = envelope()
    status, _ = await handle_notification(notified, signed(platform_key, body), body, received.append)
    assert status == 204 and received[0].resource == {"coupon_code": "C-1"} and received[0].id == "EV-1"


async def test_a_400_digit_notification_timestamp_is_answered_401(
    notified: AsyncClient, platform_key: rsa.RSAPrivateKey
) -> None:
    received: list[Notification] = []
    body = envelope()
    headers = signed(platform_key, body, timestamp="9" * 400)
    status, answer = await handle_notification(notified, headers, body, received.append)
    assert (status, json.loads(answer)["code"], received) == (401, "FAIL", [])


@pytest.mark.parametrize("case", sorted(HOSTILE_BODIES))
async def test_hostile_signed_notification_bodies_are_answered_401(
    notified: AsyncClient, platform_key: rsa.RSAPrivateKey, case: str
) -> None:
    received: list[Notification] = []
    body = HOSTILE_BODIES[case]
    status, _ = await handle_notification(notified, signed(platform_key, body), body, received.append)
    assert (status, received) == (401, [])


@pytest.mark.parametrize(
    "fields",
    [{"create_time": "2024-13-45T99:00:00"}, {"create_time": ["x"]}, {"id": [[[]]], "summary": {"a": 1}}],
    ids=["bad date", "date not text", "fields not text"],
)
def test_odd_notification_fields_do_not_crash(platform_key: rsa.RSAPrivateKey, fields: dict[str, Any]) -> None:
    body = envelope(**fields)
    keys = {PUB_KEY_ID: platform_key.public_key()}
    note = parse_notification(signed(platform_key, body), body, keys=keys, apiv3_key=APIV3_KEY, now=time.time())
    assert note.resource == {"coupon_code": "C-1"} and isinstance(note.id, str) and isinstance(note.summary, str)


# fromisoformat took these, naive or a bare date: comparing one with an aware time raised TypeError.
@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2015-05-20T13:29:35+08:00", dt.datetime(2015, 5, 20, 5, 29, 35, tzinfo=dt.timezone.utc)),
        ("2015-05-20T05:29:35Z", dt.datetime(2015, 5, 20, 5, 29, 35, tzinfo=dt.timezone.utc)),
        ("2015-05-20T13:29:35", None),
        ("2015-05-20", None),
        ("20150520T132935", None),
    ],
)
def test_a_notifications_create_time_is_aware_or_none(
    platform_key: rsa.RSAPrivateKey, written: str, expected: dt.datetime | None
) -> None:
    body = envelope(create_time=written)
    keys = {PUB_KEY_ID: platform_key.public_key()}
    note = parse_notification(signed(platform_key, body), body, keys=keys, apiv3_key=APIV3_KEY, now=time.time())
    assert note.create_time == expected
    assert note.create_time is None or note.create_time.utcoffset() is not None


def test_a_deeply_nested_decrypted_resource_is_kept_as_text(platform_key: rsa.RSAPrivateKey) -> None:
    body = envelope(plaintext=b"[" * 100_000)
    keys = {PUB_KEY_ID: platform_key.public_key()}
    note = parse_notification(signed(platform_key, body), body, keys=keys, apiv3_key=APIV3_KEY, now=time.time())
    assert note.resource == "[" * 100_000


async def test_a_str_body_with_lone_surrogates_is_a_signature_error(notified: AsyncClient) -> None:
    with pytest.raises(SignatureError):
        await notified.parse_notification({}, "{\udc80}")


async def test_aiohttp_handler_answers_401_not_500_to_hostile_notifications(
    notified: AsyncClient, platform_key: rsa.RSAPrivateKey, aiohttp_server: Any
) -> None:
    received: list[Notification] = []
    app = web.Application()
    app.router.add_post("/notify", aiohttp_handler(notified, received.append))
    server = await aiohttp_server(app, host="127.0.0.1")
    good = envelope()
    cases = [
        (signed(platform_key, good, timestamp="9" * 400), good),
        (signed(platform_key, b"[" * 100_000), b"[" * 100_000),
    ]
    async with aiohttp.ClientSession() as http:
        for headers, body in cases:
            async with http.post(server.make_url("/notify"), headers=headers, data=body) as answer:
                assert answer.status == 401
                assert (await answer.json())["code"] == "FAIL"
    assert received == []


@pytest.mark.parametrize("body", [b"<html>gateway</html>", b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000])
async def test_a_signed_answer_that_is_not_json_fails_to_structure_with_a_structure_error(
    memory_client: AsyncClient, peer: WirePeer, body: bytes
) -> None:
    from wxpay_chain import StructureError
    from wxpay_chain.models import BusifavorCouponPage

    peer.body = body  # signed as it is: only its content is wrong
    r = await memory_client.v3.marketing.busifavor.users._openid_.coupons.get(openid="o-1", query={"appid": "wx1"})
    for attempt in (lambda: r.parsed, lambda: r.structure(BusifavorCouponPage)):
        with pytest.raises(StructureError, match="the answer is not JSON, so it cannot be a BusifavorCouponPage"):
            attempt()
