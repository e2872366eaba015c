from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient

PUB_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"


@pytest.fixture(scope="session")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def make_client(key: rsa.RSAPrivateKey) -> Callable[..., AsyncClient]:
    # These tests prepare calls and read chains; none sends, so no transport is ever opened.
    def make(**options: Any) -> AsyncClient:
        return AsyncClient(
            mchid="1900000001", serial="AB", private_key=key, platform_keys={PUB_KEY_ID: key.public_key()}, **options
        )

    return make


@pytest.fixture
def client(make_client: Callable[..., AsyncClient]) -> AsyncClient:
    return make_client()
