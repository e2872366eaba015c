"""A server that answers badly, byte for byte: a raw asyncio server on 127.0.0.1 (aiohttp's own server
would tidy the bytes up). Memory stays bounded, no cookie rides on a signed request, and closing the
client ends a call whose answer is still arriving."""

from __future__ import annotations

import asyncio
import gzip
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import ApiError, AsyncClient, Attempt, ResponseTooLargeError, TransportError

from ..protocol import answer_message, sign
from .conftest import PUB_KEY_ID

Handler = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """Reads each request head (and its Content-Length body) and lets ``handler`` write the answer."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self.port = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                self.requests.append(head + await reader.readexactly(length))
                await self.handler(head, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[Handler], Awaitable[RawServer]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> RawServer:
        raw = RawServer(handler)
        server = await asyncio.start_server(raw.serve, "127.0.0.1", 0)
        raw.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        return raw

    yield start
    for server in servers:
        server.close()


def answer(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} X", *(f"{k}: {v}" for k, v in headers), f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.mark.parametrize("status", [200, 400])
async def test_a_second_content_encoding_header_cannot_inflate_past_the_caps(
    make_client: Callable[..., AsyncClient], raw_server: Any, status: int
) -> None:
    bomb = gzip.compress(b"0" * (8 * 1024 * 1024))  # ~8 KiB on the wire, 8 MiB inflated

    async def handler(head: bytes, writer: asyncio.StreamWriter) -> None:
        encodings = [("Content-Encoding", "identity"), ("Content-Encoding", "gzip")]
        writer.write(answer(status, [("Content-Type", "application/json"), *encodings], bomb))
        await writer.drain()

    server = await raw_server(handler)
    async with make_client(base_url=f"http://127.0.0.1:{server.port}/", retry=1, max_response_bytes=65536) as client:
        if status == 200:
            with pytest.raises(ResponseTooLargeError):
                await client.v3.things.get()
        else:
            with pytest.raises(ApiError) as raised:
                await client.v3.things.get()
            assert len(raised.value.body) <= 64 * 1024 and raised.value.body_truncated


async def test_a_cookie_an_answer_sets_never_rides_on_a_signed_request(
    make_client: Callable[..., AsyncClient], raw_server: Any
) -> None:
    async def handler(head: bytes, writer: asyncio.StreamWriter) -> None:
        headers = [("Content-Type", "application/json"), ("Set-Cookie", "route=attacker-chosen; Path=/")]
        writer.write(answer(400, headers, b'{"code":"PARAM_ERROR","message":"no"}'))
        await writer.drain()

    server = await raw_server(handler)
    # A host name: aiohttp keeps no cookies for an IP address.
    async with make_client(base_url=f"http://localhost:{server.port}/", retry=1) as client:
        for _ in range(2):
            with pytest.raises(ApiError):
                await client.v3.things.get()
    assert len(server.requests) == 2 and b"cookie:" not in server.requests[1].lower()


async def test_closing_the_client_ends_a_call_whose_answer_is_still_arriving(
    make_client: Callable[..., AsyncClient], raw_server: Any
) -> None:
    begun, never = asyncio.Event(), asyncio.Event()

    async def handler(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        for _ in range(50):  # half the body, a byte per turn of the loop: the client is reading it by now
            await writer.drain()
            await asyncio.sleep(0)
            writer.write(b" ")
        await writer.drain()
        begun.set()
        await never.wait()  # the rest never comes

    server = await raw_server(handler)
    client = make_client(base_url=f"http://127.0.0.1:{server.port}/", retry=1, timeout=None)
    call = asyncio.ensure_future(client.v3.things.post(json={"send_request_no": "S-000001"}))
    await begun.wait()
    await client.aclose()
    with pytest.raises(TransportError, match="cut off because the client was closed") as raised:
        await asyncio.wait_for(call, 10)
    assert "same request number" in str(raised.value)  # closing does not unsend a POST
    never.set()


async def test_an_answer_that_arrives_on_an_idle_connection_is_no_later_calls_answer(
    make_client: Callable[..., AsyncClient], raw_server: Any, platform_key: rsa.RSAPrivateKey
) -> None:
    # A proxy that duplicates answers, or a replay: a signed answer to no request, sent while the connection
    # sits in the pool. The next call must get the answer to itself, on a connection of its own.
    stray_sent = asyncio.Event()
    served = 0

    def signed(body: bytes) -> bytes:
        ts, nonce = str(int(time.time())), secrets.token_hex(16)
        headers = [
            ("Content-Type", "application/json"),
            ("Wechatpay-Timestamp", ts),
            ("Wechatpay-Nonce", nonce),
            ("Wechatpay-Serial", PUB_KEY_ID),
            ("Wechatpay-Signature", sign(platform_key, answer_message(ts, nonce, body))),
        ]
        return answer(200, headers, body)

    async def handler(head: bytes, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        served += 1
        writer.write(signed(b'{"call":%d}' % served))
        await writer.drain()
        if served == 1:
            await stray_sent.wait()  # after the first answer was read: then it lands on the idle connection
            writer.write(signed(b'{"call":"none"}'))
            await writer.drain()

    server = await raw_server(handler)
    async with make_client(base_url=f"http://127.0.0.1:{server.port}/", retry=1) as client:
        assert (await client.v3.things.get()).json() == {"call": 1}
        stray_sent.set()
        for _ in range(50):  # turns of the loop, not time: the stray's bytes reach the pooled connection
            await asyncio.sleep(0)
        assert (await client.v3.things.post(json={"send_request_no": "S-000002"})).json() == {"call": 2}
    assert len(server.requests) == 2


async def test_a_server_that_hangs_up_in_the_tls_handshake_is_named_as_such(
    make_client: Callable[..., AsyncClient],
) -> None:
    # As a server does that refuses the client certificate over TLS 1.2: the reset has no text of its own,
    # and the message said "cannot connect to ...: ()".
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)  # the ClientHello arrives; no answer to it
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with make_client(base_url=f"https://127.0.0.1:{port}/", retry=1) as client:
            with pytest.raises(TransportError) as refused:
                await client.v3.things.post(json={"send_request_no": "1"})
    finally:
        server.close()
    assert refused.value.connect_failed and "()" not in str(refused.value)
    assert "ConnectionResetError" in str(refused.value) or "reset" in str(refused.value)


async def test_an_answer_cut_off_after_its_head_keeps_its_request_id(
    make_client: Callable[..., AsyncClient], raw_server: Callable[..., Awaitable[RawServer]]
) -> None:
    async def half(head: bytes, writer: asyncio.StreamWriter) -> None:
        whole = answer(200, [("Request-ID", "r-cut-1"), ("Content-Type", "application/json")], b'{"a":' + b"1" * 64)
        writer.write(whole[: len(whole) - 40])  # the head and part of the body, then the connection ends
        await writer.drain()
        writer.close()

    server = await raw_server(half)
    seen: list[Attempt] = []
    async with make_client(base_url=f"http://127.0.0.1:{server.port}/", on_response=seen.append, retry=1) as client:
        with pytest.raises(TransportError) as cut:
            await client.v3.things.post(json={"send_request_no": "1"})
    assert cut.value.request_id == "r-cut-1" and "r-cut-1" in str(cut.value)  # what WeChat Pay support asks for
    assert seen[0].request_id == "r-cut-1" and seen[0].error is cut.value


async def test_a_raising_hook_is_logged_without_the_failed_calls_values(
    make_client: Callable[..., AsyncClient],
    raw_server: Callable[..., Awaitable[RawServer]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def hang_up(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.close()  # the request arrived; no answer comes

    def broken_metrics(attempt: Attempt) -> None:
        raise RuntimeError("metrics backend down")

    server = await raw_server(hang_up)
    caplog.set_level(logging.ERROR, logger="wxpay_chain")
    openid = "oh-394z-SecretOpenid000001"
    base_url = f"http://127.0.0.1:{server.port}/"
    async with make_client(base_url=base_url, on_response=broken_metrics, retry=1) as client:
        with pytest.raises(TransportError) as failed:
            await client.v3.users._openid_.coupons.get(openid=openid)
    assert openid in str(failed.value)  # the call's own error names it: the caller's to log or not
    assert "metrics backend down" in caplog.text  # the hook's own failure, with its traceback
    assert openid not in caplog.text  # the path with its values belongs at DEBUG only
