"""``wxpay-chain bill`` and ``wxpay-chain upload`` against the sandbox."""

from __future__ import annotations

import datetime
import json
import os
import signal
from pathlib import Path

import pytest

from wxpay_chain.__main__ import main
from wxpay_chain.bills import parse_bill
from wxpay_chain.sandbox import ThreadedSandbox


def _billed_day(sandbox: ThreadedSandbox) -> str:
    """Two days ago in China: its bill is made (the command signs by this machine's clock, so the sandbox's
    stays put), with the seed's coupon of "$now-2d" in it."""
    china = datetime.timezone(datetime.timedelta(hours=8))
    return (datetime.datetime.fromtimestamp(sandbox.now(), china) - datetime.timedelta(days=2)).date().isoformat()


def test_bill_to_a_file_and_to_stdout(
    wxpay_sandbox: ThreadedSandbox, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    config = str(wxpay_sandbox.write_config(tmp_path / "sandbox"))
    out = tmp_path / "trade.csv"
    assert main(["bill", "--date", _billed_day(wxpay_sandbox), "--out", str(out), "--config", config]) == 0
    assert parse_bill(out).kind == "trade"
    assert b"SHA1 checked" in capsysbinary.readouterr().err
    assert main(["bill", "--date", _billed_day(wxpay_sandbox), "--fundflow", "basic", "--config", config]) == 0
    assert parse_bill(capsysbinary.readouterr().out).kind == "fundflow"
    sent = [r.raw_path for r in wxpay_sandbox.received if r.raw_path.startswith("/v3/bill/")]
    assert "tar_type=GZIP" in sent[-1] and "account_type=BASIC" in sent[-1]


def test_bill_out_dash_is_stdout_as_for_curl(
    wxpay_sandbox: ThreadedSandbox,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = str(wxpay_sandbox.write_config(tmp_path / "sandbox"))
    monkeypatch.chdir(tmp_path)
    assert main(["bill", "--date", _billed_day(wxpay_sandbox), "--out", "-", "--config", config]) == 0
    assert parse_bill(capsysbinary.readouterr().out).kind == "trade"
    assert not (tmp_path / "-").exists()  # no file named "-"


def test_bill_refuses_a_bad_date(
    wxpay_sandbox: ThreadedSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(wxpay_sandbox.write_config(tmp_path))
    assert main(["bill", "--date", "20250101", "--config", config]) == 2
    assert "--date must look like" in capsys.readouterr().err


def test_upload_prints_the_answer(
    wxpay_sandbox: ThreadedSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(wxpay_sandbox.write_config(tmp_path / "sandbox"))
    image = tmp_path / "logo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n....")
    assert main(["upload", str(image), "--to", "v3/merchant/media/upload", "--config", config]) == 0
    assert json.loads(capsys.readouterr().out)["media_id"].startswith("SBX_MEDIA_")
    brand = ["upload", str(image), "--to", "brand/marketing/product-coupon/media/upload-image", "--brand"]
    assert main([*brand, "--config", config]) == 0
    assert json.loads(capsys.readouterr().out)["image_url"].startswith("https://")
    image.write_bytes(b"\0" * (2 * 1024 * 1024 + 1))
    assert main(["upload", str(image), "--to", "v3/merchant/media/upload", "--config", config]) == 1
    assert "InvalidRequestError" in capsys.readouterr().err


def test_the_progress_bar_counts_to_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    from wxpay_chain._cli_files import _Bar

    bar = _Bar()
    bar(512 * 1024, 1024 * 1024)
    bar(1024 * 1024, 1024 * 1024)  # the last one is always drawn
    bar.done()
    err = capsys.readouterr().err
    assert "[###############---------------]  50%" in err and "[" + "#" * 30 + "] 100%" in err
    assert err.endswith("\n")


@pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="no SIGTERM here")
def test_sigterm_ends_a_bill_download_through_its_cleanup() -> None:
    # `timeout 2 wxpay-chain bill --out F` left the download's .part file: SIGTERM skipped every finally.
    from wxpay_chain._cli import terminated_as_interrupted

    cleaned: list[str] = []
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as ended, terminated_as_interrupted():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10_000_000):  # the handler runs at the next bytecode; this loop never ends by itself
                pass
        finally:
            cleaned.append("temporary file removed")
    assert ended.value.code == 128 + signal.SIGTERM and cleaned == ["temporary file removed"]
    assert signal.getsignal(signal.SIGTERM) == before


def test_upload_sends_a_documented_form_field_as_a_part_of_its_own(
    wxpay_sandbox: ThreadedSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The submission-files upload needs item_id beside meta, as a form part of its own.
    config = str(wxpay_sandbox.write_config(tmp_path / "sandbox"))
    image = tmp_path / "filea.jpg"
    image.write_bytes(b"\xff\xd8\xff\xe0....")
    upload = ["upload", str(image), "--to", "v3/mch-manage/submission-files/sub-mchid/{sub_mchid}/upload"]
    assert main([*upload, "--param", "sub_mchid=1900000109", "--field", "item_id=56", "--config", config]) == 0
    assert capsys.readouterr().out.strip()
    seen = wxpay_sandbox.received[-1]
    assert b'name="item_id"' in seen.body and b"\r\n\r\n56\r\n" in seen.body
    for bad in (["--field", "item_id"], ["--field", "item_id=1", "--field", "item_id=2"]):
        assert main([*upload, "--param", "sub_mchid=1900000109", *bad, "--config", config]) == 2
        assert "--field" in capsys.readouterr().err
    # Without it, the error names the option to add, not the Python keyword (Media(..., fields=...)).
    assert main([*upload, "--param", "sub_mchid=1900000109", "--config", config]) == 1
    err = capsys.readouterr().err
    assert err.endswith("a part of its own beside meta: --field item_id=VALUE\n") and "Media(" not in err
