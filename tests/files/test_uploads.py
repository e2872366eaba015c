"""Uploads on the wire: a real 127.0.0.1 peer parses the multipart body with the email package and checks the
signature over the meta part with tests/protocol.py, for the merchant and the brand schemes."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from wxpay_chain import AsyncClient, Client, InvalidRequestError, Media
from wxpay_chain.models import ImageUrl, MediaId

from ..core.wire import pem_private, pem_public
from ._peer import BRAND_SCHEME, MERCHANT_SCHEME, FilePeer
from .conftest import MCHID, PUB_KEY_ID, SERIAL
from .test_upload_meta import DOCUMENTED

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # CR, LF and every byte value: framing must survive them
UPLOADS = json.loads((Path(__file__).parents[1] / "data" / "conformance" / "uploads.json").read_text("utf-8"))[
    "uploads"
]
SUFFIX = {
    "v3/merchant/media/video_upload": "mp4",
    "v3/new-tax-control-fapiao/fapiao-applications/upload-fapiao-file": "pdf",
    "v3/taxi-invoice/cards/upload-file": "pdf",
}
# Their meta is more than a name and a SHA-256 digest: test_upload_meta.py checks it against each page.
OWN_META = {template for template, *_ in DOCUMENTED}
GIVEN: dict[str, dict[str, Any]] = {  # what only the caller knows
    "v3/taxi-invoice/cards/upload-file": {"meta": {"company_mchid": "1900000109", "region_id": 310100}},
    "v3/mch-manage/submission-files/sub-mchid/{sub_mchid}/upload": {"fields": {"item_id": 56}},
}


def _call(client: AsyncClient, template: str, media: Media) -> Any:
    values = {name: "P1" for name in ("sub_mchid", "due_diligence_id", "package_id") if "{" + name + "}" in template}
    return client.chain(template).post(media=media, **values)


async def test_merchant_upload_signs_exactly_the_meta_part(
    peer: FilePeer, make_client: Callable[..., AsyncClient]
) -> None:
    async with make_client() as client:
        response = await client.v3.merchant.media.upload.post(media=Media(PNG, filename="logo.png"))
    seen = peer.seen[-1]
    assert seen.scheme == MERCHANT_SCHEME and seen.signature_ok
    assert not seen.whole_body_ok  # the signature covers the meta JSON, not the multipart body
    assert seen.meta == {"filename": "logo.png", "sha256": hashlib.sha256(PNG).hexdigest()}
    assert seen.parts is not None
    assert list(seen.parts) == ["meta", "file"]
    assert seen.parts["meta"].content_type == "application/json"
    file = seen.parts["file"]
    assert (file.filename, file.content_type, file.data) == ("logo.png", "image/png", PNG)
    assert seen.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert response.parsed == MediaId(media_id="M1")  # the answer was verified and typed


async def test_brand_upload_signs_the_meta_part_with_the_brand_scheme(
    peer: FilePeer, make_client: Callable[..., AsyncClient]
) -> None:
    peer.answer = lambda seen: (200, b'{"image_url":"https://qpic.example/i.png"}', {}, True)
    async with make_client(brand=True) as client:
        response = await client.brand.marketing.productCoupon.media.uploadImage.post(
            media=Media(PNG, filename="header.jpg")
        )
    seen = peer.seen[-1]
    assert seen.scheme == BRAND_SCHEME and seen.signature_ok and not seen.whole_body_ok
    assert 'brand_id="120344"' in seen.headers["Authorization"]
    assert seen.meta["filename"] == "header.jpg"
    assert seen.parts is not None and seen.parts["file"].content_type == "image/jpeg"
    assert response.parsed == ImageUrl(image_url="https://qpic.example/i.png")


@pytest.mark.parametrize("upload", UPLOADS, ids=[u["template"] for u in UPLOADS])
async def test_every_documented_upload_builds_and_sends(
    upload: dict[str, Any], peer: FilePeer, make_client: Callable[..., AsyncClient]
) -> None:
    template = upload["template"]
    answer = {upload["answer"]: "A1"}
    peer.answer = lambda seen: (200, json.dumps(answer).encode(), {}, True)
    name = f"f.{SUFFIX.get(template, 'png')}"
    async with make_client(brand=template.startswith("brand/")) as client:
        response = await _call(client, template, Media(b"content", filename=name, **GIVEN.get(template, {})))
    seen = peer.seen[-1]
    assert seen.signature_ok, template
    assert seen.meta is not None and set(upload["meta_keys"]) <= set(seen.meta)  # the keys the SDK fills in
    if template not in OWN_META:
        name_key, digest_key = upload["meta_keys"]
        assert seen.meta == {name_key: name, digest_key: hashlib.sha256(b"content").hexdigest()}
    assert seen.parts is not None and seen.parts[upload["file_field"]].data == b"content"
    assert response.json() == answer


async def test_extra_meta_fields_are_sent_and_signed(peer: FilePeer, make_client: Callable[..., AsyncClient]) -> None:
    template = "v3/mch-operation-manage/enhanced-due-diligence/{due_diligence_id}/upload"
    peer.answer = lambda seen: (200, b'{"file_id":"F1"}', {}, True)
    async with make_client() as client:
        await _call(client, template, Media(b"x", filename="a.jpg", meta={"sub_mchid": "1230001104", "item_id": 7}))
    seen = peer.seen[-1]
    assert seen.signature_ok
    assert seen.meta == {
        "file_name": "a.jpg",
        "file_digest": hashlib.sha256(b"x").hexdigest(),
        "sub_mchid": "1230001104",
        "item_id": 7,
    }


@pytest.mark.parametrize(
    ("template", "name", "size"),
    [
        ("v3/merchant/media/upload", "a.png", 2 * 1024 * 1024 + 1),
        ("v3/merchant/media/video_upload", "a.mp4", 5 * 1024 * 1024 + 1),
    ],
)
async def test_a_file_over_the_documented_limit_is_refused_before_sending(
    template: str, name: str, size: int, peer: FilePeer, make_client: Callable[..., AsyncClient]
) -> None:
    async with make_client() as client:
        with pytest.raises(InvalidRequestError, match="too large") as caught:
            await client.chain(template).post(media=Media(b"\0" * size, filename=name))
        await client.chain(template).post(media=Media(b"\0" * (size - 1), filename=name))  # the limit itself is fine
    assert [p for p, _ in caught.value.problems] == ["content"]
    assert len(peer.seen) == 1
    sent = peer.seen[0]
    assert sent.headers["Content-Length"] == str(len(sent.body)) and sent.signature_ok  # not chunked


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"media": Media(b"x", filename="a.gif")}, "filename"),  # images are jpg, png or bmp
        ({"media": Media(b"x", filename="a.png"), "json": {"a": 1}}, "media"),
        ({"media": Media(b"x", filename="a.png", meta={"sha256": "0" * 64})}, "meta.sha256"),
        ({"media": b"raw bytes"}, "media"),
        ({"media": Media(b"x", filename="a.png", meta={"ratio": float("nan")})}, "meta"),  # not JSON
        # The PHP and Java examples set this; without the boundary WeChat Pay cannot find the parts.
        (
            {"media": Media(b"x", filename="a.png"), "headers": {"content-type": "multipart/form-data"}},
            "headers.'content-type'",
        ),
    ],
)
async def test_bad_uploads_are_refused_before_sending(
    kwargs: dict[str, Any], field: str, peer: FilePeer, make_client: Callable[..., AsyncClient]
) -> None:
    async with make_client() as client:
        with pytest.raises(InvalidRequestError) as caught:
            await client.v3.merchant.media.upload.post(**kwargs)
    assert field in [p for p, _ in caught.value.problems]
    assert peer.seen == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((b"", "a.png"), "content"),
        ((b"x", ""), "filename"),
        ((b"x", 'a"b.png'), "filename"),
        (("text", "a.png"), "content"),
    ],
)
def test_media_checks_its_own_fields(args: tuple[Any, str], field: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        Media(*args)
    assert [p for p, _ in caught.value.problems] == [field]


def test_media_from_file_and_repr(tmp_path: Path) -> None:
    path = tmp_path / "logo.png"
    path.write_bytes(PNG)
    media = Media.from_file(path, meta={"k": "v"})
    assert (media.filename, media.content, media.meta) == ("logo.png", PNG, {"k": "v"})
    assert repr(media) == f"Media(filename='logo.png', content=<{len(PNG)} bytes>)"
    with pytest.raises(InvalidRequestError, match="Cannot read") as unreadable:
        Media.from_file(tmp_path / "missing.png")
    assert "missing.png" in str(unreadable.value)  # the file the caller named, not the word "path"


def test_prepared_upload_signs_the_meta_bytes_it_sends() -> None:
    from wxpay_chain._http import Timeout
    from wxpay_chain._prepare import prepare
    from wxpay_chain._request import RequestDefaults

    defaults = RequestDefaults("merchant", None, ("https://api.mch.weixin.qq.com", "/"), Timeout())
    prepared = prepare(defaults, "POST", "v3/merchant/media/upload", kwargs={"media": Media(b"abc", filename="a.png")})
    assert prepared.body != prepared.signed_body
    assert b"\r\n" + prepared.signed_body + b"\r\n" in prepared.body
    assert json.loads(prepared.signed_body) == {"filename": "a.png", "sha256": hashlib.sha256(b"abc").hexdigest()}


async def test_blocking_client_uploads(
    peer: FilePeer, merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, base_url: str
) -> None:
    options = {
        "mchid": MCHID,
        "serial": SERIAL,
        "private_key": pem_private(merchant_key),
        "platform_keys": {PUB_KEY_ID: pem_public(platform_key)},
        "base_url": base_url,
    }

    def upload() -> Any:  # on a thread: the peer answers from this test's event loop
        with Client(**options) as client:
            return client.v3.merchant.media.upload.post(media=Media(PNG, filename="logo.bmp"))

    response = await asyncio.to_thread(upload)
    seen = peer.seen[-1]
    assert seen.signature_ok and seen.parts is not None and seen.parts["file"].content_type == "image/bmp"
    assert response.json() == {"media_id": "M1"}
