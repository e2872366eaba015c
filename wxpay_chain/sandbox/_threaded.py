"""ThreadedSandbox: a :class:`~wxpay_chain.sandbox.Sandbox` serving from its own event loop in a daemon
thread, for blocking code and sync fixtures."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._credentials import SandboxCredentials
from ._faults import FaultInjector
from ._keys import KeySet
from ._notifier import NotificationRecord
from ._record import RequestLog
from ._records import BusifavorCoupon, FavorCoupon, IssuedCoupon, ProductCoupon, Stock
from ._server import Sandbox
from ._state import SandboxState
from ._v2 import V2Service

if TYPE_CHECKING:  # for annotations only: the sandbox never imports the client to run
    from typing_extensions import Unpack

    from .._client import AsyncClient
    from .._sync import Client
    from .._typed._options import AsyncClientOptions, ClientOptions

__all__ = ["ThreadedSandbox"]


async def _wind_down(loop: asyncio.AbstractEventLoop) -> None:
    """What ``asyncio.run`` does before closing its loop: cancel and await what is left (a handler whose
    caller gave up during a delay fault is no longer aiohttp's to cancel), then async generators."""
    current = asyncio.current_task()
    left = [task for task in asyncio.all_tasks(loop) if task is not current]
    for task in left:
        task.cancel()
    await asyncio.gather(*left, return_exceptions=True)
    await loop.shutdown_asyncgens()


class ThreadedSandbox:
    """A :class:`Sandbox` serving from its own event loop in a daemon thread.

    Use it from blocking code or sync fixtures; async code on any other loop can reach it over loopback.
    It has the sandbox's attributes; waiting for notifications is ``wait_notifications_delivered`` (blocking)
    or ``await notifications_delivered`` (from another loop).
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._loop is not None:
            raise RuntimeError("this sandbox is already running")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="wxpay-chain-sandbox", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            asyncio.run_coroutine_threadsafe(self.sandbox.start(), loop).result(timeout=30)
        except BaseException:
            self._stop_loop()
            raise

    def close(self) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.sandbox.close(), loop).result(timeout=30)
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        # Finished inside the sandbox's own thread: the caller may be running an event loop of its own.
        asyncio.run_coroutine_threadsafe(_wind_down(loop), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()

    def __enter__(self) -> ThreadedSandbox:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _run(self, coro: Any, timeout: float) -> Any:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the sandbox is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=timeout + 5)

    # The sandbox's own attributes, reachable from any thread.

    @property
    def base_url(self) -> str:
        return self.sandbox.base_url

    @property
    def credentials(self) -> SandboxCredentials:
        return self.sandbox.credentials

    @property
    def keys(self) -> KeySet:
        return self.sandbox.keys

    @property
    def v2(self) -> V2Service:
        return self.sandbox.v2

    @property
    def received(self) -> RequestLog:
        return self.sandbox.received

    @property
    def faults(self) -> FaultInjector:
        return self.sandbox.faults

    @property
    def state(self) -> SandboxState:
        return self.sandbox.state

    @property
    def notifications(self) -> list[NotificationRecord]:
        return self.sandbox.notifications

    def now(self) -> float:
        return self.sandbox.now()

    def write_config(self, directory: str | os.PathLike[str]) -> Path:
        return self.sandbox.write_config(directory)

    def client(self, **overrides: Unpack[AsyncClientOptions]) -> AsyncClient:
        return self.sandbox.client(**overrides)

    def brand_client(self, **overrides: Unpack[AsyncClientOptions]) -> AsyncClient:
        return self.sandbox.brand_client(**overrides)

    def blocking_client(self, **overrides: Unpack[ClientOptions]) -> Client:
        return self.sandbox.blocking_client(**overrides)

    def blocking_brand_client(self, **overrides: Unpack[ClientOptions]) -> Client:
        return self.sandbox.blocking_brand_client(**overrides)

    def issued_coupons(self) -> list[IssuedCoupon]:
        return self.sandbox.issued_coupons()

    def add_product_coupon(self, document: Mapping[str, Any]) -> ProductCoupon:
        return self.sandbox.add_product_coupon(document)

    def add_stock(self, document: Mapping[str, Any], *, uploaded_codes: Iterable[str] = ()) -> Stock:
        return self.sandbox.add_stock(document, uploaded_codes=uploaded_codes)

    def add_user_coupon(self, *, openid: str, stock_id: str, appid: str, **fields: Any) -> IssuedCoupon:
        return self.sandbox.add_user_coupon(openid=openid, stock_id=stock_id, appid=appid, **fields)

    def add_busifavor_coupon(self, coupon: BusifavorCoupon) -> None:
        self.sandbox.add_busifavor_coupon(coupon)

    def add_favor_coupon(self, coupon: FavorCoupon) -> None:
        self.sandbox.add_favor_coupon(coupon)

    def seed_data(self, **items: Any) -> None:
        self.sandbox.seed_data(**items)

    def wait_notifications_delivered(self, n: int = 1, *, timeout: float = 10.0) -> None:
        """Block until ``n`` notifications were acknowledged."""
        self._run(self.sandbox.notifications_delivered(n, timeout=timeout), timeout)

    def wait_notifications_settled(self, n: int = 1, *, timeout: float = 10.0) -> None:
        """Block until ``n`` notifications were acknowledged or abandoned."""
        self._run(self.sandbox.notifications_settled(n, timeout=timeout), timeout)

    async def notifications_delivered(self, n: int = 1, *, timeout: float = 10.0) -> None:
        """Await, from another event loop, until ``n`` notifications were acknowledged."""
        await self._await_there(self.sandbox.notifications_delivered(n, timeout=timeout))

    async def notifications_settled(self, n: int = 1, *, timeout: float = 10.0) -> None:
        await self._await_there(self.sandbox.notifications_settled(n, timeout=timeout))

    async def _await_there(self, coro: Any) -> None:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the sandbox is not running")
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))
