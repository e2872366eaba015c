"""The demo's bill: today's is refused as WeChat Pay refuses it, then billed once the sandbox clock has moved
on to 10:00 (China time) the next day, with the coupons sent today in it."""

from __future__ import annotations

import re

import pytest

from wxpay_chain.sandbox import Sandbox, bill_ready_time
from wxpay_chain.sandbox._clock import china_day
from wxpay_chain.sandbox._demo import Demo, DemoClock
from wxpay_chain.sandbox._demo_files import show_files


async def test_the_demo_bills_today_after_moving_the_clock_on(capsys: pytest.CaptureFixture[str]) -> None:
    clock = DemoClock()
    with Sandbox.in_thread(clock=clock) as sb:
        today = china_day(sb.now())
        async with sb.client() as client:
            await show_files(Demo(sb, client, clock))
        billed = [c for c in sb.issued_coupons() if china_day(c.receive_time) == today]
    out = capsys.readouterr().out
    assert "→ 400 STATEMENT_CREATING" in out
    assert "answers 200" in out
    found = re.search(r"(\d+) trades", out)
    assert found and int(found.group(1)) == len(billed) > 0
    assert clock() >= bill_ready_time(today)


def test_the_demo_clock_only_moves_on() -> None:
    clock = DemoClock()
    start = clock()
    clock.move_to(start + 3600)
    assert clock() >= start + 3600
    clock.move_to(start)  # not back
    assert clock() >= start + 3600
