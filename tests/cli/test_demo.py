"""``wxpay-chain demo``: 100 columns, each style's line once with its result, the four stories, what next,
and silence when its reader goes away."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stdout

import pytest

from wxpay_chain.sandbox import _demo
from wxpay_chain.sandbox._demo import STEPS, WIDTH, Demo, columns, run_demo

from .conftest import cli_env


@pytest.fixture(scope="module")
def output() -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert run_demo() == 0
    return out.getvalue()


def test_every_line_fits_in_100_columns(output: str) -> None:
    wide = [line for line in output.splitlines() if columns(line) > WIDTH]
    assert wide == []
    assert columns("用户") == 4  # Chinese characters take two columns, as in a terminal


def test_each_style_shows_its_line_of_code_once_with_its_result(output: str) -> None:
    lines = [line.strip() for line in output.splitlines()]
    for _style, code in _demo._STYLES:
        assert lines.count(code) == 1, code
        result = lines[lines.index(code) + 1]
        assert result.startswith("→ 200, 7 coupons (3 SENDED, 2 USED, 2 EXPIRED), Request-ID "), result
    assert lines.count(_demo._BLOCKING) == 1
    assert lines[lines.index(_demo._BLOCKING) + 1].startswith("→ 200, 7 coupons")


def test_the_stories_are_told(output: str) -> None:
    assert "coupons issued by the two calls: 1" in output  # idempotency
    assert "page 3:" in output and "via paginate(): 7 coupons" in output  # paging
    assert "InvalidRequestError (nothing sent: 0 requests)" in output  # errors
    assert "ApiError: 404 NOT_FOUND" in output and "max_count_per_user reached" in output
    assert "SignatureError: The response carries a WECHATPAY/SIGNTEST/" in output


def test_it_ends_with_what_to_run_next(output: str) -> None:
    tail = output.split("== What to run next", 1)[1]
    assert "wxpay-chain sandbox --state-dir ./sandbox-state" in tail
    assert "wxpay-chain request GET" in tail
    assert output.rstrip().splitlines()[-1].startswith(tuple("0123456789"))  # "N signed requests ... done"


def test_what_to_run_next_names_the_command_as_it_was_called(monkeypatch: pytest.MonkeyPatch) -> None:
    # The README runs it as .venv/bin/wxpay-chain without activating the venv: a bare name would not be found.
    monkeypatch.setattr(sys, "argv", [".venv/bin/wxpay-chain", "demo"])
    out = io.StringIO()
    with redirect_stdout(out):
        assert run_demo() == 0
    tail = out.getvalue().split("== What to run next", 1)[1]
    assert "  .venv/bin/wxpay-chain sandbox --state-dir" in tail and "  .venv/bin/wxpay-chain request GET" in tail
    assert "{openid}/coupons" in tail


def test_a_step_added_to_steps_runs_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    async def uploads(demo: Demo) -> None:  # as another issue's story would join
        demo.section("Uploads")
        demo.say(f"client is an {type(demo.client).__name__}")

    monkeypatch.setattr(_demo, "STEPS", (*STEPS, uploads))
    out = io.StringIO()
    with redirect_stdout(out):
        assert run_demo() == 0
    text = out.getvalue()
    assert text.index("SIGNTEST") < text.index("== Uploads") < text.index("What to run next")
    assert "client is an AsyncClient" in text


def test_demo_piped_into_a_reader_that_leaves_is_silent() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line
    try:
        result = subprocess.run(
            [sys.executable, "-m", "wxpay_chain", "demo"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.stderr == ""
    assert result.returncode == 141


def test_demo_into_head_prints_its_first_lines_and_nothing_else() -> None:
    result = subprocess.run(
        f"'{sys.executable}' -m wxpay_chain demo | head -n 3",
        shell=True,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.startswith("wxpay_chain demo against a WeChat Pay sandbox")
    assert len(result.stdout.splitlines()) == 3
