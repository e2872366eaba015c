"""RSA signing in a child process, for clients that make many calls at once (``offload_crypto="process"``).

The signing thread shares the interpreter lock with the event loop, and a busy loop's many short
releases keep it waiting for that lock far longer than it signs.
A child process has an interpreter of its own: the loop hands it the message to sign through a pipe,
goes on with other calls, and reads the signature back when it is ready.

A call is never lost to the child: if it cannot start, exits, or answers nothing for ``stall_after``
seconds while signatures are owed, every message it still owes is signed here, a warning is logged once,
and the client goes on with the signing thread. The message bytes are the same either way, so what is
signed is still exactly what is sent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ._crypto import rsa_sign
from ._errors import ConfigurationError, TransportError
from ._process import current_pid
from ._sign_worker import HEADER, LENGTH
from ._signing_thread import SigningThread

__all__ = ["SigningProcess", "check_platform"]

log = logging.getLogger("wxpay_chain.signing")

_WORKER = str(Path(__file__).with_name("_sign_worker.py"))
# The child gets the parent's import path so it finds the same cryptography, and runs the worker file
# directly so that it never imports this package (and its HTTP stack) for nothing. It runs isolated (-I):
# `-c` alone would put the working directory first on its path, and a runpy.py planted there (where runpy
# is not frozen: Python 3.10, or -X frozen_modules=off) would be handed the private key.
_BOOT = "import runpy, sys; sys.path[:] = sys.argv[2:]; runpy.run_path(sys.argv[1], run_name='__main__')"

# A forked process's view of its parent's signing child: never waited for nor killed here, and kept
# referenced so that its finalizer does not warn that "it is still running" (it is: for the parent).
_PARENTS_CHILDREN: list[subprocess.Popen[bytes]] = []


def check_platform() -> None:
    """Raise ConfigurationError where a signing process cannot work (the loop must watch pipes)."""
    if sys.platform == "win32":
        raise ConfigurationError('offload_crypto="process" needs a POSIX system; use "auto" on Windows')


class SigningProcess:
    """``await signer.sign(message)`` signs in the child; ``close()`` stops it. Started on first use."""

    def __init__(self, key: rsa.RSAPrivateKey, *, stall_after: float = 10.0, executable: str | None = None) -> None:
        self._key = key
        self._fallback = SigningThread(key)
        self._stall_after = stall_after
        self._executable = sys.executable if executable is None else executable
        self._process: subprocess.Popen[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = current_pid()
        self._to_child = -1
        self._from_child = -1
        self._jobs: dict[int, tuple[asyncio.Future[str], bytes]] = {}
        self._next_job = 0
        self._outbox = bytearray()
        self._flush_pending = False
        self._writer_on = False
        self._received = bytearray()
        self._progress_at = 0.0
        self._watchdog: asyncio.TimerHandle | None = None
        self._failed: str | None = None

    @property
    def failed(self) -> str | None:
        """Why signing moved back into this process, or None while the child serves."""
        return self._failed

    def sign(self, message: bytes) -> asyncio.Future[str]:
        loop = asyncio.get_running_loop()
        if (loop is not self._loop or self._failed is not None or self._pid != current_pid()) and not self._serve(loop):
            return self._fallback.sign(message)
        future: asyncio.Future[str] = loop.create_future()
        job = self._next_job = (self._next_job + 1) & 0xFFFFFFFF
        if not self._jobs:
            self._progress_at = loop.time()
            if self._watchdog is None:
                self._watchdog = loop.call_later(self._stall_after, self._watch)
        self._jobs[job] = (future, message)
        if not self._flush_pending and not self._writer_on:
            self._flush_pending = True
            loop.call_soon(self._flush)  # every message queued in this loop turn goes in one write
        self._outbox += HEADER.pack(job, len(message))
        self._outbox += message
        return future

    def backlog(self) -> int:
        """0: the child has an interpreter lock of its own, so signing on the loop instead gains nothing."""
        return 0

    def close(self) -> None:
        """Stop the child. Calls still waiting for a signature end with TransportError: nothing was sent."""
        self._fallback.close()
        if self._pid != current_pid():
            self._forget_parent()
        if self._process is None:
            return
        jobs, self._jobs = self._jobs, {}
        for future, _ in jobs.values():
            if not future.done():
                future.set_exception(
                    TransportError(
                        "The client was closed before this call was signed; nothing was sent", connect_failed=True
                    )
                )
        self._stop()
        self._failed = self._failed or "was closed"

    # -- the child -------------------------------------------------------------------------------
    def _serve(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Whether the child signs for ``loop``: started, moved over from a closed loop, or started anew
        after a fork. False when this call must be signed in-process instead."""
        if self._pid != current_pid():
            self._forget_parent()
        if self._failed is not None:
            return False
        if self._loop is None:
            return self._start(loop)
        if self._loop is loop:
            return True
        if not self._loop.is_closed():
            return False  # another open loop uses the child: calls from this one sign on the thread
        self._move_to(loop)
        return True

    def _move_to(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve ``loop`` from now on; the loop the child served is closed (two asyncio.run() in a row).

        Its calls went with it: their signatures still arrive and are dropped by job number. The bytes not
        yet written and any partial answer stay, so the framing of both pipes goes on unbroken.
        """
        self._jobs = {}
        self._watchdog = None  # a timer of the closed loop, which never fires
        self._writer_on = False
        self._loop = loop
        loop.add_reader(self._from_child, self._on_readable)
        self._flush_pending = bool(self._outbox)
        if self._outbox:
            loop.call_soon(self._flush)

    def _forget_parent(self) -> None:
        """In a forked process: let go of the parent's child without a word to it, to start one of our own.

        The pipes are the parent's too; reading them would steal its signatures. Only this process's copies
        of their descriptors are closed (that sends nothing), and the calls of the parent's loop are dropped.
        """
        process, self._process = self._process, None
        if process is not None:
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()
            _PARENTS_CHILDREN.append(process)
        self._pid = current_pid()
        self._loop = None
        self._to_child = self._from_child = -1
        self._jobs = {}
        # New buffers, not cleared ones: a fork during the parent's os.write() copies the buffer with an
        # export that is never released here, and such a bytearray can never be resized again.
        self._outbox = bytearray()
        self._received = bytearray()
        self._flush_pending = self._writer_on = False
        self._watchdog = None

    def _start(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Start the child for ``loop``; False when this call must be signed in-process instead."""
        if self._failed is not None or self._loop is not None:
            return False  # failed before, or bound to another loop or a parent process (after a fork)
        self._loop, self._pid = loop, current_pid()
        if getattr(sys, "frozen", False) or not self._executable:
            self._fail("cannot start: there is no Python interpreter to run it with (frozen application)")
            return False
        pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            self._process = subprocess.Popen(
                [self._executable, "-I", "-c", _BOOT, _WORKER, *sys.path],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                bufsize=0,
                close_fds=True,
            )
            assert self._process.stdin is not None and self._process.stdout is not None
            self._to_child, self._from_child = self._process.stdin.fileno(), self._process.stdout.fileno()
            # The key goes through the pipe, never argv or the environment, which other users can read.
            os.write(self._to_child, LENGTH.pack(len(pem)) + pem)
            os.set_blocking(self._to_child, False)
            os.set_blocking(self._from_child, False)
            loop.add_reader(self._from_child, self._on_readable)
        except (OSError, NotImplementedError) as exc:
            self._fail(f"cannot start ({type(exc).__name__}: {exc})")
            return False
        finally:
            del pem
        return True

    def _flush(self) -> None:
        self._flush_pending = False
        if self._failed is not None or not self._outbox:
            return
        try:
            written = os.write(self._to_child, self._outbox)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            self._fail(f"stopped reading ({type(exc).__name__})")
            return
        del self._outbox[:written]
        loop = self._loop
        assert loop is not None
        if self._outbox and not self._writer_on:
            loop.add_writer(self._to_child, self._flush)  # the pipe is full: go on when the child drains it
            self._writer_on = True
        elif not self._outbox and self._writer_on:
            loop.remove_writer(self._to_child)
            self._writer_on = False

    def _on_readable(self) -> None:
        try:
            data = os.read(self._from_child, 1 << 16)
        except BlockingIOError:
            return
        except OSError as exc:
            self._fail(f"could not be read ({type(exc).__name__})")
            return
        if not data:
            code = self._process.poll() if self._process is not None else None
            self._fail("exited" + (f" with code {code}" if code is not None else ""))
            return
        loop = self._loop
        assert loop is not None
        self._progress_at = loop.time()
        received = self._received
        received += data
        jobs, start, size = self._jobs, 0, HEADER.size
        while len(received) - start >= size:
            job, length = HEADER.unpack_from(received, start)
            end = start + size + length
            if len(received) < end:
                break
            entry = jobs.pop(job, None)
            if entry is not None and not entry[0].cancelled():
                entry[0].set_result(received[start + size : end].decode("ascii"))
            start = end
        del received[:start]

    def _watch(self) -> None:
        self._watchdog = None
        if not self._jobs or self._failed is not None or self._loop is None:
            return
        quiet = self._loop.time() - self._progress_at
        if quiet >= self._stall_after:
            self._fail(f"sent no signature for {quiet:.1f} s")
        else:
            self._watchdog = self._loop.call_later(self._stall_after - quiet, self._watch)

    def _fail(self, reason: str) -> None:
        """Give up on the child: sign what it still owes here, and use the signing thread from now on."""
        if self._failed is not None:
            return
        self._failed = reason
        log.warning("The signing process %s; signing in this process from now on", reason)
        self._stop()
        jobs, self._jobs = self._jobs, {}
        for future, message in jobs.values():
            if future.done():
                continue
            try:
                future.set_result(rsa_sign(self._key, message))
            except Exception as exc:  # handed to the caller, as the thread does
                future.set_exception(exc)

    def _stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        process, self._process = self._process, None
        self._outbox.clear()
        if process is None or self._pid != current_pid():
            return  # nothing started, or a forked copy: the child belongs to the parent process
        loop = self._loop
        if loop is not None and not loop.is_closed():
            if self._writer_on:
                loop.remove_writer(self._to_child)
                self._writer_on = False
            loop.remove_reader(self._from_child)
        process.kill()  # it keeps no state worth a graceful stop, and must not sign anything more
        process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
