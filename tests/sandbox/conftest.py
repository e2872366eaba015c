from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from wxpay_chain.sandbox import Sandbox

from ._wire import Identity, Wire


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sb:
        yield sb
    bugs = [r for r in sb.received if r.code == "SYSTEM_ERROR" and r.fault is None]
    assert not bugs, f"the sandbox answered 500 to {[(r.method, r.raw_path) for r in bugs]}"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def merchant(sandbox: Sandbox, http: aiohttp.ClientSession) -> Wire:
    return Wire(http, sandbox.base_url, Identity.merchant(sandbox.credentials), clock=sandbox.now)


@pytest.fixture
def brand(sandbox: Sandbox, http: aiohttp.ClientSession) -> Wire:
    return Wire(http, sandbox.base_url, Identity.brand(sandbox.credentials), clock=sandbox.now)
