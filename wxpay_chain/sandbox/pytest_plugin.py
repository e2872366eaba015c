"""pytest fixtures that run the wxpay_chain sandbox, registered as the ``wxpay_chain`` pytest plugin.

They need nothing beyond pytest and wxpay-chain: the sandbox serves from its own thread, so blocking
tests use ``wxpay_client`` / ``wxpay_brand_client`` (blocking ``Client``s), and async code creates its
``AsyncClient`` on its own loop with the ``wxpay_async_client`` / ``wxpay_async_brand_client`` factories.
Plain pytest does not run ``async def`` tests; drive the loop yourself, or install an async plugin
(pytest-asyncio, anyio, pytest-aiohttp) to write ``async def`` tests with the same factories::

    def test_blocking(wxpay_client: Client) -> None:
        assert wxpay_client.v3.certificates.get().status == 200

    def test_async(wxpay_async_client: Callable[..., AsyncClient]) -> None:
        async def main() -> int:
            async with wxpay_async_client() as client:
                return (await client.v3.certificates.get()).status

        assert asyncio.run(main()) == 200

Override ``wxpay_sandbox_options`` (a dict of :class:`~wxpay_chain.sandbox.Sandbox` keyword arguments) in
your conftest.py to change how the sandbox runs. Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from wxpay_chain import AsyncClient, Client
    from wxpay_chain.sandbox import KeySet, ThreadedSandbox


@pytest.fixture(scope="session")
def wxpay_sandbox_keys() -> KeySet:
    """One generated key set for the whole session, so each sandbox starts in milliseconds."""
    from wxpay_chain.sandbox import default_key_set

    return default_key_set()


@pytest.fixture
def wxpay_sandbox_options() -> dict[str, Any]:
    """Keyword arguments for the sandbox (override in your conftest.py, e.g. ``{"probe_rate": 0.1}``)."""
    return {}


@pytest.fixture
def wxpay_sandbox(wxpay_sandbox_keys: KeySet, wxpay_sandbox_options: dict[str, Any]) -> Iterator[ThreadedSandbox]:
    """A fresh sandbox with the demo data, serving on 127.0.0.1 from its own thread for one test."""
    from wxpay_chain.sandbox import Sandbox

    options = {"keys": wxpay_sandbox_keys, **wxpay_sandbox_options}
    with Sandbox.in_thread(**options) as sandbox:
        yield sandbox


@pytest.fixture
def wxpay_client(wxpay_sandbox: ThreadedSandbox) -> Iterator[Client]:
    """A blocking ``wxpay_chain.Client`` for the sandbox's merchant API, closed after the test."""
    client = wxpay_sandbox.blocking_client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def wxpay_brand_client(wxpay_sandbox: ThreadedSandbox) -> Iterator[Client]:
    """A blocking ``wxpay_chain.Client`` for the sandbox's brand API, closed after the test."""
    client = wxpay_sandbox.blocking_brand_client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def wxpay_async_client(wxpay_sandbox: ThreadedSandbox) -> Callable[..., AsyncClient]:
    """A factory of merchant ``AsyncClient``s: call it inside your async test and close what it returns."""
    return wxpay_sandbox.client


@pytest.fixture
def wxpay_async_brand_client(wxpay_sandbox: ThreadedSandbox) -> Callable[..., AsyncClient]:
    """A factory of brand ``AsyncClient``s: call it inside your async test and close what it returns."""
    return wxpay_sandbox.brand_client
