"""Each way to call the SDK wrongly that later features added: a typed error that says what to do."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from wxpay_chain import AsyncClient, ConfigurationError, InvalidRequestError

from .wire import WirePeer


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
