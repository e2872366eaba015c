"""A client's configuration is checked once, frozen, and derived by with_options() (issue 16)."""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, ConfigurationError, RetryPolicy, Timeout
from wxpay_chain._config import ClientConfig
from wxpay_chain._crypto import make_nonce

from .conftest import MCHID, PUB_KEY_ID, SERIAL
from .wire import pem_private, pem_public

APIV3_KEY = "0123456789abcdefghijABCDEFGHIJ01"


def build(merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, **overrides: object) -> ClientConfig:
    options: dict[str, object] = {
        "mchid": MCHID,
        "brand_id": None,
        "serial": SERIAL,
        "private_key": pem_private(merchant_key),
        "platform_keys": {PUB_KEY_ID: pem_public(platform_key)},
        "base_url": "https://api.mch.weixin.qq.com/",
        "timeout": Timeout(),
        "passphrase": None,
        "pool_limit": 100,
        "clock": time.time,
        "nonce_factory": make_nonce,
        "retry": None,
        "backup_base_url": None,
        "offload_crypto": "auto",
        "on_request": None,
        "on_response": None,
        "apiv3_key": APIV3_KEY,
        "certificate_refresh": 3600.0,
        "max_response_bytes": 1024,
        **overrides,
    }
    return ClientConfig.build(**options)  # type: ignore[arg-type]


def test_the_config_is_frozen_and_shows_no_secret(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    config = build(merchant_key, platform_key)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.retry = RetryPolicy()  # type: ignore[misc]
    shown = repr(config)
    assert APIV3_KEY not in shown and "PRIVATE" not in shown and MCHID in shown


def test_derive_checks_what_it_changes_and_keeps_the_rest(
    merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> None:
    config = build(merchant_key, platform_key)
    derived = config.derive(timeout=5, retry=2, base_url="http://127.0.0.1:8080/gw")
    assert derived.defaults.timeout == Timeout(total=5.0, connect=5.0) and derived.retry.attempts == 2
    assert derived.defaults.origin_prefix == ("http://127.0.0.1:8080", "/gw/")
    assert derived.signer is config.signer and derived.keys is config.keys and config.retry.attempts == 3
    for bad in ({"retry": True}, {"retry": "3"}, {"timeout": float("nan")}, {"base_url": "ftp://x/"}):
        with pytest.raises(ConfigurationError):
            config.derive(**bad)  # type: ignore[arg-type]


def test_with_options_goes_through_the_same_checks(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client()
    for bad in ({"retry": True}, {"retry": 0}, {"timeout": -1}, {"base_url": "http://u:p@h/"}):
        with pytest.raises(ConfigurationError):
            client.with_options(**bad)
