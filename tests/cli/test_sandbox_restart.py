"""``wxpay-chain sandbox`` across restarts and exits: the port a state dir keeps, the hint it prints, the
temporary folder it removes."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from .conftest import cli_env, read_env_file, stop_sandbox


@asynccontextmanager
async def sandbox_command(*args: str) -> AsyncIterator[str]:
    """The command running until it printed its banner (yielded); stopped with SIGTERM, which must exit 0."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wxpay_chain",
        "sandbox",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
    )
    assert process.stdout is not None
    try:
        printed = ""
        while "Ctrl-C" not in printed:
            line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
            assert line, f"the sandbox exited early: {printed}"
            printed += line
        yield printed
    finally:
        await stop_sandbox(process)


def running_at(printed: str) -> str:
    found = re.search(r"running at (\S+)", printed)
    assert found, printed
    return found.group(1)


async def test_a_restart_on_the_same_state_dir_keeps_its_port(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    async with sandbox_command("--state-dir", state) as first:
        before = read_env_file(tmp_path / "state" / "wxpay.env")["WXPAY_BASE_URL"]
    assert running_at(first) == before
    async with sandbox_command("--state-dir", state) as second:
        assert running_at(second) == before  # the wxpay.env loaded before the restart is still right
    async with sandbox_command("--state-dir", state, "--port", "0") as third:
        assert running_at(third).startswith("http://127.0.0.1:")


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
async def test_the_printed_env_hint_works_for_a_state_dir_with_a_space(tmp_path: Path) -> None:
    state = tmp_path / "my state"
    async with sandbox_command("--state-dir", str(state)) as printed:
        hint = printed.split("the same as WXPAY_* variables: ", 1)[1].splitlines()[0]
        shell = subprocess.run(
            ["sh", "-c", f'{hint}; printf %s "$WXPAY_BASE_URL"'], capture_output=True, text=True, timeout=30
        )
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout == running_at(printed)


async def test_without_a_state_dir_its_folder_of_keys_is_removed_on_exit() -> None:
    async with sandbox_command() as printed:
        config = printed.split("config.json (credentials for clients): ", 1)[1].splitlines()[0]
        scratch = Path(config).parent
        assert scratch.name.startswith("wxpay-chain-sandbox-") and (scratch / "wxpay.env").exists()
    assert not scratch.exists()
