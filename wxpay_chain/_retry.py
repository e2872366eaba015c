"""When to try a call again, and how long to wait: a pure policy with no clock and no I/O.

WeChat Pay's guidance: retry 5xx with the same parameters and request number, back off on 429, and
fail over to the backup domain when the primary cannot be reached. Other 4xx are final: retrying
them cannot succeed and could only make things worse.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import attrs

__all__ = ["BACKUP_BASE_URL", "RetryPolicy"]

BACKUP_BASE_URL = "https://api2.mch.weixin.qq.com/"


@attrs.frozen
class RetryPolicy:
    """``attempts`` counts the first try. Delays grow ``backoff * 2**n`` up to ``cap`` seconds, with full
    jitter; a 429's ``Retry-After`` is honoured up to ``retry_after_cap``.

    Timeouts are not retried unless ``retry_timeouts``: the server may still be working on the first
    attempt, so the caller decides (with the same request number the retry stays idempotent).
    """

    attempts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    backoff: float = 0.25
    cap: float = 4.0
    jitter: bool = True
    statuses: frozenset[int] = frozenset({429, 500, 502, 503})
    retry_after_cap: float = 30.0
    retry_timeouts: bool = False

    @classmethod
    def none(cls) -> RetryPolicy:
        return cls(attempts=1)

    def retries_status(self, status: int) -> bool:
        return status in self.statuses

    def delay(self, attempt: int, retry_after: str | None = None, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), self.retry_after_cap)
            except ValueError:
                pass  # an HTTP-date form: fall back to our own backoff
        ceiling = min(self.cap, self.backoff * 2.0 ** (attempt - 1))
        return ceiling * rand() if self.jitter else ceiling
