"""This process's id, kept current across ``os.fork()`` without a system call on every use.

The transport and the signing workers compare it on every request to notice that they now live in a
forked child. ``os.getpid()`` is a system call each time (glibc no longer caches it): four per request.
``os.register_at_fork`` runs in every child Python's ``os.fork`` makes, multiprocessing's included.
"""

from __future__ import annotations

import os

__all__ = ["current_pid"]

_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def current_pid() -> int:
    return _pid
