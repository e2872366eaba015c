"""The sandbox's uploads and bills: what the client sends is accepted, what a careless caller sends is
refused the way WeChat Pay refuses it, and the bills of its ledger round-trip in every form."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from wxpay_chain import ApiError, Media
from wxpay_chain.bills import parse_bill
from wxpay_chain.models import EncryptedBillList, MediaUrl
from wxpay_chain.sandbox import DEMO_APPID, Sandbox, ThreadedSandbox, product_coupon_document, stock_document
from wxpay_chain.sandbox._bills import bill_ready_time

from ..sandbox._wire import Identity, Wire

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\r\n" * 100


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sandbox(clock: Clock) -> AsyncIterator[Sandbox]:
    async with Sandbox(clock=clock) as sb:
        yield sb


def multipart(meta: bytes, content: bytes, filename: str = "a.png") -> tuple[bytes, str]:
    boundary = "test-boundary-1234"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n'.encode()
        + b"Content-Type: application/json\r\n\r\n"
        + meta
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'.encode()
        + b"Content-Type: image/png\r\n\r\n"
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


async def post_by_hand(sandbox: Sandbox, signed: bytes, body: bytes, content_type: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        wire = Wire(http, sandbox.base_url, Identity.merchant(sandbox.credentials), clock=sandbox.now)
        path = "/v3/merchant/media/upload"
        headers = {
            "Authorization": wire.authorization("POST", path, signed),
            "Accept": "application/json",
            "User-Agent": "test",
            "Content-Type": content_type,
        }
        async with http.post(sandbox.base_url.rstrip("/") + path, data=io.BytesIO(body), headers=headers) as answer:
            return answer.status, await answer.json()


async def test_the_sandbox_takes_the_clients_uploads(sandbox: Sandbox) -> None:
    async with sandbox.client() as client:
        media_id = (await client.v3.merchant.media.upload.post(media=Media(PNG, filename="a.png"))).json()["media_id"]
        favor = await client.v3.marketing.favor.media.imageUpload.post(media=Media(PNG, filename="a.jpg"))
        complaint = await client.v3.merchantService.images.upload.post(media=Media(PNG, filename="c.bmp"))
        image = await client.v3.merchantService.images._media_id_.get(media_id=complaint.json()["media_id"])
    assert media_id.startswith("SBX_MEDIA_")
    assert isinstance(favor.parsed, MediaUrl) and favor.parsed.media_url.startswith("https://")
    assert image.body == PNG and "Wechatpay-Signature" not in image.headers  # a file: unsigned, and accepted


@pytest.mark.parametrize(("filename", "suffix"), [("README", ".bin"), ("a.tar.GZ", ".gz"), ("a.p g", ".bin")])
async def test_an_upload_is_named_by_its_suffix_and_a_name_without_one_is_bin(
    sandbox: Sandbox, filename: str, suffix: str
) -> None:
    async with sandbox.client() as client:  # the due-diligence upload takes any suffix
        upload = client.v3.mchOperationManage.enhancedDueDiligence._due_diligence_id_.upload
        answer = await upload.post(due_diligence_id="D1", media=Media(PNG, filename=filename))
        file_id = answer.json()["file_id"]
    assert file_id.startswith("SBX_MEDIA_") and file_id.endswith(suffix) and file_id.count(".") == 1


async def test_the_sandbox_refuses_a_signature_over_the_whole_body(sandbox: Sandbox) -> None:
    meta = json.dumps({"filename": "a.png", "sha256": hashlib.sha256(PNG).hexdigest()}).encode()
    body, content_type = multipart(meta, PNG)
    status, answer = await post_by_hand(sandbox, body, body, content_type)  # what a data= upload signs
    assert (status, answer["code"]) == (401, "SIGN_ERROR")
    status, answer = await post_by_hand(sandbox, meta, body, content_type)
    assert status == 200 and answer["media_id"]


@pytest.mark.parametrize(
    ("meta", "content", "filename", "words"),
    [
        ({"filename": "a.png", "sha256": "0" * 64}, PNG, "a.png", "SHA-256"),
        ({"filename": "a.gif"}, PNG, "a.gif", "only jpg"),
        ({"filename": "a.png"}, b"\0" * (2 * 1024 * 1024 + 1), "a.png", "over 2097152"),
        ({"sha256": "x"}, PNG, "a.png", "meta.filename"),
    ],
)
async def test_the_sandbox_checks_digest_type_and_size(
    sandbox: Sandbox, meta: dict[str, str], content: bytes, filename: str, words: str
) -> None:
    meta = {"sha256": hashlib.sha256(content).hexdigest(), **meta}
    raw = json.dumps(meta).encode()
    body, content_type = multipart(raw, content, filename)
    status, answer = await post_by_hand(sandbox, raw, body, content_type)
    assert status == 400 and words in answer["message"]


async def test_product_coupons_carry_an_uploaded_image(sandbox: Sandbox) -> None:
    async with sandbox.brand_client() as brand:
        uploaded = await brand.brand.marketing.productCoupon.media.uploadImage.post(media=Media(PNG, filename="b.png"))
        url = uploaded.json()["image_url"]
        document = product_coupon_document("2000000009", brand_id=sandbox.keys.brand_id, name="图片券")
        document["display_info"] = {"name": "图片券", "image_url": url, "background_url": url}
        sandbox.add_product_coupon(document)
        sandbox.add_stock(stock_document("2000000009001", "2000000009"))
        body = {
            "product_coupon_id": "2000000009",
            "stock_id": "2000000009001",
            "appid": DEMO_APPID,
            "send_request_no": "IMG-001",
        }
        coupon = (
            await brand.brand.marketing.productCoupon.users._openid_.coupons.post(openid="o-img", json=body)
        ).json()
    assert coupon["product_coupon"]["display_info"]["image_url"] == url


async def _issue(sandbox: Sandbox, n: int) -> None:
    async with sandbox.client() as client:
        for i in range(n):
            body = {
                "brand_id": sandbox.keys.brand_id,
                "product_coupon_id": "1000000013",
                "stock_id": "1000000013001",
                "appid": DEMO_APPID,
                "send_request_no": f"BILL-{i}",
            }
            await client.v3.marketing.partner.productCoupon.users._openid_.coupons.post(openid=f"o-bill-{i}", json=body)


def _today(sandbox: Sandbox | ThreadedSandbox) -> str:
    return (
        datetime.datetime.fromtimestamp(sandbox.now(), datetime.timezone(datetime.timedelta(hours=8)))
        .date()
        .isoformat()
    )


def _billed_today(sandbox: Sandbox | ThreadedSandbox, clock: Clock) -> str:
    """Today's day, its bill made: the clock moved on to 10:00 (China time) the next day."""
    day = _today(sandbox)
    clock.now = bill_ready_time(day)
    return day


@pytest.mark.parametrize("tar_type", [None, "GZIP"])
async def test_trade_and_fund_flow_bills_round_trip_from_the_ledger(
    sandbox: Sandbox, clock: Clock, tar_type: str | None, tmp_path: Path
) -> None:
    await _issue(sandbox, 2)
    query = {"bill_date": _billed_today(sandbox, clock), **({"tar_type": tar_type} if tar_type else {})}
    async with sandbox.client() as client:
        trade = parse_bill(await client.download(await client.v3.bill.tradebill.get(query=query)))
        fund = await client.v3.bill.fundflowbill.get(query={**query, "account_type": "BASIC"})
        path = await client.download(fund.parsed, to=tmp_path / "fund.csv")
    ours = [row for row in trade.rows if row["商户订单号"].startswith("BILL-")]  # the seed's coupons are there too
    assert [(row.out_trade_no, row.openid) for row in ours] == [("BILL-0", "o-bill-0"), ("BILL-1", "o-bill-1")]  # type: ignore[attr-defined]
    assert trade.summary["总交易单数"] == str(len(trade.rows))
    fund_bill = parse_bill(path)
    assert fund_bill.kind == "fundflow" and len(fund_bill.rows) == len(trade.rows)
    assert fund_bill.rows[-1]["业务凭证号"] == "BILL-1"


async def test_the_encrypted_sub_merchant_bill_round_trips(sandbox: Sandbox, clock: Clock) -> None:
    await _issue(sandbox, 1)
    query = {
        "bill_date": _billed_today(sandbox, clock),
        "sub_mchid": "1900000109",
        "account_type": "BASIC",
        "algorithm": "AEAD_AES_256_GCM",
        "tar_type": "GZIP",
    }
    async with sandbox.client() as client:
        answer = await client.v3.bill.subMerchantFundflowbill.get(query=query)
        listing = answer.parsed
        assert isinstance(listing, EncryptedBillList) and listing.download_bill_count == 1
        bill = parse_bill(await client.download(listing.download_bill_list[0]))
    assert bill.kind == "fundflow" and bill.rows[-1]["业务凭证号"] == "BILL-0"


async def test_an_expired_token_is_refused_and_leaves_nothing(sandbox: Sandbox, clock: Clock, tmp_path: Path) -> None:
    await _issue(sandbox, 1)
    day = _billed_today(sandbox, clock)
    async with sandbox.client(clock=clock) as client:
        bill = (await client.v3.bill.tradebill.get(query={"bill_date": day})).json()
        clock.now += 301
        with pytest.raises(ApiError, match="expired") as caught:
            await client.download(bill, to=tmp_path / "bill.csv")
    assert caught.value.status == 400
    assert list(tmp_path.iterdir()) == []


async def test_the_blocking_client_uploads_and_downloads(tmp_path: Path) -> None:
    def run() -> tuple[Any, ...]:
        clock = Clock()  # the seed's coupons of today are billed from 10:00 tomorrow
        with Sandbox.in_thread(clock=clock) as sb, sb.blocking_client() as client:
            media = client.v3.merchant.media.upload.post(media=Media(PNG, filename="a.png")).json()
            day = _billed_today(sb, clock)
            bill = client.v3.bill.tradebill.get(query={"bill_date": day, "tar_type": "GZIP"})
            return media, client.download(bill.json(), to=tmp_path / "b.csv")

    media, path = await asyncio.to_thread(run)
    assert media["media_id"] and parse_bill(path).kind == "trade"
