"""The state dir's files are written whole under names of their own: a link or a file left at a temporary
name by a crash is neither followed nor lends its mode, and a secret file is the owner's alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from wxpay_chain.sandbox._keys import write_file


def test_a_link_at_the_old_temporary_name_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched", encoding="utf-8")
    (tmp_path / "wxpay.env.tmp").symlink_to(victim)  # the fixed name the writer used to open
    write_file(tmp_path / "wxpay.env", "WXPAY_APIV3_KEY=x\n", private=True)
    assert victim.read_text(encoding="utf-8") == "untouched"
    assert (tmp_path / "wxpay.env").read_text(encoding="utf-8") == "WXPAY_APIV3_KEY=x\n"


def test_a_secret_file_is_the_owners_alone_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    left = tmp_path / "sandbox-tls.json.tmp"
    left.write_text("from a crash", encoding="utf-8")
    os.chmod(left, 0o644)  # a leftover readable by all must not lend the secret file its mode
    write_file(tmp_path / "sandbox-tls.json", "{}", private=True)
    write_file(tmp_path / "config.json", "{}", private=False)
    assert stat.S_IMODE((tmp_path / "sandbox-tls.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "config.json").stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "sandbox-tls.json", "sandbox-tls.json.tmp"]


def test_the_key_files_are_written_past_a_link_planted_at_the_old_temporary_name(tmp_path: Path) -> None:
    from wxpay_chain.sandbox._keys import load_or_create_key_set

    victim = tmp_path / "victim.txt"
    victim.write_text("untouched", encoding="utf-8")
    folder = tmp_path / "state"
    (folder / "sandbox-keys").mkdir(parents=True)
    (folder / "sandbox-keys" / "merchant_private_key.pem.tmp").symlink_to(victim)
    (folder / "sandbox-keys.json.tmp").write_text("left by a crash", encoding="utf-8")
    os.chmod(folder / "sandbox-keys.json.tmp", 0o644)
    load_or_create_key_set(folder)
    assert victim.read_text(encoding="utf-8") == "untouched"  # the private key went nowhere but its own file
    assert stat.S_IMODE((folder / "sandbox-keys.json").stat().st_mode) == 0o600  # it holds the APIv3 key
