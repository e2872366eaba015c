"""Keys, credentials, config.json, persistence, the threaded sandbox and hostile input."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

from wxpay_chain.sandbox import CONFIG_KEYS, DEMO_APPID, Sandbox, SandboxCredentials, default_key_set
from wxpay_chain.sandbox._failures import ApiFailure
from wxpay_chain.sandbox._params import Body, Query, path_value

from ._paths import BRAND_ID, FRESH, RICH, partner, send_body
from ._wire import Identity, Wire


def test_generated_identifiers_have_the_wechat_pay_shapes() -> None:
    keys = default_key_set()
    assert re.fullmatch(r"[0-9A-F]{40}", keys.merchant_serial)
    assert re.fullmatch(r"[0-9A-F]{40}", keys.brand_serial)
    assert re.fullmatch(r"PUB_KEY_ID_\d{28}", keys.pub_key_id)
    assert re.fullmatch(r"[0-9A-Za-z]{32}", keys.apiv3_key)
    assert (keys.mchid, keys.brand_id) == ("1900000001", "120344")
    certificate = x509.load_pem_x509_certificate(keys.platform_certificate.encode())
    assert format(certificate.serial_number, "X") == keys.platform_serial
    public = serialization.load_pem_public_key(keys.platform_public_key.encode())
    assert public.public_numbers() == certificate.public_key().public_numbers()  # type: ignore[union-attr]


async def test_credentials_repr_hides_every_secret(sandbox: Sandbox) -> None:
    creds = sandbox.credentials
    shown = repr(creds) + repr(sandbox.keys)
    assert "PRIVATE KEY" not in shown
    assert creds.apiv3_key not in shown
    assert creds.mchid in shown


async def test_write_config_writes_exactly_the_agreed_keys_and_pem_files(sandbox: Sandbox, tmp_path: Path) -> None:
    path = sandbox.write_config(tmp_path / "cfg")
    config = json.loads(path.read_text())
    assert path == (tmp_path / "cfg" / "config.json").resolve()
    assert tuple(config) == CONFIG_KEYS
    creds = sandbox.credentials
    for field in ("private_key", "brand_private_key", "pub_key", "platform_certificate"):
        pem = Path(config[field])
        assert pem.parent == path.parent
        assert pem.read_text() == getattr(creds, field)
    for field in (
        "base_url",
        "mchid",
        "serial",
        "brand_id",
        "brand_serial",
        "pub_key_id",
        "platform_serial",
        "apiv3_key",
    ):
        assert config[field] == getattr(creds, field)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(config["private_key"]).stat().st_mode) == 0o600


async def test_state_dir_keeps_keys_and_coupons_across_restarts(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    async with Sandbox(state_dir=tmp_path, keys=default_key_set()) as first:
        wire = Wire(http, first.base_url, Identity.merchant(first.credentials))
        issued = (await wire.send("POST", partner(FRESH), send_body("persist-1"))).json()
        first_keys = first.keys
        ledger_size = len(first.issued_coupons())
    async with Sandbox(state_dir=tmp_path) as second:
        assert second.keys == first_keys
        assert len(second.issued_coupons()) == ledger_size
        wire = Wire(http, second.base_url, Identity.merchant(second.credentials))
        replay = (await wire.send("POST", partner(FRESH), send_body("persist-1"))).json()
        assert replay["coupon_code"] == issued["coupon_code"]
        listed = (await wire.send("GET", partner(FRESH, brand_id=BRAND_ID, appid=DEMO_APPID))).json()
        assert listed["total_count"] == 1
    assert (tmp_path / "sandbox-state.sqlite3").exists()


async def test_new_state_dir_gets_its_own_fresh_keys(tmp_path: Path) -> None:
    async with Sandbox(state_dir=tmp_path) as sb:
        assert sb.keys.merchant_serial != default_key_set().merchant_serial


def test_threaded_sandbox_serves_blocking_code(tmp_path: Path) -> None:
    import urllib.error
    import urllib.request

    with Sandbox.in_thread(keys=default_key_set()) as sb:
        assert sb.base_url.startswith("http://127.0.0.1:")
        request = urllib.request.Request(
            sb.base_url + "v3/certificates", headers={"Accept": "application/json", "User-Agent": "t"}
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=5)
        with caught.value as error:
            assert (error.code, json.loads(error.read())["code"]) == (401, "SIGN_ERROR")
        assert sb.received[-1].code == "SIGN_ERROR"
        assert json.loads(sb.write_config(tmp_path).read_text())["base_url"] == sb.base_url


async def test_threaded_sandbox_serves_another_event_loop(http: aiohttp.ClientSession) -> None:
    with Sandbox.in_thread(keys=default_key_set()) as sb:
        wire = Wire(http, sb.base_url, Identity.merchant(sb.credentials))
        answer = await wire.send("POST", partner(FRESH), send_body("thread-1"))
        assert answer.status == 200
        assert answer.signature_verifies(sb.credentials.pub_key)
        assert sb.issued_coupons()[-1].send_request_no == "thread-1"


def test_sandbox_options_are_checked() -> None:
    for bad in ({"probe_rate": 1.5}, {"answer_mode": "x"}, {"rate_limit": 0}, {"notify_retry_delays": (-1,)}):
        with pytest.raises(ValueError):
            Sandbox(**bad)


HOSTILE = [
    ("GET", "/v3/marketing/partner/product-coupon/users/%FF%FE/coupons?brand_id=120344&appid=wx1"),
    ("GET", "/v3/marketing/partner/product-coupon/users/o/coupons?brand_id=%FF&appid=wx1"),
    ("GET", "/v3/marketing/partner/product-coupon/users/" + "o" * 5000 + "/coupons?brand_id=120344&appid=wx1"),
    ("GET", "/v3/marketing/partner/product-coupon/users/../coupons?brand_id=120344&appid=wx1"),
    ("GET", "/v3/marketing/busifavor/users/o/coupons?appid=wx1&limit=" + "9" * 400),
    ("GET", "/v3/marketing/busifavor/users/o/coupons?appid=wx1&offset=%00"),
    ("GET", "/v3/marketing/favor/users/%00/coupons/%2F..%2F?appid=wx1"),
    ("GET", "/v3/marketing/partner/product-coupon/users/o/coupons?brand_id=120344&appid=wx1&page_token=" + "A" * 90),
    ("POST", "/v3/marketing/partner/product-coupon/users/%E4%BD%A0%E5%A5%BD/coupons"),
]


async def test_hostile_requests_get_4xx_answers_and_leave_state_intact(sandbox: Sandbox, merchant: Wire) -> None:
    before = len(sandbox.issued_coupons())
    for method, target in HOSTILE:
        body = b'{"brand_id": 1e999999, "stock_id": "\\ud800"}' if method == "POST" else None
        answer = await merchant.send(method, target, body)
        assert 400 <= answer.status < 500, (target[:80], answer.status, answer.body[:200])
        assert answer.code in {"PARAM_ERROR", "NOT_FOUND", "INVALID_REQUEST"}
    assert len(sandbox.issued_coupons()) == before
    ok = await merchant.send("GET", partner(RICH, brand_id=BRAND_ID, appid=DEMO_APPID))
    assert ok.status == 200


async def test_unicode_openid_round_trips(merchant: Wire) -> None:
    answer = await merchant.send("POST", partner("用户-1"), send_body("unicode-1"))
    assert answer.status == 200
    listed = (await merchant.send("GET", partner("用户-1", brand_id=BRAND_ID, appid=DEMO_APPID))).json()
    assert listed["total_count"] == 1


@given(st.text(max_size=60), st.binary(max_size=60))
def test_parameter_readers_only_ever_raise_param_errors(text: str, raw: bytes) -> None:
    for attempt in (
        lambda: Query(text).integer("limit", default=1, minimum=1, maximum=50),
        lambda: Query(raw.decode("latin-1")).text("appid"),
        lambda: path_value("openid", text),
        lambda: Body(raw).text("stock_id"),
    ):
        try:
            attempt()
        except ApiFailure as failure:
            assert failure.code == "PARAM_ERROR"
            json.dumps(failure.payload(), ensure_ascii=False).encode("utf-8")


def test_credentials_are_frozen() -> None:
    import attrs

    creds = SandboxCredentials.from_keys(default_key_set(), "http://x/")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        creds.mchid = "1"  # type: ignore[misc]
