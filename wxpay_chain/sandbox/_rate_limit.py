"""Per-caller request-rate limit: a token bucket on the sandbox clock."""

from __future__ import annotations

from ._clock import Clock


class RateLimiter:
    """Allows ``rate`` requests per second per key, with bursts up to ``max(1, rate)``."""

    def __init__(self, rate: float, clock: Clock) -> None:
        if rate <= 0:
            raise ValueError("rate_limit must be a positive number of requests per second")
        self._rate = rate
        self._capacity = max(1.0, rate)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        now = self._clock()
        tokens, last = self._buckets.get(key, (self._capacity, now))
        tokens = min(self._capacity, tokens + max(0.0, now - last) * self._rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1.0, now)
        return True
