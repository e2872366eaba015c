"""Helpers for the command-line tests: the sandbox's settings as WXPAY_* variables, and the CLI as a process."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

import wxpay_chain
from wxpay_chain.sandbox import ThreadedSandbox
from wxpay_chain.sandbox._cli import write_env_file

PACKAGE_ROOT = str(Path(wxpay_chain.__file__).resolve().parent.parent)


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines as a shell's ``set -a; . file`` would read them."""
    return dict(line.split("=", 1) for line in shlex.split(path.read_text("utf-8"), comments=True))


def sandbox_env(sandbox: ThreadedSandbox, folder: Path) -> dict[str, str]:
    return read_env_file(write_env_file(sandbox.write_config(folder)))


@pytest.fixture
def wxpay_env(
    wxpay_sandbox: ThreadedSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The sandbox's merchant settings in the WXPAY_* variables of this process (and nothing else WXPAY_)."""
    for name in list(os.environ):
        if name.startswith("WXPAY_"):
            monkeypatch.delenv(name)
    env = sandbox_env(wxpay_sandbox, tmp_path / "sandbox")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env


@pytest.fixture
def no_wxpay_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("WXPAY_"):
            monkeypatch.delenv(name)


def cli_env(extra: Mapping[str, str] = {}) -> dict[str, str]:
    """The environment for a ``python -m wxpay_chain`` child: this checkout first, no WXPAY_* but ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXPAY_")}
    env["PYTHONPATH"] = os.pathsep.join([PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")])
    return {**env, **extra}


def run_cli(*args: str, env: Mapping[str, str] = {}) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wxpay_chain", *args],
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=60,
        check=False,
    )


async def stop_sandbox(process: asyncio.subprocess.Process) -> None:
    """SIGTERM a `wxpay-chain sandbox` subprocess still running, and check it stopped cleanly."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err
    assert b"stopped" in out
