"""Faults and the request log cover every route and listener the sandbox serves, and it shuts down and
refuses bad request lines quietly."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import ssl
import time
from datetime import datetime, timezone

import aiohttp
import pytest

from wxpay_chain.sandbox import BUSIFAVOR_USER_COUPONS, CERTIFICATES, DEMO_APPID, Fault, Sandbox

from ._paths import busifavor
from ._wire import Wire

V2_QUERY = "/mmpaymkttransfers/query_coupon_stock"
XML = b"<xml><coupon_stock_id>1757</coupon_stock_id></xml>"


def _billed_day() -> str:
    # Two days ago in China (no DST): its bill is made, with the seed's coupon of "$now-2d" in it.
    return datetime.fromtimestamp(time.time() + 8 * 3600 - 2 * 86400, timezone.utc).strftime("%Y-%m-%d")


async def test_a_path_is_one_rule_with_or_without_its_leading_slash(sandbox: Sandbox, merchant: Wire) -> None:
    sdk_form = BUSIFAVOR_USER_COUPONS.removeprefix("/")
    sandbox.faults.script(Fault.http_status(500), method="GET", path=sdk_form)
    sandbox.faults.script(Fault.http_status(503), method="GET", path=BUSIFAVOR_USER_COUPONS)
    assert sandbox.faults.pending() == 2  # the same target: one queue
    statuses = [(await merchant.send("GET", busifavor(appid=DEMO_APPID))).status for _ in range(3)]
    assert statuses == [500, 503, 200]


async def test_the_sdk_template_of_an_apiv2_call_names_its_route(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    sandbox.faults.script(Fault.http_status(503), path="v2/mmpaymkttransfers/query_coupon_stock")
    sandbox.faults.script(Fault.http_status(500), path="/mmpaymkttransfers/query_coupon_stock")
    assert sandbox.faults.pending() == 2
    statuses = []
    for _ in range(2):
        async with http.post(sandbox.base_url + V2_QUERY.lstrip("/"), data=XML) as answer:
            statuses.append(answer.status)
    assert statuses == [503, 500]


def test_a_path_no_route_serves_is_refused(sandbox: Sandbox) -> None:
    for path in ("v3/bill/nosuchbill", "/mmpaymkttransfers", "v2/v3/certificates"):
        with pytest.raises(ValueError, match="unknown path template"):
            sandbox.faults.script(Fault.reset(), path=path)
    for path in ("v3/billdownload/file", "/v3/merchant/media/upload", "v2/mmpaymkttransfers/send_coupon"):
        sandbox.faults.script(Fault.reset(), path=path)  # file routes and APIv2 are known templates


async def test_a_method_only_fault_fires_on_a_bill_download(sandbox: Sandbox, merchant: Wire) -> None:
    offer = await merchant.send("GET", f"/v3/bill/tradebill?bill_date={_billed_day()}")
    assert offer.status == 200
    target = "/" + offer.json()["download_url"].split("/", 3)[3]
    sandbox.faults.script(Fault.http_status(500), method="GET")
    answer = await merchant.send("GET", target)
    assert answer.status == 500
    assert sandbox.faults.pending() == 0
    assert (sandbox.received[-1].fault, sandbox.received[-1].status) == ("status", 500)
    assert (await merchant.send("GET", target)).status == 200  # the fault was one request's


async def test_a_method_only_fault_fires_on_apiv2(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    sandbox.faults.script(Fault.http_status(503), method="POST")
    async with http.post(sandbox.base_url + V2_QUERY.lstrip("/"), data=XML) as answer:
        assert answer.status == 503
        assert answer.headers["Request-ID"] == sandbox.received[-1].request_id
    assert sandbox.faults.pending() == 0
    assert sandbox.faults.injected[-1].raw_path == V2_QUERY


async def test_a_reset_after_the_handler_on_an_upload_route_drops_the_answer(
    sandbox: Sandbox, merchant: Wire
) -> None:
    sandbox.faults.script(Fault.reset(when="after"), path="v3/merchant/media/upload")
    with pytest.raises(aiohttp.ClientConnectionError):
        await merchant.send("POST", "/v3/merchant/media/upload", b"not multipart")
    record = sandbox.received[-1]
    assert (record.raw_path, record.status, record.fault) == ("/v3/merchant/media/upload", None, "reset")


async def test_drop_signature_applies_to_a_signed_file_route_answer(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.faults.script(Fault.drop_signature(), path="v3/bill/tradebill")
    answer = await merchant.send("GET", f"/v3/bill/tradebill?bill_date={_billed_day()}")
    assert answer.status == 200
    assert not [name for name in answer.headers if name.lower().startswith("wechatpay-")]


async def test_stale_timestamp_on_a_file_route_is_validly_signed_but_old(sandbox: Sandbox, merchant: Wire) -> None:
    sandbox.faults.script(Fault.stale_timestamp(900), path="v3/bill/tradebill")
    answer = await merchant.send("GET", f"/v3/bill/tradebill?bill_date={_billed_day()}")
    assert answer.signature_verifies(sandbox.credentials.platform_certificate)
    assert sandbox.now() - int(answer.headers["Wechatpay-Timestamp"]) >= 899


async def test_every_answered_request_is_recorded_whichever_listener(sandbox: Sandbox) -> None:
    https_url = sandbox.credentials.https_base_url
    assert https_url
    trust = ssl.create_default_context(cadata=sandbox.v2.tls.ca_certificate)
    async with aiohttp.ClientSession() as session:
        for base, context in ((sandbox.base_url, None), (https_url, trust)):
            before = sandbox.received.total_count
            async with session.post(base + V2_QUERY.lstrip("/"), data=XML, ssl=context) as answer:
                assert answer.status == 200  # a FAIL in XML: no mch_id, no sign
                assert b"FAIL" in await answer.read()
            assert sandbox.received.total_count == before + 1
            record = sandbox.received[-1]
            assert (record.method, record.raw_path, record.status) == ("POST", V2_QUERY, 200)
            assert record.rejected  # refused before a caller was known: kept as a short prefix
        async with session.get(https_url + CERTIFICATES.lstrip("/"), ssl=trust) as answer:
            assert answer.status == 401
        assert sandbox.received[-1].raw_path == CERTIFICATES


def _blocked_request(base_url: str) -> socket.socket:
    host, port = base_url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    conn = socket.create_connection((host, int(port)))
    conn.sendall(b"GET /v3/certificates HTTP/1.1\r\nHost: sandbox\r\nAccept: */*\r\nUser-Agent: t\r\n\r\n")
    return conn


def test_leaving_in_thread_with_a_delay_in_flight_shuts_down_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with Sandbox.in_thread() as sb:
        sb.faults.script(Fault.delay(30.0), method="GET")
        conn = _blocked_request(sb.base_url)
        deadline = time.monotonic() + 10
        while not sb.faults.injected and time.monotonic() < deadline:  # the request reached the fault
            time.sleep(0.005)
        assert sb.faults.injected
        conn.close()  # the caller gives up: aiohttp no longer tracks the handler still in its delay
        started = time.monotonic()
    gc.collect()
    assert time.monotonic() - started < 5
    destroyed = [r.getMessage() for r in caplog.records if "destroyed but it is pending" in r.getMessage()]
    assert destroyed == []


async def test_an_oversized_request_line_logs_no_traceback(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    host, port = sandbox.base_url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /v3/marketing/busifavor/users/" + b"a" * 100_000 + b"/coupons HTTP/1.1\r\nHost: s\r\n\r\n")
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert status_line.split(b" ")[1] == b"400"
    noisy = [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
    assert noisy == []
    told = [r for r in caplog.records if r.name.startswith("wxpay_chain.sandbox")]
    assert len(told) <= 1 and all(len(r.getMessage()) <= 200 for r in told)


async def test_every_route_the_app_registers_is_a_known_template(sandbox: Sandbox) -> None:
    runner = sandbox._runner  # the app itself: the list of templates must not drift from its routes
    assert runner is not None
    canonical = {resource.canonical for resource in runner.app.router.resources()}
    canonical -= {"/{tail}", "/mmpaymkttransfers/{name}"}  # the APIv3 catch-all; APIv2 is listed call by call
    assert canonical <= set(sandbox.faults.templates)
    assert {"/v3/certificates", "/mmpaymkttransfers/sendredpack"} <= set(sandbox.faults.templates)


async def test_an_apiv2_call_whose_sign_verifies_is_recorded_with_its_caller(sandbox: Sandbox) -> None:
    async with sandbox.client() as client:
        answer = await client.v2.mmpaymkttransfers.query_coupon_stock.post(
            xml={"coupon_stock_id": "1757", "appid": DEMO_APPID}
        )
    assert answer.status == 200
    record = sandbox.received[-1]
    merchant = f"merchant:{sandbox.credentials.mchid}"
    assert (record.raw_path, record.caller, record.rejected) == (V2_QUERY, merchant, False)
    assert b"<sign>" in record.body


@pytest.mark.parametrize(
    ("fault", "why"),
    [(Fault.corrupt_signature(), "sign does not match"), (Fault.drop_signature(), "carries no sign")],
)
async def test_the_signature_faults_spoil_an_apiv2_answers_sign(sandbox: Sandbox, fault: Fault, why: str) -> None:
    # They left an APIv2 answer as it was (and were still listed as injected): its sign is in the XML.
    from wxpay_chain import SignatureError

    sandbox.faults.script(fault, method="POST", path="v2/mmpaymkttransfers/query_coupon_stock")
    async with sandbox.client() as client:
        with pytest.raises(SignatureError, match=why):
            await client.v2.mmpaymkttransfers.query_coupon_stock.post(
                xml={"coupon_stock_id": "1757", "appid": DEMO_APPID}
            )
    assert [injected.fault.kind for injected in sandbox.faults.injected] == [fault.kind]


def test_a_fault_or_rule_that_could_never_apply_is_refused_when_it_is_made(sandbox: Sandbox) -> None:
    # Each was accepted, then used up by a request as nothing (or as a server-side AttributeError), while
    # sb.faults.injected listed it as applied.
    with pytest.raises(ValueError, match="a Fault's when is one of before, after, not 'afer'"):
        Fault.http_status(503, when="afer")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="faults are Fault values"):
        sandbox.faults.script("reset")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method must be one of DELETE, GET, PATCH, POST, PUT, not 'FETCH'"):
        sandbox.faults.script(Fault.reset(), method="FETCH")
    template = r"write it as its template, '/v3/marketing/busifavor/users/\{openid\}/coupons'"
    with pytest.raises(ValueError, match=template):  # a path on the wire, its placeholder filled in
        sandbox.faults.script(Fault.reset(), path="/v3/marketing/busifavor/users/o-1/coupons")
    assert sandbox.faults.pending() == 0
