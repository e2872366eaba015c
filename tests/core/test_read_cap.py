"""The transport never reads more of an answer than it may keep (finding 7 of issue 15).

A 0.3 MiB gzip body once cost 600 MiB: answers were read whole and inflated before anything looked at
their size. Each case here is served by a real aiohttp server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from wxpay_chain import ApiError, AsyncClient, ConfigurationError, Headers, Request, _errors
from wxpay_chain._aiohttp_transport import AiohttpTransport

LIMIT = 64 * 1024
MIB = 1024 * 1024
GUARD = 10  # seconds: a hang fails the test instead of the suite
ZEROS_GZIP = gzip.compress(bytes(20 * MIB), compresslevel=9)  # about 20 KiB on the wire, 20 MiB inflated


async def _whole(request: web.Request) -> web.Response:
    return web.Response(body=b"x" * MIB)  # with Content-Length


async def _streamed(request: web.Request) -> web.StreamResponse:
    size = int(request.query.get("size", MIB))
    response = web.StreamResponse()  # chunked: no Content-Length to refuse early on
    await response.prepare(request)
    try:
        for start in range(0, size, 16 * 1024):
            await response.write(b"y" * min(16 * 1024, size - start))
        await response.write_eof()
    except (ConnectionError, RuntimeError):
        pass  # the client stopped reading and hung up, as it should
    return response


async def _gzip_bomb(request: web.Request) -> web.Response:
    return web.Response(body=ZEROS_GZIP, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})


async def _big_error(request: web.Request) -> web.Response:
    return web.Response(status=400, body=b'{"code":"PARAM_ERROR","message":"' + b"z" * MIB + b'"}')


@pytest.fixture
async def url(aiohttp_server: Any) -> str:
    app = web.Application()
    app.router.add_get("/whole", _whole)
    app.router.add_get("/streamed", _streamed)
    app.router.add_get("/gzip", _gzip_bomb)
    app.router.add_route("*", "/v3/{tail:.*}", _big_error)
    server = await aiohttp_server(app, host="127.0.0.1")
    return str(server.make_url("/"))


def _request(url: str, path: str) -> Request:
    return Request(method="GET", url=url + path, target="/" + path, template=path, headers=Headers(()))


async def _send(transport: AiohttpTransport, url: str, path: str) -> bytes:
    return (await asyncio.wait_for(transport.send(_request(url, path)), GUARD)).body


def test_the_default_cap_is_16_mib() -> None:
    from wxpay_chain._aiohttp_transport import DEFAULT_MAX_BODY

    assert DEFAULT_MAX_BODY == 16 * MIB == AiohttpTransport().max_body


@pytest.mark.parametrize("max_body", [0, -1, 1.5, True])
def test_the_cap_must_be_a_positive_int(max_body: Any) -> None:
    with pytest.raises(ValueError, match="max_body"):
        AiohttpTransport(max_body=max_body)


async def test_a_body_over_the_cap_by_content_length_is_refused_unread(url: str) -> None:
    transport = AiohttpTransport(max_body=LIMIT)
    try:
        with pytest.raises(_errors.ResponseTooLargeError) as info:
            await _send(transport, url, "whole")
        assert info.value.limit == LIMIT and "GET /whole" in str(info.value)
    finally:
        await transport.aclose()


async def test_a_streamed_body_is_cut_off_just_past_the_cap(url: str) -> None:
    transport = AiohttpTransport(max_body=LIMIT)
    try:
        with pytest.raises(_errors.ResponseTooLargeError):
            await _send(transport, url, "streamed")
        # Exactly the cap is still an answer; the connection that was cut off is not reused for it.
        assert len(await _send(transport, url, f"streamed?size={LIMIT}")) == LIMIT
        with pytest.raises(_errors.ResponseTooLargeError):
            await _send(transport, url, f"streamed?size={LIMIT + 1}")
    finally:
        await transport.aclose()


async def test_a_gzip_bomb_is_refused_without_inflating_it(url: str) -> None:
    transport = AiohttpTransport(max_body=LIMIT)
    tracemalloc.start()
    try:
        with pytest.raises(_errors.ResponseTooLargeError):
            await _send(transport, url, "gzip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await transport.aclose()
    assert peak < 4 * MIB  # of the 20 MiB it would inflate to


async def test_an_error_answer_body_is_read_only_up_to_what_api_error_keeps(
    url: str, make_client: Callable[..., AsyncClient]
) -> None:
    client = make_client(base_url=url, retry=1, max_response_bytes=LIMIT)
    async with client:
        with pytest.raises(ApiError) as info:
            await asyncio.wait_for(client.v3.things.get(), GUARD)
    error = info.value
    assert error.status == 400 and len(error.body) == _errors.MAX_ERROR_BODY
    assert error.body.startswith(b'{"code":"PARAM_ERROR"')


async def test_a_too_large_answer_through_the_client_is_a_transport_error(
    url: str, make_client: Callable[..., AsyncClient]
) -> None:
    client = make_client(base_url=url, retry=3, max_response_bytes=LIMIT)
    async with client:
        with pytest.raises(_errors.ResponseTooLargeError) as info:
            await asyncio.wait_for(client["whole"].get(), GUARD)
    assert info.value.attempts == ("#1 ResponseTooLargeError",)  # final at once: it would be too large again


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "16"])
def test_max_response_bytes_must_be_a_positive_int(make_client: Callable[..., AsyncClient], bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="max_response_bytes"):
        make_client(max_response_bytes=bad)
