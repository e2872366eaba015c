"""Signing in a child process: the exact bytes, handed back; a child that dies, stalls or never starts
loses no call; closing stops it; the key never travels in argv."""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, ConfigurationError, MemoryTransport, TransportError
from wxpay_chain._crypto import rsa_sign
from wxpay_chain._signing_process import SigningProcess

from .wire import WirePeer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the signing process is POSIX only")

MESSAGES = [f"GET\n/v3/things/{n}\n1700000000\nnonce{n}\n\n".encode() for n in range(40)]


@pytest.fixture
async def signer(merchant_key: rsa.RSAPrivateKey) -> AsyncIterator[SigningProcess]:
    process = SigningProcess(merchant_key, stall_after=30)
    yield process
    child = process._process
    if child is not None:
        os.kill(child.pid, signal.SIGCONT)  # a test may have paused it
    process.close()


def paused(signer: SigningProcess) -> int:
    """Stop the child (it must already run) so that every job sent from now on stays owed."""
    assert signer._process is not None and signer.failed is None
    os.kill(signer._process.pid, signal.SIGSTOP)
    return signer._process.pid


async def test_the_child_signs_the_exact_bytes(signer: SigningProcess, merchant_key: rsa.RSAPrivateKey) -> None:
    signatures = await asyncio.gather(*(signer.sign(m) for m in MESSAGES))
    # PKCS#1 v1.5 is deterministic: the same key and bytes give the same signature wherever it is made.
    assert signatures == [rsa_sign(merchant_key, m) for m in MESSAGES]
    assert signer.failed is None and signer._process is not None and signer._process.poll() is None
    assert not any("PRIVATE KEY" in str(arg) for arg in signer._process.args)  # type: ignore[union-attr]


async def test_a_child_killed_with_signatures_owed_loses_none(
    signer: SigningProcess, merchant_key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    await signer.sign(MESSAGES[0])
    pid = paused(signer)
    owed = [signer.sign(m) for m in MESSAGES]
    await asyncio.sleep(0)  # one loop turn: the flush queued by sign() writes them to the pipe
    with caplog.at_level(logging.WARNING, logger="wxpay_chain.signing"):
        os.kill(pid, signal.SIGKILL)
        signatures = await asyncio.wait_for(asyncio.gather(*owed), 30)
        later = await signer.sign(b"after")
    assert signatures == [rsa_sign(merchant_key, m) for m in MESSAGES]
    assert later == rsa_sign(merchant_key, b"after")
    assert signer.failed is not None and signer.failed.startswith("exited")
    assert [r.getMessage() for r in caplog.records] == [
        f"The signing process {signer.failed}; signing in this process from now on"
    ]


async def test_a_stalled_child_is_given_up_and_its_work_signed_here(merchant_key: rsa.RSAPrivateKey) -> None:
    # The watchdog covers the child's start too: 1 s leaves a loaded machine time to start it.
    signer = SigningProcess(merchant_key, stall_after=1.0)
    await signer.sign(MESSAGES[0])
    child = signer._process
    assert child is not None
    paused(signer)
    try:
        signatures = await asyncio.wait_for(asyncio.gather(*(signer.sign(m) for m in MESSAGES[:5])), 10)
    finally:
        signer.close()
    assert signatures == [rsa_sign(merchant_key, m) for m in MESSAGES[:5]]
    assert signer.failed is not None and signer.failed.startswith("sent no signature")
    assert child.poll() is not None  # killed and reaped, paused or not


@pytest.mark.parametrize("executable", ["/nonexistent/python", "/bin/false"])
async def test_a_child_that_cannot_start_or_dies_at_once_loses_nothing(
    merchant_key: rsa.RSAPrivateKey, executable: str
) -> None:
    signer = SigningProcess(merchant_key, executable=executable)
    try:
        signatures = await asyncio.wait_for(asyncio.gather(*(signer.sign(m) for m in MESSAGES)), 30)
    finally:
        signer.close()
    assert signatures == [rsa_sign(merchant_key, m) for m in MESSAGES]
    assert signer.failed is not None


async def test_closing_fails_owed_calls_as_not_sent_and_reaps_the_child(signer: SigningProcess) -> None:
    await signer.sign(MESSAGES[0])
    child = signer._process
    assert child is not None
    paused(signer)
    owed = signer.sign(MESSAGES[1])
    signer.close()
    with pytest.raises(TransportError, match="nothing was sent") as caught:
        await owed
    assert caught.value.connect_failed
    assert child.poll() is not None and child.stdin is not None and child.stdin.closed


async def test_concurrent_calls_through_the_process_verify_on_the_wire(
    make_client: Callable[..., AsyncClient], base_url: str, peer: WirePeer
) -> None:
    async with make_client(base_url=base_url, offload_crypto="process") as client:
        results = await asyncio.gather(*(client.v3.things._id_.post(id=str(n), json={"n": n}) for n in range(32)))
        offloader = client._authorizer._worker
        assert isinstance(offloader, SigningProcess) and offloader.failed is None
        child = offloader._process
        assert child is not None and child.poll() is None
    assert all(r.status == 200 for r in results)
    assert len(peer.seen) == 32 and all(s.signature_ok for s in peer.seen)
    assert child.poll() is not None  # closing the client stopped it


async def test_copies_share_one_signer_and_the_original_stops_it(
    make_client: Callable[..., AsyncClient], memory: MemoryTransport
) -> None:
    client = make_client(transport=memory, offload_crypto="always")
    copy = client.with_options(timeout=5, retry=1)
    try:
        assert copy._authorizer._worker is client._authorizer._worker
        await asyncio.gather(*(copy.v3.things.get() for _ in range(4)))
        await copy.aclose()  # a copy leaves shared things to the original
        worker = client._authorizer._worker._thread  # type: ignore[union-attr]
        assert worker is not None and worker.is_alive()
    finally:
        await client.aclose()
    await asyncio.to_thread(worker.join, 5)
    assert not worker.is_alive()


def test_the_process_mode_is_refused_where_pipes_cannot_be_watched(
    make_client: Callable[..., AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(ConfigurationError, match='offload_crypto="process" needs a POSIX system'):
        make_client(offload_crypto="process")


async def test_messages_larger_than_the_pipe_go_through_in_pieces(
    signer: SigningProcess, merchant_key: rsa.RSAPrivateKey
) -> None:
    big = [bytes([65 + n]) * 300_000 for n in range(3)]  # each over a Linux pipe's 64 KiB buffer
    signatures = await asyncio.wait_for(asyncio.gather(*(signer.sign(m) for m in big)), 15)
    assert signatures == [rsa_sign(merchant_key, m) for m in big]
    assert signer.failed is None and not signer._outbox and not signer._writer_on


async def test_the_child_imports_nothing_from_the_working_directory(
    merchant_key: rsa.RSAPrivateKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The child is handed the private key. A runpy.py in the working directory must not run in it, even
    # where runpy is not frozen (Python 3.10; here: -X frozen_modules=off).
    planted = tmp_path / "cwd"
    planted.mkdir()
    stolen = tmp_path / "stolen"
    (planted / "runpy.py").write_text(f"open({str(stolen)!r}, 'w').close()\nraise SystemExit(3)\n")
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -X frozen_modules=off "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.chdir(planted)
    signer = SigningProcess(merchant_key, executable=str(wrapper))
    try:
        assert await signer.sign(MESSAGES[0]) == rsa_sign(merchant_key, MESSAGES[0])
        assert signer.failed is None and not stolen.exists()
    finally:
        signer.close()


async def test_a_fork_during_the_parents_write_leaves_the_child_buffers_it_can_use(
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    # A fork while the parent's loop thread was inside os.write(outbox) gave the child a copy of the
    # buffer with an export that is never released: every later call there failed with BufferError.
    signer = SigningProcess(merchant_key, stall_after=30)
    child = None
    try:
        await signer.sign(MESSAGES[0])
        child = signer._process  # forgotten below, as a forked child forgets its parent's: reaped here
        held = memoryview(signer._outbox)  # what the parent's write held when the fork came
        signer._pid = -1  # as seen from the forked child
        signer._forget_parent()
        signer._outbox += b"next job"  # resizing the buffer: it raised BufferError
        held.release()
        assert signer._outbox == b"next job" and signer._received == b""
    finally:
        signer._pid = os.getpid()
        signer.close()
        if child is not None:
            child.kill()
            child.wait(10)
