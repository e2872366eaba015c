"""One request's passage through the sandbox, shared by the gate (``._gate``) and the route that answers:
its Request-ID and fault, set by the gate; what the route read and who it verified, for the request log."""

from __future__ import annotations

from contextvars import ContextVar

import attrs
from aiohttp import web

from ._faults import Fault
from ._record import new_request_id

__all__ = ["Exchange", "exchange_of"]

# A context variable, not request storage: aiohttp answers each request in its connection's own task.
_CURRENT: ContextVar[tuple[web.Request, Exchange]] = ContextVar("wxpay_chain_sandbox_exchange")


@attrs.define
class Exchange:
    request_id: str
    fault: Fault | None = None
    body: bytes = attrs.field(default=b"", repr=False)
    caller: str | None = None  # Caller.label once the request's signature verified
    code: str | None = None  # the error code of a non-2xx answer
    probe: bool = False  # the answer carries a SIGNTEST signature
    dropped: bool = False  # the connection was closed without an answer


def exchange_of(request: web.Request) -> Exchange:
    """The request's exchange; a route served without the gate gets a fresh one (faultless, unrecorded)."""
    found = _CURRENT.get(None)
    if found is None or found[0] is not request:
        return start_exchange(request, None)
    return found[1]


def start_exchange(request: web.Request, fault: Fault | None) -> Exchange:
    exchange = Exchange(new_request_id(), fault)
    _CURRENT.set((request, exchange))
    return exchange
