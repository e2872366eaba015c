from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient

from .peer import APIV2_KEY, MCHID, Pki, V2Peer, pem

SERIAL = "3775B6A45ACD588826D15E583A95F5DD12345678"


@pytest.fixture(scope="session")
def merchant_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def pki(merchant_key: rsa.RSAPrivateKey) -> Pki:
    return Pki.make(merchant_key)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def options(merchant_key: rsa.RSAPrivateKey, pki: Pki) -> dict[str, Any]:
    """A merchant client with the APIv2 key and the client certificate (PEM text)."""
    return {
        "mchid": MCHID,
        "serial": SERIAL,
        "private_key": private_pem(merchant_key),
        "platform_keys": {"PUB_KEY_ID_0000000000000000000000000001": merchant_key.public_key()},
        "apiv2_key": APIV2_KEY,
        "client_cert": pem(pki.client).decode(),
    }


@pytest.fixture
def v2peer() -> V2Peer:
    return V2Peer()


@pytest.fixture
async def https_url(v2peer: V2Peer, pki: Pki, tmp_path: Path) -> AsyncIterator[str]:
    runner = web.AppRunner(v2peer.app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=pki.server_context(tmp_path))
    await site.start()
    yield f"https://127.0.0.1:{runner.addresses[0][1]}/"
    await runner.cleanup()


@pytest.fixture
def make_client(options: dict[str, Any], pki: Pki, https_url: str) -> Callable[..., AsyncClient]:
    def make(**overrides: Any) -> AsyncClient:
        return AsyncClient(**{**options, "base_url": https_url, "ssl_context": pki.trust(), **overrides})

    return make
