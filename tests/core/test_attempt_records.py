"""What the on_response hook and the log say of each attempt agrees with what happened: an answer that fails its
checks is a failed attempt, an answer cut off keeps its Request-ID, a raising hook's log line holds no values of
the failed call, and waiting for a signature comes out of the call's timeout."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from wxpay_chain import (
    AsyncClient,
    Attempt,
    Headers,
    MemoryTransport,
    RawResponse,
    SignatureError,
)


async def test_an_answer_that_fails_verification_is_a_failed_attempt(
    make_client: Callable[..., AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    unsigned = MemoryTransport(lambda request: RawResponse(200, Headers({"Request-ID": "r-unsigned"}), b"{}"))
    seen: list[Attempt] = []
    caplog.set_level(logging.INFO, logger="wxpay_chain")
    async with make_client(transport=unsigned, on_response=seen.append, retry=1) as client:
        with pytest.raises(SignatureError):
            await client.v3.things.get()
    (attempt,) = seen
    assert (attempt.status, attempt.request_id) == (200, "r-unsigned")
    assert isinstance(attempt.error, SignatureError)  # metrics built on the hook see the forged or stale answer
    assert "-> SignatureError" in caplog.text and "-> 200" not in caplog.text


async def test_a_wait_for_the_signature_comes_out_of_the_calls_timeout(
    make_client: Callable[..., AsyncClient], peer: Any
) -> None:
    memory = peer.transport()
    async with make_client(transport=memory, offload_crypto="always", timeout=30) as client:
        worker = client._authorizer._worker
        signing = worker.sign

        async def busy(message: bytes) -> str:
            await asyncio.sleep(0.3)  # the signing worker is busy with other calls' signatures
            return await signing(message)

        worker.sign = busy
        await client.v3.things.get()
    sent = memory.requests[-1].timeout.total
    assert sent is not None and sent <= 30 - 0.25  # what was left of the 30 s once it had its signature


async def test_an_attempt_cancelled_while_its_answer_waits_for_certificates_is_still_recorded(
    merchant_key: Any,
) -> None:
    from .test_certificate_listing import Listing, client, listed

    current, rotated = listed(), listed()
    listing = Listing([current], signer=current)
    seen: list[Attempt] = []
    async with client(merchant_key, listing, on_response=seen.append) as c:
        await c.download_certificates()  # the first download comes before any call is sent
        listing.certificates, listing.signer = [current, rotated], rotated
        listing.hold, listing.started = asyncio.Event(), asyncio.Event()
        call = asyncio.ensure_future(c.v3.things.get())  # its answer names a serial: it waits for a download
        await listing.started.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        listing.hold.set()
    assert [(a.request.target, a.status) for a in seen if a.request.target == "/v3/things"] == [("/v3/things", 200)]
