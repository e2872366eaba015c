"""Shutting down around calls in flight: close() from a signal handler of the calling thread, a process
exiting with a half-read paginate(), and a call cut off by closing during its back-off."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import wxpay_chain._sync as sync_module
from wxpay_chain import AsyncClient, Client, MemoryTransport, Request, RetryPolicy, TransportError

from .conftest import MCHID, PUB_KEY_ID, SERIAL
from .wire import WirePeer, pem_public

ROOT = Path(__file__).resolve().parents[2]


def blocking(merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, **options: Any) -> Client:
    return Client(
        mchid=MCHID,
        serial=SERIAL,
        private_key=merchant_key,
        platform_keys={PUB_KEY_ID: pem_public(platform_key)},
        **options,
    )


@pytest.mark.parametrize("when", ["before the call is handed over", "after the call is handed over"])
def test_close_from_a_signal_handler_of_the_calling_thread_ends_the_call(
    monkeypatch: pytest.MonkeyPatch,
    merchant_key: rsa.RSAPrivateKey,
    platform_key: rsa.RSAPrivateKey,
    peer: WirePeer,
    when: str,
) -> None:
    # A SIGTERM handler that closes the client may run on the very thread that is handing a call to the loop:
    # close() then ran inside that call's locked section, and waited for its lock for good.
    client = blocking(merchant_key, platform_key, transport=peer.transport())
    real = sync_module.submit  # hands a call to the loop thread

    def handing_over(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], future: Any) -> None:
        if when.startswith("before"):
            client.close()  # as a signal handler would, between two bytecodes of this thread
            return real(loop, coro, future)
        real(loop, coro, future)
        client.close()

    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            client.v3.things.get()
            outcome.append(None)
        except BaseException as exc:  # the test reports what the call ended with
            outcome.append(exc)

    monkeypatch.setattr(sync_module, "submit", handing_over)
    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(30)  # a bound for the deadlock this guards against, not a synchronisation
    monkeypatch.undo()
    assert not worker.is_alive(), "close() in a signal handler deadlocked the calling thread"
    assert len(outcome) == 1
    if when.startswith("before"):
        assert isinstance(outcome[0], TransportError) and "closed" in str(outcome[0])
    else:  # handed over first: close() lets a call whose answer is already there return it
        assert outcome[0] is None or isinstance(outcome[0], TransportError)
    with pytest.raises(TransportError, match="closed"):
        client.v3.things.get()


def test_a_process_exits_with_an_open_client_and_a_half_read_paginate(tmp_path: Path) -> None:
    # At exit the generator's cleanup ran on a loop thread that was already gone, and waited for it for good.
    script = tmp_path / "half_read.py"
    script.write_text(
        textwrap.dedent(
            """
            from wxpay_chain.sandbox import DEMO_APPID, DEMO_OPENIDS, Sandbox
            sandbox = Sandbox.in_thread()
            sandbox.start()
            client = sandbox.blocking_client()  # one per process, never closed
            items = client.v3.marketing.busifavor.users._openid_.coupons.paginate(
                openid=DEMO_OPENIDS[0], query={"appid": DEMO_APPID, "limit": 2})
            print(next(items).coupon_code is not None)
            """
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this tree's package, whatever is installed
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True" and "Traceback" not in done.stderr


def test_a_client_never_closed_closes_its_pool_at_exit(tmp_path: Path) -> None:
    # The README's Django view keeps one Client per process and never closes it: at each worker's exit aiohttp
    # logged its session and connector as never closed (two ERROR lines for an error tracker).
    script = tmp_path / "never_closed.py"
    script.write_text(
        textwrap.dedent(
            """
            import logging
            logging.basicConfig(format="LOGGED %(levelname)s %(message)s")
            from wxpay_chain.sandbox import Sandbox
            sandbox = Sandbox.in_thread()
            sandbox.start()
            client = sandbox.blocking_client()
            print(client.v3.certificates.get().status)
            sandbox.close()
            """
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "200", done.stderr
    assert "Unclosed" not in done.stderr and "LOGGED" not in done.stderr, done.stderr


def resetting(calls: list[str]) -> MemoryTransport:
    def answer(request: Request) -> Any:
        calls.append(request.target)
        raise ConnectionResetError("reset after the request went out")  # it may have reached WeChat Pay

    return MemoryTransport(answer)


# A call whose first attempt fails waits 20 s before the next: the tests close the client in that wait.
SLOW_RETRY: dict[str, Any] = {"retry": RetryPolicy(attempts=3, backoff=20.0, cap=20.0, jitter=False), "timeout": 60}


async def cut_off_in_its_back_off(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, method: str, calls: list[str]
) -> TransportError:
    failed = asyncio.Event()
    async with AsyncClient(
        mchid=MCHID,
        serial=SERIAL,
        private_key=merchant_key,
        platform_keys={PUB_KEY_ID: pem_public(platform_key)},
        transport=resetting(calls),
        on_response=lambda attempt: failed.set(),
        **SLOW_RETRY,
    ) as client:
        things = client.v3.things
        call = asyncio.ensure_future(things.post(json={"send_request_no": "S-1"}) if method == "POST" else things.get())
        await failed.wait()  # the first attempt failed
        await client.aclose()
        with pytest.raises(TransportError, match="closed") as cut:
            await call
    return cut.value


async def test_a_post_cut_off_in_its_back_off_by_aclose_says_it_may_have_gone_through(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    calls: list[str] = []
    cut = await cut_off_in_its_back_off(merchant_key, platform_key, "POST", calls)
    assert "before attempt #2" in str(cut) and "may have reached WeChat Pay on an earlier attempt" in str(cut)
    assert "same request number" in str(cut) and calls == ["/v3/things"]
    assert cut.attempts == ("#1 TransportError",)


async def test_a_get_cut_off_in_its_back_off_is_plainly_closed(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    cut = await cut_off_in_its_back_off(merchant_key, platform_key, "GET", [])
    assert "may have" not in str(cut)  # a read changes nothing


def test_the_blocking_client_closed_in_a_post_back_off_says_it_may_have_gone_through(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    failed = threading.Event()
    client = blocking(
        merchant_key,
        platform_key,
        transport=resetting([]),
        on_response=lambda attempt: failed.set(),
        **SLOW_RETRY,
    )
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            client.v3.things.post(json={"send_request_no": "S-1"})
        except TransportError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    assert failed.wait(30)
    client.close()  # the shutdown of a service, from another thread
    worker.join(30)
    assert len(outcome) == 1 and "may have reached WeChat Pay" in str(outcome[0])
    assert "same request number" in str(outcome[0])
