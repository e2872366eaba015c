"""wxpay_chain: an async-first WeChat Pay APIv3 SDK.

Three call styles, each async (:class:`AsyncClient`) and blocking (:class:`Client`)::

    await client.v3.marketing.busifavor.users._openid_.coupons.get(openid="o-1", query={"appid": "wx1"})
    await client["v3/marketing/busifavor/users/{openid}/coupons"].get(openid="o-1", query={...})
    await client.chain("v3/marketing/busifavor/users/{openid}/coupons").get(openid="o-1", query={...})
"""

from ._certificates import PlatformCertificate
from ._chain import Chain
from ._client import AsyncClient, Attempt
from ._config import Offload
from ._errors import (
    ApiError,
    ConfigurationError,
    IntegrityError,
    InvalidRequestError,
    RateLimitError,
    ResponseTooLargeError,
    ServerError,
    SignatureError,
    StructureError,
    TLSError,
    TransportError,
    TransportTimeoutError,
    WxPayError,
)
from ._http import Headers, Request, Response, Timeout
from ._media import Media
from ._request import DEFAULT_BASE_URL, EncryptedField, PreparedRequest
from ._retry import BACKUP_BASE_URL, RetryPolicy
from ._signing import KeyStore
from ._sync import Client
from ._transport import MemoryTransport, RawResponse, StreamingTransport, Transport
from ._typed._check import Validate
from ._version import __version__
from .notifications import Notification

__all__ = [
    "BACKUP_BASE_URL",
    "DEFAULT_BASE_URL",
    "ApiError",
    "AsyncClient",
    "Attempt",
    "Chain",
    "Client",
    "ConfigurationError",
    "EncryptedField",
    "Headers",
    "IntegrityError",
    "InvalidRequestError",
    "KeyStore",
    "Media",
    "MemoryTransport",
    "Notification",
    "Offload",
    "PlatformCertificate",
    "PreparedRequest",
    "RateLimitError",
    "RawResponse",
    "Request",
    "Response",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServerError",
    "SignatureError",
    "StreamingTransport",
    "StructureError",
    "TLSError",
    "Timeout",
    "Transport",
    "TransportError",
    "TransportTimeoutError",
    "Validate",
    "WxPayError",
    "__version__",
]
