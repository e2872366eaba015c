"""A session= of the caller's own: its defaults never change what is signed, how answers read, or what an
error says (a bring-your-own-session tester's findings). Served by a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import warnings
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from wxpay_chain import ApiError, AsyncClient, ConfigurationError, TransportError

from .wire import WirePeer

MakeClient = Callable[..., AsyncClient]


async def test_a_sessions_raise_for_status_does_not_turn_a_final_4xx_into_a_resent_doubt(
    make_client: MakeClient, base_url: str, peer: WirePeer
) -> None:
    peer.failures = [400]
    async with aiohttp.ClientSession(raise_for_status=True) as session, make_client(
        base_url=base_url, session=session
    ) as client:
        with pytest.raises(ApiError) as failed:
            await client.v3.things.post(json={"a": 1})
    assert (failed.value.status, failed.value.code, failed.value.request_id) == (400, "SYSTEM_ERROR", "fail-1")
    assert len(peer.seen) == 1  # once: it was a TransportError "in doubt", and sent three times


async def test_a_session_without_decompression_still_verifies_a_gzip_answer(
    make_client: MakeClient, base_url: str, peer: WirePeer
) -> None:
    # WeChat Pay signs the body; a gzip proxy's bytes (left compressed by the session) failed every answer.
    peer.tamper = lambda headers, body: ({**headers, "Content-Encoding": "gzip"}, gzip.compress(body))
    async with aiohttp.ClientSession(auto_decompress=False) as session, make_client(
        base_url=base_url, session=session
    ) as client:
        assert (await client.v3.things.get()).json() == {"ok": True}


async def test_a_closed_session_sends_nothing_and_says_so(
    make_client: MakeClient, base_url: str, peer: WirePeer
) -> None:
    session = aiohttp.ClientSession()
    client = make_client(base_url=base_url, session=session)
    await client.v3.things.get()
    await session.close()  # its owner's shutdown ran first
    with pytest.raises(TransportError, match=r"session= passed to the client is closed; nothing was sent") as failed:
        await client.v3.things.post(json={"a": 1})
    assert failed.value.connect_failed and len(peer.seen) == 1  # was aiohttp's bare RuntimeError
    await client.aclose()


async def test_a_session_made_in_another_event_loop_is_refused_before_anything_is_sent(
    make_client: MakeClient, base_url: str, peer: WirePeer
) -> None:
    other = asyncio.new_event_loop()

    async def make() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    session = await asyncio.to_thread(other.run_until_complete, make())
    try:
        client = make_client(base_url=base_url, session=session)
        with pytest.raises(TransportError, match="belongs to another event loop"):
            await client.v3.things.get()
        assert peer.seen == []
        await client.aclose()
    finally:
        await asyncio.to_thread(other.run_until_complete, session.close())
        other.close()


@pytest.mark.parametrize(
    ("made_with", "refused"),
    [
        ({"headers": {"Content-Length": "0"}}, "sends Content-Length on every request"),
        ({"headers": {"host": "elsewhere.example", "Transfer-Encoding": "chunked"}}, "sends host, Transfer-Encoding"),
        ({"auth": ("user", "pass")}, "made with auth="),
    ],
)
async def test_a_session_whose_defaults_would_change_the_signed_request_is_refused_when_the_client_is_built(
    make_client: MakeClient, made_with: dict[str, Any], refused: str
) -> None:
    with warnings.catch_warnings():  # auth= is deprecated in aiohttp 3.14, and still taken
        warnings.simplefilter("ignore", DeprecationWarning)
        if "auth" in made_with:
            made_with = {"auth": aiohttp.BasicAuth(*made_with["auth"])}
        session = aiohttp.ClientSession(**made_with)
    try:
        with pytest.raises(ConfigurationError, match=refused):
            make_client(session=session)
    finally:
        await session.close()


async def test_a_sessions_default_authorization_and_user_agent_are_replaced_not_refused(
    make_client: MakeClient, base_url: str, peer: WirePeer
) -> None:
    defaults = {"Authorization": "Bearer other-api", "X-Trace": "t1"}
    async with aiohttp.ClientSession(headers=defaults) as session, make_client(
        base_url=base_url, session=session
    ) as client:
        await client.v3.things.get()
    seen = peer.seen[0]
    assert seen.signature_ok and seen.headers["Authorization"].startswith("WECHATPAY2-SHA256-RSA2048 ")
    assert seen.headers["X-Trace"] == "t1"
