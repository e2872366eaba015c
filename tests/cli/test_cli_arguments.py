"""Wrong command lines are usage errors (exit 2, one line naming the flag), found before anything is sent;
and ``request --xml`` makes APIv2 calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import wxpay_chain._cli
from wxpay_chain.__main__ import main
from wxpay_chain.sandbox import DEMO_APPID, DEMO_OPENIDS, ThreadedSandbox

RICH = DEMO_OPENIDS[0]
BUSIFAVOR = "v3/marketing/busifavor/users/{openid}/coupons"
STOCK = "v2/mmpaymkttransfers/query_coupon_stock"
STOCK_FIELDS = json.dumps({"coupon_stock_id": "1757", "appid": DEMO_APPID})


@pytest.fixture
def no_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if the command makes a client: a usage error is found before anything can be sent
    (the sandbox logs no APIv2 requests, so this is what shows it for v2/ paths)."""

    def made(args: object) -> None:
        raise AssertionError("a client was made")

    monkeypatch.setattr(wxpay_chain._cli, "blocking_client", made)


def usage_error(capsys: pytest.CaptureFixture[str], command: str) -> str:
    """The one line on stderr, in the form every usage error of ``command`` has; nothing on stdout."""
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    prefix = f"wxpay-chain {command}: error: "
    assert err.startswith(prefix), err
    return err[len(prefix) :].rstrip("\n")


# -- 1. bill --date ------------------------------------------------------------------------------


@pytest.mark.parametrize("date", ["2026-13-01", "2026-02-30", "2026-00-10", "2026-1a-01", "20260101", "2026/01/31"])
def test_a_bill_date_that_is_no_day_is_refused_before_anything_is_sent(
    no_client: None,
    wxpay_env: dict[str, str],
    wxpay_sandbox: ThreadedSandbox,
    capsys: pytest.CaptureFixture[str],
    date: str,
) -> None:
    assert main(["bill", "--date", date]) == 2
    message = usage_error(capsys, "bill")
    assert "--date" in message and "YYYY-MM-DD" in message and repr(date) in message
    assert wxpay_sandbox.received.total_count == 0


# -- 2. and 3. sandbox --port, --probe-rate, --keep-requests -------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--port", "99999"], "--port must be 0-65535 (0 picks a free port), not 99999"),
        (["--port", "-1"], "--port must be 0-65535 (0 picks a free port), not -1"),
        (["--probe-rate", "2"], "--probe-rate must be a share from 0 to 1 (e.g. 0.1), not 2.0"),
        (["--probe-rate", "-0.5"], "--probe-rate must be a share from 0 to 1"),
        (["--probe-rate", "nan"], "--probe-rate must be a share from 0 to 1"),
        (["--keep-requests", "-1"], "--keep-requests must be 0 or more, not -1"),
        (["--notify-url", "ftp://example.com/n"], "--notify-url must be an http:// or https:// URL"),
    ],
)
def test_sandbox_options_out_of_range_are_usage_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    assert main(["sandbox", *args]) == 2
    assert usage_error(capsys, "sandbox").startswith(expected)


def test_the_sandbox_accepts_port_zero_and_the_ends_of_the_ranges() -> None:
    from wxpay_chain.sandbox._cli import check_options

    for port in (0, 65535):
        check_options(port=port, probe_rate=0.0, keep_requests=0, notify_url=None)
    check_options(port=8080, probe_rate=1.0, keep_requests=1000, notify_url="http://127.0.0.1:9/n")


# -- 4. request --xml: APIv2 calls ---------------------------------------------------------------


def test_xml_makes_an_apiv2_call_and_prints_its_fields_as_json(
    wxpay_env: dict[str, str], wxpay_sandbox: ThreadedSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["request", "POST", STOCK, "--xml", STOCK_FIELDS]) == 0
    out, err = capsys.readouterr()
    fields = json.loads(out)
    assert fields["return_code"] == "SUCCESS" and fields["coupon_stock_id"] == "1757"
    # the sandbox answers SUCCESS only to a request signed with the APIv2 key, for this merchant
    assert fields["result_code"] == "SUCCESS" and fields["mch_id"] == wxpay_env["WXPAY_MCHID"]
    assert err.startswith("200 Request-ID") and err.endswith("(sign checked)\n")


def test_xml_from_a_file(wxpay_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "stock.json"
    path.write_text(STOCK_FIELDS)
    assert main(["request", "post", STOCK, "--xml", f"@{path}", "--include"]) == 0
    assert json.loads(capsys.readouterr().out)["body"]["coupon_stock_id"] == "1757"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["POST", STOCK, "--json", STOCK_FIELDS], "--json: v2/ paths are APIv2 calls: pass their fields as --xml"),
        (["POST", BUSIFAVOR, "--param", f"openid={RICH}", "--xml", "{}"], "--xml is for APIv2 (v2/...) paths"),
        (["GET", STOCK, "--xml", STOCK_FIELDS], "v2/ paths are APIv2 calls, sent with POST, not GET"),
        (["POST", STOCK], f"{STOCK} is an APIv2 call: pass its fields as --xml"),
        (["POST", STOCK, "--xml", "[1]"], "--xml must be a JSON object of the APIv2 fields"),
        (["POST", STOCK, "--xml", "{bad"], "--xml is not valid JSON (line 1, column 2)"),
        (["POST", STOCK, "--xml", STOCK_FIELDS, "--query", "a=1"], "--query: APIv2 calls send every field in --xml"),
        (["POST", STOCK, "--xml", STOCK_FIELDS, "--param", "a=1"], f"--param a: {STOCK} has no placeholders"),
    ],
)
def test_xml_and_json_each_go_with_their_own_paths(
    no_client: None,
    wxpay_env: dict[str, str],
    wxpay_sandbox: ThreadedSandbox,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    assert main(["request", *args]) == 2
    assert usage_error(capsys, "request").startswith(expected)
    assert wxpay_sandbox.received.total_count == 0


# -- 5. --param names the CLI's flags, not the SDK's keywords ------------------------------------


def test_an_unknown_param_lists_the_placeholders_and_the_cli_flags(
    no_client: None, wxpay_env: dict[str, str], wxpay_sandbox: ThreadedSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["request", "GET", BUSIFAVOR, "--param", f"openid={RICH}", "--param", "bogus=1"]
    assert main([*args, "--query", f"appid={DEMO_APPID}"]) == 2
    message = usage_error(capsys, "request")
    assert message == (
        f"--param bogus: {BUSIFAVOR} has no {{bogus}}; it takes --param openid=VALUE "
        "(query parameters go in --query NAME=VALUE, a body in --json)"
    )
    assert wxpay_sandbox.received.total_count == 0


@pytest.mark.parametrize("name", ["json", "query", "timeout", "headers"])
def test_a_param_named_like_an_sdk_option_is_no_way_around_the_flags(
    no_client: None,
    wxpay_env: dict[str, str],
    wxpay_sandbox: ThreadedSandbox,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    args = ["request", "GET", BUSIFAVOR, "--param", f"openid={RICH}", "--query", f"appid={DEMO_APPID}"]
    assert main([*args, "--param", f"{name}=1"]) == 2
    assert usage_error(capsys, "request").startswith(f"--param {name}: {BUSIFAVOR} has no {{{name}}}")
    assert wxpay_sandbox.received.total_count == 0


def test_a_missing_placeholder_names_its_param(
    no_client: None, wxpay_env: dict[str, str], wxpay_sandbox: ThreadedSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["request", "GET", BUSIFAVOR, "--query", f"appid={DEMO_APPID}"]) == 2
    assert usage_error(capsys, "request") == f"{BUSIFAVOR} needs --param openid=VALUE"
    assert wxpay_sandbox.received.total_count == 0


def test_upload_params_are_checked_the_same_way(
    no_client: None,
    wxpay_env: dict[str, str],
    wxpay_sandbox: ThreadedSandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    assert main(["upload", str(image), "--to", "v3/merchant/media/upload", "--param", "bogus=1"]) == 2
    message = usage_error(capsys, "upload")
    assert message == "--param bogus: v3/merchant/media/upload has no placeholders (extra meta fields go in --meta)"
    assert wxpay_sandbox.received.total_count == 0


def test_query_numbers_of_an_endpoint_only_the_data_knows_are_sent_as_typed(
    wxpay_env: dict[str, str], wxpay_sandbox: ThreadedSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    # "0" and 0 are the same query text, so the data's integer offset/limit take --query's text as it is.
    query = ["--query", "offset=0", "--query", "limit=10", "--query", "stock_creator_mchid=1900000001"]
    main(["request", "GET", "v3/marketing/favor/stocks", *query])
    assert [r.raw_path for r in wxpay_sandbox.received] == [
        "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid=1900000001"
    ]
    assert "must be" not in capsys.readouterr().err
