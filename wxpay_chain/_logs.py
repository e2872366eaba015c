"""What a call writes to the ``wxpay_chain`` loggers, in one place.

* INFO, logger ``wxpay_chain``: one line per attempt with the path *template*
  (``GET v3/marketing/busifavor/users/{openid}/coupons -> 200``), never the values in it: openids and
  order numbers are personal or business data that INFO logs (often shipped to a log service) must not
  collect. Each line ends with whose call it was (``mchid=…`` or ``brand_id=…``): a service provider's
  process holds many merchants' clients.
* DEBUG, same logger: the exact target with its values and the request headers (Authorization masked).
  Request and answer bodies only for a client built with ``log_bodies=True``: they carry names, phone
  numbers and coupon codes.
* INFO, logger ``wxpay_chain.retry``: each retry, with the reason and the delay before it.
* ERROR, logger ``wxpay_chain``: an ``on_request`` / ``on_response`` hook that raised, with its traceback.
  The call goes on as if the hook had returned: metrics must not decide the outcome of a coupon send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ._http import Attempt, Request

__all__ = ["body_note", "log_retry", "record_attempt", "run_hook"]

log = logging.getLogger("wxpay_chain")
retry_log = logging.getLogger("wxpay_chain.retry")

_SHOWN_BODY = 4096  # characters of a body a DEBUG line shows (log_bodies=True); the rest is counted


def body_note(body: bytes, show: bool) -> str:
    """A body as a DEBUG line may show it: its text with ``log_bodies=True``, else only its size."""
    if not show:
        return f"<{len(body)} bytes; log_bodies=True shows them>"
    text = body.decode("utf-8", "replace")
    return text if len(text) <= _SHOWN_BODY else f"{text[:_SHOWN_BODY]}… <{len(body)} bytes>"


def record_attempt(
    hook: Callable[[Attempt], None] | None,
    request: Request,
    attempt: int,
    status: int | None,
    request_id: str | None,
    elapsed: float,
    error: Exception | None,
    answer: bytes | None,
    bodies: bool,
    who: str,
) -> None:
    """One INFO line per attempt (the template), the values and headers at DEBUG, then the on_response hook.

    ``answer`` is the answer's body and ``bodies`` the client's ``log_bodies``: both bodies are shown at
    DEBUG only when it is True; ``who`` names the merchant or brand (``mchid=…``)."""
    if log.isEnabledFor(logging.INFO):  # one check when logging is off, as it is for most programs
        outcome = status if error is None else type(error).__name__
        log.info(
            "%s %s -> %s request_id=%s attempt=%d elapsed=%.3fs %s",
            request.method,
            request.template,
            outcome,
            request_id,
            attempt,
            elapsed,
            who,
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s request headers %r", request.method, request.target, request.headers)
            if request.body:
                log.debug("request body %s", body_note(request.body, bodies))
            if answer is not None:
                log.debug("answer body %s", body_note(answer, bodies))
    if hook is not None:
        run_hook(hook, Attempt(request, attempt, status, request_id, elapsed, error), "on_response")


def run_hook(hook: Callable[[Any], None], value: object, name: str) -> None:
    """``hook(value)``; what it raises is logged, never handed to the call (see the module docstring)."""
    try:
        hook(value)
    except Exception as exc:
        # Not the context it was raised in (a failed attempt's error, which names the path with its values:
        # those belong at DEBUG only); its own cause, if it has one, still shows.
        exc.__suppress_context__ = True
        log.exception("the %s hook raised; the call goes on without it", name)


def log_retry(request: Request, reason: str, delay: float | None, who: str) -> None:
    """A retry line: what failed and how long the client waits; ``delay=None`` when the call's deadline
    leaves no time for another attempt."""
    if not retry_log.isEnabledFor(logging.INFO):
        return
    if delay is None:
        retry_log.info(
            "not retrying %s %s after %s: the call's timeout would pass first (%s)",
            request.method,
            request.template,
            reason,
            who,
        )
    else:
        retry_log.info("retrying %s %s in %.2fs after %s (%s)", request.method, request.template, delay, reason, who)
