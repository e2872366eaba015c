"""What the send loop does differently per protocol: how a prepared call is authorized, how its answer is
verified, and whether a request that may have reached WeChat Pay is ever sent again.

APIv3 signs each attempt afresh (Authorization header) and verifies the answer's headers; its calls carry
request numbers WeChat Pay de-duplicates on, so they are retried by the RetryPolicy. APIv2 is in
_v2_pipeline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from ._authorize import Authorizer
from ._http import Request, Response
from ._request import PreparedRequest
from ._transport import RawResponse
from ._v2_pipeline import V2Protocol
from ._verifier import Verifier

__all__ = ["CallProtocol", "V3Protocol", "protocols"]

Fetch = Callable[[], Awaitable[Response]]


class CallProtocol(Protocol):
    @property
    def resends(self) -> bool:
        """Whether a request that may have reached WeChat Pay is sent again (by the RetryPolicy)."""
        ...

    async def authorize(self, prepared: PreparedRequest, origin: str, overlapping: bool) -> Request: ...

    async def verify(
        self, request: Request, raw: RawResponse, request_id: str | None, fetch: Fetch, deadline: float | None
    ) -> None: ...

    @property
    def verifier(self) -> Verifier | None:
        """Whose platform keys check the answers, when they are downloaded (APIv3); None for APIv2."""
        ...


class V3Protocol:
    resends = True

    def __init__(self, authorizer: Authorizer, verifier: Verifier) -> None:
        # The steps themselves, not wrappers around them: a wrapper is one more coroutine on every call.
        self.authorize = authorizer.authorize
        self.verify = verifier.verify
        self.verifier = verifier


def protocols(authorizer: Authorizer, verifier: Verifier, apiv2_key: str | None) -> dict[str, CallProtocol]:
    """A client's protocols by the name a PreparedRequest gives (``protocol``)."""
    return {"v3": V3Protocol(authorizer, verifier), "v2": V2Protocol(apiv2_key)}
