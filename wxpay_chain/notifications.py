"""Receiving WeChat Pay notifications in a web application.

``handle_notification`` is framework-neutral: give it the headers and the raw body, get back the status
and body to answer. ``aiohttp_handler`` wraps it for aiohttp.web. WeChat Pay retries a notification
until it gets a 2xx, so every failure answers 4xx/5xx with ``{"code": "FAIL", "message": ...}``.

Because of those redeliveries, a callback must be idempotent by notification id: the same event can
arrive more than once. :class:`RecentNotifications` answers a repeat within a few minutes without calling
the callback again; it is a help against replays and quick redeliveries, not a substitute for idempotency.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from ._errors import SignatureError, WxPayError
from ._notify import Notification

if TYPE_CHECKING:
    from aiohttp import web

    from ._client import AsyncClient

__all__ = ["Notification", "RecentNotifications", "aiohttp_handler", "handle_notification"]

log = logging.getLogger("wxpay_chain.notifications")

OnNotification = Callable[[Notification], "Awaitable[None] | None"]


class RecentNotifications:
    """The ids of notifications handled successfully in the last ``window`` seconds (bounded).

    A verified notification whose id is among them is answered 204 without calling the callback again:
    a replay of a captured notification (its signature stays valid for the 300 s timestamp window) or a
    redelivery after an answer got lost. Only successes are remembered, so a notification whose callback
    failed is handed over again when WeChat Pay redelivers it. At most ``max_entries`` ids are kept; the
    oldest go first. Safe to share between threads and event loops.
    """

    def __init__(
        self, window: float = 300.0, max_entries: int = 10_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not 0 < window <= 86_400 or isinstance(max_entries, bool) or not 0 < max_entries <= 10_000_000:
            raise ValueError("window must be in (0, 86400] seconds and max_entries in 1..10,000,000")
        self._window = window
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, notification_id: object) -> bool:
        with self._lock:
            self._expire()
            return notification_id in self._seen

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._seen)

    def add(self, notification_id: str) -> None:
        with self._lock:
            self._seen[notification_id] = self._clock()
            self._seen.move_to_end(notification_id)
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)
            self._expire()

    def _expire(self) -> None:
        horizon = self._clock() - self._window
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if at >= horizon:
                return
            del self._seen[oldest]


def _fail(status: int, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"code": "FAIL", "message": message}, ensure_ascii=False).encode("utf-8")


async def handle_notification(
    client: AsyncClient,
    headers: Mapping[str, str],
    body: bytes,
    on_notification: OnNotification,
    *,
    recent: RecentNotifications | None = None,
) -> tuple[int, bytes]:
    """Verify, decrypt and hand a notification to ``on_notification``; return (status, body) to answer.

    204 with an empty body on success; 401 when it cannot be verified or decrypted; 500 when the
    callback raised (so WeChat Pay sends it again later). With ``recent``, a notification handled
    successfully a moment ago is answered 204 without calling the callback again.
    """
    try:
        notification = await client.parse_notification(headers, body)
    except SignatureError as exc:
        log.warning("rejected a notification: %s", exc)
        return _fail(401, "signature or decryption failed")
    except WxPayError as exc:
        log.warning("rejected a notification: %s", exc)
        return _fail(400, "malformed notification")
    if recent is not None and notification.id and notification.id in recent:
        log.info("notification %s was handled a moment ago; not calling the callback again", notification.id)
        return 204, b""
    try:
        outcome = on_notification(notification)
        if inspect.isawaitable(outcome):
            await outcome
    except Exception:
        log.exception("the notification callback failed for %s %s", notification.event_type, notification.id)
        return _fail(500, "the merchant could not process the notification; please retry")
    if recent is not None and notification.id:
        recent.add(notification.id)
    return 204, b""


def aiohttp_handler(
    client: AsyncClient, on_notification: OnNotification, *, recent: RecentNotifications | None = None
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp.web handler: ``app.router.add_post("/wxpay/notify", aiohttp_handler(client, on_event))``."""
    from aiohttp import web

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        status, answer = await handle_notification(client, request.headers, body, on_notification, recent=recent)
        if status == 204:
            return web.Response(status=204)
        return web.Response(status=status, body=answer, content_type="application/json")

    return handler
