"""The clients a sandbox makes keep its clock: with the sandbox's clock moved, their calls still pass."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from wxpay_chain import ApiError
from wxpay_chain.sandbox import DEMO_APPID, Sandbox, ThreadedSandbox

from ._paths import RICH

REPO = Path(__file__).resolve().parents[2]
SEVEN_WEEKS = 49 * 86400.0
BRAND_WALLET = "brand/marketing/product-coupon/users/{openid}/coupons"


def later() -> float:
    return time.time() + SEVEN_WEEKS


@pytest.fixture
def moved() -> Iterator[ThreadedSandbox]:
    with Sandbox.in_thread(clock=later) as sb:
        yield sb


def test_blocking_clients_sign_and_verify_on_the_sandboxs_clock(moved: ThreadedSandbox) -> None:
    with moved.blocking_client() as client:
        assert client.v3.certificates.get().status == 200
    with moved.blocking_brand_client() as brand:
        assert brand[BRAND_WALLET].get(openid=RICH, query={"appid": DEMO_APPID}).status == 200
    assert [r.status for r in moved.received] == [200, 200]


def test_async_clients_sign_and_verify_on_the_sandboxs_clock(moved: ThreadedSandbox) -> None:
    async def main() -> tuple[int, int]:
        async with moved.client() as client:
            merchant = await client.v3.certificates.get()
        async with moved.brand_client() as brand:
            answer = await brand[BRAND_WALLET].get(openid=RICH, query={"appid": DEMO_APPID})
        return merchant.status, answer.status

    assert asyncio.run(main()) == (200, 200)


def test_a_clock_the_caller_passes_wins(moved: ThreadedSandbox) -> None:
    # The real time is seven weeks behind this sandbox: it refuses the request as stale.
    with moved.blocking_client(clock=time.time) as client, pytest.raises(ApiError) as raised:
        client.v3.certificates.get()
    assert raised.value.status == 401
    assert moved.received[-1].status == 401


PLUGIN_PROJECT = textwrap.dedent(
    """
    import asyncio
    import time

    import pytest

    @pytest.fixture
    def wxpay_sandbox_options():
        return {"clock": lambda: time.time() + 49 * 86400}

    def test_blocking_fixture(wxpay_client):
        assert wxpay_client.v3.certificates.get().status == 200

    def test_async_factory(wxpay_async_client):
        async def main():
            async with wxpay_async_client() as client:
                return (await client.v3.certificates.get()).status
        assert asyncio.run(main()) == 200
    """
)


def test_plugin_fixtures_follow_a_clock_given_in_wxpay_sandbox_options(tmp_path: Path) -> None:
    (tmp_path / "test_moved.py").write_text(PLUGIN_PROJECT)
    args = ["-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:aiohttp"]
    args += ["-p", "no:wxpay_chain", "-p", "wxpay_chain.sandbox.pytest_plugin", "test_moved.py"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
