"""The settings ``from_env(**overrides)`` takes: the clients' keyword parameters, for type checkers only.

tests/core/test_config.py checks that these fields are the constructors' parameters, with their types.
"""

import ssl
from collections.abc import Callable, Mapping

import aiohttp
from typing_extensions import TypedDict

from .._config import Offload
from .._crypto import KeySource, PublicKeySource
from .._http import Attempt, Request, Timeout
from .._retry import RetryPolicy
from .._tls import ClientCertSource
from .._transport import Transport
from ._check import Validate

class ClientOptions(TypedDict, total=False):
    mchid: str | None
    brand_id: str | None
    serial: str
    private_key: KeySource
    platform_keys: Mapping[str, PublicKeySource] | None
    base_url: str
    timeout: float | Timeout | None
    passphrase: str | bytes | None
    pool_limit: int
    clock: Callable[[], float]
    nonce_factory: Callable[[], str]
    retry: RetryPolicy | int | None
    backup_base_url: str | None
    offload_crypto: Offload
    on_request: Callable[[Request], None] | None
    on_response: Callable[[Attempt], None] | None
    apiv3_key: str | bytes | None
    certificate_refresh: float
    max_response_bytes: int
    transport: Transport | None
    apiv2_key: str | None
    client_cert: ClientCertSource | None
    ssl_context: ssl.SSLContext | None
    proxy: str | None
    trust_env: bool
    log_bodies: bool
    validate: Validate

class AsyncClientOptions(ClientOptions, total=False):
    session: aiohttp.ClientSession | None
