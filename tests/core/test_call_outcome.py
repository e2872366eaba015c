"""The error that ends a retried call speaks for every attempt: when an earlier attempt may have reached
WeChat Pay, the last one's "nothing was sent" (a refused connection) or plain 4xx must not say the call
was never carried out, or a caller resends with a new request number and sends a coupon twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from wxpay_chain import (
    ApiError,
    AsyncClient,
    Headers,
    MemoryTransport,
    RateLimitError,
    RawResponse,
    Request,
    RetryPolicy,
    TransportError,
)

DOUBT = "may have reached WeChat Pay on an earlier attempt"
RESET = ConnectionResetError("the connection dropped after the request went out")
REFUSED = ConnectionRefusedError("nothing listens")


def answered(status: int, code: str) -> RawResponse:
    return RawResponse(status, Headers({"Content-Type": "application/json"}), f'{{"code":"{code}"}}'.encode())


def scripted(*steps: object) -> MemoryTransport:
    """Each attempt meets the next step: an exception raised as a socket would, or an answer."""
    remaining = list(steps)

    def answer(request: Request) -> RawResponse:
        step = remaining.pop(0)
        if isinstance(step, BaseException):
            raise step
        assert isinstance(step, RawResponse)
        return step

    return MemoryTransport(answer)


async def call(make_client: Callable[..., AsyncClient], method: str, *steps: object) -> Any:
    retry = RetryPolicy(attempts=len(steps), backoff=0.001, cap=0.001, jitter=False)
    async with make_client(transport=scripted(*steps), retry=retry) as client:
        things = client.v3.things
        return await (things.post(json={"send_request_no": "S-1"}) if method == "POST" else things.get())


async def test_a_refused_retry_after_a_dropped_post_is_in_doubt(make_client: Callable[..., AsyncClient]) -> None:
    with pytest.raises(TransportError) as ended:
        await call(make_client, "POST", RESET, REFUSED)
    assert not ended.value.connect_failed  # the first attempt connected: the call may have been sent
    assert DOUBT in str(ended.value) and "same request number" in str(ended.value)


@pytest.mark.parametrize(
    ("status", "code", "kind"), [(400, "PARAM_ERROR", ApiError), (429, "FREQUENCY_LIMITED", RateLimitError)]
)
async def test_a_4xx_on_the_retry_of_a_dropped_post_is_in_doubt(
    make_client: Callable[..., AsyncClient], status: int, code: str, kind: type[ApiError]
) -> None:
    with pytest.raises(kind) as ended:
        await call(make_client, "POST", RESET, answered(status, code))
    assert ended.value.status == status and DOUBT in str(ended.value)


async def test_a_post_that_never_connected_stays_surely_unsent(make_client: Callable[..., AsyncClient]) -> None:
    with pytest.raises(TransportError) as ended:
        await call(make_client, "POST", REFUSED, REFUSED)
    assert ended.value.connect_failed and "may have" not in str(ended.value)


async def test_a_4xx_with_no_earlier_attempt_is_no_doubt(make_client: Callable[..., AsyncClient]) -> None:
    with pytest.raises(ApiError) as ended:
        await call(make_client, "POST", answered(400, "PARAM_ERROR"))
    assert "may have" not in str(ended.value)


async def test_a_final_5xx_says_its_doubt_once(make_client: Callable[..., AsyncClient]) -> None:
    with pytest.raises(ApiError) as ended:
        await call(make_client, "POST", RESET, answered(503, "SYSTEM_ERROR"))
    assert str(ended.value).count("same request number") == 1  # its own words already say it


async def test_a_read_gives_no_resend_advice(make_client: Callable[..., AsyncClient]) -> None:
    with pytest.raises(TransportError) as ended:
        await call(make_client, "GET", RESET, REFUSED)
    assert "same request number" not in str(ended.value)  # a read changes nothing: it is simply asked again
