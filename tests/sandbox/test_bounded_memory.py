"""What the sandbox keeps of the requests it gets stays bounded, whoever sends them (issue 15, finding 10)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from wxpay_chain.sandbox import DEMO_APPID, DEMO_OPENIDS, Fault, Sandbox

from ._paths import FRESH, partner, send_body
from ._wire import Identity, Wire

KIB = 1024
ANONYMOUS = {"Accept": "application/json", "User-Agent": "flood/1.0", "Content-Type": "application/json"}


async def _flood(http: aiohttp.ClientSession, sb: Sandbox, n: int, size: int) -> None:
    """``n`` unsigned POSTs of ``size`` bytes, half with a made-up Authorization."""
    url = sb.base_url + partner(FRESH).lstrip("/")
    for i in range(n):
        headers = {**ANONYMOUS, "Authorization": "WECHATPAY2-SHA256-RSA2048 " + "a" * 4000} if i % 2 else ANONYMOUS
        async with http.post(url, data=b"{" + b"x" * (size - 1), headers=headers) as answer:
            assert answer.status == 401
            await answer.read()


async def test_unauthenticated_bodies_are_kept_as_a_count_and_their_first_bytes(http: aiohttp.ClientSession) -> None:
    async with Sandbox() as sb:
        await _flood(http, sb, 50, 256 * KIB)
        kept = list(sb.received)
        assert sum(len(r.body) for r in kept) <= 50 * 256  # not 12.5 MiB
        assert len(kept) == 50 and sb.received.rejected_count == 50 and sb.received.dropped_count == 0
        for record in kept:
            assert record.rejected and record.code == "SIGN_ERROR" and record.caller is None
            assert record.body == b"{" + b"x" * 255 and record.body_length == 256 * KIB and record.truncated
            assert not record.headers  # not even the 4 KB Authorization
        assert sb.received.body_bytes == 50 * 256


async def test_the_record_holds_the_last_keep_requests(http: aiohttp.ClientSession) -> None:
    async with Sandbox(keep_requests=5) as sb:
        await _flood(http, sb, 12, 64 * KIB)
        assert len(sb.received) == 5
        assert (sb.received.total_count, sb.received.rejected_count, sb.received.dropped_count) == (12, 12, 7)
        async with sb.client() as client:
            ids = []
            for _ in range(8):
                r = await client.v3.marketing.busifavor.users._openid_.coupons.get(
                    openid=DEMO_OPENIDS[0], query={"appid": DEMO_APPID}
                )
                assert r.status == 200
                ids.append(r.headers["Request-ID"])
        assert [record.request_id for record in sb.received] == ids[-5:]
        assert sb.received[-5:] == list(sb.received) == sb.received
        for record in sb.received:
            assert record.caller == f"merchant:{sb.credentials.mchid}" and not record.rejected
            assert record.headers["Authorization"].startswith("WECHATPAY2-SHA256-RSA2048 ")
        assert (sb.received.total_count, sb.received.rejected_count, sb.received.dropped_count) == (20, 12, 15)


async def test_authenticated_bodies_are_truncated_and_capped_in_all(http: aiohttp.ClientSession) -> None:
    async with Sandbox(keep_body_bytes=256 * KIB) as sb:
        merchant = Wire(http, sb.base_url, Identity.merchant(sb.credentials), clock=sb.now)
        bodies = [json.dumps(send_body(f"big-{i}", attach=str(i) * (100 * KIB))).encode() for i in range(6)]
        for body in bodies:
            answer = await merchant.send("POST", partner(FRESH), body)
            assert answer.status == 400  # verified, then refused as a business matter
        # 64 KiB kept of each, and four of those fill 256 KiB: the two oldest were dropped.
        assert [record.body for record in sb.received] == [body[: 64 * KIB] for body in bodies[2:]]
        assert all(r.truncated and r.body_length == len(b) for r, b in zip(sb.received, bodies[2:], strict=True))
        assert sb.received.body_bytes == 256 * KIB and sb.received.dropped_count == 2
        assert sb.received.rejected_count == 0


async def test_a_body_over_1_mib_is_refused_unread() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * (512 * KIB)

    async with Sandbox() as sb:
        # Its own session, closed first: the half-sent upload would hold up the sandbox's shutdown.
        async with aiohttp.ClientSession() as http:
            url = sb.base_url + partner(FRESH).lstrip("/")
            async with http.post(url, data=chunks(), headers=ANONYMOUS) as answer:  # chunked: no Content-Length
                assert answer.status == 413
        assert sb.received[-1].rejected and sb.received[-1].body == b""


async def test_injected_faults_are_kept_within_keep_requests(http: aiohttp.ClientSession) -> None:
    async with Sandbox(keep_requests=3) as sb:
        sb.faults.random(Fault.http_status(503), rate=1.0)
        for _ in range(7):
            async with http.get(sb.base_url + "v3/certificates", headers=ANONYMOUS) as answer:
                assert answer.status == 503
        assert len(sb.faults.injected) == 3 and len(sb.received) == 3
        # Answered by the fault before any check: not counted as rejected.
        assert sb.received.rejected_count == 0 and all(r.fault == "status" for r in sb.received)


@pytest.mark.parametrize("options", [{"keep_requests": -1}, {"keep_body_bytes": -1}])
def test_negative_bounds_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        Sandbox(**options)
