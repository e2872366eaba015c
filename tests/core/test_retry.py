"""Safe retries: every attempt re-signed over the same bytes; only 429/500/502/503 and connection failures.

Retry decisions are the client's own logic: the independent peer answers them in memory. Connection
failures and the fail-over to the backup domain need real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest

from wxpay_chain import ApiError, AsyncClient, Attempt, MemoryTransport, RetryPolicy, ServerError, TransportError
from wxpay_chain._retry import RetryPolicy as Policy

from .wire import WirePeer

FAST = RetryPolicy(attempts=3, backoff=0.001, cap=0.002, jitter=False)


def failing_then_ok(peer: WirePeer, statuses: list[int], retry_after: str | None = None) -> None:
    """Answer the given statuses in turn (each attempt's signature still checked), then the normal signed 200."""
    peer.failures = list(statuses)
    if retry_after:
        peer.failure_headers = {"Retry-After": retry_after}


@pytest.fixture
async def retrying(make_client: Callable[..., AsyncClient], peer: WirePeer, memory: MemoryTransport) -> Any:
    failing_then_ok(peer, [500, 503])
    async with make_client(transport=memory, retry=FAST) as client:
        yield client


async def test_5xx_is_retried_with_fresh_signatures_over_the_same_body(retrying: AsyncClient, peer: WirePeer) -> None:
    r = await retrying.v3.things.post(json={"send_request_no": "N-1", "备注": "中"})
    assert r.status == 200
    assert len(peer.seen) == 3
    bodies = {s.body for s in peer.seen}
    assert bodies == {
        json.dumps({"send_request_no": "N-1", "备注": "中"}, ensure_ascii=False, separators=(",", ":")).encode()
    }
    authorizations = [s.headers["Authorization"] for s in peer.seen]
    assert len(set(authorizations)) == 3
    assert peer.seen[-1].signature_ok


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
async def test_other_4xx_are_never_retried(
    make_client: Callable[..., AsyncClient], peer: WirePeer, memory: MemoryTransport, status: int
) -> None:
    failing_then_ok(peer, [status])
    async with make_client(transport=memory, retry=FAST) as client:
        with pytest.raises(ApiError) as info:
            await client.v3.things.post(json={"a": 1})
    assert info.value.status == status and len(peer.seen) == 1


async def test_final_error_says_how_many_attempts_and_why(
    make_client: Callable[..., AsyncClient], peer: WirePeer, memory: MemoryTransport
) -> None:
    failing_then_ok(peer, [500, 502, 503, 500])
    async with make_client(transport=memory, retry=FAST) as client:
        with pytest.raises(ServerError) as info:
            await client.v3.things.get()
    assert info.value.attempts == ("#1 500 SYSTEM_ERROR", "#2 502 SYSTEM_ERROR", "#3 503 SYSTEM_ERROR")
    assert "3 attempts" in str(info.value)


async def test_429_honours_retry_after(
    make_client: Callable[..., AsyncClient], peer: WirePeer, memory: MemoryTransport
) -> None:
    failing_then_ok(peer, [429], retry_after="0")
    records: list[Attempt] = []
    async with make_client(transport=memory, retry=FAST, on_response=records.append) as client:
        assert (await client.v3.things.get()).status == 200
    assert [(a.number, a.status) for a in records] == [(1, 429), (2, 200)]


def test_backoff_policy_is_capped_jittered_and_honours_retry_after() -> None:
    policy = Policy(backoff=0.5, cap=2.0)
    assert policy.delay(1, rand=lambda: 1.0) == 0.5
    assert policy.delay(3, rand=lambda: 1.0) == 2.0
    assert policy.delay(10, rand=lambda: 0.5) == 1.0
    assert policy.delay(1, retry_after="7") == 7.0
    assert policy.delay(1, retry_after="999") == policy.retry_after_cap
    assert Policy(jitter=False, backoff=0.1).delay(2) == 0.2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_connection_failure_fails_over_to_the_backup_domain(
    make_client: Callable[..., AsyncClient], base_url: str, peer: WirePeer, caplog: pytest.LogCaptureFixture
) -> None:
    primary = f"http://127.0.0.1:{free_port()}/"
    caplog.set_level(logging.INFO, logger="wxpay_chain")
    async with make_client(base_url=primary, backup_base_url=base_url, retry=FAST) as client:
        r = await client.v3.things.get()
    assert r.status == 200 and r.request.url.startswith(base_url.rstrip("/"))
    assert peer.seen[0].signature_ok and peer.seen[0].raw_path == "/v3/things"
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "wxpay_chain"]
    assert "attempt=1" in lines[0] and "TransportError" in lines[0]
    assert "attempt=2" in lines[1] and "-> 200" in lines[1]


@pytest.fixture
def unanswering_port() -> Any:
    """A port whose connections never complete: a listener with a full accept queue drops new SYNs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    for _ in range(4):  # the queue holds backlog + 1; a few more connects make sure it is full
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    probe = socket.socket()
    probe.settimeout(0.2)
    try:
        blocked = probe.connect_ex(("127.0.0.1", port)) != 0
    except OSError:
        blocked = True
    probe.close()
    if not blocked:
        pytest.skip("this kernel completes connections past a full accept queue")
    yield port
    for sock in (*fillers, listener):
        sock.close()


async def test_a_connect_timeout_sent_nothing_so_it_fails_over(
    make_client: Callable[..., AsyncClient], base_url: str, peer: WirePeer, unanswering_port: int
) -> None:
    from wxpay_chain import Timeout, TransportTimeoutError

    primary = f"http://127.0.0.1:{unanswering_port}/"
    async with make_client(base_url=primary, retry=FAST, timeout=Timeout(total=10, connect=0.2)) as client:
        with pytest.raises(TransportTimeoutError, match=r"no connection within 0\.2 s; nothing was sent") as info:
            await client.v3.things.post(json={"send_request_no": "N-1"})
    assert info.value.connect_failed and peer.seen == []
    assert info.value.attempts == tuple(f"#{n} TransportTimeoutError" for n in (1, 2, 3))  # safe to try again
    backup = make_client(base_url=primary, backup_base_url=base_url, retry=FAST, timeout=Timeout(total=10, connect=0.2))
    async with backup as client:
        r = await client.v3.things.post(json={"send_request_no": "N-1"})
    assert r.status == 200 and r.request.url.startswith(base_url.rstrip("/")) and len(peer.seen) == 1


async def test_a_retried_call_that_ends_unverified_lists_every_attempt(
    make_client: Callable[..., AsyncClient], peer: WirePeer, memory: MemoryTransport
) -> None:
    from wxpay_chain import SignatureError

    failing_then_ok(peer, [503, 503])
    peer.tamper = lambda headers, body: (headers, body + b" ")  # the third answer: signed over other bytes
    async with make_client(transport=memory, retry=FAST) as client:
        with pytest.raises(SignatureError) as info:
            await client.v3.things.post(json={"send_request_no": "N-1"})
    assert info.value.attempts == ("#1 503 SYSTEM_ERROR", "#2 503 SYSTEM_ERROR", "#3 SignatureError")


def _refusing() -> MemoryTransport:
    def refuse(request: Any) -> Any:
        raise ConnectionRefusedError("refused")

    return MemoryTransport(refuse)


async def test_the_backup_stands_in_only_for_the_base_url_it_was_given_with(
    make_client: Callable[..., AsyncClient],
) -> None:
    primary, backup, other = "https://gw1.example/wxpay/", "https://gw2.example/wxpay/", "https://gw3.example/wxpay/"
    transport = _refusing()
    async with make_client(base_url=primary, backup_base_url=backup, retry=FAST, transport=transport) as client:
        for call in (
            client.v3.things.get(),
            client.v3.things.get(base_url=other),
            client.with_options(base_url=other).v3.things.get(),
        ):
            with pytest.raises(TransportError, match="3 attempts"):
                await call
    hosts = [request.url.split("/")[2] for request in transport.requests]
    # The client's own base URL fails over; a call sent elsewhere (per call, or with_options) stays there.
    assert hosts == ["gw1.example", "gw2.example", "gw2.example"] + ["gw3.example"] * 6
    assert all(request.target == "/wxpay/v3/things" for request in transport.requests)


def test_a_backup_base_url_with_another_path_is_refused(make_client: Callable[..., AsyncClient]) -> None:
    from wxpay_chain import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"backup_base_url has the path '/pay/' and base_url '/wxpay/'"):
        make_client(base_url="https://gw1.example/wxpay/", backup_base_url="https://gw2.example/pay/")


async def test_unreachable_without_backup_gives_up_after_the_attempts(make_client: Callable[..., AsyncClient]) -> None:
    async with make_client(base_url=f"http://127.0.0.1:{free_port()}/", retry=FAST) as client:
        with pytest.raises(TransportError, match="3 attempts") as info:
            await client.v3.things.get()
    assert info.value.connect_failed


def test_retry_option_is_checked(make_client: Callable[..., AsyncClient]) -> None:
    from wxpay_chain import ConfigurationError

    with pytest.raises(ConfigurationError, match="retry"):
        make_client(retry="3")


async def test_closing_the_client_between_attempts_ends_the_call_without_signing_again(
    make_client: Callable[..., AsyncClient], peer: WirePeer, memory: MemoryTransport
) -> None:
    failing_then_ok(peer, [503])
    closing: list[Any] = []
    client = make_client(
        transport=memory,
        retry=RetryPolicy(attempts=2, backoff=0.05, cap=0.05, jitter=False),
        offload_crypto="always",  # the worker thread stops with the client: a second signature would hang
        on_response=lambda attempt: closing.append(asyncio.ensure_future(client.aclose())),
    )
    with pytest.raises(TransportError, match="closed") as caught:
        await asyncio.wait_for(client.v3.things.post(json={"send_request_no": "N-9"}), 10)
    await asyncio.gather(*closing)
    assert len(peer.seen) == 1 and caught.value.attempts == ("#1 503 SYSTEM_ERROR",)


async def test_closing_the_client_ends_a_call_waiting_to_retry(make_client: Callable[..., AsyncClient]) -> None:
    from wxpay_chain import Headers, RawResponse

    first_answer = asyncio.Event()

    def busy(request: Any) -> RawResponse:
        return RawResponse(429, Headers({"Retry-After": "20"}), b'{"code":"FREQUENCY_LIMITED"}')

    retry = RetryPolicy(attempts=3, backoff=0.001, cap=30.0, jitter=False)
    client = make_client(transport=MemoryTransport(busy), retry=retry, on_response=lambda a: first_answer.set())
    call = asyncio.ensure_future(client.v3.things.post(json={"send_request_no": "S-000001"}))
    await first_answer.wait()  # the call now waits out Retry-After: 20
    await client.aclose()
    with pytest.raises(TransportError, match="closed") as raised:
        await asyncio.wait_for(call, 5)  # at once, not 20 s later
    assert raised.value.attempts[0] == "#1 429 FREQUENCY_LIMITED"
