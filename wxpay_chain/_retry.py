"""When to try a call again, and how long to wait: a pure policy with no clock and no I/O.

WeChat Pay's guidance: retry 5xx with the same parameters and request number, back off on 429, and
fail over to the backup domain when the primary cannot be reached. Other 4xx are final: retrying
them cannot succeed and could only make things worse.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any

import attrs

from ._errors import ConfigurationError

__all__ = ["BACKUP_BASE_URL", "MAX_ATTEMPTS", "RetryPolicy", "finite_seconds"]

BACKUP_BASE_URL = "https://api2.mch.weixin.qq.com/"
MAX_ATTEMPTS = 10
"""The most attempts a RetryPolicy may make: more only repeats a failure at WeChat Pay's expense."""

# RFC 9110 delay-seconds is 1*DIGIT, ASCII only: float() would also take "nan", "1e400" and "١٢".
_DELAY_SECONDS = re.compile(r"[0-9]+")
# No HTTP-date is longer (an IMF-fixdate has 29 characters); longer text is not parsed as one.
_RETRY_AFTER_MAX_LENGTH = 64


def _shown(value: object) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 64 else text[:64] + "…"


def finite_seconds(value: object) -> bool:
    """Whether ``value`` is a finite number of seconds, 0 or more (not a bool, nor an int past float range)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value) and value >= 0
    except OverflowError:  # an int past float range
        return False


def _check_seconds(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not finite_seconds(value):
        raise ConfigurationError(
            f"RetryPolicy.{attribute.name} must be a finite number of seconds >= 0, got {_shown(value)}"
        )


def _check_attempts(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ATTEMPTS:
        raise ConfigurationError(
            f"RetryPolicy.attempts must be a whole number from 1 to {MAX_ATTEMPTS}, got {_shown(value)}"
        )


def _clamp(seconds: float, ceiling: float) -> float:
    """``seconds`` within [0, ceiling]; nan counts as 0, so a sleep never gets nan or inf."""
    if seconds > ceiling:
        return ceiling
    return seconds if seconds >= 0.0 else 0.0


@attrs.frozen
class RetryPolicy:
    """``attempts`` counts the first try. Delays grow ``backoff * 2**n`` up to ``cap`` seconds, with full
    jitter; a 429's ``Retry-After`` is honoured up to ``retry_after_cap``.

    Timeouts are not retried unless ``retry_timeouts``: the server may still be working on the first
    attempt, so the caller decides (with the same request number the retry stays idempotent).

    ``attempts`` is 1 to MAX_ATTEMPTS; the three durations are finite seconds >= 0. Anything else
    raises ConfigurationError naming the field.
    """

    attempts: int = attrs.field(default=3, validator=_check_attempts)
    backoff: float = attrs.field(default=0.25, validator=_check_seconds)
    cap: float = attrs.field(default=4.0, validator=_check_seconds)
    jitter: bool = True
    statuses: frozenset[int] = frozenset({429, 500, 502, 503})
    retry_after_cap: float = attrs.field(default=30.0, validator=_check_seconds)
    retry_timeouts: bool = False

    @classmethod
    def none(cls) -> RetryPolicy:
        return cls(attempts=1)

    def retries_status(self, status: int) -> bool:
        return status in self.statuses

    def delay(
        self,
        attempt: int,
        retry_after: str | None = None,
        rand: Callable[[], float] = random.random,
        *,
        now: float | None = None,
    ) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): always finite, never negative.

        ``retry_after`` is the answer's Retry-After header: delay-seconds, or an HTTP-date when ``now``
        (Unix seconds) is given. What cannot be read that way falls back to our own backoff.
        """
        if retry_after is not None:
            asked = self.retry_after_seconds(retry_after, now)
            if asked is not None:
                return asked
        exponent = min(max(attempt - 1, 0), 64)  # 2.0 ** huge would overflow; cap is reached long before
        ceiling = min(self.cap, self.backoff * 2.0**exponent)
        return _clamp(ceiling * rand(), ceiling) if self.jitter else ceiling

    def retry_after_seconds(self, header: str, now: float | None = None) -> float | None:
        """The wait a Retry-After header asks for, within [0, retry_after_cap]; None when it is not valid.

        RFC 9110: ``delay-seconds`` (ASCII digits) or an HTTP-date, which needs ``now`` to become a wait.
        """
        value = header.strip(" \t") if isinstance(header, str) else ""
        if _DELAY_SECONDS.fullmatch(value):
            # Past 15 digits it is millions of years: past any cap, and no int() of thousands of digits.
            return self.retry_after_cap if len(value) > 15 else min(float(int(value)), self.retry_after_cap)
        if now is None or not math.isfinite(now) or len(value) > _RETRY_AFTER_MAX_LENGTH:
            return None
        try:
            when = parsedate_to_datetime(value)
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)  # HTTP-dates are GMT
            seconds = when.timestamp() - now
        except (ValueError, TypeError, IndexError, OverflowError, OSError):
            return None
        return _clamp(seconds, self.retry_after_cap)
