"""This process's id, kept current across ``os.fork()`` without a system call on every use, and the
locks of rare set-up work, made anew in a forked child.

The transport and the signing workers compare the id on every request to notice that they now live in a
forked child. ``os.getpid()`` is a system call each time (glibc no longer caches it): four per request.
``os.register_at_fork`` runs in every child Python's ``os.fork`` makes, multiprocessing's included.
"""

from __future__ import annotations

import os
import threading

__all__ = ["current_pid", "process_lock"]

_pid = os.getpid()
_locks: dict[str, threading.Lock] = {}


def _forked() -> None:
    global _pid
    _pid = os.getpid()
    _locks.clear()  # a thread that held one at the fork is gone: the child's copy would stay held for ever


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def current_pid() -> int:
    return _pid


def process_lock(purpose: str) -> threading.Lock:
    """This process's lock for ``purpose`` (a client's pool being made, a forked child's loop starting)."""
    lock = _locks.get(purpose)
    return lock if lock is not None else _locks.setdefault(purpose, threading.Lock())
