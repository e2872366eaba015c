"""The Transport seam: a client sends through any transport it is given, signing exactly what that
transport receives, and leaves a transport it did not make open for its owner (issue 16)."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import (
    AsyncClient,
    Client,
    ConfigurationError,
    Headers,
    MemoryTransport,
    RawResponse,
    Request,
    RetryPolicy,
    SignatureError,
    Transport,
    TransportError,
    TransportTimeoutError,
)

from ..models._seeds import numbered_json_example, seed_text
from ..protocol import answer_message, authorization_fields, request_message, sign, verifies
from .conftest import PUB_KEY_ID


def signed_answer(platform_key: rsa.RSAPrivateKey, body: bytes, status: int = 200) -> RawResponse:
    ts, nonce = str(int(time.time())), secrets.token_hex(16)
    signature = sign(platform_key, answer_message(ts, nonce, body))
    headers = {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": PUB_KEY_ID,
        "Wechatpay-Signature": signature,
        "Request-ID": "mem-1",
    }
    return RawResponse(status, Headers(headers), body)


def request_signature_ok(merchant: rsa.RSAPublicKey, request: Request) -> bool:
    # Recomputed from the request as the transport received it, by the protocol rule, not the SDK's code.
    _, fields = authorization_fields(request.headers["Authorization"])
    message = request_message(request.method, request.target, fields["timestamp"], fields["nonce_str"], request.body)
    return verifies(merchant, message, fields["signature"])


@pytest.fixture
def memory(merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey) -> MemoryTransport:
    def answer(request: Request) -> RawResponse:
        assert request_signature_ok(merchant_key.public_key(), request)
        return signed_answer(platform_key, b'{"echo":"' + request.target.encode() + b'"}')

    return MemoryTransport(answer)


async def test_a_client_sends_through_the_transport_it_is_given(
    make_client: Callable[..., AsyncClient], memory: MemoryTransport
) -> None:
    assert isinstance(memory, Transport)
    async with make_client(transport=memory) as client:
        r = await client.v3.marketing.busifavor.users._openid_.coupons.get(openid="o 1", query={"appid": "wx1"})
        await client.v3.things.post(json={"amount": 100})
    assert r.json() == {"echo": "/v3/marketing/busifavor/users/o%201/coupons?appid=wx1"}
    assert [q.method for q in memory.requests] == ["GET", "POST"] and memory.requests[1].body == b'{"amount":100}'


async def test_answers_from_any_transport_are_verified_and_a_post_may_have_been_carried_out(
    make_client: Callable[..., AsyncClient], platform_key: rsa.RSAPrivateKey
) -> None:
    def forged(request: Request) -> RawResponse:
        good = signed_answer(platform_key, b'{"coupon_code":"1"}')
        return RawResponse(200, good.headers, b'{"coupon_code":"2"}')

    async with make_client(transport=MemoryTransport(forged)) as client:
        with pytest.raises(SignatureError) as posted:
            await client.v3.things.post(json={"send_request_no": "N1"})
        with pytest.raises(SignatureError) as read:
            await client.v3.things.get()
    assert "may have been carried out" in str(posted.value) and "same request number" in str(posted.value)
    assert posted.value.request_id == read.value.request_id == "mem-1"
    assert "carried out" not in str(read.value)  # a read changed nothing


async def test_closing_the_client_leaves_a_borrowed_transport_open(
    make_client: Callable[..., AsyncClient], memory: MemoryTransport
) -> None:
    client = make_client(transport=memory)
    quick = client.with_options(timeout=5)
    await client.v3.things.get()
    await client.aclose()
    assert not memory.closed  # its owner closes it
    for closed in (client, quick):
        with pytest.raises(TransportError, match="closed"):
            await closed.v3.things.get()
    assert len(memory.requests) == 1
    await memory.aclose()


async def test_a_coroutine_handler_and_a_wrong_answer_type(
    make_client: Callable[..., AsyncClient], platform_key: rsa.RSAPrivateKey
) -> None:
    async def later(request: Request) -> RawResponse:
        return signed_answer(platform_key, b"{}")

    async with make_client(transport=MemoryTransport(later)) as client:
        assert (await client.v3.things.get()).json() == {}
    wrong: Any = lambda request: {"status": 200}  # noqa: E731
    async with make_client(transport=MemoryTransport(wrong)) as client:
        with pytest.raises(TypeError, match="RawResponse"):
            await client.v3.things.get()


@pytest.mark.parametrize(
    ("failure", "raised", "attempts"),
    [
        (ConnectionRefusedError("refused"), TransportError, 3),  # surely never sent: every attempt is made
        (ConnectionResetError("reset"), TransportError, 3),  # a GET may be sent again
        (TimeoutError(), TransportTimeoutError, 1),  # the server may still be working on it: not retried
        (TransportTimeoutError("from the handler"), TransportTimeoutError, 1),
    ],
)
async def test_a_handler_fails_the_way_a_socket_would(
    make_client: Callable[..., AsyncClient],
    platform_key: rsa.RSAPrivateKey,
    failure: Exception,
    raised: type[Exception],
    attempts: int,
) -> None:
    def failing(request: Request) -> RawResponse:
        raise failure

    memory = MemoryTransport(failing)
    async with make_client(transport=memory, retry=RetryPolicy(attempts=3, backoff=0.0)) as client:
        with pytest.raises(raised) as caught:
            await client.v3.things.get()
    assert type(caught.value) is raised and len(memory.requests) == attempts
    assert isinstance(caught.value, TransportError)
    assert caught.value.connect_failed is isinstance(failure, ConnectionRefusedError)


async def test_a_bug_in_the_handler_reaches_the_test_as_it_is(make_client: Callable[..., AsyncClient]) -> None:
    def buggy(request: Request) -> RawResponse:
        return {}["missing"]  # type: ignore[no-any-return]

    async with make_client(transport=MemoryTransport(buggy)) as client:
        with pytest.raises(KeyError, match="missing"):
            await client.v3.things.get()


async def test_paging_stops_when_a_page_points_back_at_one_already_read(
    make_client: Callable[..., AsyncClient], platform_key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = {"": "A", "A": "B", "B": "A"}  # a server that pages A, B, A, B... for ever
    coupon = numbered_json_example(seed_text("004"))["user_coupon_list"][0]

    def pages(request: Request) -> RawResponse:
        token = request.target.partition("page_token=")[2]
        page = [{**coupon, "coupon_code": token or "first"}]  # not empty: an empty page with a token ends paging
        body = json.dumps({"user_coupon_list": page, "total_count": 9, "next_page_token": tokens[token]})
        return signed_answer(platform_key, body.encode())

    memory = MemoryTransport(pages)
    async with make_client(transport=memory) as client:
        chain = client.v3.marketing.partner.productCoupon.users._openid_.coupons
        query = {"appid": "wx1", "brand_id": "1"}
        codes = [c.coupon_code async for c in chain.paginate(openid="o-1", query=query, max_pages=10)]  # 10: no hang
        assert codes == ["first", "A", "B"]
    assert [r.target.partition("page_token=")[2] for r in memory.requests] == ["", "A", "B"]
    assert "points back at a page already read" in caplog.text


def test_transport_and_session_are_exclusive_and_checked(
    make_client: Callable[..., AsyncClient], memory: MemoryTransport
) -> None:
    with pytest.raises(ConfigurationError, match="session= or transport="):
        make_client(transport=memory, session=object())
    with pytest.raises(ConfigurationError, match="transport"):
        make_client(transport=object())


def test_the_blocking_client_takes_a_transport_too(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, memory: MemoryTransport
) -> None:
    from .wire import pem_private, pem_public

    with Client(
        mchid="1900000001",
        serial="ABC",
        private_key=pem_private(merchant_key),
        platform_keys={PUB_KEY_ID: pem_public(platform_key)},
        transport=memory,
    ) as client:
        assert client.v3.things.get().json() == {"echo": "/v3/things"}
    assert not memory.closed


@pytest.mark.parametrize("hook", ["on_request", "on_response"])
async def test_a_hook_that_raises_is_logged_and_the_call_goes_on(
    make_client: Callable[..., AsyncClient],
    platform_key: rsa.RSAPrivateKey,
    hook: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    answers = [signed_answer(platform_key, b'{"code":"SYSTEM_ERROR"}', 503), signed_answer(platform_key, b"{}")]

    def broken_metrics(value: object) -> None:
        raise RuntimeError("metrics backend down")

    memory = MemoryTransport(lambda request: answers.pop(0))
    policy = RetryPolicy(attempts=2, backoff=0.0)
    async with make_client(transport=memory, retry=policy, **{hook: broken_metrics}) as client:
        answer = await client.v3.things.post(json={"send_request_no": "N1"})
    assert answer.status == 200 and len(memory.requests) == 2  # the 503 was retried, the 200 handed back
    failures = [r for r in caplog.records if r.levelname == "ERROR" and f"the {hook} hook raised" in r.getMessage()]
    assert len(failures) == 2 and all(r.exc_info and "metrics backend down" in str(r.exc_info[1]) for r in failures)


async def test_a_hook_printing_what_it_sees_prints_no_body(
    make_client: Callable[..., AsyncClient], memory: MemoryTransport
) -> None:
    seen: list[str] = []
    async with make_client(transport=memory, on_request=lambda r: seen.append(repr(r))) as client:
        await client.v3.things.post(json={"name": "张三", "phone": "13800138000"})
    body = memory.requests[0].body
    assert "13800138000" not in seen[0] and f"body=<{len(body)} bytes>" in seen[0]
    assert "Authorization': '***'" in seen[0]


def bounded(call: Callable[[], Any]) -> Any:
    """``call()`` on a thread of its own, so that a call that hangs fails the test instead of hanging it."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed back to the test below
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the call hung"
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.mark.parametrize("stop", [SystemExit(3), KeyboardInterrupt()])
def test_the_blocking_client_hands_a_systemexit_to_its_caller_and_keeps_working(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, stop: BaseException
) -> None:
    from .wire import pem_private, pem_public

    raised = [stop]

    def answer(request: Request) -> RawResponse:
        if raised:
            raise raised.pop()
        return signed_answer(platform_key, b"{}")

    with Client(
        mchid="1900000001",
        serial="ABC",
        private_key=pem_private(merchant_key),
        platform_keys={PUB_KEY_ID: pem_public(platform_key)},
        transport=MemoryTransport(answer),
    ) as client:
        with pytest.raises(type(stop)):  # on the calling thread, as it would be raised without a loop thread
            bounded(client.v3.things.get)
        assert bounded(client.v3.things.get).json() == {}


async def test_only_a_transport_whose_class_has_stream_is_streamed_through() -> None:
    from unittest.mock import AsyncMock

    from wxpay_chain._transport import send_streamed

    request = Request("GET", "https://x.test/v3/billdownload/file", "/v3/billdownload/file", "v3/billdownload/file",
                      Headers(()))
    # A Mock answers to every attribute name, stream included: it must still be asked to send().
    transport = AsyncMock()
    transport.send.return_value = RawResponse(200, Headers({"Content-Type": "text/csv"}), b"the file")
    chunks: list[bytes] = []
    raw = await send_streamed(transport, request, lambda headers: chunks.append)
    assert chunks == [b"the file"] and raw.body == b""  # the body went to the sink, as when streamed
    transport.stream.assert_not_called()
    # An error answer is not a file: it comes back whole, and the sink is never called.
    transport.send.return_value = RawResponse(404, Headers({}), b'{"code":"NOT_FOUND"}')
    assert (await send_streamed(transport, request, lambda headers: chunks.append)).body == b'{"code":"NOT_FOUND"}'
    assert chunks == [b"the file"]


class _Yours:
    """A transport= of the caller's own, wrapping another library: it answers what ``answer`` makes."""

    def __init__(self, answer: Callable[[Request], object]) -> None:
        self.answer, self.closed, self.sent = answer, False, 0

    def check_open(self) -> None: ...

    async def open(self) -> None: ...

    async def send(self, request: Request) -> Any:
        self.sent += 1
        return self.answer(request)

    async def aclose(self) -> None: ...


async def test_a_transports_plain_dict_of_lower_case_headers_is_looked_up_case_insensitively(
    make_client: Callable[..., AsyncClient], platform_key: rsa.RSAPrivateKey
) -> None:
    # An httpx-style transport's dict(r.headers): every answer was "not signed" and errors lost their Request-ID.
    def answer(request: Request) -> RawResponse:
        signed = signed_answer(platform_key, b"{}")
        return signed._replace(headers={k.lower(): v for k, v in signed.headers.items()})

    async with make_client(transport=_Yours(answer)) as client:
        assert (await client.v3.things.get()).json() == {}


@pytest.mark.parametrize(
    ("returned", "named"),
    [
        (RawResponse("200", Headers(), b"{}"), "the status '200', not an int"),  # type: ignore[arg-type]
        (RawResponse(200, Headers(), "{}"), "a str body, not the bytes"),  # type: ignore[arg-type]
        ((200, {}, b"{}"), "must return a RawResponse, not tuple"),
        (None, "must return a RawResponse, not NoneType"),
    ],
)
async def test_what_a_transport_returns_wrongly_is_named_and_counted_as_sent(
    make_client: Callable[..., AsyncClient], returned: object, named: str
) -> None:
    yours = _Yours(lambda request: returned)
    async with make_client(transport=yours) as client:
        with pytest.raises(TypeError, match=f"the transport= _Yours .*{named}.*treat that as sent"):
            await client.v3.things.post(json={"a": 1})
    assert yours.sent == 1  # not retried: the request was handed over


async def test_a_socket_failure_a_transport_raises_is_the_aiohttp_transports_error(
    make_client: Callable[..., AsyncClient],
) -> None:
    def refused(request: Request) -> object:
        raise ConnectionRefusedError("refused")

    yours = _Yours(refused)
    async with make_client(transport=yours, retry=2) as client:
        with pytest.raises(TransportError) as failed:
            await client.v3.things.post(json={"a": 1})
    assert failed.value.connect_failed and yours.sent == 2  # never sent: retried, as over the network
