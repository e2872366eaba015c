"""Time as WeChat Pay shows it: Unix seconds from an injectable clock, RFC 3339 in China time."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from .._converter import parse_rfc3339 as _parse

Clock = Callable[[], float]

#: WeChat Pay writes every time in China Standard Time, and "per day" limits roll over at its midnight.
CHINA = timezone(timedelta(hours=8))
DAY = 86400.0


def system_clock() -> float:
    return time.time()


def rfc3339(unix_seconds: float) -> str:
    """``2025-01-01T09:10:00+08:00``: whole seconds, as in every seed example."""
    return datetime.fromtimestamp(int(unix_seconds), CHINA).isoformat()


def parse_rfc3339(text: str) -> float:
    """Unix seconds of an RFC 3339 time with its offset; ValueError for anything else. A time without an
    offset would otherwise be read in this machine's zone: the same seed, other coupons on a UTC host."""
    return _parse(text).timestamp()


def china_day(unix_seconds: float) -> str:
    """The calendar day in China for a daily quota."""
    return datetime.fromtimestamp(int(unix_seconds), CHINA).date().isoformat()
