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

Its names load on first use, so that ``import wxpay_chain.sandbox.pytest_plugin`` (which pytest loads in
every project that installs wxpay-chain) costs nothing until a fixture runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._bills import bill_ready_time
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
    from ._persist import StateFileError
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

_WHERE = {
    "BRAND_USER_COUPONS": "._handlers",
    "BUSIFAVOR_USER_COUPONS": "._handlers",
    "BusifavorCoupon": "._records",
    "CERTIFICATES": "._handlers",
    "CONFIG_KEYS": "._credentials",
    "DEMO_APPID": "._seed",
    "DEMO_BUSIFAVOR_STOCK_IDS": "._seed",
    "DEMO_FAVOR_COUPON_IDS": "._seed",
    "DEMO_OPENIDS": "._seed",
    "DEMO_PRODUCT_COUPON_IDS": "._seed",
    "DEMO_STOCK_IDS": "._seed",
    "DEMO_UPLOADED_CODES": "._seed",
    "FAVOR_USER_COUPON": "._handlers",
    "Fault": "._faults",
    "FaultInjector": "._faults",
    "FavorCoupon": "._records",
    "InjectedFault": "._faults",
    "IssuedCoupon": "._records",
    "KeySet": "._keys",
    "NotificationRecord": "._notifier",
    "PARTNER_USER_COUPONS": "._handlers",
    "ProductCoupon": "._records",
    "ReceivedRequest": "._record",
    "RequestLog": "._record",
    "Sandbox": "._server",
    "SandboxCredentials": "._credentials",
    "SandboxState": "._state",
    "StateFileError": "._persist",
    "Stock": "._records",
    "ThreadedSandbox": "._threaded",
    "bill_ready_time": "._bills",
    "busifavor_document": "._documents",
    "default_key_set": "._keys",
    "favor_document": "._documents",
    "generate_key_set": "._keys",
    "product_coupon_document": "._documents",
    "stock_document": "._documents",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'wxpay_chain.sandbox' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # once found, a plain module attribute
    return value


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
    "StateFileError",
    "Stock",
    "ThreadedSandbox",
    "bill_ready_time",
    "busifavor_document",
    "default_key_set",
    "favor_document",
    "generate_key_set",
    "product_coupon_document",
    "stock_document",
]
