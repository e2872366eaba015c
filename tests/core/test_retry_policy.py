"""RetryPolicy: a wait is always a finite number of seconds within its cap, whatever Retry-After says,
and a policy that could hang or hammer WeChat Pay cannot be built."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wxpay_chain import AsyncClient, ConfigurationError
from wxpay_chain._retry import RetryPolicy

NOW = 1_700_000_000.0
POLICY = RetryPolicy(backoff=0.5, cap=2.0, retry_after_cap=30.0)
BOUND = max(POLICY.cap, POLICY.retry_after_cap)

HOSTILE = [
    "nan",
    "NaN",
    "-nan",
    "inf",
    "-inf",
    "Infinity",
    "1e400",
    "-1e400",
    "-5",
    "-0",
    "9" * 400,
    "9" * 5000,  # int() refuses more than 4300 digits
    "١٢",  # Arabic-Indic digits: float() and int() take them
    "１２",  # fullwidth digits
    "",
    " ",
    "\t\t",
    "1.5",
    "0x10",
    "+7",
    "1_0",
    "7\n",
    "\x00",
    "Wed, 21 Oct 99999 07:28:00 GMT",
    "Wed, 21 Oct 2015 07:28:00 +9999",
    "Mon, 32 Foo 2015 25:61:61 GMT",
    "x" * 100_000,
]


def backoff(attempt: int) -> float:
    return POLICY.delay(attempt, None, rand=lambda: 1.0)


@pytest.mark.parametrize("header", HOSTILE)
@pytest.mark.parametrize("now", [None, NOW])
def test_hostile_retry_after_gives_a_finite_bounded_wait(header: str, now: float | None) -> None:
    if now is None:
        wait = POLICY.delay(1, header, rand=lambda: 1.0)
    else:
        wait = POLICY.delay(1, header, rand=lambda: 1.0, now=now)
    assert math.isfinite(wait) and 0.0 <= wait <= BOUND


@pytest.mark.parametrize("header", ["nan", "inf", "-inf", "1e400", "-5", "١٢", "１２", "1.5", "+7", "x" * 1000])
def test_retry_after_that_is_not_rfc_delay_seconds_falls_back_to_backoff(header: str) -> None:
    assert POLICY.delay(2, header, rand=lambda: 1.0) == backoff(2) == 1.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("  7\t", 7.0), ("0", 0.0), ("007", 7.0), ("31", 30.0), ("9" * 400, 30.0), ("9" * 64, 30.0)],
)
def test_delay_seconds_are_honoured_up_to_the_cap(header: str, seconds: float) -> None:
    assert POLICY.delay(1, header) == seconds


def test_http_date_counts_from_the_given_now_and_is_clamped() -> None:
    at = datetime.fromtimestamp(NOW, timezone.utc)
    assert POLICY.delay(1, format_datetime(at + timedelta(seconds=10), usegmt=True), now=NOW) == 10.0
    assert POLICY.delay(1, format_datetime(at - timedelta(days=1), usegmt=True), now=NOW) == 0.0
    assert POLICY.delay(1, format_datetime(at + timedelta(days=9999), usegmt=True), now=NOW) == 30.0
    # Without a clock an HTTP-date cannot become a wait: our own backoff applies.
    assert POLICY.delay(1, format_datetime(at + timedelta(seconds=10), usegmt=True), rand=lambda: 1.0) == backoff(1)


HEADERS = st.one_of(st.none(), st.text(), st.from_regex(r"\s*[0-9]{1,500}\s*", fullmatch=True))


@settings(max_examples=300, deadline=None)
@given(header=HEADERS, attempt=st.integers(-(10**6), 10**6), jitter=st.floats(allow_nan=True, allow_infinity=True))
def test_any_header_any_attempt_any_rand_gives_a_finite_bounded_wait(
    header: str | None, attempt: int, jitter: float
) -> None:
    wait = POLICY.delay(attempt, header, rand=lambda: jitter)
    assert math.isfinite(wait) and 0.0 <= wait <= BOUND


@settings(max_examples=300, deadline=None)
@given(header=HEADERS, now=st.floats(allow_nan=True, allow_infinity=True))
def test_any_header_at_any_clock_reading_gives_a_finite_bounded_wait(header: str | None, now: float) -> None:
    wait = POLICY.delay(1, header, now=now)
    assert math.isfinite(wait) and 0.0 <= wait <= BOUND


@settings(max_examples=200, deadline=None)
@given(when=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 1, 1)))
def test_any_rfc_date_becomes_its_distance_from_now_clamped(when: datetime) -> None:
    moment = when.replace(tzinfo=timezone.utc, microsecond=0)
    wait = POLICY.delay(1, format_datetime(moment, usegmt=True), now=NOW)
    assert wait == min(max(moment.timestamp() - NOW, 0.0), POLICY.retry_after_cap)


BAD_SECONDS: list[Any] = [math.nan, math.inf, -math.inf, -1, -0.001, "1", None, True, 10**400]


@pytest.mark.parametrize("field", ["backoff", "cap", "retry_after_cap"])
@pytest.mark.parametrize("value", BAD_SECONDS, ids=repr)
def test_durations_must_be_finite_and_not_negative(field: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=rf"RetryPolicy\.{field}"):
        RetryPolicy(**{field: value})


@pytest.mark.parametrize("value", [0, -1, 11, 10**400, True, False, 2.0, "3", None], ids=repr)
def test_attempts_is_a_whole_number_from_1_to_10(value: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"RetryPolicy\.attempts") as info:
        RetryPolicy(attempts=value)
    assert len(str(info.value)) < 200


def test_edge_values_are_accepted() -> None:
    policy = RetryPolicy(attempts=10, backoff=0, cap=0, retry_after_cap=0)
    assert policy.delay(1, "30") == 0.0 and policy.delay(9) == 0.0
    assert RetryPolicy.none().attempts == 1


@pytest.mark.parametrize("retry", [0, 11, 10**6])
def test_client_rejects_an_out_of_range_number_of_attempts(make_client: Callable[..., AsyncClient], retry: int) -> None:
    with pytest.raises(ConfigurationError, match="attempts"):
        make_client(retry=retry)
