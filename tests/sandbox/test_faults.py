"""Fault injection: each kind, before and after the handler, scripted and random, per endpoint and global."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import aiohttp
import pytest

from wxpay_chain.sandbox import CERTIFICATES, PARTNER_USER_COUPONS, Fault, Sandbox

from ._paths import FRESH, partner, send_body
from ._wire import Identity, Wire

SEND = {"method": "POST", "path": PARTNER_USER_COUPONS}


def _numbers(sandbox: Sandbox) -> list[str]:
    return [c.send_request_no for c in sandbox.issued_coupons()]


async def test_reset_before_drops_the_connection_and_issues_nothing(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.faults.script(Fault.reset(), **SEND)
    with pytest.raises(aiohttp.ClientConnectionError):
        await merchant.send("POST", partner(FRESH), send_body("reset-before"))
    assert "reset-before" not in _numbers(sandbox)
    record = sandbox.received[-1]
    assert (record.status, record.fault) == (None, "reset")


@pytest.mark.parametrize("fault", [Fault.reset(), Fault.http_status(503)], ids=["reset", "503"])
async def test_a_request_a_fault_answers_before_any_route_still_has_its_body_recorded(
    sandbox: Sandbox, merchant: Wire, fault: Fault
) -> None:
    # A test that every retry carried the same send_request_no reads it from here: the faulted attempt looked empty.
    sandbox.faults.script(fault, **SEND)
    body = send_body("recorded-before")
    with contextlib.suppress(aiohttp.ClientConnectionError):
        await merchant.send("POST", partner(FRESH), body)
    record = sandbox.received[-1]
    assert record.fault == fault.kind and json.loads(record.body) == body
    assert record.body_length == len(record.body)


async def test_reset_after_issues_then_drops_and_a_retry_returns_the_same_coupon(
    sandbox: Sandbox, merchant: Wire
) -> None:
    sandbox.faults.script(Fault.reset(when="after"), **SEND)
    with pytest.raises(aiohttp.ClientConnectionError):
        await merchant.send("POST", partner(FRESH), send_body("reset-after"))
    assert _numbers(sandbox).count("reset-after") == 1
    retry = await merchant.send("POST", partner(FRESH), send_body("reset-after"))
    assert retry.status == 200
    assert retry.json()["coupon_code"] == sandbox.issued_coupons()[-1].coupon_code
    assert _numbers(sandbox).count("reset-after") == 1


@pytest.mark.parametrize(
    ("status", "code"), [(429, "RATELIMIT_EXCEEDED"), (500, "SYSTEM_ERROR"), (503, "SYSTEM_ERROR")]
)
async def test_status_fault_before_answers_json_error_and_issues_nothing(
    sandbox: Sandbox, merchant: Wire, status: int, code: str
) -> None:
    sandbox.faults.script(Fault.http_status(status, retry_after=3 if status == 503 else None), **SEND)
    answer = await merchant.send("POST", partner(FRESH), send_body(f"status-{status}"))
    assert (answer.status, answer.code) == (status, code)
    assert answer.headers["Request-ID"]
    if status == 429:
        assert answer.headers["Retry-After"] == "1"
    if status == 503:
        assert answer.headers["Retry-After"] == "3"
    assert f"status-{status}" not in _numbers(sandbox)


async def test_502_fault_answers_html_like_a_gateway(merchant: Wire, sandbox: Sandbox) -> None:
    sandbox.faults.script(Fault.http_status(502))
    answer = await merchant.send("GET", CERTIFICATES)
    assert answer.status == 502
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.code is None


async def test_status_fault_after_issues_the_coupon_anyway(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.faults.script(Fault.http_status(500, when="after"), **SEND)
    answer = await merchant.send("POST", partner(FRESH), send_body("status-after"))
    assert answer.status == 500
    assert _numbers(sandbox).count("status-after") == 1


async def test_delay_longer_than_the_client_timeout_times_out(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.faults.script(Fault.delay(2.0), method="GET", path=CERTIFICATES)
    with pytest.raises(asyncio.TimeoutError):
        await merchant.send("GET", CERTIFICATES, timeout=0.1)


async def test_short_delay_answers_late_but_correctly(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.faults.script(Fault.delay(0.15, when="after"), method="GET", path=CERTIFICATES)
    started = time.monotonic()
    answer = await merchant.send("GET", CERTIFICATES)
    assert time.monotonic() - started >= 0.15
    assert answer.signature_verifies(sandbox.credentials.platform_certificate)


async def test_truncated_answer_fails_to_read_after_the_coupon_was_issued(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.faults.script(Fault.truncate(), **SEND)
    with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ClientConnectionError)):
        await merchant.send("POST", partner(FRESH), send_body("truncated"))
    assert _numbers(sandbox).count("truncated") == 1


async def test_drop_signature_removes_every_signature_header(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.faults.script(Fault.drop_signature())
    answer = await merchant.send("GET", CERTIFICATES)
    assert answer.status == 200
    assert not [name for name in answer.headers if name.lower().startswith("wechatpay-")]
    assert answer.headers["Request-ID"]


async def test_corrupt_signature_no_longer_verifies(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.faults.script(Fault.corrupt_signature())
    answer = await merchant.send("GET", CERTIFICATES)
    assert answer.status == 200
    assert not answer.signature_verifies(sandbox.credentials.platform_certificate)


async def test_stale_timestamp_is_validly_signed_but_old(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.faults.script(Fault.stale_timestamp(900))
    answer = await merchant.send("GET", CERTIFICATES)
    assert answer.signature_verifies(sandbox.credentials.platform_certificate)
    assert time.time() - int(answer.headers["Wechatpay-Timestamp"]) >= 899


async def test_scripted_faults_apply_in_order_to_matching_requests_only(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.faults.script(Fault.http_status(500), Fault.http_status(503), method="GET", path=CERTIFICATES)
    other = await merchant.send("POST", partner(FRESH), send_body("unaffected"))
    statuses = [(await merchant.send("GET", CERTIFICATES)).status for _ in range(3)]
    assert other.status == 200
    assert statuses == [500, 503, 200]
    assert sandbox.faults.pending() == 0
    assert [f.fault.status for f in sandbox.faults.injected] == [500, 503]


async def test_global_script_applies_to_any_endpoint(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.faults.script(Fault.http_status(500), Fault.http_status(500))
    first = await merchant.send("GET", CERTIFICATES)
    second = await merchant.send("GET", "/v3/no/such/endpoint")
    assert (first.status, second.status) == (500, 500)


async def test_random_faults_follow_their_seed_and_rate(http: aiohttp.ClientSession) -> None:
    runs = []
    for _ in range(2):
        async with Sandbox() as sb:
            sb.faults.random(Fault.http_status(500), Fault.http_status(503), rate=0.5, seed=3)
            wire = Wire(http, sb.base_url, Identity.merchant(sb.credentials))
            runs.append([(await wire.send("GET", CERTIFICATES)).status for _ in range(16)])
    assert runs[0] == runs[1]
    assert {500, 503, 200} == set(runs[0])


async def test_random_rate_one_hits_every_matching_request_and_clear_stops_it(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.faults.random(Fault.http_status(503), rate=1.0, method="GET", path=CERTIFICATES)
    assert {(await merchant.send("GET", CERTIFICATES)).status for _ in range(4)} == {503}
    sandbox.faults.clear()
    assert (await merchant.send("GET", CERTIFICATES)).status == 200


def test_fault_configuration_is_checked(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="unknown path template"):
        sandbox.faults.script(Fault.reset(), path="/v3/typo")
    with pytest.raises(ValueError):
        sandbox.faults.random(Fault.reset(), rate=1.5)
    with pytest.raises(ValueError):
        Fault.http_status(200)
    assert Fault.truncate().runs_handler and not Fault.reset().runs_handler


async def test_retries_through_random_faults_never_issue_a_send_request_no_twice(
    sandbox: Sandbox, merchant: Wire
) -> None:
    sandbox.faults.random(
        Fault.reset(),
        Fault.reset(when="after"),
        Fault.http_status(500, when="after"),
        Fault.http_status(503),
        Fault.truncate(),
        rate=0.6,
        seed=11,
        **SEND,
    )
    users = [f"o-retry-{n}" for n in range(8)]
    for n, user in enumerate(users):
        for _attempt in range(30):
            try:
                answer = await merchant.send("POST", partner(user), send_body(f"retry-{n}"))
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError):
                continue
            if answer.status == 200:
                break
        else:
            pytest.fail(f"retry-{n} never succeeded")
    numbers = [c.send_request_no for c in sandbox.issued_coupons() if c.send_request_no.startswith("retry-")]
    assert sorted(numbers) == sorted(f"retry-{n}" for n in range(8))
    assert len(sandbox.faults.injected) > 0
