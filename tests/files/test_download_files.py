"""What a bill written with ``to=`` looks like on disk (its permissions), and the progress a download reports
when the answer is content-encoded: against the real 127.0.0.1 file peer."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from wxpay_chain import AsyncClient, IntegrityError
from wxpay_chain.__main__ import main
from wxpay_chain.sandbox import Sandbox

from ..cli.conftest import sandbox_env
from ._peer import FilePeer

BILL = "交易时间,商户号,应结订单金额\r\n`2025-01-01 10:00:00,`1900000001,`0.01\r\n".encode() * 400
SHA1 = hashlib.sha1(BILL).hexdigest()

posix_modes = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)  # the test's own process: nothing else reads it meanwhile
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def serve(peer: FilePeer, body: bytes, **headers: str) -> None:
    peer.answer = lambda seen: (200, body, {"Content-Type": "application/octet-stream", **headers}, False)


def url(base_url: str) -> str:
    return base_url.rstrip("/") + "/v3/billdownload/file?token=T1"


@posix_modes
@pytest.mark.parametrize(
    ("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)], ids=["022", "027", "002"]
)
async def test_a_new_bill_file_gets_the_umask_applied_to_0666(
    mask: int, expected: int, peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str, tmp_path: Path
) -> None:
    serve(peer, gzip.compress(BILL))
    with umask(mask):
        async with make_client() as client:
            path = await client.download(url(base_url), hash_type="SHA1", hash_value=SHA1, to=tmp_path / "bill.csv")
    assert Path(path).read_bytes() == BILL and mode(Path(path)) == expected


@posix_modes
@pytest.mark.parametrize(
    ("existing", "mask"), [(0o644, 0o077), (0o640, 0o000), (0o604, 0o022)], ids=["644", "640", "604"]
)
async def test_a_bill_written_over_a_file_keeps_that_files_mode(
    existing: int,
    mask: int,
    peer: FilePeer,
    make_client: Callable[..., AsyncClient],
    base_url: str,
    tmp_path: Path,
) -> None:
    target = tmp_path / "bill.csv"
    target.write_bytes(b"yesterday")
    target.chmod(existing)
    serve(peer, BILL)
    with umask(mask):
        async with make_client() as client:
            await client.download(url(base_url), hash_type="SHA1", hash_value=SHA1, to=target)
    assert target.read_bytes() == BILL and mode(target) == existing
    assert [p.name for p in tmp_path.iterdir()] == ["bill.csv"]


@posix_modes
async def test_a_failed_download_leaves_the_old_file_and_its_mode(
    peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "bill.csv"
    target.write_bytes(b"yesterday")
    target.chmod(0o640)
    serve(peer, BILL)
    with umask(0o022):
        async with make_client() as client:
            with pytest.raises(IntegrityError):
                await client.download(url(base_url), hash_type="SHA1", hash_value="0" * 40, to=target)
            # a temporary file left by someone else is never reused nor removed
            stray = tmp_path / ".bill.csv.part"
            stray.write_bytes(b"theirs")
            await client.download(url(base_url), hash_type="SHA1", hash_value=SHA1, to=target)
    assert stray.read_bytes() == b"theirs" and target.read_bytes() == BILL and mode(target) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == [".bill.csv.part", "bill.csv"]


@pytest.mark.parametrize("coding", ["gzip", "GZIP"])
async def test_a_content_encoded_answer_reports_no_total(
    coding: str, peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str
) -> None:
    # aiohttp inflates a Content-Encoding: gzip body, so its Content-Length (the gzip size) is no total.
    serve(peer, gzip.compress(BILL), **{"Content-Encoding": coding})
    seen: list[tuple[int, int | None]] = []
    async with make_client() as client:
        got = await client.download(
            url(base_url), hash_type="SHA1", hash_value=SHA1, progress=lambda n, t: seen.append((n, t))
        )
    assert got == BILL and seen[-1] == (len(BILL), None) and {t for _, t in seen} == {None}

    # The same bill sent as it is (or declared identity) still reports its size.
    for headers in ({}, {"Content-Encoding": "identity"}):
        serve(peer, gzip.compress(BILL), **headers)
        seen.clear()
        async with make_client() as client:
            await client.download(
                url(base_url), hash_type="SHA1", hash_value=SHA1, progress=lambda n, t: seen.append((n, t))
            )
        size = len(gzip.compress(BILL))
        assert seen[-1] == (size, size)


@posix_modes
def test_the_certificates_command_writes_files_the_same_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox.in_thread(answer_mode="certificate") as sandbox:
        for name in list(os.environ):
            if name.startswith("WXPAY_"):
                monkeypatch.delenv(name)
        for name, value in sandbox_env(sandbox, tmp_path / "sb").items():
            monkeypatch.setenv(name, value)
        written = f"wechatpay_{sandbox.credentials.platform_serial}.pem"
        (tmp_path / "kept").mkdir()
        (tmp_path / "kept" / written).write_text("old")
        (tmp_path / "kept" / written).chmod(0o640)
        with umask(0o027):
            assert main(["certificates", "-o", str(tmp_path / "new")]) == 0
        with umask(0o077):
            assert main(["certificates", "-o", str(tmp_path / "kept")]) == 0
    capsys.readouterr()
    assert mode(tmp_path / "new" / written) == 0o640
    assert (tmp_path / "kept" / written).read_text() != "old" and mode(tmp_path / "kept" / written) == 0o640


@pytest.mark.parametrize("length", [241, 255], ids=["241", "255"])
async def test_a_bill_file_with_a_name_near_the_limit_is_written(
    length: int, peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str, tmp_path: Path
) -> None:
    # The temporary file beside it must fit in the file system's 255 bytes a name, as the bill's own name does.
    target = tmp_path / ("b" * (length - 4) + ".csv")
    serve(peer, BILL)
    async with make_client() as client:
        path = await client.download(url(base_url), hash_type="SHA1", hash_value=SHA1, to=target)
    assert Path(path) == target and target.read_bytes() == BILL
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
