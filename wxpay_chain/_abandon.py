"""Letting go of an aiohttp session without any I/O on its sockets: after ``fork()`` (they are the
parent's too) or when its event loop has closed (nothing can run on it any more)."""

from __future__ import annotations

import os
from typing import Any

import aiohttp

__all__ = ["abandon"]

# Sessions let go of where their sockets could not be released by hand (another aiohttp or event loop):
# kept referenced for good, so that no finalizer ever closes them the normal way (see abandon).
_ABANDONED: list[object] = []


def abandon(session: aiohttp.ClientSession) -> None:
    """Let go of an own session whose event loop is closed or belongs to the parent process.

    Closing it the aiohttp way would write (TLS close_notify) on connections a parent may still use and
    call into a loop that is closed, or whose epoll set is shared with the parent. Instead each socket's
    file descriptor is closed with a bare close(): that sends nothing while the parent holds its own
    descriptor (no shutdown()), and ends the connection when this process held the last one. The objects
    are marked closed so that no finalizer warns or tries again. Where that cannot be done by hand, the
    session is kept referenced for good: a few leaked descriptors are safe, a finalizer's I/O is not.
    """
    connector = session.connector
    if connector is None or connector.closed:
        return
    try:
        conns: Any = connector._conns  # no public way to reach the pooled connections
        acquired: Any = connector._acquired
        for proto in [proto for entries in conns.values() for proto, _ in entries] + list(acquired):
            _release_socket(getattr(proto, "transport", None))
        conns.clear()
        acquired.clear()
        connector._closed = True  # then neither it nor the session warns when collected
    except (AttributeError, TypeError, ValueError, OSError):
        _ABANDONED.append(session)


def _release_socket(transport: Any) -> None:
    if transport is None:
        return
    ssl_protocol = getattr(transport, "_ssl_protocol", None)
    if ssl_protocol is not None:  # asyncio's TLS wrapper: mark it closed, or it warns when collected
        transport._closed = True
        transport = ssl_protocol._transport  # the socket transport under it
        if transport is None:
            return
    sock = transport._sock  # AttributeError for another event loop's transports
    if sock is None:
        return
    fd = sock.detach()  # the socket object lets go of the number first, so nothing can use it once reused
    transport._sock = None  # else its finalizer warns and closes again
    if fd >= 0:
        os.close(fd)
