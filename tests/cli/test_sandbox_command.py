"""``wxpay-chain sandbox``: wxpay.env beside config.json, and --notify-url sending real notifications."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from wxpay_chain import AsyncClient, Client
from wxpay_chain.__main__ import main
from wxpay_chain.sandbox import DEMO_APPID, DEMO_OPENIDS, ThreadedSandbox

from .conftest import cli_env, read_env_file, sandbox_env, stop_sandbox

FRESH = DEMO_OPENIDS[2]
PARTNER = "v3/marketing/partner/product-coupon/users/{openid}/coupons"


def test_wxpay_env_holds_the_merchant_settings_for_from_env(wxpay_sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    env = sandbox_env(wxpay_sandbox, tmp_path)
    assert set(env) == {"WXPAY_MCHID", "WXPAY_SERIAL", "WXPAY_PRIVATE_KEY", "WXPAY_PUBLIC_KEY_ID"} | {
        "WXPAY_PUBLIC_KEY",
        "WXPAY_APIV3_KEY",
        "WXPAY_APIV2_KEY",
        "WXPAY_BASE_URL",
    }
    assert Path(env["WXPAY_PRIVATE_KEY"]).parent == tmp_path.resolve()
    assert (tmp_path / "wxpay.env").stat().st_mode & 0o077 == 0  # it holds the APIv3 key
    with Client.from_env(env) as client:
        assert client.v3.certificates.get().status == 200
        plugin = client.sign_coupon_plugin(send_coupon_params=[{"stock_id": "1", "out_request_no": "N1"}],
                                           send_coupon_merchant=env["WXPAY_MCHID"])
        assert len(plugin["sign"]) == 64  # the APIv2 key came through wxpay.env


def test_a_notify_url_that_is_no_http_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--notify-url", "ftp://example.com/notify"]) == 2
    assert "--notify-url must be an http:// or https:// URL" in capsys.readouterr().err


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, asyncio.Queue[tuple[dict[str, str], bytes]]]]:
    """A notification endpoint on 127.0.0.1 that answers 204 and queues what it received."""
    got: asyncio.Queue[tuple[dict[str, str], bytes]] = asyncio.Queue()

    async def notify(request: web.Request) -> web.Response:
        await got.put((dict(request.headers), await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/wxpay/notify", notify)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/wxpay/notify", got
    finally:
        await runner.cleanup()


async def test_notify_url_delivers_a_signed_encrypted_notification_per_coupon(
    tmp_path: Path, receiver: tuple[str, asyncio.Queue[tuple[dict[str, str], bytes]]]
) -> None:
    url, got = receiver
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wxpay_chain",
        "sandbox",
        "--state-dir",
        str(tmp_path),
        "--notify-url",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
    )
    assert process.stdout is not None

    async def line() -> str:
        assert process.stdout is not None
        text: str = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert text, "the sandbox exited early"
        return text

    try:
        printed = [await line()]
        while "Ctrl-C" not in printed[-1]:
            printed.append(await line())
        assert any(f"notifications: POST {url}" in p for p in printed), printed
        env = read_env_file(tmp_path / "wxpay.env")
        assert env["WXPAY_BASE_URL"] in "".join(printed)
        async with AsyncClient.from_env(env) as client:
            body = {
                "brand_id": "120344",
                "product_coupon_id": "1000000013",
                "stock_id": "1000000013001",
                "appid": DEMO_APPID,
                "send_request_no": "NOTIFY-CLI-1",
            }
            sent = await client[PARTNER].post(openid=FRESH, json=body)
            headers, raw = await asyncio.wait_for(got.get(), 30)
            notification = await client.parse_notification(headers, raw)  # verified and decrypted
        assert notification.event_type == "COUPON.SEND"
        assert notification.resource["coupon_code"] == sent.json()["coupon_code"]
        report = await line()
        assert re.fullmatch(rf"notification {re.escape(json.loads(raw)['id'])} COUPON.SEND: answered 204\n", report)
    finally:
        await stop_sandbox(process)
