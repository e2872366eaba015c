"""``sb.received``: what the sandbox got, bounded so a long-running sandbox (or a flood) cannot grow it.

It keeps the last ``keep`` requests, oldest dropped first, and drops more of the oldest once their bodies
would exceed ``body_bytes`` in all. A body longer than ``BODY_LIMIT`` is kept truncated, with its original
length in ``body_length``. A request rejected before a caller was verified (a missing or bad signature, an
unknown path, missing headers, an oversized body) is kept with no headers and only the first
``REJECTED_PREFIX`` bytes of its body and characters of its method and path: anyone can send those.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from typing import overload

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

#: How many requests ``sb.received`` keeps by default (``Sandbox(keep_requests=...)``).
KEEP_REQUESTS = 1000
#: How many body bytes it keeps in all by default (``Sandbox(keep_body_bytes=...)``).
KEEP_BODY_BYTES = 16 * 1024 * 1024
#: The most of one body it keeps: WeChat Pay bodies are a few KiB, and the sandbox reads up to 1 MiB.
BODY_LIMIT = 64 * 1024
#: What it keeps of a rejected request's body, method and path.
REJECTED_PREFIX = 256

_NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())


def new_request_id() -> str:
    """A Request-ID as the sandbox answers it (32 upper-case hex digits)."""
    return secrets.token_hex(16).upper()


@attrs.frozen
class ReceivedRequest:
    """One request as the sandbox received it, and how it was answered.

    ``status`` is None when the connection was dropped without an answer; ``code`` is the error code of a
    non-2xx answer; ``caller`` is ``merchant:<mchid>`` or ``brand:<brand_id>`` once the signature verified;
    ``fault`` names the injected fault kind; ``probe`` says the answer carried a SIGNTEST signature.
    ``rejected`` says it was checked and refused before a caller was verified (a request a before-fault
    answered was never checked). ``body`` may be truncated (see :class:`RequestLog`): ``body_length`` is
    the length that arrived.
    """

    method: str
    raw_path: str
    headers: CIMultiDictProxy[str] = attrs.field(eq=False, repr=False)
    body: bytes = attrs.field(repr=False)
    request_id: str
    status: int | None
    code: str | None
    caller: str | None
    fault: str | None = None
    probe: bool = False
    rejected: bool = False
    body_length: int = attrs.field()

    @body_length.default
    def _arrived_length(self) -> int:
        return len(self.body)

    @property
    def truncated(self) -> bool:
        """Whether less of the body was kept than arrived."""
        return len(self.body) < self.body_length


class RequestLog(Sequence[ReceivedRequest]):
    """The last requests the sandbox received, oldest first; reads like a list, from any thread.

    ``total_count`` counts every request since the start, ``rejected_count`` those rejected before a caller
    was verified, ``dropped_count`` the records dropped to stay within ``keep`` and ``body_bytes``.
    """

    def __init__(self, keep: int = KEEP_REQUESTS, body_bytes: int = KEEP_BODY_BYTES) -> None:
        if keep < 0:
            raise ValueError("keep_requests must not be negative")
        if body_bytes < 0:
            raise ValueError("keep_body_bytes must not be negative")
        self._keep = keep
        self._body_bytes = body_bytes
        self._body_limit = min(BODY_LIMIT, body_bytes)
        self._records: deque[ReceivedRequest] = deque()
        self._kept_bytes = 0
        self._total = self._rejected = self._dropped = 0
        # The sandbox appends on its own loop while a ThreadedSandbox's caller reads from another thread.
        self._lock = threading.Lock()

    def add(self, record: ReceivedRequest) -> None:
        """Keep ``record`` (trimmed as the class says), dropping the oldest records past the bounds."""
        if record.rejected:
            prefix = min(REJECTED_PREFIX, self._body_limit)
            record = attrs.evolve(
                record,
                method=record.method[:REJECTED_PREFIX],
                raw_path=record.raw_path[:REJECTED_PREFIX],
                headers=_NO_HEADERS,
                body=record.body[:prefix],
                body_length=record.body_length,
            )
        elif len(record.body) > self._body_limit:
            record = attrs.evolve(record, body=record.body[: self._body_limit], body_length=record.body_length)
        with self._lock:
            self._total += 1
            self._rejected += record.rejected
            self._records.append(record)
            self._kept_bytes += len(record.body)
            while self._records and (len(self._records) > self._keep or self._kept_bytes > self._body_bytes):
                self._kept_bytes -= len(self._records.popleft().body)
                self._dropped += 1

    def clear(self) -> None:
        """Forget the records kept so far (the counts stay)."""
        with self._lock:
            self._records.clear()
            self._kept_bytes = 0

    @property
    def keep(self) -> int:
        return self._keep

    @property
    def body_bytes(self) -> int:
        """The bytes of body kept now, at most ``keep_body_bytes``."""
        with self._lock:
            return self._kept_bytes

    @property
    def total_count(self) -> int:
        with self._lock:
            return self._total

    @property
    def rejected_count(self) -> int:
        with self._lock:
            return self._rejected

    @property
    def dropped_count(self) -> int:
        with self._lock:
            return self._dropped

    def _snapshot(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._records)

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    @overload
    def __getitem__(self, index: int) -> ReceivedRequest: ...

    @overload
    def __getitem__(self, index: slice) -> list[ReceivedRequest]: ...

    def __getitem__(self, index: int | slice) -> ReceivedRequest | list[ReceivedRequest]:
        if isinstance(index, slice):
            return self._snapshot()[index]
        with self._lock:
            return self._records[index]

    def __iter__(self) -> Iterator[ReceivedRequest]:
        # A copy: a deque being appended to from another thread cannot be iterated.
        return iter(self._snapshot())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RequestLog):
            return self._snapshot() == other._snapshot()
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return self._snapshot() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content like a list

    def __repr__(self) -> str:
        return (
            f"<RequestLog {len(self)} of the last {self._keep} requests, {self.body_bytes} body bytes; "
            f"{self.rejected_count} rejected, {self.dropped_count} dropped>"
        )
