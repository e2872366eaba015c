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


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["request", "GET", "v3/certificates", "-f", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"], "-f and 1 other word(s)"),
        (["bill", "--date", "2026-11-30", "-kCANARYv3CANARYv3CANARYv3CANARY32"], "-k..."),
        (["upload", "a.png", "--to", "v3/merchant/media/upload", "--key=CANARYv3CANARY"], "--key=..."),
        (["certificates", "-o", "out", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "CANARY"], "2 unrecognized argument(s)"),
    ],
)
def test_an_unknown_argument_is_named_by_its_option_never_by_a_value(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only certificates held this back: `request ... -f "$KEY"` echoed the whole key to the terminal.
    with pytest.raises(SystemExit) as ended:
        main(args)
    err = capsys.readouterr().err
    assert ended.value.code == 2 and said in err
    assert "MIIEvQIB" not in err and "CANARY" not in err
