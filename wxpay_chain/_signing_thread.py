"""One worker thread that runs the RSA private-key operation for calls made concurrently.

RSA signing releases the GIL, so a second thread lets both cores work. Only ``key.sign`` crosses over
(the message and the header are built on the event loop), and every message queued while the thread was
busy is signed in one batch whose results come back with a single ``call_soon_threadsafe``: handing work
to a thread pool call by call spends more time fighting over the GIL than it saves.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
import weakref
from collections import defaultdict

from cryptography.hazmat.primitives.asymmetric import rsa

from ._crypto import rsa_sign
from ._process import current_pid

__all__ = ["SigningThread"]

_Job = tuple[bytes, "asyncio.Future[str]", asyncio.AbstractEventLoop]
_Outcome = tuple["asyncio.Future[str]", str | None, BaseException | None]


def _deliver(outcomes: list[_Outcome]) -> None:
    for future, signature, error in outcomes:
        if future.cancelled():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(signature)  # type: ignore[arg-type]


class SigningThread:
    """``await thread.sign(message)`` signs on the worker; ``close()`` lets it finish and stop.

    Each job carries its own loop, so one worker serves every loop a client is used from. After
    ``close()`` nothing is queued any more (a job behind the stop mark would wait for ever): a late
    message is signed inline instead.
    """

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self._key = key
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = current_pid()
        self._lock = threading.Lock()
        self._stopped = False
        _LIVE.add(self)

    def sign(self, message: bytes) -> asyncio.Future[str]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        if self._pid != current_pid():
            self._forget_parent()  # in case this fork ran no at-fork hooks
        with self._lock:  # orders this job before or after close()'s stop mark
            if not self._stopped:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="wxpay-chain-sign", daemon=True)
                    self._thread.start()
                self._jobs.put((message, future, loop))
                return future
        try:
            future.set_result(rsa_sign(self._key, message))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def backlog(self) -> int:
        """About how many messages wait for the thread (approximate: it may be taking one right now)."""
        return self._jobs.qsize()

    def close(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            if self._thread is not None:
                self._jobs.put(None)

    def _forget_parent(self) -> None:
        # Threads do not survive fork(), and a lock or queue another thread held is unusable in the child.
        self._pid, self._thread, self._jobs, self._lock = current_pid(), None, queue.SimpleQueue(), threading.Lock()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            job = self._jobs.get()
            if job is None:
                return
            batch = [job]
            while True:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            by_loop: defaultdict[asyncio.AbstractEventLoop, list[_Outcome]] = defaultdict(list)
            for message, future, loop in batch:
                try:
                    by_loop[loop].append((future, rsa_sign(self._key, message), None))
                except Exception as exc:  # handed to the caller, never lost on this thread
                    by_loop[loop].append((future, None, exc))
            for loop, outcomes in by_loop.items():
                # RuntimeError: the loop closed (asyncio.run ended), and nobody waits for these any more.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_deliver, outcomes)


_LIVE: weakref.WeakSet[SigningThread] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for signer in list(_LIVE):
        signer._forget_parent()


if hasattr(os, "register_at_fork"):  # in the child no other thread runs yet, so no sign() races this
    os.register_at_fork(after_in_child=_after_fork_in_child)
