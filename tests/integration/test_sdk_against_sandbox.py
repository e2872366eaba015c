"""The SDK against the embedded sandbox: every seed endpoint, six styles, paging, both verification modes."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from yarl import URL

from wxpay_chain import ApiError, AsyncClient, Client, InvalidRequestError, SignatureError
from wxpay_chain.models import (
    BusifavorCouponPage,
    FavorCoupon,
    ProductCouponSendRequest,
    UserProductCoupon,
    UserProductCouponPage,
    UserProductCouponQuery,
)
from wxpay_chain.sandbox import DEMO_APPID, DEMO_FAVOR_COUPON_IDS, DEMO_OPENIDS, DEMO_STOCK_IDS, Sandbox

from ._seed_endpoints import ENDPOINTS, STYLES

RICH, LIGHT, FRESH = DEMO_OPENIDS


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox() as sandbox:
        yield sandbox


async def test_every_seed_endpoint_in_three_async_styles(sb: Sandbox) -> None:
    async with sb.client() as merchant, sb.brand_client() as brand:
        for endpoint in ENDPOINTS:
            bodies = []
            for style in STYLES:
                chain = endpoint.chain(brand if endpoint.brand else merchant, style)
                assert chain.template == endpoint.template
                r = await getattr(chain, endpoint.method.lower())(**endpoint.args(f"{style}-async"))
                assert r.status == 200 and r.request_id
                assert isinstance(r.parsed, object) and endpoint.summary(r.parsed)
                bodies.append(r.json())
            if endpoint.method == "GET":
                assert bodies[0] == bodies[1] == bodies[2]
    assert all(rec.status == 200 for rec in sb.received)


def test_every_seed_endpoint_in_three_blocking_styles(wxpay_sandbox: Any) -> None:
    with wxpay_sandbox.blocking_client() as merchant, wxpay_sandbox.blocking_brand_client() as brand:
        assert isinstance(merchant, Client)
        for endpoint in ENDPOINTS:
            for style in STYLES:
                chain = endpoint.chain(brand if endpoint.brand else merchant, style)
                r = getattr(chain, endpoint.method.lower())(**endpoint.args(f"{style}-blocking"))
                assert r.status == 200 and endpoint.summary(r.parsed)


async def test_typed_send_is_idempotent_on_send_request_no(sb: Sandbox) -> None:
    request = ProductCouponSendRequest(
        brand_id="120344",
        product_coupon_id="1000000013",
        stock_id=DEMO_STOCK_IDS[0],
        appid=DEMO_APPID,
        send_request_no="IDEM-1",
    )
    async with sb.client() as client:
        coupons = client.v3.marketing.partner.productCoupon.users._openid_.coupons
        first = (await coupons.post(openid=FRESH, json=request)).parsed
        again = (await coupons.post(openid=FRESH, json=request)).parsed
    assert isinstance(first, UserProductCoupon) and first.coupon_code == again.coupon_code
    assert [c.send_request_no for c in sb.issued_coupons()].count("IDEM-1") == 1


async def test_paging_to_the_last_page_in_both_styles_async_and_blocking(sb: Sandbox) -> None:
    async with sb.client() as client:
        product = client.v3.marketing.partner.productCoupon.users._openid_.coupons
        whole = (
            await product.get(openid=RICH, query={"brand_id": "120344", "appid": DEMO_APPID, "page_size": 50})
        ).parsed
        paged = [
            c
            async for c in product.paginate(
                openid=RICH, query=UserProductCouponQuery(brand_id="120344", appid=DEMO_APPID, page_size=3)
            )
        ]
        assert isinstance(whole, UserProductCouponPage) and whole.total_count == len(paged) > 3
        assert [c.coupon_code for c in paged] == [c.coupon_code for c in whole.user_coupon_list]
        capped = [
            c
            async for c in product.paginate(
                openid=RICH, query={"brand_id": "120344", "appid": DEMO_APPID, "page_size": 3}, max_pages=1
            )
        ]
        assert len(capped) == 3

        busifavor = client.v3.marketing.busifavor.users._openid_.coupons
        all_busifavor = (await busifavor.get(openid=RICH, query={"appid": DEMO_APPID, "limit": 50})).parsed
        assert isinstance(all_busifavor, BusifavorCouponPage)
        offset_paged = [c async for c in busifavor.paginate(openid=RICH, query={"appid": DEMO_APPID, "limit": 1})]
        assert [c.coupon_code for c in offset_paged] == [c.coupon_code for c in all_busifavor.data]
        assert len(offset_paged) == all_busifavor.total_count > 1


def test_blocking_paging_reaches_the_last_page(wxpay_client: Client) -> None:
    busifavor = wxpay_client.v3.marketing.busifavor.users._openid_.coupons
    whole = busifavor.get(openid=RICH, query={"appid": DEMO_APPID, "limit": 50}).parsed
    items = list(busifavor.paginate(openid=RICH, query={"appid": DEMO_APPID, "limit": 2}))
    assert [c.coupon_code for c in items] == [c.coupon_code for c in whole.data] and len(items) > 2
    product = wxpay_client.v3.marketing.partner.productCoupon.users._openid_.coupons
    codes = [
        c.coupon_code
        for c in product.paginate(openid=RICH, query={"brand_id": "120344", "appid": DEMO_APPID, "page_size": 2})
    ]
    assert len(codes) == len(set(codes)) > 2


async def test_favor_detail_structures_into_the_typed_model(sb: Sandbox) -> None:
    async with sb.client() as client:
        r = await client.v3.marketing.favor.users._openid_.coupons._coupon_id_.get(
            openid=RICH, coupon_id=DEMO_FAVOR_COUPON_IDS[0], query={"appid": DEMO_APPID}
        )
    coupon = r.structure(FavorCoupon)
    assert coupon == r.parsed and coupon.coupon_id == DEMO_FAVOR_COUPON_IDS[0]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        ({"openid": RICH, "query": {"brand_id": "120344", "appid": DEMO_APPID, "page_size": 51}}, "query.page_size"),
        ({"openid": RICH, "query": {"appid": DEMO_APPID}}, "query.brand_id"),
        ({"openid": "", "query": {"brand_id": "120344", "appid": DEMO_APPID}}, "path.openid"),
        (
            {"openid": RICH, "query": {"brand_id": "120344", "appid": DEMO_APPID, "coupon_state": "LOST"}},
            "query.coupon_state",
        ),
    ],
)
async def test_requests_breaking_documented_rules_never_reach_the_server(
    sb: Sandbox, call: dict[str, Any], field: str
) -> None:
    async with sb.client() as client:
        with pytest.raises(InvalidRequestError, match=field.replace(".", r"\.")):
            await client.v3.marketing.partner.productCoupon.users._openid_.coupons.get(**call)
        with pytest.raises(InvalidRequestError, match=r"json\.send_request_no"):
            await client.v3.marketing.partner.productCoupon.users._openid_.coupons.post(
                openid=RICH, json={"brand_id": "120344", "product_coupon_id": "1", "stock_id": "1", "appid": "wx"}
            )
    assert sb.received == []


@pytest.mark.parametrize("mode", ["certificate", "automatic"])
async def test_certificate_verification_modes(mode: str) -> None:
    async with Sandbox(answer_mode="certificate") as sb:
        creds = sb.credentials
        keys = {creds.platform_serial: creds.platform_certificate} if mode == "certificate" else None
        apiv3 = creds.apiv3_key if mode == "automatic" else None
        async with AsyncClient(
            mchid=creds.mchid,
            serial=creds.serial,
            private_key=creds.private_key,
            platform_keys=keys,
            apiv3_key=apiv3,
            base_url=sb.base_url,
        ) as client:
            r = await client.v3.marketing.busifavor.users._openid_.coupons.get(openid=RICH, query={"appid": DEMO_APPID})
            assert r.headers["Wechatpay-Serial"] == creds.platform_serial
            if mode == "automatic":
                assert [c.serial for c in client.certificates] == [creds.platform_serial]
                # the certificates were downloaded before the first call was sent
                assert next(rec.raw_path for rec in sb.received) == "/v3/certificates"


async def test_sandbox_rejects_a_client_with_the_wrong_key_or_clock(sb: Sandbox) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    query = {"appid": DEMO_APPID}
    async with sb.client(private_key=pem, retry=1) as wrong_key:
        with pytest.raises(ApiError) as info:
            await wrong_key.v3.marketing.busifavor.users._openid_.coupons.get(openid=RICH, query=query)
    assert (info.value.status, info.value.code) == (401, "SIGN_ERROR")
    async with sb.client(clock=lambda: time.time() - 400, retry=1) as stale:
        with pytest.raises(ApiError) as info:
            await stale.v3.marketing.busifavor.users._openid_.coupons.get(openid=RICH, query=query)
    assert (info.value.status, info.value.code) == (401, "SIGN_ERROR")
    async with sb.brand_client(retry=1) as brand:
        with pytest.raises(ApiError) as info:
            await brand.brand.marketing.productCoupon.users._openid_.coupons.get(
                openid=RICH, query={"appid": DEMO_APPID}, headers={"Wechatpay-Serial": "PUB_KEY_ID_0000000000"}
            )
    assert info.value.status in (400, 401)


@pytest.mark.parametrize("tamper", ["path", "body"])
async def test_sandbox_rejects_a_signed_request_altered_in_flight(sb: Sandbox, tamper: str) -> None:
    async with sb.client() as client:
        prepared = client.prepare(
            "POST",
            "v3/marketing/partner/product-coupon/users/{openid}/coupons",
            (),
            {
                "openid": FRESH,
                "json": {
                    "brand_id": "120344",
                    "product_coupon_id": "1000000013",
                    "stock_id": DEMO_STOCK_IDS[0],
                    "appid": DEMO_APPID,
                    "send_request_no": "T-1",
                },
            },
        )
        request = client.sign(prepared)
    url, body = request.url, request.body
    if tamper == "path":
        url = url.replace(FRESH, LIGHT)
    else:
        body = body.replace(b"T-1", b"T-2")
    async with (
        aiohttp.ClientSession() as session,
        session.post(URL(url, encoded=True), data=body, headers=dict(request.headers)) as raw,
    ):
        assert raw.status == 401 and (await raw.json())["code"] == "SIGN_ERROR"
    assert not [c for c in sb.issued_coupons() if c.send_request_no in ("T-1", "T-2")]


async def test_probe_answers_raise_signature_error(sb: Sandbox) -> None:
    async with Sandbox(probe_rate=1.0, keys=sb.keys) as probing, probing.client() as client:
        with pytest.raises(SignatureError, match="SIGNTEST"):
            await client.v3.marketing.busifavor.users._openid_.coupons.get(openid=RICH, query={"appid": DEMO_APPID})


def test_pytest_plugin_fixtures_give_ready_clients(wxpay_client: Client, wxpay_brand_client: Client) -> None:
    r = wxpay_client.v3.marketing.busifavor.users._openid_.coupons.get(openid=RICH, query={"appid": DEMO_APPID})
    assert r.status == 200
    r = wxpay_brand_client.brand.marketing.productCoupon.users._openid_.coupons.get(
        openid=RICH, query={"appid": DEMO_APPID}
    )
    assert json.loads(r.body)["user_coupon_list"]
