from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, MemoryTransport

from .wire import WirePeer, pem_public

PUB_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"
MCHID = "1900000001"
SERIAL = "3775B6A45ACD588826D15E583A95F5DD12345678"


@pytest.fixture(scope="session")
def merchant_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def platform_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def peer(merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey) -> WirePeer:
    return WirePeer(merchant_public=merchant_key.public_key(), platform_key=platform_key, platform_serial=PUB_KEY_ID)


@pytest.fixture
async def base_url(peer: WirePeer, aiohttp_server: Any) -> str:
    server = await aiohttp_server(peer.app(), host="127.0.0.1")
    return str(server.make_url("/"))


@pytest.fixture
def make_client(merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey) -> Callable[..., AsyncClient]:
    def make(**overrides: Any) -> AsyncClient:
        options: dict[str, Any] = {
            "mchid": MCHID,
            "serial": SERIAL,
            # The key object: parsing PEM costs ~30 ms of RSA checks per client; the key forms have their own tests.
            "private_key": merchant_key,
            "platform_keys": {PUB_KEY_ID: pem_public(platform_key)},
        }
        options.update(overrides)
        return AsyncClient(**options)

    return make


@pytest.fixture
async def client(make_client: Callable[..., AsyncClient], base_url: str) -> AsyncIterator[AsyncClient]:
    async with make_client(base_url=base_url) as c:
        yield c


@pytest.fixture
def memory(peer: WirePeer) -> MemoryTransport:
    """The same peer, answering in memory: for tests of the client's logic, which need no socket."""
    return peer.transport()


@pytest.fixture
async def memory_client(make_client: Callable[..., AsyncClient], memory: MemoryTransport) -> AsyncIterator[AsyncClient]:
    async with make_client(transport=memory) as c:
        yield c
