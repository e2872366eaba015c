"""Signing on the worker thread: same exact signatures, batches, errors handed back, clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
import warnings
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, MemoryTransport, RawResponse, Request
from wxpay_chain._crypto import rsa_sign
from wxpay_chain._signing_thread import SigningThread

from .wire import WirePeer


@pytest.mark.parametrize("offload", ["always", "auto", "never"])
async def test_concurrent_calls_sign_correctly_in_every_offload_mode(
    make_client: Callable[..., AsyncClient], memory: MemoryTransport, peer: WirePeer, offload: str
) -> None:
    async with make_client(transport=memory, offload_crypto=offload) as client:
        results = await asyncio.gather(*(client.v3.things._id_.post(id=str(n), json={"n": n}) for n in range(32)))
    assert all(r.status == 200 for r in results)
    assert len(peer.seen) == 32 and all(s.signature_ok for s in peer.seen)
    assert {s.raw_path for s in peer.seen} == {f"/v3/things/{n}" for n in range(32)}


async def test_batches_sign_the_same_bytes_as_inline(merchant_key: rsa.RSAPrivateKey) -> None:
    thread = SigningThread(merchant_key)
    messages = [f"GET\n/v3/{n}\n1\nnonce\n\n".encode() for n in range(50)]
    signatures = await asyncio.gather(*(thread.sign(m) for m in messages))
    thread.close()
    assert signatures == [rsa_sign(merchant_key, m) for m in messages]


class BrokenKey:
    def sign(self, *args: object) -> bytes:
        raise ValueError("the HSM is unplugged")


async def test_an_error_on_the_thread_reaches_the_caller() -> None:
    thread = SigningThread(BrokenKey())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unplugged"):
        await thread.sign(b"m")
    thread.close()


async def test_closing_the_client_stops_the_signing_thread(
    make_client: Callable[..., AsyncClient], memory: MemoryTransport
) -> None:
    client = make_client(transport=memory, offload_crypto="always")
    try:
        await client.v3.things.get()
        worker = client._authorizer._worker._thread  # type: ignore[union-attr]
        assert worker is not None and worker.is_alive() and worker.name == "wxpay-chain-sign"
    finally:
        await client.aclose()
    await asyncio.to_thread(worker.join, 5)
    assert not worker.is_alive()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
async def test_a_forked_child_starts_its_own_signing_thread(merchant_key: rsa.RSAPrivateKey) -> None:
    thread = SigningThread(merchant_key)
    await thread.sign(b"parent")  # the worker thread now runs, in the parent only
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+ warns about fork with threads alive
        pid = os.fork()
    if pid == 0:  # the child: sign once on a fresh loop (the alarm ends it if it hangs), report, leave

        async def sign_in_child() -> str:
            return await thread.sign(b"child")

        try:
            signal.alarm(20)
            os.write(write_end, asyncio.run(sign_in_child()).encode())
        except BaseException as exc:
            os.write(write_end, repr(exc).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        signature = (await asyncio.to_thread(pipe.read)).decode()
    os.waitpid(pid, 0)
    thread.close()
    assert signature == rsa_sign(merchant_key, b"child")


class ScriptedWorker:
    """A signing worker that owes ``backlog`` signatures and records what it is asked to sign."""

    def __init__(self, key: rsa.RSAPrivateKey, backlog: int) -> None:
        self.key, self.owed, self.asked = key, backlog, 0

    def backlog(self) -> int:
        return self.owed

    def sign(self, message: bytes) -> asyncio.Future[str]:
        self.asked += 1
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        future.set_result(rsa_sign(self.key, message))
        return future

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("offload", "backlog", "overlapping", "on_worker"),
    [
        ("auto", 0, False, False),  # a lone call: inline
        ("auto", 0, True, True),  # calls overlap: the worker signs
        ("auto", 2, True, True),
        ("auto", 3, True, False),  # the worker is three behind: the loop signs this one itself
        ("auto", 50, True, False),
        ("always", 50, True, True),  # "always" means always
        ("always", 0, False, True),
    ],
)
async def test_auto_signs_here_once_the_worker_is_three_signatures_behind(
    make_client: Callable[..., AsyncClient],
    memory: MemoryTransport,
    peer: WirePeer,
    merchant_key: rsa.RSAPrivateKey,
    offload: str,
    backlog: int,
    overlapping: bool,
    on_worker: bool,
) -> None:
    async with make_client(transport=memory, offload_crypto=offload) as client:
        worker = ScriptedWorker(merchant_key, backlog)
        client._authorizer._worker.close()  # type: ignore[union-attr]
        client._authorizer._worker = worker  # type: ignore[assignment]
        prepared = client.prepare("GET", "v3/things/{id}", kwargs={"id": "1"})
        request = await client._authorizer.authorize(prepared, prepared.origin, overlapping)
        await memory.send(request)
    assert worker.asked == (1 if on_worker else 0)
    assert peer.seen[-1].signature_ok  # signed right wherever it was signed, checked by the independent peer


async def test_calls_through_with_options_copies_count_as_overlapping(
    make_client: Callable[..., AsyncClient], peer: WirePeer, merchant_key: rsa.RSAPrivateKey
) -> None:
    async def answer(request: Request) -> RawResponse:
        await asyncio.sleep(0)  # in flight for a moment, as a real answer is
        return await peer.answer_in_memory(request)

    async with make_client(transport=MemoryTransport(answer)) as client:
        worker = ScriptedWorker(merchant_key, backlog=0)
        client._authorizer._worker.close()  # type: ignore[union-attr]
        client._authorizer._worker = worker  # type: ignore[assignment]
        # A copy made per call (a timeout for this call only) shares the client's signing worker, so the
        # calls of all copies together decide whether calls overlap.
        calls = [client.with_options(timeout=5).v3.things._id_.get(id=str(n)) for n in range(8)]
        results = await asyncio.gather(*calls)
    assert all(r.status == 200 for r in results) and worker.asked >= 7
    assert all(s.signature_ok for s in peer.seen)
