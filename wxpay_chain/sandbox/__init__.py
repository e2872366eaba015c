"""A local WeChat Pay APIv3 emulator for demos and tests.

::

    from wxpay_chain.sandbox import Sandbox

    async with Sandbox() as sb, sb.client() as client:  # an AsyncClient, on this loop
        ...

    with Sandbox.in_thread() as sb, sb.blocking_client() as client:  # a blocking Client
        ...

It verifies signatures and signs answers with its own code (never the client's), keeps coupon state,
sends notifications and injects faults. See :class:`Sandbox` for the endpoints and the demo data
(``DEMO_OPENIDS``, ``DEMO_APPID``, ``DEMO_STOCK_IDS``, ... name them).
"""

from __future__ import annotations

from ._credentials import CONFIG_KEYS, SandboxCredentials
from ._documents import busifavor_document, favor_document, product_coupon_document, stock_document
from ._faults import Fault, FaultInjector, InjectedFault
from ._handlers import (
    BRAND_USER_COUPONS,
    BUSIFAVOR_USER_COUPONS,
    CERTIFICATES,
    FAVOR_USER_COUPON,
    PARTNER_USER_COUPONS,
)
from ._keys import KeySet, default_key_set, generate_key_set
from ._notifier import NotificationRecord
from ._record import ReceivedRequest, RequestLog
from ._records import BusifavorCoupon, FavorCoupon, IssuedCoupon, ProductCoupon, Stock
from ._seed import (
    DEMO_APPID,
    DEMO_BUSIFAVOR_STOCK_IDS,
    DEMO_FAVOR_COUPON_IDS,
    DEMO_OPENIDS,
    DEMO_PRODUCT_COUPON_IDS,
    DEMO_STOCK_IDS,
    DEMO_UPLOADED_CODES,
)
from ._server import Sandbox
from ._state import SandboxState
from ._threaded import ThreadedSandbox

__all__ = [
    "BRAND_USER_COUPONS",
    "BUSIFAVOR_USER_COUPONS",
    "CERTIFICATES",
    "CONFIG_KEYS",
    "DEMO_APPID",
    "DEMO_BUSIFAVOR_STOCK_IDS",
    "DEMO_FAVOR_COUPON_IDS",
    "DEMO_OPENIDS",
    "DEMO_PRODUCT_COUPON_IDS",
    "DEMO_STOCK_IDS",
    "DEMO_UPLOADED_CODES",
    "FAVOR_USER_COUPON",
    "PARTNER_USER_COUPONS",
    "BusifavorCoupon",
    "Fault",
    "FaultInjector",
    "FavorCoupon",
    "InjectedFault",
    "IssuedCoupon",
    "KeySet",
    "NotificationRecord",
    "ProductCoupon",
    "ReceivedRequest",
    "RequestLog",
    "Sandbox",
    "SandboxCredentials",
    "SandboxState",
    "Stock",
    "ThreadedSandbox",
    "busifavor_document",
    "default_key_set",
    "favor_document",
    "generate_key_set",
    "product_coupon_document",
    "stock_document",
]
