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
