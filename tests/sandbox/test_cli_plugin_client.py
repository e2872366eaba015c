"""The sandbox as other parts use it: the wxpay_chain clients, the command-line server, the pytest plugin."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp
import pytest

from wxpay_chain.sandbox import DEMO_APPID, Fault, Sandbox, SandboxCredentials

from ._paths import BRAND_ID, FRESH, RICH
from ._wire import Identity, Wire

REPO = Path(__file__).resolve().parents[2]
PARTNER_TEMPLATE = "v3/marketing/partner/product-coupon/users/{openid}/coupons"


async def test_sandbox_client_is_a_working_async_client(sandbox: Sandbox) -> None:
    from wxpay_chain import AsyncClient, SignatureError

    async with sandbox.client() as client:
        assert isinstance(client, AsyncClient)
        sent = await client[PARTNER_TEMPLATE].post(
            openid=FRESH,
            json={
                "brand_id": BRAND_ID,
                "product_coupon_id": "1000000013",
                "stock_id": "1000000013001",
                "appid": DEMO_APPID,
                "send_request_no": "client-1",
            },
        )
        assert sent.status == 200
        assert sandbox.issued_coupons()[-1].coupon_code == sent.json()["coupon_code"]
        sandbox.faults.script(Fault.corrupt_signature())
        with pytest.raises(SignatureError):
            await client.v3.certificates.get()


async def test_sandbox_brand_client_is_a_working_async_client(sandbox: Sandbox) -> None:
    async with sandbox.brand_client() as client:
        answer = await client["brand/marketing/product-coupon/users/{openid}/coupons"].get(
            openid=RICH, query={"appid": DEMO_APPID}
        )
        assert answer.json()["total_count"] == 8


async def test_command_line_server_writes_config_answers_and_stops_on_sigterm(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    code = "import sys; from wxpay_chain.sandbox._cli import serve; sys.exit(serve('127.0.0.1', 0, sys.argv[1], 0.0))"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        printed: list[str] = []
        while not printed or "Ctrl-C" not in printed[-1]:
            line = await asyncio.wait_for(process.stdout.readline(), 30)  # type: ignore[union-attr]
            assert line, "the sandbox exited early"
            printed.append(line.decode())
        base_url = re.search(r"running at (\S+)", "".join(printed)).group(1)  # type: ignore[union-attr]
        config_path = Path(re.search(r"config\.json \(credentials for clients\): (\S+)", "".join(printed)).group(1))  # type: ignore[union-attr]
        config = json.loads(config_path.read_text())
        assert config["base_url"] == base_url and base_url.startswith("http://127.0.0.1:")
        creds = SandboxCredentials(
            **{
                k: Path(v).read_text()
                if k in {"private_key", "brand_private_key", "pub_key", "platform_certificate"}
                else v
                for k, v in config.items()
            }
        )
        answer = await Wire(http, base_url, Identity.merchant(creds)).send("GET", "/v3/certificates")
        assert answer.status == 200
        assert answer.signature_verifies(creds.platform_certificate)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, _err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    assert b"stopped" in out
    assert (tmp_path / "sandbox-keys.json").exists()


INNER_TESTS = textwrap.dedent(
    """
    import asyncio
    import json
    import urllib.error
    import urllib.request


    def test_sandbox_fixture_serves(wxpay_sandbox):
        request = urllib.request.Request(
            wxpay_sandbox.base_url + "v3/certificates", headers={"Accept": "application/json", "User-Agent": "t"}
        )
        try:
            urllib.request.urlopen(request, timeout=5)
        except urllib.error.HTTPError as error:
            with error:
                assert json.loads(error.read())["code"] == "SIGN_ERROR"
        else:
            raise AssertionError("an unsigned request was accepted")


    def test_blocking_clients(wxpay_client, wxpay_brand_client):
        assert wxpay_client.v3.certificates.get().status == 200
        answer = wxpay_brand_client["brand/marketing/product-coupon/users/{openid}/coupons"].get(
            openid="oh-394z-6CGkNoJrsDLTTUKiAnp4", query={"appid": "wx233544546545989"}
        )
        assert answer.json()["total_count"] == 8


    def test_async_client_factories_work_on_the_tests_own_loop(wxpay_async_client, wxpay_async_brand_client):
        async def main():
            async with wxpay_async_client() as client:
                merchant = await client.v3.certificates.get()
            async with wxpay_async_brand_client() as brand:
                answer = await brand["brand/marketing/product-coupon/users/{openid}/coupons"].get(
                    openid="oh-394z-6CGkNoJrsDLTTUKiAnp4", query={"appid": "wx233544546545989"}
                )
            return merchant.status, answer.status

        assert asyncio.run(main()) == (200, 200)


    def test_session_keys_are_shared(wxpay_sandbox, wxpay_sandbox_keys):
        assert wxpay_sandbox.credentials.serial == wxpay_sandbox_keys.merchant_serial
    """
)


async def test_pytest_plugin_fixtures_work_without_any_async_plugin(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    args = ["-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:aiohttp"]
    args += ["-p", "no:wxpay_chain", "-p", "wxpay_chain.sandbox.pytest_plugin", "test_inner.py"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, out.decode()
    assert b"4 passed" in out


def test_plugin_module_adds_no_imports_of_its_own() -> None:
    # pytest and the wxpay_chain package are loaded anyway when the plugin is; the plugin adds only itself
    # and the sandbox package's lazy __init__, none of the sandbox's modules (its server, state, aiohttp.web).
    code = (
        "import sys, pytest, wxpay_chain; before = set(sys.modules); import wxpay_chain.sandbox.pytest_plugin; "
        "print(sorted(set(sys.modules) - before))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "['wxpay_chain.sandbox', 'wxpay_chain.sandbox.pytest_plugin']"
