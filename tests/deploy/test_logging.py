"""What the wxpay_chain loggers show: templates at INFO, values at DEBUG, bodies only with log_bodies=True,
and a line for each retry with its reason and delay."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import pytest

from wxpay_chain import ApiError, AsyncClient, RetryPolicy, TransportError

from ..core.wire import WirePeer

OPENID = "o-PRIVATE-openid-42"
NAME = "张三-13800000000"
ANSWER = b'{"ok":true,"note":"ANSWER-MARKER"}'
FAST = RetryPolicy(attempts=2, backoff=0.01, cap=0.01, jitter=False)


def messages(caplog: pytest.LogCaptureFixture, level: int, logger: str = "wxpay_chain") -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level and r.name.startswith(logger)]


async def test_info_shows_the_template_and_debug_the_values(
    make_client: Callable[..., AsyncClient], base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="wxpay_chain")
    async with make_client(base_url=base_url) as client:
        await client.v3.things._openid_.get(openid=OPENID, query={"openid": OPENID})
    info = messages(caplog, logging.INFO)
    assert len(info) == 1 and info[0].startswith("GET v3/things/{openid} -> 200 request_id=req-1 attempt=1")
    assert info[0].endswith("s mchid=1900000001")
    assert OPENID not in info[0]
    debug = "\n".join(messages(caplog, logging.DEBUG))
    assert f"GET /v3/things/{OPENID}?openid={OPENID} request headers" in debug


async def test_debug_shows_no_body_by_default(
    make_client: Callable[..., AsyncClient], base_url: str, peer: WirePeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    peer.body = ANSWER
    async with make_client(base_url=base_url) as client:
        answer = await client.v3.things.post(json={"name": NAME})
    assert answer.body == ANSWER and NAME in peer.last_json()["name"]
    text = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert NAME not in text and "ANSWER-MARKER" not in text
    assert "\\u5f20" not in text  # nor escaped
    debug = messages(caplog, logging.DEBUG)
    size = len(peer.seen[0].body)
    assert f"request body <{size} bytes; log_bodies=True shows them>" in debug
    assert f"answer body <{len(ANSWER)} bytes; log_bodies=True shows them>" in debug
    signing = next(m for m in debug if m.startswith("signing "))
    assert f"<{size} bytes of body; log_bodies=True shows them>" in signing  # the signed message, body left out


async def test_log_bodies_shows_both_bodies_at_debug_only(
    make_client: Callable[..., AsyncClient], base_url: str, peer: WirePeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    peer.body = ANSWER
    async with make_client(base_url=base_url, log_bodies=True) as client:
        await client.v3.things.post(json={"name": NAME})
        await client.with_options(timeout=5).v3.things.post(json={"name": NAME})  # copies keep it
    debug = messages(caplog, logging.DEBUG)
    assert debug.count('request body {"name":"' + NAME + '"}') == 2
    assert debug.count("answer body " + ANSWER.decode()) == 2
    assert sum(NAME in m for m in debug if m.startswith("signing ")) == 2
    assert not any(NAME in m or "ANSWER-MARKER" in m for m in messages(caplog, logging.INFO))


async def test_a_retry_line_gives_the_reason_and_the_delay(
    make_client: Callable[..., AsyncClient], base_url: str, peer: WirePeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wxpay_chain")
    peer.status = 503
    async with make_client(base_url=base_url, retry=FAST) as client:
        with pytest.raises(ApiError):
            await client.v3.things._openid_.get(openid=OPENID)
    retries = messages(caplog, logging.INFO, "wxpay_chain.retry")
    assert retries == ["retrying GET v3/things/{openid} in 0.01s after #1 503 (mchid=1900000001)"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_connection_failure_retry_line(
    make_client: Callable[..., AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wxpay_chain")
    async with make_client(base_url=f"http://127.0.0.1:{free_port()}/", retry=FAST) as client:
        with pytest.raises(TransportError):
            await client.v3.things.get()
    assert messages(caplog, logging.INFO, "wxpay_chain.retry") == [
        "retrying GET v3/things in 0.01s after #1 TransportError (mchid=1900000001)"
    ]


async def test_a_retry_the_deadline_leaves_no_time_for_says_so(
    make_client: Callable[..., AsyncClient], base_url: str, peer: WirePeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wxpay_chain")
    peer.status = 503
    slow = RetryPolicy(attempts=2, backoff=60, cap=60, jitter=False)
    async with make_client(base_url=base_url, retry=slow, timeout=5) as client:
        with pytest.raises(ApiError):
            await client.v3.things.get()
    assert messages(caplog, logging.INFO, "wxpay_chain.retry") == [
        "not retrying GET v3/things after #1 503: the call's timeout would pass first (mchid=1900000001)"
    ]


async def test_each_line_names_whose_call_it_was(
    make_client: Callable[..., AsyncClient], base_url: str, peer: WirePeer, caplog: pytest.LogCaptureFixture
) -> None:
    # A service provider's process holds a client per merchant: a line that fails must say whose it was.
    caplog.set_level(logging.INFO, logger="wxpay_chain")
    peer.status = 503
    async with (
        make_client(base_url=base_url, retry=FAST) as first,
        make_client(base_url=base_url, retry=FAST, mchid="1900000002") as second,
    ):
        for client in (first, second, second.with_options(timeout=5)):
            with pytest.raises(ApiError):
                await client.v3.things.get()
    attempts = [m.rsplit(" ", 1)[1] for m in messages(caplog, logging.INFO) if m.startswith("GET ")]
    assert attempts == ["mchid=1900000001"] * 2 + ["mchid=1900000002"] * 4
    retries = [m.rsplit(" ", 1)[1] for m in messages(caplog, logging.INFO, "wxpay_chain.retry")]
    assert retries == ["(mchid=1900000001)", "(mchid=1900000002)", "(mchid=1900000002)"]
