"""stdout holds the answer and nothing else, whatever shape the process's streams are in: a bill larger than
the client's response cap, a stdout whose locale encoding is not UTF-8, a closed stderr or stdout."""

from __future__ import annotations

import datetime
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from wxpay_chain import _cli
from wxpay_chain.__main__ import main
from wxpay_chain.sandbox import DEMO_APPID, DEMO_OPENIDS, Fault, ThreadedSandbox

from .conftest import cli_env

BUSIFAVOR = "v3/marketing/busifavor/users/{openid}/coupons"
BUSIFAVOR_ARGS = ["request", "GET", BUSIFAVOR, "--param", f"openid={DEMO_OPENIDS[0]}", "--query", f"appid={DEMO_APPID}"]
POSIX = pytest.mark.skipif(os.name != "posix", reason="closes a standard stream before exec")


def _billed_day(sandbox: ThreadedSandbox) -> str:
    # Two days ago in China: its bill is made (WeChat Pay's come after 10:00 the next day), with a seed coupon.
    china = datetime.timezone(datetime.timedelta(hours=8))
    return (datetime.datetime.fromtimestamp(sandbox.now(), china) - datetime.timedelta(days=2)).date().isoformat()


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> int:
    """Every client the command makes keeps at most 512 bytes of an answer in memory (the default is 16 MiB)."""
    original = _cli.client_options

    def options(args: Any) -> dict[str, Any]:
        return {**original(args), "max_response_bytes": 512}

    monkeypatch.setattr(_cli, "client_options", options)
    return 512


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


# -- 1. a bill to stdout is not held in memory ------------------------------------------------------


def test_a_bill_larger_than_the_response_cap_goes_to_stdout_whole(
    wxpay_sandbox: ThreadedSandbox,
    tmp_path: Path,
    small_cap: int,
    private_tmp: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    config = str(wxpay_sandbox.write_config(tmp_path))
    day = _billed_day(wxpay_sandbox)
    assert main(["bill", "--date", day, "--config", config, "--out", str(tmp_path / "bill.csv")]) == 0
    whole = (tmp_path / "bill.csv").read_bytes()
    assert len(whole) > small_cap  # the case that failed: more than the client keeps in memory
    capsysbinary.readouterr()
    assert main(["bill", "--date", day, "--config", config]) == 0
    out, err = capsysbinary.readouterr()
    assert out == whole
    assert err == b""
    assert list(private_tmp.iterdir()) == []  # the temporary copy is gone


def test_a_bill_cut_short_puts_nothing_on_stdout_and_leaves_no_copy(
    wxpay_sandbox: ThreadedSandbox, tmp_path: Path, private_tmp: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    config = str(wxpay_sandbox.write_config(tmp_path))
    wxpay_sandbox.faults.script(*[Fault.truncate()] * 5, path="v3/billdownload/file")
    assert main(["bill", "--date", _billed_day(wxpay_sandbox), "--config", config]) == 1
    out, err = capsysbinary.readouterr()
    assert out == b""  # not the part that came: a reader cannot tell it from a whole bill
    assert b"IntegrityError" in err
    assert list(private_tmp.iterdir()) == []


# -- 2. the answer is UTF-8 whatever the locale ------------------------------------------------------


def test_an_answer_carried_out_reaches_a_stdout_whose_locale_is_not_utf8(
    wxpay_env: dict[str, str], wxpay_sandbox: ThreadedSandbox
) -> None:
    env = {k: v for k, v in cli_env(wxpay_env).items() if not k.startswith(("LC_", "LANG", "PYTHONIOENCODING"))}
    env.update(LC_ALL="C", PYTHONUTF8="0")
    result = subprocess.run(
        [sys.executable, "-m", "wxpay_chain", *BUSIFAVOR_ARGS], capture_output=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.decode("utf-8"))  # UTF-8, as RFC 8259 has JSON
    assert any(ord(c) > 127 for c in json.dumps(answer, ensure_ascii=False))  # there was something to encode
    assert result.stderr.decode().startswith("200 Request-ID ")


# -- 4. closed standard streams --------------------------------------------------------------------


def _run_with_closed(fd: int, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """The command started with file descriptor ``fd`` closed, as a shell's ``2>&-`` or ``>&-`` starts it."""
    trampoline = (
        "import os, sys; os.close(int(sys.argv[1])); "
        "os.execv(sys.executable, [sys.executable, '-m', 'wxpay_chain', *sys.argv[2:]])"
    )
    return subprocess.run(
        [sys.executable, "-c", trampoline, str(fd), *args],
        capture_output=True,
        env=cli_env(env),
        timeout=60,
        check=False,
    )


@POSIX
def test_with_stderr_closed_stdout_holds_only_the_answer(wxpay_env: dict[str, str]) -> None:
    result = _run_with_closed(2, *BUSIFAVOR_ARGS, "--log-level", "DEBUG", env=wxpay_env)
    assert result.returncode == 0
    assert json.loads(result.stdout)["total_count"] == 7  # no status line, no log lines in front of it


@POSIX
def test_with_stderr_closed_an_error_leaves_stdout_empty(wxpay_env: dict[str, str]) -> None:
    refused = {**wxpay_env, "WXPAY_BASE_URL": "http://127.0.0.1:9/"}  # the discard port: nothing listens
    failed = _run_with_closed(2, *BUSIFAVOR_ARGS, env=refused)
    assert (failed.returncode, failed.stdout) == (1, b"")
    usage = _run_with_closed(2, "request", "GET", BUSIFAVOR, env=wxpay_env)  # no --param openid
    assert (usage.returncode, usage.stdout) == (2, b"")


@POSIX
def test_with_stdout_closed_nothing_is_sent_and_stderr_says_why(
    wxpay_env: dict[str, str], wxpay_sandbox: ThreadedSandbox
) -> None:
    before = len(wxpay_sandbox.received)
    result = _run_with_closed(1, *BUSIFAVOR_ARGS, env=wxpay_env)
    assert result.returncode == 1
    assert b"stdout is closed" in result.stderr and b"nothing was sent" in result.stderr
    assert b"unexpected" not in result.stderr
    assert len(wxpay_sandbox.received) == before


def test_in_process_with_no_stderr_the_status_and_log_lines_are_dropped(
    wxpay_env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    logger = logging.getLogger("wxpay_chain")  # --log-level sets these for the process: put them back after
    monkeypatch.setattr(logger, "level", logger.level)
    monkeypatch.setattr(logger, "handlers", list(logger.handlers))
    monkeypatch.setattr(sys, "stderr", None)
    assert main([*BUSIFAVOR_ARGS, "--log-level", "DEBUG"]) == 0
    assert json.loads(capsys.readouterr().out)["total_count"] == 7


def test_a_text_only_stdout_still_gets_the_answer(wxpay_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()  # no .buffer: a caller's redirect_stdout around main()
    monkeypatch.setattr(sys, "stdout", out)
    assert main(BUSIFAVOR_ARGS) == 0
    assert json.loads(out.getvalue())["total_count"] == 7
