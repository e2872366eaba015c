"""Fixtures of the deployment tests: the core tests' independent peer and client factory, and a proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ..core.conftest import base_url, make_client, merchant_key, peer, platform_key
from ._proxy import ForwardProxy

__all__ = ["base_url", "make_client", "merchant_key", "peer", "platform_key"]


@pytest.fixture
async def proxy() -> AsyncIterator[ForwardProxy]:
    server = ForwardProxy()
    await server.start()
    yield server
    await server.close()


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test here sees the machine's proxy settings unless it sets them itself."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
