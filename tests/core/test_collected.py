"""A client dropped without closing it lets go of its threads: the signing worker (which holds the
private key) and, for the blocking Client, its event loop thread with the pool on it."""

from __future__ import annotations

import gc
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, Client

from .conftest import MCHID, PUB_KEY_ID, SERIAL
from .wire import WirePeer, pem_public


def threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


async def test_an_async_client_dropped_unclosed_stops_its_signing_worker(
    make_client: Callable[..., AsyncClient], peer: WirePeer
) -> None:
    before = set(threads("wxpay-chain-sign"))
    client = make_client(transport=peer.transport(), offload_crypto="always")
    await client.v3.things.get()  # the worker starts with the first signature
    copy = client.with_options(timeout=5)
    (worker,) = set(threads("wxpay-chain-sign")) - before
    del client
    gc.collect()
    await copy.v3.things.get()  # a copy keeps its original, and so the shared worker, alive
    del copy
    gc.collect()
    worker.join(5)
    assert not worker.is_alive()


def blocking(merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, peer: WirePeer) -> Client:
    """A blocking Client over the in-memory peer that has made one call (its loop thread runs)."""
    keys = {PUB_KEY_ID: pem_public(platform_key)}
    client = Client(
        mchid=MCHID, serial=SERIAL, private_key=merchant_key, platform_keys=keys, transport=peer.transport()
    )
    client.v3.things.get()
    return client


def test_a_blocking_client_dropped_unclosed_stops_its_loop_thread(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, peer: WirePeer
) -> None:
    client = blocking(merchant_key, platform_key, peer)
    loop_thread = client._thread
    copy = client.with_options(retry=1)
    del client
    gc.collect()
    assert copy.v3.things.get().status == 200 and loop_thread.is_alive()
    del copy
    gc.collect()
    loop_thread.join(5)
    assert not loop_thread.is_alive()


class Service:
    """Code that keeps its client and hands it its own methods: the client refers back to it."""

    def __init__(self, make: Callable[..., Any]) -> None:
        self.seen: list[object] = []
        self.client = make(on_response=self.seen.append, clock=self.now)

    def now(self) -> float:
        return time.time()


def test_a_client_whose_hooks_refer_back_to_its_owner_is_still_collected(
    make_client: Callable[..., AsyncClient], merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    keys = {PUB_KEY_ID: pem_public(platform_key)}
    makers: list[Callable[..., Any]] = [
        lambda **kw: make_client(offload_crypto="always", **kw),
        lambda **kw: Client(mchid=MCHID, serial=SERIAL, private_key=merchant_key, platform_keys=keys, **kw),
    ]
    for make in makers:
        service = Service(make)
        gone = weakref.ref(service.client)
        del service
        gc.collect()
        assert gone() is None  # a finalizer that held the hooks would keep it, its key and its thread


def test_a_blocking_client_dropped_in_a_forked_child_stops_the_childs_loop_thread(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, peer: WirePeer
) -> None:
    client = blocking(merchant_key, platform_key, peer)
    pid = os.fork()
    if pid == 0:  # the child: its own loop thread comes with its first call
        status = 1
        try:
            client.v3.things.get()
            child_loop = client._thread
            del client
            gc.collect()
            child_loop.join(5)
            status = 0 if not child_loop.is_alive() else 2
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    client.close()
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_closed_client_leaves_nothing_for_collection_or_exit_to_let_go_of(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, peer: WirePeer
) -> None:
    # Its finalizer would otherwise stop the signing worker a second time at exit, and keep the loop, the
    # worker and the pool referenced for as long as the client itself is.
    from wxpay_chain import _loop_thread

    client = blocking(merchant_key, platform_key, peer)
    finalizer = client._collected
    assert finalizer.alive and finalizer in _loop_thread._OPEN
    client.close()
    assert not finalizer.alive
