"""Attribute chains start only at WeChat Pay's known roots; a misspelled method is an AttributeError."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from wxpay_chain import AsyncClient, Client
from wxpay_chain._roots import ROOTS

DATA = Path(__file__).resolve().parents[1] / "data" / "conformance" / "endpoints.json"


def test_the_roots_cover_every_documented_endpoint_and_the_brand_and_hk_apis() -> None:
    documented = {entry["segments"][0] for entry in json.loads(DATA.read_text("utf-8"))}
    assert documented <= ROOTS
    assert documented | {"brand", "hk"} == ROOTS  # brand/marketing/…, and hk/v3/… (cross-border)


@pytest.mark.parametrize("name", ["handle_notifcation", "download_certificate", "paginate", "v4", "V3", "pay"])
def test_a_name_that_is_no_method_and_no_root_is_an_attribute_error(
    make_client: Callable[..., AsyncClient], name: str
) -> None:
    client = make_client()
    derived = client.with_options(timeout=5)
    for owner in (client, derived):
        with pytest.raises(AttributeError, match=r'client\.chain\(|client\["') as info:
            getattr(owner, name)
        assert info.value.name == name and info.value.obj is owner  # lets Python suggest the right method
        assert not hasattr(owner, name)
    assert name not in vars(client)


def test_python_suggests_the_method_that_was_meant() -> None:
    """What a user sees on the terminal: Python's own "Did you mean" (printed by the default excepthook)."""
    script = (
        "from cryptography.hazmat.primitives.asymmetric import rsa\n"
        "from wxpay_chain import AsyncClient\n"
        "key = rsa.generate_private_key(public_exponent=65537, key_size=2048)\n"
        "client = AsyncClient(mchid='1', serial='AB', private_key=key, apiv3_key='0123456789abcdefghijABCDEFGHIJ01')\n"
        "client.handle_notifcation\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "has no attribute 'handle_notifcation'" in result.stderr
    assert "Did you mean: 'handle_notification'?" in result.stderr


def test_the_known_roots_and_the_open_styles_still_reach_any_path(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client()
    assert [getattr(client, root).template for root in sorted(ROOTS)] == sorted(ROOTS)
    assert client.hk.v3.transactions.native.template == "hk/v3/transactions/native"
    assert client.brand.marketing._brand_id_.template == "brand/marketing/{brand_id}"
    assert client.chain("sandboxnew/pay/getsignkey").template == "sandboxnew/pay/getsignkey"
    assert client["anything/At/all"].template == "anything/At/all"
    assert client.with_options(retry=1).v3.certificates.template == "v3/certificates"


def test_the_blocking_client_has_the_same_roots(make_client: Callable[..., AsyncClient]) -> None:
    options = {
        "mchid": "1900000001",
        "serial": "3775B6A45ACD588826D15E583A95F5DD12345678",
        "private_key": make_client()._config.signer.key,
        "apiv3_key": "0123456789abcdefghijABCDEFGHIJ01",
    }
    with Client(**options) as client:  # type: ignore[arg-type]
        assert client.v3.marketing.template == "v3/marketing"
        for owner in (client, client.with_options(timeout=3)):
            with pytest.raises(AttributeError, match="attribute chains start at brand, hk, v2, v3"):
                owner.parse_notifcation  # noqa: B018
        assert client.chain("odd/root").template == "odd/root"


def test_probes_by_copy_pickle_and_notebooks_stay_attribute_errors(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client()
    for name in ("__deepcopy__", "__wrapped__", "_repr_html_", "_ipython_display_", "_ipython_canary_method_"):
        assert not hasattr(client, name)
