from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient

from ..core.conftest import MCHID, PUB_KEY_ID, SERIAL
from ..core.wire import pem_private, pem_public
from ._peer import FilePeer

BRAND_ID = "120344"


@pytest.fixture(scope="session")
def merchant_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def brand_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def platform_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def peer(merchant_key: rsa.RSAPrivateKey, brand_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey) -> FilePeer:
    return FilePeer(merchant_key.public_key(), brand_key.public_key(), platform_key, PUB_KEY_ID)


@pytest.fixture
async def base_url(peer: FilePeer, aiohttp_server: Any) -> str:
    server = await aiohttp_server(peer.app(), host="127.0.0.1")
    return str(server.make_url("/"))


@pytest.fixture
def make_client(
    merchant_key: rsa.RSAPrivateKey, brand_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, base_url: str
) -> Callable[..., AsyncClient]:
    def make(brand: bool = False, **overrides: Any) -> AsyncClient:
        who = {"brand_id": BRAND_ID} if brand else {"mchid": MCHID}
        options: dict[str, Any] = {
            **who,
            "serial": SERIAL,
            "private_key": pem_private(brand_key if brand else merchant_key),
            "platform_keys": {PUB_KEY_ID: pem_public(platform_key)},
            "base_url": base_url,
            "retry": 1,
        }
        options.update(overrides)
        return AsyncClient(**options)

    return make
