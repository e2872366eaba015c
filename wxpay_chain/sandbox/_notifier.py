"""Coupon-sent notifications: signed and encrypted like WeChat Pay's, retried with backoff until acknowledged.

Each notification is one background task: first try at once, then one retry after each delay in
``retry_delays``; any 2xx answer acknowledges it, anything else (or no answer) is retried, and after the
last try it is abandoned. Tests wait for outcomes with :meth:`Notifier.wait_delivered` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import aiohttp
import attrs

from ._auth import AnswerSigner, Scheme, aes_gcm_encrypt, make_nonce, probe_signature
from ._clock import Clock, rfc3339

Outcome = Literal["pending", "delivered", "abandoned"]


@attrs.define
class NotificationRecord:
    """One notification and what happened to it (``attempts`` holds a status or an error per try)."""

    id: str
    event_type: str
    body: bytes = attrs.field(repr=False)
    attempts: list[str] = attrs.field(factory=list)
    outcome: Outcome = "pending"


class Notifier:
    def __init__(
        self,
        *,
        url: str,
        signer: AnswerSigner,
        apiv3_key: str,
        clock: Clock,
        retry_delays: Sequence[float],
        timeout: float,
        probe_rate: float,
        seed: int,
    ) -> None:
        self._url = url
        self._signer = signer
        self._apiv3_key = apiv3_key
        self._clock = clock
        self._retry_delays = tuple(retry_delays)
        self._timeout = timeout
        self._probe_rate = probe_rate
        self._rng = random.Random(seed ^ 0x5EED)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed: asyncio.Condition | None = None
        self.records: list[NotificationRecord] = []

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        self._changed = asyncio.Condition()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def submit(self, coupon: Mapping[str, Any], *, serial: str, scheme: Scheme) -> NotificationRecord:
        """Queue a COUPON.SEND notification carrying ``coupon`` (encrypted) to the configured URL."""
        now = self._clock()
        nonce = make_nonce(12)
        plaintext = json.dumps(coupon, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        envelope = {
            "id": str(uuid.uuid4()),
            "create_time": rfc3339(now),
            "resource_type": "encrypt-resource",
            "event_type": "COUPON.SEND",
            "summary": "商品券发放成功",
            "resource": {
                "original_type": "product_coupon",  # the resource is a user product coupon
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": aes_gcm_encrypt(self._apiv3_key, nonce, "coupon", plaintext),
                "associated_data": "coupon",
                "nonce": nonce,
            },
        }
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        record = NotificationRecord(id=str(envelope["id"]), event_type="COUPON.SEND", body=body)
        self.records.append(record)
        task = asyncio.get_running_loop().create_task(self._deliver(record, serial=serial, scheme=scheme))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return record

    async def _deliver(self, record: NotificationRecord, *, serial: str, scheme: Scheme) -> None:
        delays = (0.0, *self._retry_delays)
        for delay in delays:
            if delay:
                await asyncio.sleep(delay)
            headers = self._signer.headers(record.body, timestamp=int(self._clock()), serial=serial, scheme=scheme)
            if self._probe_rate and self._rng.random() < self._probe_rate:
                headers["Wechatpay-Signature"] = probe_signature(self._rng.randbytes(64))
            headers["Content-Type"] = "application/json"
            headers["User-Agent"] = "Mozilla/4.0 (wxpay_chain sandbox notifier)"
            if await self._attempt(record, headers):
                await self._settle(record, "delivered")
                return
        await self._settle(record, "abandoned")

    async def _attempt(self, record: NotificationRecord, headers: dict[str, str]) -> bool:
        assert self._session is not None
        try:
            async with self._session.post(self._url, data=record.body, headers=headers) as answer:
                await answer.read()
                record.attempts.append(str(answer.status))
                return 200 <= answer.status < 300
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            record.attempts.append(type(exc).__name__)
            return False

    async def _settle(self, record: NotificationRecord, outcome: Outcome) -> None:
        record.outcome = outcome
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    def count(self, outcome: Outcome | None = None) -> int:
        return sum(1 for r in self.records if outcome is None or r.outcome == outcome)

    async def wait_delivered(self, n: int, timeout: float) -> None:
        await self._wait(lambda: self.count("delivered") >= n, timeout, f"{n} notification(s) delivered")

    async def wait_settled(self, n: int, timeout: float) -> None:
        await self._wait(
            lambda: self.count("delivered") + self.count("abandoned") >= n,
            timeout,
            f"{n} notification(s) delivered or abandoned",
        )

    async def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        changed = self._changed
        assert changed is not None, "the sandbox is not running"

        async def until_done() -> None:
            async with changed:
                await changed.wait_for(done)

        try:
            await asyncio.wait_for(until_done(), timeout)
        except asyncio.TimeoutError:
            summary = [(r.id, r.outcome, r.attempts) for r in self.records]
            raise TimeoutError(f"waited {timeout} s for {what}; notifications so far: {summary}") from None
