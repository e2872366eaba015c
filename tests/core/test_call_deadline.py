"""A call's timeout holds through its retries: no back-off or attempt may outlive it (issue 15, finding 7).

The deadline is the client's own logic: the independent peer answers in memory, except where a refused
connection on 127.0.0.1 is the point."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from wxpay_chain import AsyncClient, MemoryTransport, RetryPolicy, ServerError, TransportError

from .wire import WirePeer


def busy(peer: WirePeer, retry_after: str) -> None:
    peer.status = 503
    peer.body = b'{"code":"SYSTEM_ERROR","message":"busy"}'
    peer.tamper = lambda headers, body: ({**headers, "Retry-After": retry_after}, body)


async def test_a_back_off_longer_than_the_time_left_ends_the_call_instead_of_outliving_it(
    make_client: Callable[..., AsyncClient], memory: MemoryTransport, peer: WirePeer
) -> None:
    busy(peer, "20")
    async with make_client(transport=memory, timeout=2, retry=RetryPolicy(attempts=5, retry_after_cap=30)) as client:
        with pytest.raises(ServerError) as info:
            await asyncio.wait_for(client.v3.things.get(), 10)  # a guard: a hang fails here, not forever
    assert len(peer.seen) == 1
    assert info.value.attempts[-1] == "no time left for another attempt"


async def test_each_retry_gets_only_what_is_left_of_the_calls_timeout(
    make_client: Callable[..., AsyncClient], memory: MemoryTransport, peer: WirePeer
) -> None:
    busy(peer, "0")
    sent: list[float | None] = []
    async with make_client(
        transport=memory, timeout=5, retry=3, on_request=lambda r: sent.append(r.timeout.total)
    ) as client:
        with pytest.raises(ServerError):
            await client.v3.things.get()
    assert len(sent) == 3 and sent[0] == 5.0
    assert all(isinstance(t, float) and 0 < t < 5.0 for t in sent[1:])
    assert sent[1] is not None and sent[2] is not None and sent[2] <= sent[1]


async def test_a_connection_failure_does_not_back_off_past_the_deadline(
    make_client: Callable[..., AsyncClient],
) -> None:
    # Port 9 on the loopback refuses at once; a 1 s call with 30 s back-offs must give up after one try.
    policy = RetryPolicy(attempts=4, backoff=30, cap=30, jitter=False)
    async with make_client(base_url="http://127.0.0.1:9/", timeout=1, retry=policy) as client:
        with pytest.raises(TransportError) as info:
            await asyncio.wait_for(client.v3.things.get(), 10)
    assert info.value.connect_failed
    assert info.value.attempts == ("#1 TransportError", "no time left for another attempt")
    assert str(info.value).endswith("[1 attempt: #1 TransportError; no time left for another attempt]")  # one made


async def test_without_a_total_timeout_retries_keep_their_policy(
    make_client: Callable[..., AsyncClient], memory: MemoryTransport, peer: WirePeer
) -> None:
    busy(peer, "0")
    async with make_client(transport=memory, timeout=None, retry=3) as client:
        with pytest.raises(ServerError):
            await client.v3.things.get()
    assert len(peer.seen) == 3
