"""A client dropped without closing it lets go of its threads: the signing worker (which holds the
private key) and, for the blocking Client, its event loop thread with the pool on it."""

from __future__ import annotations

import gc
import threading
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


def test_a_blocking_client_dropped_unclosed_stops_its_loop_thread(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, peer: WirePeer
) -> None:
    options: dict[str, Any] = {"mchid": MCHID, "serial": SERIAL, "private_key": merchant_key}
    client = Client(**options, platform_keys={PUB_KEY_ID: pem_public(platform_key)}, transport=peer.transport())
    client.v3.things.get()
    loop_thread = client._thread
    copy = client.with_options(retry=1)
    del client
    gc.collect()
    assert copy.v3.things.get().status == 200 and loop_thread.is_alive()
    del copy
    gc.collect()
    loop_thread.join(5)
    assert not loop_thread.is_alive()
