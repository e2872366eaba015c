"""The notification ids a receiver has handled lately, and the ones it is handling right now."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal

from ._signing import MAX_CLOCK_SKEW

__all__ = ["RecentNotifications"]

Claim = Literal["new", "handled", "handling"]


class RecentNotifications:
    """The ids of notifications handled successfully in the last ``window`` seconds (bounded).

    A verified notification whose id is among them is answered 204 without calling the callback again:
    a replay of a captured notification or a redelivery after an answer got lost. A notification is
    accepted while its timestamp is within 300 s of this machine's clock either way, so one signature can
    pass for 600 s of this machine's time: the default ``window`` covers all of it, wherever in it the
    first delivery fell (a shorter one leaves replays of a captured notification open).

    One whose id is being handled at that moment (the same delivery twice at once) is answered 503, so
    that it comes again once the first has finished. Only successes are remembered, so a notification
    whose callback failed is handed over again when WeChat Pay redelivers it. At most ``max_entries`` ids
    are kept; the oldest go first. Safe to share between threads and event loops.
    """

    def __init__(
        self,
        window: float = 2 * MAX_CLOCK_SKEW,
        max_entries: int = 10_000,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < window <= 86_400 or isinstance(max_entries, bool) or not 0 < max_entries <= 10_000_000:
            raise ValueError("window must be in (0, 86400] seconds and max_entries in 1..10,000,000")
        self._window = window
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._handling: set[str] = set()
        self._lock = threading.Lock()

    def __contains__(self, notification_id: object) -> bool:
        with self._lock:
            self._expire()
            return notification_id in self._seen

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._seen)

    def claim(self, notification_id: str) -> Claim:
        """``"new"`` (and the caller now handles it), ``"handled"`` lately, or ``"handling"`` right now.
        One check and one mark under one lock: two deliveries at once cannot both be ``"new"``."""
        with self._lock:
            self._expire()
            if notification_id in self._seen:
                return "handled"
            if notification_id in self._handling:
                return "handling"
            self._handling.add(notification_id)
            return "new"

    def release(self, notification_id: str) -> None:
        """The claim of a notification whose callback failed: the next delivery is handed over again."""
        with self._lock:
            self._handling.discard(notification_id)

    def add(self, notification_id: str) -> None:
        """``notification_id`` was handled: its repeats within ``window`` seconds are answered 204."""
        with self._lock:
            self._handling.discard(notification_id)
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
