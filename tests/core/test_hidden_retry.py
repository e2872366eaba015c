"""aiohttp resends a GET, PUT or DELETE once by itself when the connection drops before an answer; the
client's own sessions turn that off, so every request that reaches the server is an attempt retry= counted.

The server is raw asyncio on 127.0.0.1: it reads each request whole, counts it, and closes the connection
without answering (the request arrived and could have been carried out)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from wxpay_chain import AsyncClient, RetryPolicy, TransportError


class DroppingServer:
    def __init__(self) -> None:
        self.arrivals: list[tuple[str, str]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        fields = dict(line.lower().partition(":")[::2] for line in lines[1:] if line)
        length = int(fields.get("content-length", "0"))
        await reader.readexactly(length)
        self.arrivals.append((method, target))
        writer.close()  # no answer: the client sees the server disconnect


@pytest.fixture
async def dropping() -> AsyncIterator[tuple[DroppingServer, str]]:
    server = DroppingServer()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield server, f"http://127.0.0.1:{port}/"


CALLS = {
    "GET": lambda c: c.v3.things._id_.get(id="T1"),
    "PUT": lambda c: c.v3.things._id_.put(id="T1", json={"out_request_no": "R1"}),
    "DELETE": lambda c: c.v3.things._id_.delete(id="T1"),
}


@pytest.mark.parametrize("attempts", [1, 2])
@pytest.mark.parametrize("method", sorted(CALLS))
async def test_a_dropped_connection_reaches_the_server_once_per_counted_attempt(
    make_client: Callable[..., AsyncClient], dropping: tuple[DroppingServer, str], method: str, attempts: int
) -> None:
    server, base_url = dropping
    policy = RetryPolicy(attempts=attempts, backoff=0, jitter=False)
    async with make_client(base_url=base_url, retry=policy) as client:
        with pytest.raises(TransportError) as info:
            await CALLS[method](client)
    assert server.arrivals == [(method, "/v3/things/T1")] * attempts
    assert info.value.attempts == tuple(f"#{n} TransportError" for n in range(1, attempts + 1))
