"""``wxpay-chain request`` as a Unix tool: configured by WXPAY_* or --config, the answer alone on stdout,
one-line errors with exit codes 1 and 2, no tracebacks, silence on a closed pipe."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from wxpay_chain import ConfigurationError
from wxpay_chain.__main__ import main
from wxpay_chain._cli import UsageError, typed_query
from wxpay_chain.sandbox import DEMO_APPID, DEMO_OPENIDS, Sandbox, ThreadedSandbox

from .conftest import cli_env, run_cli, sandbox_env

RICH, LIGHT, FRESH = DEMO_OPENIDS
BUSIFAVOR = "v3/marketing/busifavor/users/{openid}/coupons"
FAVOR = "v3/marketing/favor/users/{openid}/coupons/{coupon_id}"
PARTNER = "v3/marketing/partner/product-coupon/users/{openid}/coupons"
BUSIFAVOR_ARGS = ["request", "GET", BUSIFAVOR, "--param", f"openid={RICH}", "--query", f"appid={DEMO_APPID}"]


def test_with_the_wxpay_variables_stdout_holds_only_the_answer(
    wxpay_env: dict[str, str], wxpay_sandbox: ThreadedSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*BUSIFAVOR_ARGS, "--query", "limit=1"]) == 0
    out, err = capsys.readouterr()
    answer = json.loads(out)  # nothing but the JSON
    assert answer["total_count"] == 7 and len(answer["data"]) == 1
    request_id = wxpay_sandbox.received[-1].request_id
    assert err == f"200 Request-ID {request_id} (signature verified)\n"


def test_an_unsigned_download_is_written_as_it_came_and_not_called_verified(
    wxpay_env: dict[str, str], wxpay_sandbox: ThreadedSandbox, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # The status line said "(signature verified)" for an answer that carried no signature at all.
    from wxpay_chain import Media

    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    with wxpay_sandbox.blocking_client() as client:
        upload = client.v3.merchantService.images.upload.post(media=Media(image, filename="a.png"))
    media_id = upload.json()["media_id"]
    template = "v3/merchant-service/images/{media_id}"
    assert main(["request", "GET", template, "--param", f"media_id={media_id}"]) == 0
    out, err = capsysbinary.readouterr()
    assert out == image
    assert err.decode() == (
        f"200 Request-ID {wxpay_sandbox.received[-1].request_id} (a file WeChat Pay sends unsigned: not verified)\n"
    )


def test_an_apiv2_bill_download_writes_the_bill(
    wxpay_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # A v2 bill answers with the file itself: the command failed after the call, calling the CSV bad XML.
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bill = "交易时间,公众账号ID,商户号\r\n`2014-11-10 16:33:45,`wx2421b1c4370ec43b,`10000100\r\n".encode()

    class Bill(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain;charset=utf-8")
            self.send_header("Content-Length", str(len(bill)))
            self.end_headers()
            self.wfile.write(bill)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Bill)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("WXPAY_BASE_URL", f"http://127.0.0.1:{server.server_port}/")
        monkeypatch.setenv("WXPAY_APIV2_KEY", "0" * 32)
        xml = '{"appid": "wx2421b1c4370ec43b", "bill_date": "20141110", "bill_type": "ALL"}'
        assert main(["request", "POST", "v2/pay/downloadbill", "--xml", xml]) == 0
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    out, err = capsysbinary.readouterr()
    assert out == bill
    assert err.decode() == "200 Request-ID - (a file WeChat Pay sends unsigned: not verified)\n"


def test_include_puts_status_and_request_id_into_the_output(
    wxpay_env: dict[str, str], wxpay_sandbox: ThreadedSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*BUSIFAVOR_ARGS, "--include"]) == 0
    out, err = capsys.readouterr()
    envelope = json.loads(out)
    assert envelope["status"] == 200
    assert envelope["request_id"] == wxpay_sandbox.received[-1].request_id
    assert envelope["headers"]["Request-ID"] == envelope["request_id"]
    assert envelope["body"]["total_count"] == 7
    assert err == ""


def test_the_sandbox_config_json_with_merchant_and_brand(
    wxpay_sandbox: ThreadedSandbox, no_wxpay_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(wxpay_sandbox.write_config(tmp_path))
    assert main([*BUSIFAVOR_ARGS, "--config", config]) == 0
    assert json.loads(capsys.readouterr().out)["total_count"] == 7
    brand = ["request", "GET", "brand/marketing/product-coupon/users/{openid}/coupons", "--brand", "--config", config]
    assert main([*brand, "--param", f"openid={RICH}", "--query", f"appid={DEMO_APPID}"]) == 0
    assert json.loads(capsys.readouterr().out)["total_count"] == 8


def test_a_config_holding_merchant_keys_only(
    wxpay_sandbox: ThreadedSandbox, no_wxpay_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = wxpay_sandbox.credentials
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "apiclient_key.pem").write_text(creds.private_key)
    (tmp_path / "keys" / "pub_key.pem").write_text(creds.pub_key)
    settings = {
        "mchid": creds.mchid,
        "serial": creds.serial,
        "private_key": "keys/apiclient_key.pem",  # relative to the file, wherever the command runs
        "pub_key_id": creds.pub_key_id,
        "pub_key": "keys/pub_key.pem",
        "base_url": creds.base_url,
    }
    (tmp_path / "merchant.json").write_text(json.dumps(settings))
    assert main([*BUSIFAVOR_ARGS, "--config", str(tmp_path / "merchant.json")]) == 0
    assert json.loads(capsys.readouterr().out)["total_count"] == 7


def test_query_text_stays_text_unless_the_endpoint_declares_a_number(
    wxpay_env: dict[str, str], wxpay_sandbox: ThreadedSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    # stock_id is made of digits but declared a string: sent (and accepted) as typed
    assert main([*BUSIFAVOR_ARGS, "--query", "stock_id=9865001", "--query", "limit=2"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert {c["stock_id"] for c in answer["data"]} == {"9865001"} and answer["limit"] == 2
    assert wxpay_sandbox.received[-1].raw_path.endswith("stock_id=9865001&limit=2")


def test_typed_query_converts_only_declared_numbers_and_booleans() -> None:
    assert typed_query("GET", BUSIFAVOR, {"stock_id": "0012", "limit": "10", "offset": "0"}) == {
        "stock_id": "0012",
        "limit": 10,
        "offset": 0,
    }
    assert typed_query("GET", "v3/untyped/thing", {"count": "10"}) == {"count": "10"}
    with pytest.raises(UsageError, match="limit"):
        typed_query("GET", BUSIFAVOR, {"limit": "ten"})
    assert typed_query("GET", BUSIFAVOR, {"limit": "-1", "offset": "007"}) == {"limit": -1, "offset": 7}
    for text in ("١٢", "5_0", " 0", "0 ", "+5", "１２"):  # int() takes each; only ASCII digits are a number
        with pytest.raises(UsageError, match="limit"):
            typed_query("GET", BUSIFAVOR, {"limit": text})


def test_a_json_body_from_text_or_a_file(
    wxpay_env: dict[str, str], wxpay_sandbox: ThreadedSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {
        "brand_id": "120344",
        "product_coupon_id": "1000000013",
        "stock_id": "1000000013001",
        "appid": DEMO_APPID,
        "send_request_no": "CLI-001",
    }
    (tmp_path / "send.json").write_text(json.dumps(body))
    assert main(["request", "POST", PARTNER, "--param", f"openid={FRESH}", "--json", f"@{tmp_path / 'send.json'}"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["request", "post", PARTNER, "--param", f"openid={FRESH}", "--json", json.dumps(body)]) == 0
    assert json.loads(capsys.readouterr().out)["coupon_code"] == first["coupon_code"]  # idempotent
    assert wxpay_sandbox.issued_coupons()[-1].coupon_code == first["coupon_code"]


# -- errors: one line on stderr, exit 1; usage errors exit 2 ---------------------------------------


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_an_api_error_is_one_line_and_exit_code_1(
    wxpay_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["request", "GET", FAVOR, "--param", f"openid={LIGHT}", "--param", "coupon_id=404"]
    assert main([*args, "--query", f"appid={DEMO_APPID}"]) == 1
    assert one_line_error(capsys).startswith("ApiError: WeChat Pay answered 404 NOT_FOUND")


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "cannot read the config file"), ("{not json", "is not valid JSON (line 1, column 2)"), ("[1]", "object")],
)
def test_a_bad_config_file_is_one_line_and_exit_code_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    config = tmp_path / "config.json"
    if content is not None:
        config.write_text(content)
    assert main([*BUSIFAVOR_ARGS, "--config", str(config)]) == 1
    assert expected in one_line_error(capsys)


def test_missing_variables_are_named(no_wxpay_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(BUSIFAVOR_ARGS) == 1
    assert "ConfigurationError: Set WXPAY_MCHID (merchant API) or WXPAY_BRAND_ID" in one_line_error(capsys)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--json", "{bad"], "--json is not valid JSON (line 1, column 2)"),
        (["--param", "openid"], "--param takes NAME=VALUE"),
        (["--query", "=x"], "--query takes NAME=VALUE"),
        (["--query", "limit=many"], "--query limit: BusifavorCouponQuery declares a whole number"),
        (["--brand"], "--brand reads the brand_* settings of --config"),
    ],
)
def test_usage_errors_exit_with_2(
    wxpay_env: dict[str, str], capsys: pytest.CaptureFixture[str], extra: list[str], expected: str
) -> None:
    assert main([*BUSIFAVOR_ARGS, *extra]) == 2
    assert expected in one_line_error(capsys)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # int() took each of these and sent another text than was typed: limit=12, limit=50, offset=0.
        (["--query", "limit=١٢"], "--query limit: BusifavorCouponQuery declares a whole number"),
        (["--query", "limit=5_0"], "--query limit: BusifavorCouponQuery declares a whole number"),
        (["--query", "offset= 0"], "--query offset: BusifavorCouponQuery declares a whole number"),
        (["--query", "limit=+5"], "--query limit: BusifavorCouponQuery declares a whole number"),
        # The last of a repeated name was sent, silently.
        (["--param", "openid=o-2"], "--param openid is given twice; give each name once"),
        (["--query", "appid=wx2"], "--query appid is given twice; give each name once"),
    ],
)
def test_query_numbers_are_digits_and_a_name_is_given_once(
    wxpay_env: dict[str, str], wxpay_sandbox: ThreadedSandbox, capsys: pytest.CaptureFixture[str], extra: list[str],
    expected: str,
) -> None:
    assert main([*BUSIFAVOR_ARGS, *extra]) == 2
    assert expected in one_line_error(capsys)
    assert wxpay_sandbox.received.total_count == 0


def test_a_json_file_that_is_not_utf8_is_a_usage_error_naming_it(
    wxpay_env: dict[str, str], wxpay_sandbox: ThreadedSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # It was "unexpected UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff ...".
    body = tmp_path / "send.json"
    body.write_bytes(b'{"stock_id": "\xff\xfe"}')
    assert main(["request", "POST", PARTNER, "--param", f"openid={FRESH}", "--json", f"@{body}"]) == 2
    error = one_line_error(capsys)
    assert f"--json: {body} is not UTF-8 (at byte offset 14); save it as UTF-8" in error
    assert "unexpected" not in error and wxpay_sandbox.received.total_count == 0


def test_argparse_usage_errors_exit_with_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["request", "FETCH", BUSIFAVOR])
    assert info.value.code == 2


# -- the APIv3 key: WXPAY_APIV3_KEY or a prompt, not only argv -------------------------------------


@pytest.fixture
def certificate_sandbox() -> Iterator[ThreadedSandbox]:
    with Sandbox.in_thread(answer_mode="certificate") as sb:
        yield sb


def test_the_apiv3_key_is_asked_for_when_nothing_else_verifies(
    certificate_sandbox: ThreadedSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = sandbox_env(certificate_sandbox, tmp_path)
    apiv3_key = env["WXPAY_APIV3_KEY"]
    for name in ("WXPAY_PUBLIC_KEY_ID", "WXPAY_PUBLIC_KEY", "WXPAY_APIV3_KEY"):
        del env[name]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return apiv3_key

    monkeypatch.setattr(getpass, "getpass", ask)
    assert main(BUSIFAVOR_ARGS) == 0
    assert asked == ["APIv3 key (not shown): "]
    out, err = capsys.readouterr()
    assert json.loads(out)["total_count"] == 7 and apiv3_key not in out + err

    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)  # a script: no one to ask
    assert main(BUSIFAVOR_ARGS) == 1
    assert "WXPAY_APIV3_KEY" in one_line_error(capsys)


def test_certificates_reads_everything_from_the_environment(
    certificate_sandbox: ThreadedSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in sandbox_env(certificate_sandbox, tmp_path / "sb").items():
        monkeypatch.setenv(name, value)
    replaced: list[str] = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (replaced.append(Path(a).name), real_replace(a, b))[1])
    assert main(["certificates", "-o", str(tmp_path / "certs")]) == 0
    creds = certificate_sandbox.credentials
    written = f"wechatpay_{creds.platform_serial}.pem"
    assert (tmp_path / "certs" / written).read_text() == creds.platform_certificate
    # Renamed into place from a new name of its own, which nobody could have planted a link at.
    assert len(replaced) == 1 and replaced[0].startswith(f".{written}.") and replaced[0].endswith(".part")
    assert os.listdir(tmp_path / "certs") == [written]
    monkeypatch.setattr(os, "replace", real_replace)
    capsys.readouterr()

    apiv3_key = os.environ["WXPAY_APIV3_KEY"]
    monkeypatch.delenv("WXPAY_APIV3_KEY")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(getpass, "getpass", lambda prompt: apiv3_key)
    assert main(["certificates", "-o", str(tmp_path / "again")]) == 0
    assert apiv3_key not in capsys.readouterr().out

    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    assert main(["certificates", "-o", str(tmp_path / "never")]) == 2
    assert "set WXPAY_APIV3_KEY" in one_line_error(capsys)


# -- as a process: no traceback, --log-level, a closed pipe ------------------------------------------


def test_as_a_process_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{")
    for args in (
        [*BUSIFAVOR_ARGS, "--config", str(tmp_path / "missing.json")],
        [*BUSIFAVOR_ARGS, "--config", str(tmp_path / "config.json")],
        BUSIFAVOR_ARGS,  # no WXPAY_* at all
    ):
        result = run_cli(*args)
        assert result.returncode == 1, result.stderr
        assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_log_level_writes_the_sdks_lines_to_stderr_only(wxpay_sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    env = sandbox_env(wxpay_sandbox, tmp_path)
    result = run_cli(*BUSIFAVOR_ARGS, "--log-level", "info", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total_count"] == 7
    assert "INFO wxpay_chain: GET v3/marketing/busifavor/users/{openid}/coupons -> 200" in result.stderr
    quiet = run_cli(*BUSIFAVOR_ARGS, env=env)
    assert quiet.stderr.startswith("200 Request-ID") and len(quiet.stderr.splitlines()) == 1


def test_a_closed_pipe_is_silent(wxpay_sandbox: ThreadedSandbox, tmp_path: Path) -> None:
    env = sandbox_env(wxpay_sandbox, tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte, as after `| head -c0`
    try:
        result = subprocess.run(
            [sys.executable, "-m", "wxpay_chain", *BUSIFAVOR_ARGS],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(env),
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert "Error" not in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_the_config_error_for_a_missing_brand_section(
    wxpay_sandbox: ThreadedSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = wxpay_sandbox.credentials
    (tmp_path / "m.json").write_text(json.dumps({"mchid": creds.mchid, "serial": creds.serial}))
    assert main([*BUSIFAVOR_ARGS, "--config", str(tmp_path / "m.json")]) == 1
    assert "m.json: private_key is not set" in one_line_error(capsys)
    with pytest.raises(ConfigurationError, match="brand_id"):
        from wxpay_chain._env import options_from_config

        options_from_config(tmp_path / "m.json", {}, brand=True)


def test_certificates_write_past_a_link_planted_at_the_old_temporary_name(
    certificate_sandbox: ThreadedSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in sandbox_env(certificate_sandbox, tmp_path / "sb").items():
        monkeypatch.setenv(name, value)
    certs, victim = tmp_path / "certs", tmp_path / "victim.txt"
    certs.mkdir()
    victim.write_text("untouched", encoding="utf-8")
    written = f"wechatpay_{certificate_sandbox.credentials.platform_serial}.pem"
    (certs / f".{written}.part").symlink_to(victim)  # the fixed name the command used to write through
    assert main(["certificates", "-o", str(certs)]) == 0
    assert victim.read_text(encoding="utf-8") == "untouched"
    assert not (certs / written).is_symlink()
    assert (certs / written).read_text() == certificate_sandbox.credentials.platform_certificate


def test_certificates_into_a_file_is_a_usage_error_before_anything_is_downloaded(
    certificate_sandbox: ThreadedSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in sandbox_env(certificate_sandbox, tmp_path / "sb").items():
        monkeypatch.setenv(name, value)
    (tmp_path / "certs.pem").write_text("mine")
    asked = len(certificate_sandbox.received)
    assert main(["certificates", "-o", str(tmp_path / "certs.pem")]) == 2
    error = one_line_error(capsys)
    assert "names a folder" in error and "certs.pem' is a file" in error
    assert (tmp_path / "certs.pem").read_text() == "mine"
    assert len(certificate_sandbox.received) == asked  # refused before any request
