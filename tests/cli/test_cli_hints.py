"""Command-line errors speak of what a command-line user can change: --config and WXPAY_* alike."""

from __future__ import annotations

import pytest

from wxpay_chain.__main__ import main


def test_a_url_as_the_template_names_the_places_the_host_comes_from(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["request", "GET", "https://api.mch.weixin.qq.com/v3/certificates"]) == 2
    err = capsys.readouterr().err
    assert "is a URL; give the path (v3/...)" in err and "--config" in err and "WXPAY_BASE_URL" in err
    assert "base_url=" not in err  # the SDK keyword a programmer would set


def test_upload_to_a_url_is_the_same_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["upload", "logo.png", "--to", "https://api.mch.weixin.qq.com/v3/merchant/media/upload"]) == 2
    assert "is a URL; give the path" in capsys.readouterr().err


def test_missing_settings_also_point_to_config(no_wxpay_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["request", "GET", "v3/certificates"]) == 1
    err = capsys.readouterr().err
    assert "WXPAY_MCHID" in err and "or pass --config FILE" in err


def test_a_missing_apiv2_key_names_the_variable_and_the_config_key(
    wxpay_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WXPAY_APIV2_KEY", raising=False)
    xml = '{"coupon_stock_id": "1757", "appid": "wx233544546545989"}'
    assert main(["request", "POST", "v2/mmpaymkttransfers/query_coupon_stock", "--xml", xml]) == 1
    err = capsys.readouterr().err
    assert "is signed with the APIv2 key: set WXPAY_APIV2_KEY (or apiv2_key in --config)" in err
    assert "apiv2_key=" not in err  # the SDK keyword a programmer would pass
