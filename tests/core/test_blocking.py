from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import Client, ConfigurationError, InvalidRequestError, TransportError

from .conftest import MCHID, PUB_KEY_ID, SERIAL
from .wire import WirePeer, pem_private, pem_public


@pytest.fixture
def threaded_peer(peer: WirePeer) -> Iterator[tuple[WirePeer, str]]:
    """The peer served from its own loop in a thread, so blocking code can call it."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(peer.app())
    started = threading.Event()
    state: dict[str, Any] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        state["port"] = runner.addresses[0][1]
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    started.wait()
    yield peer, f"http://127.0.0.1:{state['port']}/"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


@pytest.fixture
def blocking(
    threaded_peer: tuple[WirePeer, str], merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> Iterator[Client]:
    with Client(
        mchid=MCHID,
        serial=SERIAL,
        private_key=pem_private(merchant_key),
        platform_keys={PUB_KEY_ID: pem_public(platform_key)},
        base_url=threaded_peer[1],
    ) as client:
        yield client


@pytest.fixture
def blocking_in_memory(
    peer: WirePeer, merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> Iterator[Client]:
    """The blocking client over the same peer answering in memory: for what needs no socket."""
    with Client(
        mchid=MCHID,
        serial=SERIAL,
        private_key=pem_private(merchant_key),
        platform_keys={PUB_KEY_ID: pem_public(platform_key)},
        transport=peer.transport(),
    ) as client:
        yield client


def test_blocking_client_three_styles(blocking_in_memory: Client, peer: WirePeer) -> None:
    blocking = blocking_in_memory
    template = "v3/marketing/favor/users/{openid}/coupons/{coupon_id}"
    args: dict[str, Any] = {"openid": "o-1", "coupon_id": "9", "query": {"appid": "wx1"}}
    r1 = blocking.v3.marketing.favor.users._openid_.coupons._coupon_id_.get(**args)
    r2 = blocking[template].get(**args)
    r3 = blocking.chain(template).get(args)
    assert [r.status for r in (r1, r2, r3)] == [200, 200, 200]
    assert {s.raw_path for s in peer.seen} == {"/v3/marketing/favor/users/o-1/coupons/9?appid=wx1"}
    assert all(s.signature_ok for s in peer.seen)


async def test_blocking_client_works_inside_a_running_event_loop(blocking_in_memory: Client) -> None:
    assert asyncio.get_running_loop() is not None
    assert blocking_in_memory.v3.certificates.get().json() == {"ok": True}


def test_blocking_client_raises_local_errors_before_sending(blocking_in_memory: Client, peer: WirePeer) -> None:
    with pytest.raises(InvalidRequestError, match="openid"):
        blocking_in_memory.v3.marketing.busifavor.users._openid_.coupons.get(query={"appid": "wx1"})
    assert peer.seen == []


def test_blocking_client_close_is_final_and_idempotent(
    make_client: Callable[..., Any],
    threaded_peer: tuple[WirePeer, str],
    merchant_key: rsa.RSAPrivateKey,
    platform_key: rsa.RSAPrivateKey,
) -> None:
    client = Client(
        mchid=MCHID,
        serial=SERIAL,
        private_key=pem_private(merchant_key),
        platform_keys={PUB_KEY_ID: pem_public(platform_key)},
        base_url=threaded_peer[1],
    )
    client.v3.certificates.get()
    client.close()
    client.close()
    with pytest.raises(TransportError, match="closed"):
        client.v3.certificates.get()
    with pytest.raises(TransportError, match="closed"), client:  # a closed client is not entered again
        pytest.fail("entered a closed client")
    with pytest.raises(TransportError, match="closed"), client.with_options(timeout=5):
        pytest.fail("entered a copy of a closed client")


def test_blocking_client_refuses_a_foreign_session() -> None:
    with pytest.raises(ConfigurationError, match="session"):
        Client(session=object(), mchid="1", serial="x", private_key="-----BEGIN PRIVATE KEY-----")


def test_blocking_client_signs_in_a_child_process_for_calls_from_many_threads(
    threaded_peer: tuple[WirePeer, str], merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    peer, base_url = threaded_peer
    with Client(
        mchid=MCHID,
        serial=SERIAL,
        private_key=pem_private(merchant_key),
        platform_keys={PUB_KEY_ID: pem_public(platform_key)},
        base_url=base_url,
        offload_crypto="process",
    ) as client:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda n: client.v3.things._id_.post(id=str(n), json={"n": n}).status, range(24)))
        child = client._async._authorizer._worker._process  # type: ignore[union-attr]
        assert child is not None and child.poll() is None  # overlapping calls started it
    assert statuses == [200] * 24
    assert len(peer.seen) == 24 and all(s.signature_ok for s in peer.seen)
    assert child.poll() is not None  # close() stopped it


# -- parity with AsyncClient (issue 16) ---------------------------------------------------------------------


def test_client_takes_exactly_the_async_clients_parameters_but_session() -> None:
    import inspect

    from wxpay_chain import AsyncClient

    def parameters(cls: type) -> dict[str, tuple[object, object, object]]:
        params = inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
        return {
            p.name: (p.kind, p.default, p.annotation)
            for p in params
            if p.kind is not p.VAR_KEYWORD and p.name != "self"
        }

    expected = parameters(AsyncClient)
    expected["session"] = (inspect.Parameter.KEYWORD_ONLY, None, "None")  # typed None: refused, see below
    assert parameters(Client) == expected


def test_client_has_every_public_member_of_the_async_client() -> None:
    from wxpay_chain import AsyncClient

    public = {name for name in dir(AsyncClient) if not name.startswith("_")} - {"aclose"}
    assert public <= set(dir(Client))


def test_client_refuses_a_session_and_unknown_arguments(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    options: dict[str, Any] = {
        "mchid": MCHID,
        "serial": SERIAL,
        "private_key": pem_private(merchant_key),
        "platform_keys": {PUB_KEY_ID: pem_public(platform_key)},
    }
    with pytest.raises(ConfigurationError, match="session"):
        Client(**options, session=object())
    with pytest.raises(TypeError, match="timeuot"):
        Client(**options, timeuot=3)


def test_client_identity_keys_prepare_and_sign_match_the_async_client(blocking_in_memory: Client) -> None:
    blocking = blocking_in_memory
    assert blocking.mode == "merchant" and blocking.keys is blocking.async_client.keys
    assert blocking.certificates == ()
    prepared = blocking.prepare("GET", "v3/users/{openid}", (), {"openid": "o 1", "query": {"a": "b"}})
    assert prepared.target == "/v3/users/o%201?a=b"
    request = blocking.sign(prepared)
    assert request.target == prepared.target and request.headers["Authorization"].startswith("WECHATPAY2-SHA256")


def test_with_options_makes_a_copy_that_shares_the_loop_and_pool(
    blocking: Client, threaded_peer: tuple[WirePeer, str]
) -> None:
    peer, base_url = threaded_peer
    seen: list[float | None] = []
    quick = blocking.with_options(timeout=5, on_request=lambda request: seen.append(request.timeout.total))
    assert quick.v3.things.get().status == 200 and seen == [5.0]
    assert blocking.v3.things.get().status == 200 and seen == [5.0]  # the original keeps its own options
    gateway = blocking.with_options(base_url=base_url + "gw/")
    gateway.v3.things.get()
    assert peer.seen[-1].raw_path == "/gw/v3/things" and peer.seen[-1].signature_ok
    quick.close()  # the copy leaves the loop and the pool to the original
    assert blocking.v3.things.get().status == 200
    blocking.close()
    with pytest.raises(TransportError, match="closed"):
        quick.v3.things.get()


class _TimeLimit(BaseException):
    """What a signal handler raises for a time limit, as Celery's soft_time_limit does."""


def test_an_interrupted_blocking_call_sends_no_later_attempt(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    import signal

    from wxpay_chain import Headers, MemoryTransport, RawResponse, RetryPolicy

    second = threading.Event()
    arrivals: list[str] = []

    def answer(request: Any) -> RawResponse:
        arrivals.append(request.target)
        if len(arrivals) == 1:
            signal.setitimer(signal.ITIMER_REAL, 0.1)  # the time limit strikes during the back-off after this 503
        else:
            second.set()
        return RawResponse(503, Headers({"Content-Type": "application/json"}), b'{"code":"SYSTEM_ERROR"}')

    def time_limit(signum: int, frame: Any) -> None:
        raise _TimeLimit

    previous = signal.signal(signal.SIGALRM, time_limit)
    retry = RetryPolicy(attempts=2, backoff=0.5, cap=0.5, jitter=False)
    options = {"mchid": MCHID, "serial": SERIAL, "private_key": merchant_key, "retry": retry}
    try:
        with Client(
            **options, platform_keys={PUB_KEY_ID: pem_public(platform_key)}, transport=MemoryTransport(answer)
        ) as client:
            with pytest.raises(_TimeLimit):
                client.v3.things.post(json={"send_request_no": "S-000001"})
            # The back-off would have ended 0.4 s later: a resend must not come, even well after that.
            assert not second.wait(1.5) and len(arrivals) == 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _signal_client(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, transport: Any, **options: Any
) -> Client:
    return Client(
        mchid=MCHID, serial=SERIAL, private_key=merchant_key, platform_keys={PUB_KEY_ID: pem_public(platform_key)},
        transport=transport, **options,
    )


def test_a_call_interrupted_as_it_is_queued_never_goes_out(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, peer: WirePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A signal landing just after the call was handed to the loop thread, before the caller had anything
    # to cancel it by, let the call (and its retries) run on behind the caller's back.
    import wxpay_chain._sync as sync_module

    held = threading.Event()  # the loop thread waits on it: it cannot start the call before the caller acts

    def interrupted_after(real: Callable[..., Any]) -> Callable[..., Any]:
        def queue(*args: Any) -> Any:
            loop = next(arg for arg in args if isinstance(arg, asyncio.AbstractEventLoop))
            loop.call_soon_threadsafe(held.wait, 10)
            queued = real(*args)
            raise _TimeLimit  # the signal strikes as the call is queued
            return queued

        return queue

    with _signal_client(merchant_key, platform_key, peer.transport(), validate="off") as client:
        once = {"armed": True}
        for name in ("submit", "run_coroutine_threadsafe"):  # today's name, and the one before it
            target = sync_module if name == "submit" else sync_module.asyncio
            if hasattr(target, name):
                real = getattr(target, name)
                monkeypatch.setattr(target, name, lambda *a, real=real: (
                    interrupted_after(real)(*a) if once.pop("armed", False) else real(*a)
                ))
        with pytest.raises(_TimeLimit):
            client.v3.first.post(json={"send_request_no": "S-000001"})
        held.set()  # the caller has given the call up: however soon the loop thread runs now, it finds that
        monkeypatch.undo()
        client.v3.second.get()  # the loop runs its queue in order: the first would have gone out by now
    assert [seen.raw_path for seen in peer.seen] == ["/v3/second"]


def test_a_call_interrupted_just_before_it_goes_out_is_not_sent(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, peer: WirePeer
) -> None:
    # The caller's cancel reaches the loop thread on its next turn; an attempt about to go out in the
    # current one asks first whether its caller is still there.
    import signal

    main = threading.main_thread().ident
    assert main is not None and threading.get_ident() == main

    def time_limit(signum: int, frame: Any) -> None:
        raise _TimeLimit

    client_box: list[Client] = []

    def on_request(request: Any) -> None:  # on the loop thread, just before the attempt goes out
        if request.target != "/v3/first":
            return
        (waiting,) = client_box[0]._pending
        given_up = threading.Event()
        waiting.add_done_callback(lambda _: given_up.set())
        signal.pthread_kill(main, signal.SIGUSR1)  # the caller's time limit strikes now
        assert given_up.wait(10)  # the caller has cancelled its call

    previous = signal.signal(signal.SIGUSR1, time_limit)
    try:
        with _signal_client(
            merchant_key, platform_key, peer.transport(), validate="off", on_request=on_request
        ) as client:
            client_box.append(client)
            with pytest.raises(_TimeLimit):
                client.v3.first.post(json={"send_request_no": "S-000001"})
            client.v3.second.get()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert [seen.raw_path for seen in peer.seen] == ["/v3/second"]


class _Patcher:
    """What gevent.monkey and eventlet.patcher answer about the modules they patched."""

    def __init__(self, *patched: str) -> None:
        self.patched = patched

    def is_module_patched(self, name: str) -> bool:
        return name in self.patched

    is_monkey_patched = is_module_patched


@pytest.mark.parametrize(
    ("module", "patched", "named"),
    [
        ("gevent.monkey", ("threading", "socket"), "gevent"),
        ("gevent.monkey", ("socket",), "gevent"),  # patch_all(thread=False): every call timed out
        ("eventlet.patcher", ("thread",), "eventlet"),
    ],
)
def test_the_blocking_client_refuses_green_threads_before_starting_any(
    monkeypatch: pytest.MonkeyPatch,
    peer: WirePeer,
    merchant_key: rsa.RSAPrivateKey,
    module: str,
    patched: tuple[str, ...],
    named: str,
) -> None:
    # Its loop thread, made a greenlet, was every greenlet's running loop: Django's ORM refused every query.
    monkeypatch.setitem(sys.modules, module, _Patcher(*patched))
    threads = threading.active_count()
    with pytest.raises(ConfigurationError, match=f"which {named}'s monkey patching breaks"):
        Client(mchid=MCHID, serial=SERIAL, private_key=merchant_key, transport=peer.transport())
    assert threading.active_count() == threads


def test_an_unpatched_gevent_is_no_reason_to_refuse(
    monkeypatch: pytest.MonkeyPatch, peer: WirePeer, merchant_key: rsa.RSAPrivateKey
) -> None:
    monkeypatch.setitem(sys.modules, "gevent.monkey", _Patcher())  # imported, nothing patched
    keys = {PUB_KEY_ID: pem_public(peer.platform_key)}
    with Client(mchid=MCHID, serial=SERIAL, private_key=merchant_key, platform_keys=keys, transport=peer.transport()):
        pass


def test_a_forked_child_that_patched_since_is_refused_before_its_client_changes(
    monkeypatch: pytest.MonkeyPatch, peer: WirePeer, merchant_key: rsa.RSAPrivateKey
) -> None:
    # gunicorn --preload -k gevent: built in the unpatched master, first used in a worker that patched.
    keys = {PUB_KEY_ID: pem_public(peer.platform_key)}
    options: dict[str, Any] = {"platform_keys": keys, "transport": peer.transport()}
    with Client(mchid=MCHID, serial=SERIAL, private_key=merchant_key, **options) as c:
        pid, loop = c._pid, c._loop
        c._pid = -1  # as a forked child sees it
        monkeypatch.setitem(sys.modules, "gevent.monkey", _Patcher("threading"))
        with pytest.raises(ConfigurationError, match="which gevent's monkey patching breaks"):
            c.v3.things.get()
        assert c._loop is loop  # nothing was reset for a loop it will never start
        c._pid = pid
