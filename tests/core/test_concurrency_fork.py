"""Finding 9 of issue 15: closing under load, hooks that call back, fork(), and a second event loop.

Every wait here has a bound: a hang fails the test (thread joins and child reads time out) instead of
stopping the suite. The servers run on their own loop in a thread, so that blocking clients and
``asyncio.run()`` in the test can reach them; each answer echoes a tag from its request in the signed
body, so that an answer delivered to the wrong request cannot pass.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import select
import signal
import ssl
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import (
    AsyncClient,
    Client,
    InvalidRequestError,
    Request,
    RetryPolicy,
    TransportError,
    WxPayError,
    _aiohttp_transport,
)

from ..tls import localhost_tls
from .conftest import MCHID, PUB_KEY_ID, SERIAL
from .wire import pem_private, pem_public, sign

GUARD = 10.0  # seconds any one wait may take before the test fails
needs_fork = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="fork() on Linux")


class EchoServer:
    """Answers ``{"echo": <tag of the request>}``, signed; records the client port of each request."""

    def __init__(self, platform_key: rsa.RSAPrivateKey, ssl_context: ssl.SSLContext | None = None) -> None:
        self._key = platform_key
        self._ssl = ssl_context
        self.seen: list[tuple[int, str]] = []
        self.arrivals = threading.Semaphore(0)
        self.holding = False
        self.busy = False  # answer 503 with Retry-After: 20, so that the client waits to retry
        self._release: asyncio.Event | None = None
        self.loop = asyncio.new_event_loop()
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        tag = str(json.loads(await request.read() or b"{}").get("tag", ""))
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.seen.append((peer[1] if peer else -1, tag))
        self.arrivals.release()
        if self.holding:
            assert self._release is not None
            await self._release.wait()
        if self.busy:
            return web.json_response(
                {"code": "SYSTEM_ERROR", "message": "busy"}, status=503, headers={"Retry-After": "20"}
            )
        body = json.dumps({"echo": tag}).encode()
        ts, nonce = str(int(time.time())), os.urandom(8).hex()
        return web.Response(
            body=body,
            headers={
                "Wechatpay-Timestamp": ts,
                "Wechatpay-Nonce": nonce,
                "Wechatpay-Serial": PUB_KEY_ID,
                "Wechatpay-Signature": sign(self._key, f"{ts}\n{nonce}\n".encode() + body + b"\n"),
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
                "Request-ID": f"req-{len(self.seen)}",
                "Content-Type": "application/json",
            },
        )

    def ports(self, tags: Callable[[str], bool] = lambda tag: True) -> set[int]:
        return {port for port, tag in list(self.seen) if tags(tag)}

    def release(self) -> None:
        if self._release is not None:
            self.loop.call_soon_threadsafe(self._release.set)

    def __enter__(self) -> EchoServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self._release = asyncio.Event()
            self.loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl)
            self.loop.run_until_complete(site.start())
            scheme = "https" if self._ssl else "http"
            self.url = f"{scheme}://127.0.0.1:{self._runner.addresses[0][1]}/"
            started.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=serve, name="echo-server", daemon=True)
        self._thread.start()
        assert started.wait(GUARD)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(GUARD)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(GUARD)
        self.loop.close()


@pytest.fixture
def server(platform_key: rsa.RSAPrivateKey) -> Iterator[EchoServer]:
    with EchoServer(platform_key) as echo:
        yield echo


@pytest.fixture
def options(merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, server: EchoServer) -> dict[str, Any]:
    return {
        "mchid": MCHID,
        "serial": SERIAL,
        "private_key": pem_private(merchant_key),
        "platform_keys": {PUB_KEY_ID: pem_public(platform_key)},
        "base_url": server.url,
    }


def _echo(client: Client, tag: str) -> Any:
    return client.v3.things.post(json={"tag": tag}).json()["echo"]


async def _aecho(client: AsyncClient, tag: str) -> Any:
    return (await client.v3.things.post(json={"tag": tag})).json()["echo"]


async def _aechoes(client: AsyncClient, tags: list[str]) -> list[Any]:
    return list(await asyncio.gather(*(_aecho(client, tag) for tag in tags)))


def _run_in_child(work: Callable[[], Any]) -> Any:
    """Run ``work`` in a forked child and return what it returned (JSON), or fail with its traceback."""
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():  # 3.12+ warns that forking a threaded process is risky: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: report through the pipe, and never return into pytest
        code = 1
        try:
            os.close(read_end)
            payload = json.dumps({"result": work()})
            code = 0
        except BaseException:
            payload = json.dumps({"error": traceback.format_exc()})
        finally:
            try:
                os.write(write_end, payload.encode())
            finally:
                os._exit(code)
    os.close(write_end)
    data = b""
    try:
        while True:
            ready, _, _ = select.select([read_end], [], [], GUARD)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                pytest.fail("the forked child hung")
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    report = json.loads(data or b'{"error": "the child died without a word"}')
    if "error" in report:
        pytest.fail("in the forked child:\n" + report["error"])
    return report["result"]


# -- close() under load ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "closers"),
    [("waiting for the answer", 1), ("waiting for the answer", 2), ("waiting to retry", 1)],
)
def test_close_ends_every_call_in_flight_with_transport_error(
    server: EchoServer, options: dict[str, Any], state: str, closers: int
) -> None:
    if state == "waiting to retry":
        server.busy = True
        # A wait well inside the call's deadline, so that the client does wait (and close() must end it).
        options.update(retry=RetryPolicy(attempts=2, backoff=20, cap=20, jitter=False), timeout=60)
    else:
        server.holding = True  # no answer until the test is over
    client = Client(**options)
    outcomes: list[BaseException | None] = [None] * 8

    def call(n: int) -> None:
        try:
            _echo(client, f"held-{n}")
        except BaseException as exc:
            outcomes[n] = exc

    callers = [threading.Thread(target=call, args=(n,), daemon=True) for n in range(8)]
    for caller in callers:
        caller.start()
    for _ in range(8):  # every call has reached the server and waits for its answer
        assert server.arrivals.acquire(timeout=GUARD)
    closing = [threading.Thread(target=client.close, daemon=True) for _ in range(closers)]
    for closer in closing:
        closer.start()
    deadline = time.monotonic() + GUARD  # one bound for all, not one each
    for thread in callers + closing:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in callers + closing), "a caller or close() hung"
    assert all(isinstance(outcome, TransportError) for outcome in outcomes), outcomes
    with pytest.raises(TransportError, match="closed"):
        _echo(client, "late")
    client.close()  # and once more: idempotent


async def test_closing_an_async_client_ends_calls_waiting_for_a_connection_with_transport_error(
    server: EchoServer, options: dict[str, Any]
) -> None:
    server.holding = True  # the two calls that got a connection wait for their answers; four wait for one
    client = AsyncClient(**options, pool_limit=2)
    calls = [asyncio.ensure_future(_aecho(client, f"held-{n}")) for n in range(6)]
    for _ in range(2):
        assert await asyncio.to_thread(server.arrivals.acquire, timeout=GUARD)
    await asyncio.wait_for(client.aclose(), GUARD)
    outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), GUARD)
    assert not any(call.cancelled() for call in calls)
    assert all(isinstance(outcome, TransportError) and "closed" in str(outcome) for outcome in outcomes), outcomes


def test_a_call_from_the_clients_own_hook_is_refused_not_deadlocked(
    server: EchoServer, options: dict[str, Any]
) -> None:
    inner: list[BaseException] = []
    holder: list[Client] = []

    def on_request(request: Request) -> None:
        if not inner:
            try:
                _echo(holder[0], "inner")
            except WxPayError as exc:
                inner.append(exc)

    client = Client(**options, on_request=on_request)
    holder.append(client)
    outer: list[Any] = []
    caller = threading.Thread(target=lambda: outer.append(_echo(client, "outer")), daemon=True)
    caller.start()
    caller.join(GUARD)
    assert not caller.is_alive(), "the call from the hook deadlocked the client"
    client.close()
    assert outer == ["outer"]
    assert isinstance(inner[0], InvalidRequestError) and "hooks must not make calls" in str(inner[0])
    assert [tag for _, tag in server.seen] == ["outer"]


# -- fork() ---------------------------------------------------------------------------------------


@needs_fork
@pytest.mark.parametrize("offload", ["auto", "process"])
def test_a_forked_child_gets_its_own_loop_and_fresh_connections(
    server: EchoServer, options: dict[str, Any], offload: str
) -> None:
    with Client(**options, offload_crypto=offload) as client:
        with ThreadPoolExecutor(4) as pool:  # overlapping calls: "process" starts its signing child
            assert list(pool.map(lambda n: _echo(client, f"parent-{n}"), range(8))) == [f"parent-{n}" for n in range(8)]
        parent_ports = server.ports()
        signer = client._async._authorizer._worker
        signer_pid = signer._process.pid if offload == "process" else None  # type: ignore[union-attr]

        def child() -> Any:
            with ThreadPoolExecutor(4) as pool:
                echoed = list(pool.map(lambda n: _echo(client, f"child-{n}"), range(8)))
            own_signer = signer._process.pid if offload == "process" else None  # type: ignore[union-attr]
            client.close()
            return {"echoed": echoed, "signer": own_signer}

        report = _run_in_child(child)
        assert report["echoed"] == [f"child-{n}" for n in range(8)]
        child_ports = server.ports(lambda tag: tag.startswith("child"))
        assert child_ports and not child_ports & parent_ports
        if offload == "process":
            assert report["signer"] not in (None, signer_pid)  # a signing child of its own
        # The child left the parent's connections alone: the parent goes on with them.
        assert _echo(client, "after") == "after"
        assert server.ports(lambda tag: tag == "after") <= parent_ports  # an idle pooled one, not a new one
        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(lambda n: _echo(client, f"after-{n}"), range(8))) == [f"after-{n}" for n in range(8)]
        if offload == "process":
            assert signer.failed is None and signer._process.pid == signer_pid  # type: ignore[union-attr]


@needs_fork
def test_a_forked_async_client_never_shares_connections_with_its_busy_parent(
    server: EchoServer, options: dict[str, Any]
) -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    client = AsyncClient(**options)

    def burst(prefix: str) -> tuple[list[str], list[Any]]:
        tags = [f"{prefix}-{n}" for n in range(4)]
        return tags, asyncio.run_coroutine_threadsafe(_aechoes(client, tags), loop).result(GUARD)

    try:
        burst("parent-warm")
        stop = threading.Event()
        bursts: list[tuple[list[str], list[Any]]] = []
        errors: list[BaseException] = []

        def keep_calling() -> None:  # the parent stays busy on its loop while the child works
            n = 0
            while not stop.is_set():
                try:
                    bursts.append(burst(f"parent-{n}"))
                except BaseException as exc:
                    errors.append(exc)
                    return
                n += 1

        busy = threading.Thread(target=keep_calling, daemon=True)
        busy.start()
        assert server.arrivals.acquire(timeout=GUARD)  # the parent is mid-burst when it forks

        def child() -> Any:
            async def main() -> list[Any]:
                try:
                    return list(await asyncio.gather(*(_aecho(client, f"child-{n}") for n in range(8))))
                finally:
                    await client.aclose()

            return asyncio.run(main())

        echoed = _run_in_child(child)
        stop.set()
        busy.join(GUARD)
        assert not busy.is_alive() and not errors, errors
        assert echoed == [f"child-{n}" for n in range(8)]
        assert bursts and all(tags == got for tags, got in bursts)  # every parent answer is its own
        child_ports = server.ports(lambda tag: tag.startswith("child"))
        assert child_ports and not child_ports & server.ports(lambda tag: tag.startswith("parent"))
    finally:
        asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(GUARD)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(GUARD)
        loop.close()


@needs_fork
def test_a_session_passed_in_refuses_to_serve_a_forked_child(server: EchoServer, options: dict[str, Any]) -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def make() -> tuple[aiohttp.ClientSession, AsyncClient]:
        session = aiohttp.ClientSession()
        return session, AsyncClient(**options, session=session, retry=1)

    session, client = asyncio.run_coroutine_threadsafe(make(), loop).result(GUARD)
    try:
        assert asyncio.run_coroutine_threadsafe(_aecho(client, "parent"), loop).result(GUARD) == "parent"

        def child() -> str:
            async def main() -> str:
                try:
                    await _aecho(client, "child")
                except TransportError as exc:
                    return str(exc)
                return "sent"

            return asyncio.run(main())

        assert "after the fork" in _run_in_child(child)
        assert [tag for _, tag in server.seen] == ["parent"]
    finally:
        asyncio.run_coroutine_threadsafe(session.close(), loop).result(GUARD)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(GUARD)
        loop.close()


# -- more than one event loop ---------------------------------------------------------------------


@pytest.mark.parametrize("offload", ["never", "always", "process"])
def test_one_async_client_serves_two_event_loops_in_turn(options: dict[str, Any], offload: str) -> None:
    client = AsyncClient(**options, offload_crypto=offload)

    async def first() -> list[Any]:  # ends without aclose(): the loop closes under a live pool
        return list(await asyncio.gather(*(_aecho(client, f"first-{n}") for n in range(4))))

    signer: Any = client._authorizer._worker
    served: list[Any] = []

    async def second() -> list[Any]:
        async with client:
            echoed = list(await asyncio.gather(*(_aecho(client, f"second-{n}") for n in range(4))))
            if offload == "process":
                served.append((signer.failed, signer._loop is asyncio.get_running_loop(), signer._process.pid))
            return echoed

    assert asyncio.run(first()) == [f"first-{n}" for n in range(4)]
    signer_pid = signer._process.pid if offload == "process" else None
    assert asyncio.run(second()) == [f"second-{n}" for n in range(4)]
    if offload == "process":  # the signing child moved over to the second loop instead of giving up
        assert signer_pid is not None and served == [(None, True, signer_pid)]
    gc.collect()  # any finalizer that warns fails the test (filterwarnings = error)


def test_an_async_client_closed_from_a_later_loop_lets_the_dead_pool_go(options: dict[str, Any]) -> None:
    client = AsyncClient(**options)
    assert asyncio.run(_aecho(client, "one")) == "one"
    asyncio.run(client.aclose())
    with pytest.raises(TransportError, match="closed"):
        asyncio.run(_aecho(client, "two"))
    gc.collect()


def test_an_async_client_used_from_two_running_loops_at_once_says_what_to_do(options: dict[str, Any]) -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    client = AsyncClient(**options)
    try:
        assert asyncio.run_coroutine_threadsafe(_aecho(client, "a"), loop).result(GUARD) == "a"
        with pytest.raises(TransportError, match="one client per event loop"):
            asyncio.run(_aecho(client, "b"))
        assert asyncio.run_coroutine_threadsafe(_aecho(client, "c"), loop).result(GUARD) == "c"
    finally:
        asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(GUARD)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(GUARD)
        loop.close()


def test_two_running_loops_first_calls_at_once_make_one_pool_and_the_other_is_told(
    options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh client's first calls from two threads' loops at the same moment: one makes the pool, the
    other gets the "one client per event loop" error a later call would get, and no second pool is made
    (and left unclosed)."""
    import wxpay_chain._aiohttp_transport as transport_module

    client = AsyncClient(**options)
    transport: Any = client._pipeline.transport
    both_started, both_done = threading.Barrier(2, timeout=GUARD), threading.Barrier(2, timeout=GUARD)
    entered: list[str] = []
    both_entered = threading.Event()
    made: list[str] = []

    class Connector(transport_module._Connector):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(threading.current_thread().name)
            both_entered.wait(GUARD)  # the other call is on its way to make a pool too
            super().__init__(*args, **kwargs)

    ensure = transport._ensure_session

    def ensure_session() -> Any:
        entered.append(threading.current_thread().name)
        if len(entered) == 2:
            both_entered.set()
        return ensure()

    monkeypatch.setattr(transport_module, "_Connector", Connector)
    monkeypatch.setattr(transport, "_ensure_session", ensure_session)
    outcomes: dict[str, str] = {}

    def call(name: str) -> None:
        async def main() -> str:
            both_started.wait()
            try:
                return str(await _aecho(client, name))
            except TransportError as exc:
                return str(exc)
            finally:
                both_done.wait()  # neither loop closes before both calls have ended

        outcomes[name] = asyncio.run(main())

    threads = [threading.Thread(target=call, args=(name,), name=name) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD)
    assert len(made) == 1, made  # one pool, made by the call that came first
    maker, other = made[0], "two" if made[0] == "one" else "one"
    assert outcomes[maker] == maker
    assert "one client per event loop" in outcomes[other]
    monkeypatch.undo()
    asyncio.run(client.aclose())  # the pool's loop is closed: let go without I/O
    gc.collect()  # any finalizer that warns (an unclosed second pool) fails the test (filterwarnings = error)


@needs_fork
def test_a_child_forked_while_a_pool_was_being_made_makes_its_own(options: dict[str, Any]) -> None:
    client = AsyncClient(**options)
    from wxpay_chain._process import process_lock

    making = process_lock("a client's pool")
    with making:  # another thread of the parent is making the pool as the child is forked

        def child() -> Any:
            return asyncio.run(_aecho(client, "child"))

        assert _run_in_child(child) == "child"  # not stuck on a lock no thread of the child holds
    assert asyncio.run(_aecho(client, "parent")) == "parent"
    asyncio.run(client.aclose())


# -- letting a pool go without I/O: TLS --------------------------------------------------------------


@pytest.fixture
def tls(platform_key: rsa.RSAPrivateKey) -> Iterator[tuple[EchoServer, ssl.SSLContext]]:
    server_side, client_side = localhost_tls()
    with EchoServer(platform_key, server_side) as echo:
        yield echo, client_side


async def _post(session: aiohttp.ClientSession, url: str, tag: str) -> Any:
    async with session.post(url + "v3/things", json={"tag": tag}) as response:
        return (await response.json())["echo"]


def test_a_dead_loops_tls_pool_is_let_go_without_warnings(tls: tuple[EchoServer, ssl.SSLContext]) -> None:
    server, context = tls
    holder: list[aiohttp.ClientSession] = []

    async def first() -> Any:
        holder.append(aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)))
        return await _post(holder[0], server.url, "one")

    assert asyncio.run(first()) == "one"
    _aiohttp_transport._abandon(holder[0])  # its loop is closed: no await, no loop call, no warning
    assert holder[0].closed
    holder.clear()
    gc.collect()


@needs_fork
def test_a_forked_child_lets_the_parents_tls_connection_go_without_a_word(
    tls: tuple[EchoServer, ssl.SSLContext],
) -> None:
    server, context = tls
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def make() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))

    session = asyncio.run_coroutine_threadsafe(make(), loop).result(GUARD)
    try:
        assert asyncio.run_coroutine_threadsafe(_post(session, server.url, "before"), loop).result(GUARD) == "before"

        def child() -> bool:
            _aiohttp_transport._abandon(session)  # no close_notify, no shutdown(): the parent still uses it
            gc.collect()
            return session.closed

        assert _run_in_child(child) is True
        assert asyncio.run_coroutine_threadsafe(_post(session, server.url, "after"), loop).result(GUARD) == "after"
        assert server.ports(lambda tag: tag == "after") == server.ports(lambda tag: tag == "before")
    finally:
        asyncio.run_coroutine_threadsafe(session.close(), loop).result(GUARD)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(GUARD)
        loop.close()


def test_a_late_signature_after_close_is_made_inline_instead_of_queued_for_ever(
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    from wxpay_chain._signing_thread import SigningThread

    signer = SigningThread(merchant_key)

    async def signature() -> str:
        return await asyncio.wait_for(signer.sign(b"message"), GUARD)

    first = asyncio.run(signature())  # the worker runs
    signer.close()
    assert asyncio.run(signature()) == first  # PKCS#1 v1.5 is deterministic
