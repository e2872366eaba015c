"""A ``session=`` the caller passes in: what it may carry, checked when the client is built, and what each
request tells it, so that the session's own defaults cannot change what is signed or how answers read.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from ._errors import ConfigurationError, TransportError
from ._http import RESERVED_HEADERS, Request

__all__ = ["PER_REQUEST", "check_session", "closed_session", "foreign_loop"]

# A session's default headers go on every request. These frame, route or upgrade it, so a call's headers=
# refuses them too; Authorization is left alone, as the signature's replaces it.
_NOT_BY_DEFAULT = RESERVED_HEADERS - {"authorization"}

#: Said on every request through a session passed in: its raise_for_status would turn an answer into an
#: exception before the pipeline reads its code (and resend a final 4xx as in doubt), and without
#: decompression a gzip answer's bytes are not the ones WeChat Pay signed.
PER_REQUEST: dict[str, Any] = {"raise_for_status": False, "auto_decompress": True}


def check_session(session: aiohttp.ClientSession) -> None:
    """ConfigurationError for a session no signed request can go through as it was signed."""
    if not isinstance(session, aiohttp.ClientSession):
        raise ConfigurationError(f"session must be an aiohttp.ClientSession, not {type(session).__name__}")
    owned = sorted({name for name in session.headers if name.lower() in _NOT_BY_DEFAULT}, key=str.lower)
    if owned:
        raise ConfigurationError(
            f"The session= passed to the client sends {', '.join(owned)} on every request, which frames or routes "
            "it (Content-Length: 0 drops a signed body): make the session without that default header"
        )
    if getattr(session, "_default_auth", None) is not None:  # aiohttp then refuses every request's Authorization
        raise ConfigurationError(
            "The session= passed to the client was made with auth=, which aiohttp will not combine with the "
            "signature's Authorization header: give the client a session without auth="
        )


def closed_session(request: Request | None = None) -> TransportError:
    where = "" if request is None else f"{request.method} {request.template}: "
    return TransportError(
        f"{where}the session= passed to the client is closed; nothing was sent. Close it after the client",
        connect_failed=True,
    )


def foreign_loop(session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``session`` was made in another event loop than ``loop`` (it can serve only its own)."""
    made_in = getattr(session, "_loop", None)  # aiohttp's `loop` property warns that it is deprecated
    return made_in is not None and made_in is not loop
