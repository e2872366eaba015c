"""The blocking Client's event loop thread: it serves until the client stops it, whatever a call raises.

A ``SystemExit`` or ``KeyboardInterrupt`` raised inside a call (by a hook, a transport, a handler of a
MemoryTransport) leaves ``run_forever`` at once, before the result reaches the thread that waits for
it. Serving on then hands it over: that caller gets the exception, and the client keeps working.
"""

from __future__ import annotations

import asyncio
import logging

__all__ = ["serve"]

log = logging.getLogger("wxpay_chain")


def serve(loop: asyncio.AbstractEventLoop) -> None:
    while True:
        try:
            loop.run_forever()
            return  # stopped by Client.close()
        except BaseException as exc:  # handed to the waiting caller by the next turn of the loop
            log.debug("the client's loop thread goes on after %s", type(exc).__name__)
