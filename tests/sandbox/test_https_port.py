"""The sandbox's HTTPS (APIv2) port is kept like its HTTP one: ``Sandbox(https_port=)`` listens there while
it is free (else on another free port), and ``wxpay-chain sandbox --state-dir`` restarts on the port its
config.json names, so a client configured before the restart still reaches APIv2."""

from __future__ import annotations

import json
import shutil
import socket
import stat
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from wxpay_chain import AsyncClient
from wxpay_chain.sandbox import DEMO_APPID, Sandbox, SandboxCredentials, _tls, default_key_set
from wxpay_chain.sandbox._tls_state import TLS_FILE

from ..cli.test_sandbox_restart import sandbox_command

QUERY = {"coupon_stock_id": "1757", "appid": DEMO_APPID}


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None, url
    return port


async def _v2_answers(credentials: SandboxCredentials) -> str:
    options = {**credentials.merchant_options(), **credentials.tls_options()}
    async with AsyncClient(**options) as client:
        answer = await client.v2.mmpaymkttransfers.query_coupon_stock.post(xml=QUERY)
    return str(answer.xml()["result_code"])


async def test_a_free_https_port_is_taken_as_asked() -> None:
    async with Sandbox() as first:
        port = _port(first.credentials.https_base_url)
    async with Sandbox(https_port=port) as second:
        assert _port(second.credentials.https_base_url) == port
        assert await _v2_answers(second.credentials) == "SUCCESS"


async def test_a_taken_https_port_gives_way_to_a_free_one() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        async with Sandbox(https_port=taken) as sb:
            port = _port(sb.credentials.https_base_url)
            assert port != taken
            assert await _v2_answers(sb.credentials) == "SUCCESS"
            assert sum(1 for address in sb._runner.addresses if address[1] == port) >= 1  # type: ignore[union-attr]


def test_an_https_port_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="https_port"):
        Sandbox(https_port=70000)


async def test_a_restart_on_the_same_state_dir_keeps_its_https_port(tmp_path: Path) -> None:
    state = tmp_path / "state"
    async with sandbox_command("--state-dir", str(state)):
        shutil.copy(state / "config.json", tmp_path / "before.json")
    before = SandboxCredentials.read_config(tmp_path / "before.json")  # as another process read it
    async with sandbox_command("--state-dir", str(state)) as printed:
        after = json.loads((state / "config.json").read_text("utf-8"))
        assert after["https_base_url"] == before.https_base_url
        assert "note: HTTPS port" not in printed
        assert await _v2_answers(before) == "SUCCESS"


async def test_a_restart_whose_https_port_was_taken_says_where_it_went(tmp_path: Path) -> None:
    state = tmp_path / "state"
    async with sandbox_command("--state-dir", str(state)):
        pass
    old = _port(json.loads((state / "config.json").read_text("utf-8"))["https_base_url"])
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", old))
        holder.listen()
        async with sandbox_command("--state-dir", str(state)) as printed:
            now = json.loads((state / "config.json").read_text("utf-8"))["https_base_url"]
    assert _port(now) != old
    assert f"note: HTTPS port {old} of last time is taken: APIv2 is on {now} now" in printed


# -- the TLS material a state dir keeps: without it a kept port would lead to a CA the client never saw ------


async def test_a_state_dirs_tls_is_what_a_new_process_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with Sandbox(state_dir=tmp_path) as first:
        before = first.credentials
    path = tmp_path / TLS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the HTTPS server's private key
    monkeypatch.setattr(_tls, "_made", {})  # as in a new process
    async with Sandbox(state_dir=tmp_path, https_port=_port(before.https_base_url)) as second:
        after = second.credentials
        assert (after.ca_certificate, after.client_certificate) == (before.ca_certificate, before.client_certificate)
        assert await _v2_answers(before) == "SUCCESS"  # the client cert and CA of before the restart


async def test_a_tls_file_that_is_damaged_or_for_other_keys_is_replaced(tmp_path: Path) -> None:
    other = tmp_path / "other"
    async with Sandbox(state_dir=other, keys=default_key_set()):
        pass
    others = json.loads((other / TLS_FILE).read_text("utf-8"))
    state = tmp_path / "state"
    state.mkdir()
    for text in ("{not json", json.dumps(others)):
        (state / TLS_FILE).write_text(text, "utf-8")
        async with Sandbox(state_dir=state) as sb:
            saved = json.loads((state / TLS_FILE).read_text("utf-8"))
            assert saved["ca_certificate"] == sb.credentials.ca_certificate
            assert saved["client_certificate"] != others["client_certificate"]
            assert await _v2_answers(sb.credentials) == "SUCCESS"
