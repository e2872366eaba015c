"""Receiving WeChat Pay notifications in a web application.

``handle_notification`` is framework-neutral: give it the headers and the raw body, get back the status
and body to answer. ``aiohttp_handler`` wraps it for aiohttp.web. WeChat Pay retries a notification
until it gets a 2xx, so every failure answers 4xx/5xx with ``{"code": "FAIL", "message": ...}``.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from ._errors import SignatureError, WxPayError
from ._notify import Notification

if TYPE_CHECKING:
    from aiohttp import web

    from ._client import AsyncClient

__all__ = ["Notification", "aiohttp_handler", "handle_notification"]

log = logging.getLogger("wxpay_chain.notifications")

OnNotification = Callable[[Notification], "Awaitable[None] | None"]


def _fail(status: int, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"code": "FAIL", "message": message}, ensure_ascii=False).encode("utf-8")


async def handle_notification(
    client: AsyncClient,
    headers: Mapping[str, str],
    body: bytes,
    on_notification: OnNotification,
) -> tuple[int, bytes]:
    """Verify, decrypt and hand a notification to ``on_notification``; return (status, body) to answer.

    204 with an empty body on success; 401 when it cannot be verified or decrypted; 500 when the
    callback raised (so WeChat Pay sends it again later).
    """
    try:
        notification = await client.parse_notification(headers, body)
    except SignatureError as exc:
        log.warning("rejected a notification: %s", exc)
        return _fail(401, "signature or decryption failed")
    except WxPayError as exc:
        log.warning("rejected a notification: %s", exc)
        return _fail(400, "malformed notification")
    try:
        outcome = on_notification(notification)
        if inspect.isawaitable(outcome):
            await outcome
    except Exception:
        log.exception("the notification callback failed for %s %s", notification.event_type, notification.id)
        return _fail(500, "the merchant could not process the notification; please retry")
    return 204, b""


def aiohttp_handler(
    client: AsyncClient, on_notification: OnNotification
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp.web handler: ``app.router.add_post("/wxpay/notify", aiohttp_handler(client, on_event))``."""
    from aiohttp import web

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        status, answer = await handle_notification(client, request.headers, body, on_notification)
        if status == 204:
            return web.Response(status=204)
        return web.Response(status=status, body=answer, content_type="application/json")

    return handler
