"""Each way to call the SDK wrongly that later features added: a typed error that says what to do."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, Client, ConfigurationError, InvalidRequestError

from .conftest import MCHID, PUB_KEY_ID, SERIAL
from .wire import WirePeer, pem_public


def test_bad_offload_mode_is_a_configuration_error(make_client: Callable[..., AsyncClient]) -> None:
    with pytest.raises(ConfigurationError, match="offload_crypto"):
        make_client(offload_crypto="sometimes")


def test_with_options_checks_the_base_url(make_client: Callable[..., AsyncClient]) -> None:
    with pytest.raises(ConfigurationError, match="http"):
        make_client().with_options(base_url="api.mch.weixin.qq.com")


async def test_paginate_needs_a_paging_endpoint_and_a_positive_cap(memory_client: AsyncClient, peer: WirePeer) -> None:
    client = memory_client
    with pytest.raises(InvalidRequestError, match="no known paging"):
        [item async for item in client.v3.things.paginate()]
    with pytest.raises(InvalidRequestError, match="max_pages"):
        [
            item
            async for item in client.v3.marketing.busifavor.users._openid_.coupons.paginate(
                openid="o", query={"appid": "wx1"}, max_pages=0
            )
        ]
    assert peer.seen == []


async def test_apiv3_features_without_the_key_say_so(make_client: Callable[..., AsyncClient]) -> None:
    client = make_client()
    with pytest.raises(ConfigurationError, match="apiv3_key"):
        await client.parse_notification({}, b"{}")
    with pytest.raises(ConfigurationError, match="apiv3_key"):
        await client.download_certificates()


@pytest.mark.parametrize("path", [None, 5, b"v3/certificates"])
async def test_a_path_that_is_not_text_is_an_invalid_request(
    memory_client: AsyncClient, peer: WirePeer, path: object
) -> None:
    for make in (memory_client.chain, memory_client.__getitem__, memory_client.v3.chain, memory_client.v3.__getitem__):
        with pytest.raises(InvalidRequestError, match="take the path as text") as raised:
            make(path)  # type: ignore[arg-type]
        assert raised.value.problems == (("path", f"a str, not {type(path).__name__}"),)
    assert peer.seen == []


@pytest.mark.parametrize("path", ["", "/", "?limit=1"])
async def test_an_empty_path_is_refused_before_sending(memory_client: AsyncClient, peer: WirePeer, path: str) -> None:
    with pytest.raises(InvalidRequestError, match="The path is empty"):
        await memory_client.chain(path).get()
    assert peer.seen == []


def test_a_url_in_place_of_a_path_says_to_set_base_url(memory_client: AsyncClient) -> None:
    with pytest.raises(InvalidRequestError, match="a path, not a URL") as raised:
        memory_client.chain("https://api.mch.weixin.qq.com/v3/certificates")
    assert "base_url=" in raised.value.problems[0][1]


async def test_a_misspelt_verb_names_the_verbs(memory_client: AsyncClient, peer: WirePeer) -> None:
    chain = memory_client.v3.marketing.busifavor.users._openid_.coupons
    for wrong in (chain.fetch, chain.Get, memory_client["v3/certificates"]):
        with pytest.raises(InvalidRequestError, match="is not a verb") as raised:
            wrong(openid="o-1")
        assert ".get(), .post(), .put(), .patch() or .delete()" in raised.value.problems[0][1]
    assert peer.seen == []



@pytest.fixture
def both_clients(
    make_client: Callable[..., AsyncClient], merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey
) -> Iterator[tuple[AsyncClient, Client]]:
    keys = {PUB_KEY_ID: pem_public(platform_key)}
    with Client(mchid=MCHID, serial=SERIAL, private_key=merchant_key, platform_keys=keys) as blocking:
        yield make_client(), blocking


@pytest.mark.parametrize("value", [None, 12345, b"\xe5\xbc\xa0\xe4\xb8\x89"])
def test_encrypt_takes_text_and_names_it(both_clients: tuple[AsyncClient, Client], value: object) -> None:
    # None and 12345 escaped as AttributeError ('int' object has no attribute 'encode').
    for client in both_clients:
        with pytest.raises(InvalidRequestError, match="encrypt") as raised:
            client.encrypt(value)  # type: ignore[arg-type]
        assert raised.value.problems == (("text", f"a str, not {type(value).__name__}"),)


@pytest.mark.parametrize("value", [None, 12345, ["abc"]])
def test_decrypt_takes_the_ciphertext_as_text(both_clients: tuple[AsyncClient, Client], value: object) -> None:
    for client in both_clients:  # None escaped as TypeError from base64
        with pytest.raises(InvalidRequestError, match="decrypt") as raised:
            client.decrypt(value)  # type: ignore[arg-type]
        assert raised.value.problems == (("ciphertext", f"its base64 text, not {type(value).__name__}"),)


@pytest.mark.parametrize(
    ("origin", "why"),
    [
        ("ftp://api2.mch.weixin.qq.com", "origin must be an http(s) URL"),
        ("https://api2.mch.weixin.qq.com\r\nX: 1", "origin must be plain ASCII"),
        ("https://user:pw@api2.mch.weixin.qq.com", "origin must not carry user info"),
        ("https://api2.mch.weixin.qq.com/gw", "no path ('/gw/'): the prepared call's target has it"),
        (5, "origin must be a str"),
    ],
)
def test_sign_checks_the_origin_as_base_url_is_checked(
    both_clients: tuple[AsyncClient, Client], origin: object, why: str
) -> None:
    for client in both_clients:  # none of these was checked: each was put in front of the signed target
        prepared = client.prepare("GET", "v3/certificates")
        with pytest.raises(InvalidRequestError, match="Bad origin") as raised:
            client.sign(prepared, origin=origin)  # type: ignore[arg-type]
        assert raised.value.problems[0][0] == "origin" and why in raised.value.problems[0][1]


def test_sign_takes_an_origin_with_a_trailing_slash_as_the_origin(both_clients: tuple[AsyncClient, Client]) -> None:
    # "http://x/" gave the URL http://x//v3/certificates, which is not the path that was signed.
    for client in both_clients:
        prepared = client.prepare("GET", "v3/certificates")
        assert client.sign(prepared, origin="https://API2.mch.weixin.qq.com/").url == (
            "https://api2.mch.weixin.qq.com/v3/certificates"
        )
        assert client.sign(prepared).url == "https://api.mch.weixin.qq.com/v3/certificates"
