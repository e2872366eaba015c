"""``wxpay-chain sandbox`` with a damaged state dir says which file and what to do (exit 1, never the usage
error's 2), and every way of stopping it, SIGHUP included, removes its temporary folder of keys."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest

from wxpay_chain.__main__ import main
from wxpay_chain.sandbox import Sandbox
from wxpay_chain.sandbox._keys import default_key_set

from .conftest import cli_env


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A state dir as a sandbox leaves it (with the process's key set: no RSA keys made here)."""
    folder = tmp_path / "state"
    Sandbox(state_dir=folder, keys=default_key_set()).state.store.close()
    assert (folder / "sandbox-keys.json").exists() and (folder / "sandbox-state.sqlite3").exists()
    return folder


def _serve(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["sandbox", "--port", "0", "--state-dir", str(folder)])
    out, err = capsys.readouterr()
    assert out == ""  # it never got as far as listening
    assert err.count("\n") == 1 and "unexpected" not in err and "error:" not in err, err
    return code, err


def test_a_damaged_key_index_is_named_with_what_to_do(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (state_dir / "sandbox-keys.json").write_text('{"mchid": \n')
    code, err = _serve(state_dir, capsys)
    assert code == 1
    assert str(state_dir / "sandbox-keys.json") in err and "not valid JSON" in err and "line 2" in err
    assert "move sandbox-keys.json and sandbox-keys aside" in err


def test_a_missing_key_file_is_named(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (state_dir / "sandbox-keys" / "platform_certificate.pem").unlink()
    code, err = _serve(state_dir, capsys)
    assert code == 1
    assert f"{state_dir / 'sandbox-keys' / 'platform_certificate.pem'} is missing" in err


def test_a_state_database_that_is_no_database_is_named(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = state_dir / "sandbox-state.sqlite3"
    for leftover in state_dir.glob("sandbox-state.sqlite3-*"):
        leftover.unlink()
    db.write_bytes(bytes(range(256)) * 32)
    code, err = _serve(state_dir, capsys)
    assert code == 1
    assert f"{db} is damaged" in err and "move it aside" in err


def test_a_folder_where_the_state_database_should_be_is_named_with_what_to_check(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLite cannot open a folder. This is the one such failure a test run as root can make (chmod does not
    # stop root), so it stands for the others (no permission, a read-only mount) that get the same message.
    db = state_dir / "sandbox-state.sqlite3"
    for path in state_dir.glob("sandbox-state.sqlite3*"):
        path.unlink()
    db.mkdir()
    code, err = _serve(state_dir, capsys)
    assert code == 1
    assert f"cannot open {db}" in err and "permissions" in err and "read-only mount" in err


def test_a_damaged_legacy_snapshot_is_named_and_left_in_place(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in state_dir.glob("sandbox-state.sqlite3*"):
        path.unlink()
    legacy = state_dir / "sandbox-state.json"
    legacy.write_text('{"version": 1, "product_coupons": [\n')
    code, err = _serve(state_dir, capsys)
    assert code == 1
    assert f"{legacy} is not valid JSON" in err and "move it aside to start from the demo data" in err
    assert legacy.exists()  # left where it was, for the user to look at


def test_a_legacy_snapshot_of_another_shape_is_named(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path in state_dir.glob("sandbox-state.sqlite3*"):
        path.unlink()
    (state_dir / "sandbox-state.json").write_text(json.dumps({"version": 1}))
    code, err = _serve(state_dir, capsys)
    assert code == 1
    assert "sandbox-state.json is not in the shape this version writes" in err


def test_the_library_raises_a_value_error_that_names_the_file(state_dir: Path) -> None:
    from wxpay_chain.sandbox import StateFileError  # public, as the CHANGELOG names it

    (state_dir / "sandbox-keys.json").write_text("[]")
    with pytest.raises(StateFileError) as caught:
        Sandbox(state_dir=state_dir)
    assert isinstance(caught.value, ValueError)  # as the JSONDecodeError it replaces was
    assert caught.value.path == state_dir / "sandbox-keys.json"


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")
async def test_sighup_stops_it_and_removes_its_folder_of_keys() -> None:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "wxpay_chain", "sandbox", "--port", "0"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
    )
    assert process.stdout is not None
    printed = ""
    while "Ctrl-C" not in printed:
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert line, f"the sandbox exited early: {printed}"
        printed += line
    scratch = Path(printed.split("config.json (credentials for clients): ", 1)[1].splitlines()[0]).parent
    assert (scratch / "wxpay.env").exists()
    process.send_signal(signal.SIGHUP)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err
    assert b"sandbox stopped" in out
    assert not scratch.exists()
