"""The command line against a running sandbox and the config.json it writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wxpay_chain.__main__ import main
from wxpay_chain.sandbox import DEMO_APPID, DEMO_OPENIDS


def test_request_command_signs_with_config_json(
    wxpay_sandbox: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = wxpay_sandbox.write_config(tmp_path)
    template = "v3/marketing/busifavor/users/{openid}/coupons"
    argv = [
        "request",
        "GET",
        template,
        "--config",
        str(config),
        "--param",
        f"openid={DEMO_OPENIDS[0]}",
        "--query",
        f"appid={DEMO_APPID}",
        "--query",
        "limit=1",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "(signature verified)" in out
    assert len(json.loads(out.split("\n", 1)[1])["data"]) == 1
    brand = [
        "request",
        "GET",
        "brand/marketing/product-coupon/users/{openid}/coupons",
        "--brand",
        "--config",
        str(config),
        "--param",
        f"openid={DEMO_OPENIDS[0]}",
        "--query",
        f"appid={DEMO_APPID}",
    ]
    assert main(brand) == 0
    assert "user_coupon_list" in capsys.readouterr().out


def test_request_command_reports_typed_errors(
    wxpay_sandbox: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = wxpay_sandbox.write_config(tmp_path)
    argv = [
        "request",
        "GET",
        "v3/marketing/favor/users/{openid}/coupons/{coupon_id}",
        "--config",
        str(config),
        "--param",
        f"openid={DEMO_OPENIDS[0]}",
        "--param",
        "coupon_id=404",
        "--query",
        f"appid={DEMO_APPID}",
    ]
    assert main(argv) == 1
    assert "ApiError: WeChat Pay answered 404 NOT_FOUND" in capsys.readouterr().err
