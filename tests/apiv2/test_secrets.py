"""The APIv2 key and the passphrase never show in a repr, a log line or an error message."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from wxpay_chain import AsyncClient, Client, ConfigurationError, SignatureError, WxPayError

from .peer import APIV2_KEY, Pki, V2Peer, signed_success

PASSPHRASE = "p12-passphrase-do-not-show"


def test_the_apiv2_key_is_checked_without_being_echoed(options: dict[str, Any]) -> None:
    for bad in ("x" * 31, APIV2_KEY + "0", "秘" * 32, b"0" * 32, 12345):
        with pytest.raises(ConfigurationError, match="apiv2_key") as caught:
            AsyncClient(**{**options, "apiv2_key": bad})
        assert str(bad) not in str(caught.value)


def test_no_repr_shows_the_apiv2_key(options: dict[str, Any]) -> None:
    client = AsyncClient(**options)
    with Client(**options) as blocking:
        shown = repr(client) + repr(client._config) + repr(client._config.defaults) + repr(blocking)
    assert APIV2_KEY not in shown and "PRIVATE KEY" not in shown


def test_the_passphrase_stays_out_of_errors_and_reprs(
    options: dict[str, Any], pki: Pki, merchant_key: rsa.RSAPrivateKey
) -> None:
    p12 = pkcs12.serialize_key_and_certificates(
        b"x", merchant_key, pki.client, None, serialization.BestAvailableEncryption(PASSPHRASE.encode())
    )
    client = AsyncClient(**{**options, "client_cert": p12, "passphrase": PASSPHRASE})
    assert PASSPHRASE not in repr(client._config) and PASSPHRASE not in repr(client._config.client_cert)
    with pytest.raises(ConfigurationError) as caught:
        AsyncClient(**{**options, "client_cert": p12, "passphrase": PASSPHRASE[::-1]})
    assert PASSPHRASE not in str(caught.value) and PASSPHRASE[::-1] not in str(caught.value)


def test_a_p12_passphrase_with_an_undecodable_byte_is_not_echoed(
    options: dict[str, Any], pki: Pki, merchant_key: rsa.RSAPrivateKey
) -> None:
    p12 = pkcs12.serialize_key_and_certificates(
        b"x", merchant_key, pki.client, None, serialization.BestAvailableEncryption(PASSPHRASE.encode())
    )
    # A byte the environment could not decode becomes a lone surrogate: a UnicodeEncodeError quoted it whole.
    with pytest.raises(ConfigurationError, match="passphrase holds text UTF-8 cannot encode") as caught:
        AsyncClient(**{**options, "client_cert": p12, "passphrase": PASSPHRASE + "\udcff"})
    chain, error = [], caught.value
    while error is not None:  # (its context is the first try at reading the bytes as a PEM certificate)
        chain.append(repr(error))
        error = error.__cause__ or error.__context__
    assert all(PASSPHRASE not in shown for shown in chain) and "UnicodeEncodeError" not in "".join(chain)


def test_an_apiv2_key_of_32_characters_not_all_ascii_is_told_apart_from_a_wrong_length(
    options: dict[str, Any],
) -> None:
    with pytest.raises(ConfigurationError, match="letters and digits only") as caught:
        AsyncClient(**{**options, "apiv2_key": "秘" + APIV2_KEY[1:]})
    assert "32 characters" not in str(caught.value)


async def test_no_log_line_or_error_of_a_v2_call_carries_the_key(
    make_client: Callable[..., AsyncClient], v2peer: V2Peer, caplog: pytest.LogCaptureFixture
) -> None:
    replies = iter(
        [signed_success({}), {**signed_success({}), "sign": "F" * 32}, {"return_code": "FAIL", "return_msg": "x"}]
    )
    v2peer.answer = lambda fields: next(replies)
    errors: list[WxPayError] = []
    with caplog.at_level(logging.DEBUG, logger="wxpay_chain"):
        async with make_client(log_bodies=True) as client:
            xml = {"coupon_stock_id": "1", "appid": "wx"}
            await client.v2.mmpaymkttransfers.query_coupon_stock.post(xml=xml)
            for _ in range(2):
                with pytest.raises(WxPayError) as caught:
                    await client.v2.mmpaymkttransfers.query_coupon_stock.post(xml=xml)
                errors.append(caught.value)
    assert isinstance(errors[0], SignatureError)
    assert caplog.records, "the calls were logged"
    text = caplog.text + "".join(str(e) + repr(e.args) for e in errors)
    assert APIV2_KEY not in text and "&key=" not in text
