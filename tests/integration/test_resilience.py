"""Faults survived: no duplicate coupon, no trusted tampered answer, clean cancellation and shutdown,
and no key material in DEBUG logs."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from wxpay_chain import (
    AsyncClient,
    RetryPolicy,
    SignatureError,
    Timeout,
    TransportError,
    TransportTimeoutError,
    WxPayError,
)
from wxpay_chain.sandbox import (
    DEMO_APPID,
    DEMO_OPENIDS,
    DEMO_STOCK_IDS,
    PARTNER_USER_COUPONS,
    Fault,
    Sandbox,
    stock_document,
)

FAST_RETRY = RetryPolicy(attempts=4, backoff=0.001, cap=0.005)
BUSIFAVOR = "v3/marketing/busifavor/users/{openid}/coupons"


LOAD_STOCK = "1000000013099"


def send_body(number: str, stock_id: str = DEMO_STOCK_IDS[0]) -> dict[str, str]:
    return {
        "brand_id": "120344",
        "product_coupon_id": "1000000013",
        "stock_id": stock_id,
        "appid": DEMO_APPID,
        "send_request_no": number,
    }


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


async def test_random_faults_never_duplicate_a_coupon_and_every_call_ends_typed(sb: Sandbox) -> None:
    calls = 1000
    faults = (
        Fault.reset(when="before"),
        Fault.reset(when="after"),
        Fault.http_status(500),
        Fault.http_status(502, when="after"),
        Fault.http_status(503),
        Fault.http_status(429, retry_after=0),
        Fault.delay(0.5, when="after"),  # issued, then the answer comes after the client's timeout
        Fault.truncate(),
        Fault.drop_signature(),
        Fault.corrupt_signature(),
        Fault.stale_timestamp(),
    )
    sb.add_stock(stock_document(LOAD_STOCK, "1000000013", max_count=10 * calls))
    sb.faults.random(*faults, rate=0.2, seed=7, method="POST", path=PARTNER_USER_COUPONS)
    gate = asyncio.Semaphore(50)
    outcomes: dict[str, str] = {}
    details: dict[str, str] = {}

    async def send(client: AsyncClient, n: int) -> None:
        number = f"LOAD-{n:05d}"
        async with gate:
            try:
                await client.v3.marketing.partner.productCoupon.users._openid_.coupons.post(
                    openid=f"o-load-{n}", json=send_body(number, LOAD_STOCK)
                )
                outcomes[number] = "ok"
            except WxPayError as exc:
                outcomes[number] = type(exc).__name__
                details[number] = str(exc)

    async with sb.client(retry=FAST_RETRY, timeout=Timeout(total=0.25, connect=0.25)) as client:
        await asyncio.gather(*(send(client, n) for n in range(calls)))

    ledger = Counter(c.send_request_no for c in sb.issued_coupons() if c.send_request_no.startswith("LOAD-"))
    assert len(outcomes) == calls
    assert max(ledger.values()) == 1, "a send_request_no was issued twice"
    succeeded = {n for n, o in outcomes.items() if o == "ok"}
    failed_but_issued = Counter(o for n, o in outcomes.items() if o != "ok" and n in ledger)
    failed_not_issued = Counter(o for n, o in outcomes.items() if o != "ok" and n not in ledger)
    assert succeeded <= set(ledger)
    assert len(ledger) == len(succeeded) + sum(failed_but_issued.values())
    assert "ApiError" not in outcomes.values(), [details[n] for n, o in outcomes.items() if o == "ApiError"][:3]
    assert set(failed_but_issued) | set(failed_not_issued) <= {
        "SignatureError",
        "TransportError",
        "TransportTimeoutError",
        "ServerError",
        "RateLimitError",
    }
    print(
        f"\n{calls} sends, 20% faults: {len(succeeded)} ok; issued but failed {dict(failed_but_issued)}; "
        f"not issued {dict(failed_not_issued)}; ledger {len(ledger)} coupons, no duplicates"
    )


@pytest.mark.parametrize("fault", [Fault.drop_signature(), Fault.corrupt_signature(), Fault.stale_timestamp()])
async def test_every_tampered_or_unsigned_2xx_raises_signature_error(sb: Sandbox, fault: Fault) -> None:
    sb.faults.script(fault)
    async with sb.client(retry=1) as client:
        with pytest.raises(SignatureError) as info:
            await client[BUSIFAVOR].get(openid=DEMO_OPENIDS[0], query={"appid": DEMO_APPID})
    assert "stock_name" not in str(info.value)


async def test_truncated_answer_is_a_transport_error_not_data(sb: Sandbox) -> None:
    sb.faults.script(Fault.truncate())
    async with sb.client(retry=1) as client:
        with pytest.raises(TransportError):
            await client[BUSIFAVOR].get(openid=DEMO_OPENIDS[0], query={"appid": DEMO_APPID})


async def server_holds_a_request(sb: Sandbox) -> None:
    """Yield to the loop the sandbox shares with the test until its handler has taken the delay fault."""
    for _ in range(100_000):
        if sb.faults.injected:
            return
        await asyncio.sleep(0)  # a bare yield, not a timed wait
    raise AssertionError("the sandbox never received the request")


async def test_a_cancelled_call_releases_its_connection(sb: Sandbox) -> None:
    sb.faults.script(Fault.delay(30))
    async with sb.client(pool_limit=1) as client:
        slow = asyncio.ensure_future(client[BUSIFAVOR].get(openid=DEMO_OPENIDS[0], query={"appid": DEMO_APPID}))
        await server_holds_a_request(sb)  # the call holds the pool's only connection now
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        # with a pool of one, this times out if the cancelled call kept its connection
        r = await client[BUSIFAVOR].get(openid=DEMO_OPENIDS[0], query={"appid": DEMO_APPID}, timeout=5)
        assert r.status == 200


async def test_closing_the_client_ends_calls_in_flight_with_a_clear_error(sb: Sandbox) -> None:
    sb.faults.script(Fault.delay(30))
    client = sb.client(retry=1)
    call = asyncio.ensure_future(client[BUSIFAVOR].get(openid=DEMO_OPENIDS[0], query={"appid": DEMO_APPID}))
    await server_holds_a_request(sb)
    await client.aclose()
    with pytest.raises(TransportError, match="closed"):
        await call


async def test_debug_logs_of_a_full_run_hold_no_key_material(sb: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    creds = sb.credentials
    sb.faults.script(Fault.http_status(500))
    async with sb.client(apiv3_key=creds.apiv3_key, retry=FAST_RETRY, passphrase=None) as client:
        await client[BUSIFAVOR].get(openid=DEMO_OPENIDS[0], query={"appid": DEMO_APPID})
        await client.v3.marketing.partner.productCoupon.users._openid_.coupons.post(
            openid="o-log", json=send_body("LOG-001")
        )
        await client.download_certificates()
        secret = client.encrypt("张三")
        await client.v3.marketing.partner.productCoupon.users._openid_.coupons.get(
            openid="o-log", query={"brand_id": "120344", "appid": DEMO_APPID}
        )
        text = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records) + repr(client) + repr(creds)
    assert "signing WECHATPAY2-SHA256-RSA2048 message" in text  # the DEBUG line is there to be checked
    body_lines = [line for line in creds.private_key.splitlines() if "-----" not in line]
    assert not any(line in text for line in body_lines)
    assert creds.apiv3_key not in text
    assert "Authorization': '***'" in text
    for record in sb.received[-3:]:
        signature = record.headers["Authorization"].split('signature="')[1].rstrip('"')
        assert signature not in text
    assert secret not in text or len(secret) < 20


def test_no_secret_in_any_repr(sb: Sandbox) -> None:
    creds = sb.credentials
    shown = repr(creds) + repr(sb.client(apiv3_key=creds.apiv3_key)) + repr(sb.keys)
    assert creds.apiv3_key not in shown and "PRIVATE KEY" not in shown


async def test_a_calls_timeout_holds_through_the_certificate_download_it_waits_for() -> None:
    # Automatic mode: the call needs certificates first, and their download is slow. The call's 1 s
    # covers it; it had waited for the download's own 30 s.
    async with Sandbox(answer_mode="certificate") as sb:
        sb.faults.script(Fault.delay(8), method="GET", path="v3/certificates")
        async with sb.client(platform_keys=None, apiv3_key=sb.credentials.apiv3_key) as client:
            started = asyncio.get_running_loop().time()
            # Not sent: a TransportError, whose cause is the wait for the download running out.
            with pytest.raises(TransportError, match="still being downloaded when the call's timeout ran out") as info:
                call = client[BUSIFAVOR].get(openid=DEMO_OPENIDS[0], query={"appid": DEMO_APPID}, timeout=1)
                await asyncio.wait_for(call, 6)
            assert asyncio.get_running_loop().time() - started < 3
    assert isinstance(info.value.__cause__, TransportTimeoutError) and info.value.connect_failed
    assert "request number" not in str(info.value)  # nothing was sent
