"""The blocking Client's event loop thread: it serves until the client stops it, whatever a call raises.

A ``SystemExit`` or ``KeyboardInterrupt`` raised inside a call (by a hook, a transport, a handler of a
MemoryTransport) leaves ``run_forever`` at once, before the result reaches the thread that waits for
it. Serving on then hands it over: that caller gets the exception, and the client keeps working.
A Client collected without close() has its loop stopped and closed here (:func:`stop_when_collected`).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import sys
import weakref
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import ConfigurationError
from ._pipeline import ABANDONED

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = ["closed_if_refused", "keep_inherited", "real_threads", "serve", "stop_when_collected", "submit"]

log = logging.getLogger("wxpay_chain")
T = TypeVar("T")

_ORPHANED: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()  # loops of Clients never closed

# Event loops a forked child inherited from its parent's loop thread. Each shares its epoll set and
# wake-up pipe with the parent's loop, which still runs: closing one here would unregister the parent's
# sockets from it. They are kept referenced and never closed (a few descriptors per fork).
_INHERITED_LOOPS: list[asyncio.AbstractEventLoop] = []


def keep_inherited(loop: asyncio.AbstractEventLoop) -> None:
    _INHERITED_LOOPS.append(loop)


@contextlib.contextmanager
def closed_if_refused(coro: Coroutine[Any, Any, Any]) -> Iterator[None]:
    """Close ``coro`` if the block raises: a call refused before it is queued is never awaited."""
    try:
        yield
    except BaseException:
        coro.close()
        raise


def real_threads() -> None:
    """ConfigurationError where threads are green (gevent's or eventlet's monkey patching)."""
    patched = _green_threads()
    if patched is not None:
        raise ConfigurationError(
            f"The blocking Client runs an asyncio loop in a thread of its own, which {patched}'s monkey patching "
            "breaks: a patched thread is a greenlet, so every greenlet sees that loop as running (Django's ORM "
            "then refuses every query, asyncio.run() fails) and calls can stall the worker; patched sockets or "
            "select make its calls time out. Use sync or thread workers, or AsyncClient from an event loop of "
            "your own"
        )


def _green_threads() -> str | None:
    """Whose monkey patching of threads, sockets or select is in effect in this process, if any."""
    gevent = sys.modules.get("gevent.monkey")
    if gevent is not None and any(map(gevent.is_module_patched, ("threading", "socket", "select", "selectors"))):
        return "gevent"
    eventlet = sys.modules.get("eventlet.patcher")
    if eventlet is not None and any(map(eventlet.is_monkey_patched, ("thread", "socket", "select"))):
        return "eventlet"
    return None



def serve(loop: asyncio.AbstractEventLoop) -> None:
    while True:
        try:
            loop.run_forever()
            if loop in _ORPHANED:  # stopped for a Client collected unclosed: nobody else will close it
                _ORPHANED.discard(loop)
                loop.close()
            return  # stopped by Client.close(), which closes the loop itself
        except BaseException as exc:  # handed to the waiting caller by the next turn of the loop
            log.debug("the client's loop thread goes on after %s", type(exc).__name__)


def stop_when_collected(
    client: object, loop: asyncio.AbstractEventLoop, worker_close: Callable[[], None] | None, pool: Transport | None
) -> weakref.finalize[Any, object]:
    """When ``client`` (a Client) is collected without close(), stop its signing worker, close its own pool
    and stop its loop, so that its thread and connections go too. The finalizer holds nothing of the
    caller's (no hook, clock or transport=), which could refer back to the Client and keep it alive."""
    collected = weakref.finalize(client, _let_go, loop, worker_close, pool)
    collected.atexit = False  # _let_go_at_exit does it at exit, waiting for the pool
    if len(_OPEN) >= 64:  # those of clients closed or collected since
        _OPEN.difference_update([f for f in _OPEN if not f.alive])
    _OPEN.add(collected)
    return collected


_OPEN: set[weakref.finalize[Any, object]] = set()
_EXIT_GRACE = 1.0  # seconds each pool still open at exit gets to close


@atexit.register
def _let_go_at_exit() -> None:
    """At exit, close the pool of each Client never closed (a module-level one, say), or aiohttp logs its
    session and connector as never closed on every worker restart."""
    for collected in list(_OPEN):
        # Not collected(): weakref's own exit hook, which may run first, makes every finalizer a no-op.
        held = collected.detach()  # None for a client closed or collected since
        closing = None if held is None else _let_go(*held[2])
        if closing is not None:
            with contextlib.suppress(Exception):
                closing.result(timeout=_EXIT_GRACE)


def _let_go(
    loop: asyncio.AbstractEventLoop, worker_close: Callable[[], None] | None, pool: Transport | None
) -> concurrent.futures.Future[None] | None:
    if worker_close is not None:
        worker_close()
    if loop.is_closed():
        return None

    async def finish() -> None:
        try:
            if pool is not None:
                await pool.aclose()
        finally:
            _ORPHANED.add(loop)  # serve() closes it once stopped
            loop.call_soon(loop.stop)  # after this task hands its result on to whoever waits at exit

    work = finish()
    try:
        return asyncio.run_coroutine_threadsafe(work, loop)
    except RuntimeError:  # the loop closed meanwhile
        work.close()
        return None


def submit(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], future: concurrent.futures.Future[T]) -> None:
    """Run ``coro`` on ``loop`` (another thread's), its outcome going to ``future``, which the caller made
    and holds before this is called: a signal that interrupts the caller at any point then still reaches the
    call through ``future.cancel()`` (asyncio.run_coroutine_threadsafe hands its future back only once the
    call is queued). RuntimeError if ``loop`` is closed."""
    loop.call_soon_threadsafe(_start, loop, coro, future)


def _start(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], future: concurrent.futures.Future[T]) -> None:
    if future.cancelled():  # given up on before it started: it never runs
        coro.close()
        return
    task = loop.create_task(_for_caller(coro, future.cancelled))

    def outcome(done: asyncio.Task[T]) -> None:
        if future.cancelled() or not future.set_running_or_notify_cancel():
            return
        if done.cancelled():
            future.set_exception(concurrent.futures.CancelledError())
        elif (error := done.exception()) is not None:
            future.set_exception(error)
        else:
            future.set_result(done.result())

    def given_up(_: concurrent.futures.Future[T]) -> None:
        if future.cancelled():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: the task went with it
                loop.call_soon_threadsafe(task.cancel)

    task.add_done_callback(outcome)
    future.add_done_callback(given_up)


async def _for_caller(coro: Coroutine[Any, Any, T], abandoned: Callable[[], bool]) -> T:
    ABANDONED.set(abandoned)  # in this task's own context
    return await coro
