"""Uploads whose documented meta is not ``{filename, sha256}``, on the wire: the 127.0.0.1 peer reads the
multipart body with the email package and checks the signature over the meta part it received.

The expected meta of each endpoint is written here from its page, not from wxpay_chain's rule table:
- cancel-applications/media (docs/partner/apis/ecommerce-cancel/media/upload-media.html): meta
  ``{file_name, file_digest}``, JPG/BMP/PNG, at most 2M;
- global/merchant-storage/file/upload (wiki/doc/api_external/ch/apis/chapter4_1_11.shtml): meta ``{filename,
  digest}`` (the field table; its signing example's ``sha256`` is the image upload's), PDF/JPG/BMP/PNG, 5M;
- shopping-receipt/shoppingreceipts (doc/v3/merchant/4012553506): meta names no file, its SHA-256 is ``sha256``;
- new-tax-control-fapiao/.../upload-fapiao-file (docs/merchant/apis/fapiao/fapiao-applications/
  upload-fapiao-file.html): meta ``{sub_mchid (partners), file_type PDF|OFD, digest_alogrithm SM3, digest}``;
- taxi-invoice/cards/upload-file (docs/partner/apis/taxi-fapiao/taxi-invoice-card/upload-taxi-invoice-card-
  file.html): meta ``{company_mchid, digest, digest_algorithm DIGEST_ALGORITHM_SM3, region_id}``, PDF, 2M;
- mch-manage/submission-files/.../upload (doc/v3/partner/4014940425): form ``submission_file``, ``meta
  {file_name, file_digest}`` and ``item_id`` (``-F item_id="56"``), the digest written in upper-case hex,
  as also on the due-diligence upload's page (doc/v3/partner/4015631042).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from wxpay_chain import AsyncClient, InvalidRequestError, Media
from wxpay_chain.sandbox import Sandbox

from ..sandbox._wire import Identity, Wire
from ._peer import FilePeer

PDF = b"%PDF-1.4\r\n%\xe2\xe3\xcf\xd3\r\n" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
MiB = 1024 * 1024
CANCEL = "v3/ecommerce/account/cancel-applications/media"
STORAGE = "v3/global/merchant-storage/file/upload"
RECEIPT = "v3/marketing/shopping-receipt/shoppingreceipts"
FAPIAO = "v3/new-tax-control-fapiao/fapiao-applications/upload-fapiao-file"
TAXI = "v3/taxi-invoice/cards/upload-file"
SUBMISSION = "v3/mch-manage/submission-files/sub-mchid/{sub_mchid}/upload"
DILIGENCE = "v3/mch-operation-manage/enhanced-due-diligence/{due_diligence_id}/upload"
TAXI_META = {"company_mchid": "1900000109", "region_id": 310100}
RECEIPT_META = {"transaction_id": "4200000008202209139188072801", "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}


@dataclass(frozen=True)
class Spec:
    """A Media to make in the test (not at import: the fail-before run has a Media without ``fields``)."""

    content: bytes
    filename: str
    meta: dict[str, Any] | None = None
    fields: dict[str, Any] | None = None

    def media(self) -> Media:
        if self.fields is None:
            return Media(self.content, self.filename, self.meta)
        return Media(self.content, self.filename, self.meta, fields=self.fields)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sm3(data: bytes) -> str:
    return hashlib.new("sm3", data).hexdigest()


def test_the_peers_sm3_is_the_standards() -> None:
    # GB/T 32905-2016 appendix A, example 1
    assert sm3(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


# template, Media, the meta the page documents, the form parts in order (meta first, as every SDK sends it)
DOCUMENTED: list[tuple[str, Spec, dict[str, Any], list[str]]] = [
    (CANCEL, Spec(PNG, "id.png"), {"file_name": "id.png", "file_digest": sha256(PNG)}, ["meta", "file"]),
    (STORAGE, Spec(PDF, "verify.pdf"), {"filename": "verify.pdf", "digest": sha256(PDF)}, ["meta", "file"]),
    (RECEIPT, Spec(PNG, "r.png", meta=RECEIPT_META), {**RECEIPT_META, "sha256": sha256(PNG)}, ["meta", "file"]),
    (
        FAPIAO,
        Spec(PDF, "fapiao.pdf"),
        {"file_type": "PDF", "digest_alogrithm": "SM3", "digest": sm3(PDF)},
        ["meta", "file"],
    ),
    (
        FAPIAO,
        Spec(PDF, "fapiao.OFD", meta={"sub_mchid": "1900000109"}),  # a partner names the sub-merchant
        {"sub_mchid": "1900000109", "file_type": "OFD", "digest_alogrithm": "SM3", "digest": sm3(PDF)},
        ["meta", "file"],
    ),
    (
        TAXI,
        Spec(PDF, "taxi.pdf", meta=TAXI_META),
        {**TAXI_META, "digest": sm3(PDF), "digest_algorithm": "DIGEST_ALGORITHM_SM3"},
        ["meta", "file"],
    ),
    (
        SUBMISSION,
        Spec(PNG, "filea.jpg", fields={"item_id": 56}),
        {"file_name": "filea.jpg", "file_digest": sha256(PNG)},
        ["meta", "submission_file", "item_id"],
    ),
]


def _call(client: AsyncClient, template: str, media: Media) -> Any:
    values = {name: "P1" for name in ("sub_mchid", "due_diligence_id") if "{" + name + "}" in template}
    return client.chain(template).post(media=media, **values)


@pytest.mark.parametrize(
    ("template", "spec", "meta", "parts"), DOCUMENTED, ids=[f"{t}-{spec.filename}" for t, spec, _, _ in DOCUMENTED]
)
async def test_each_upload_sends_and_signs_the_meta_its_page_documents(
    template: str,
    spec: Spec,
    meta: dict[str, Any],
    parts: list[str],
    peer: FilePeer,
    make_client: Callable[..., AsyncClient],
) -> None:
    async with make_client() as client:
        await _call(client, template, spec.media())
    seen = peer.seen[-1]
    assert seen.signature_ok and not seen.whole_body_ok  # signed over the meta part as it arrived, alone
    assert seen.meta == meta
    assert seen.parts is not None and list(seen.parts) == parts
    file = seen.parts[parts[1]]
    assert (file.filename, file.data) == (spec.filename, spec.content)


async def test_a_documented_form_field_is_a_part_of_its_own_and_unsigned(
    peer: FilePeer, make_client: Callable[..., AsyncClient]
) -> None:
    async with make_client() as client:
        await _call(client, SUBMISSION, Media(PNG, "filea.jpg", fields={"item_id": 56}))
    seen = peer.seen[-1]
    assert seen.parts is not None
    item = seen.parts["item_id"]
    assert (item.data, item.filename, item.content_type) == (b"56", None, "text/plain")
    assert "item_id" not in seen.meta and seen.signature_ok


@pytest.mark.parametrize(
    ("template", "spec", "field"),
    [
        (SUBMISSION, Spec(PNG, "a.jpg"), "fields.item_id"),  # 必填
        (SUBMISSION, Spec(PNG, "a.jpg", meta={"item_id": 56}), "fields.item_id"),  # not a meta key there
        (DILIGENCE, Spec(PNG, "a.jpg", fields={"item_id": 56}), "fields.item_id"),  # there it is one
        (TAXI, Spec(PDF, "t.pdf", meta={"region_id": 310100}), "meta.company_mchid"),
        (TAXI, Spec(PDF, "t.pdf", meta={"company_mchid": "1900000109"}), "meta.region_id"),
        (FAPIAO, Spec(PDF, "f.pdf", meta={"digest_alogrithm": "SHA256"}), "meta.digest_alogrithm"),
        (FAPIAO, Spec(PDF, "f.pdf", meta={"digest": sha256(PDF)}), "meta.digest"),  # SM3, not SHA-256
        (FAPIAO, Spec(PDF, "f.pdf", meta={"file_type": "OFD"}), "meta.file_type"),
        (CANCEL, Spec(b"\0" * (2 * MiB + 1), "a.png"), "content"),
        (STORAGE, Spec(b"\0" * (5 * MiB + 1), "a.pdf"), "content"),
        (STORAGE, Spec(PNG, "a.gif"), "filename"),
        (TAXI, Spec(b"\0" * (2 * MiB + 1), "a.pdf", meta=TAXI_META), "content"),
        (TAXI, Spec(PDF, "a.ofd", meta=TAXI_META), "filename"),  # PDF only
    ],
)
async def test_what_the_page_rules_out_is_refused_before_sending(
    template: str, spec: Spec, field: str, peer: FilePeer, make_client: Callable[..., AsyncClient]
) -> None:
    async with make_client() as client:
        with pytest.raises(InvalidRequestError) as caught:
            await _call(client, template, spec.media())
    assert field in [name for name, _ in caught.value.problems]
    assert peer.seen == []


@pytest.mark.parametrize(("template", "key"), [(SUBMISSION, "file_digest"), (DILIGENCE, "file_digest")])
async def test_a_digest_in_upper_case_hex_is_the_files_and_is_sent_as_given(
    template: str, key: str, peer: FilePeer, make_client: Callable[..., AsyncClient]
) -> None:
    upper = sha256(PNG).upper()
    fields = {"item_id": 56} if template == SUBMISSION else None
    async with make_client() as client:
        await _call(client, template, Spec(PNG, "demo.jpg", {key: upper}, fields).media())
        with pytest.raises(InvalidRequestError) as caught:  # another file's digest, in upper case, still is not
            await _call(client, template, Spec(PNG, "demo.jpg", {key: sha256(PDF).upper()}, fields).media())
    assert [name for name, _ in caught.value.problems] == [f"meta.{key}"]
    assert len(peer.seen) == 1
    assert peer.seen[0].meta == {"file_name": "demo.jpg", key: upper} and peer.seen[0].signature_ok


def test_media_fields_are_checked_when_made() -> None:
    for fields, field in (([("item_id", 1)], "fields"), ({"a b": 1}, "fields"), ({"item_id": True}, "fields.item_id")):
        with pytest.raises(InvalidRequestError) as caught:
            Media(PNG, "a.png", fields=fields)  # type: ignore[arg-type]
        assert [name for name, _ in caught.value.problems] == [field]


async def test_the_sandbox_takes_the_documented_uploads() -> None:
    async with Sandbox() as sandbox, sandbox.client() as client:
        for template, spec, _, _ in DOCUMENTED:
            answer = (await _call(client, template, spec.media())).json()
            assert answer, template


async def _by_hand(sandbox: Sandbox, path: str, meta: bytes, parts: bytes) -> tuple[int, Any]:
    """A multipart body built here, signed over ``meta``: what another SDK (or an older wxpay_chain) sends."""
    boundary = "test-boundary-5678"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n\r\n'.encode()
        + meta
        + b"\r\n"
        + parts.replace(b"BOUNDARY", boundary.encode())
        + f"--{boundary}--\r\n".encode()
    )
    async with aiohttp.ClientSession() as http:
        wire = Wire(http, sandbox.base_url, Identity.merchant(sandbox.credentials), clock=sandbox.now)
        headers = {
            "Authorization": wire.authorization("POST", path, meta),
            "Accept": "application/json",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        }
        async with http.post(sandbox.base_url.rstrip("/") + path, data=body, headers=headers) as answer:
            return answer.status, await answer.json()


def _file_part(name: str, filename: str, data: bytes) -> bytes:
    return (
        f'--BOUNDARY\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
        + b"Content-Type: application/octet-stream\r\n\r\n"
        + data
        + b"\r\n"
    )


@pytest.mark.parametrize(
    ("path", "meta", "parts", "words"),
    [
        (  # the {filename, sha256} that was sent to the fapiao upload
            "/" + FAPIAO,
            {"filename": "f.pdf", "sha256": sha256(PDF)},
            _file_part("file", "f.pdf", PDF),
            "meta.digest",
        ),
        ("/" + FAPIAO, {"digest": sha256(PDF)}, _file_part("file", "f.pdf", PDF), "SM3"),
        (
            "/" + FAPIAO,
            {"digest": sm3(PDF), "digest_alogrithm": "SM3", "file_type": "OFD"},
            _file_part("file", "f.pdf", PDF),
            "meta.file_type",
        ),
        (
            "/" + TAXI,
            {"digest": sm3(PDF), "digest_algorithm": "DIGEST_ALGORITHM_SM3"},
            _file_part("file", "t.pdf", PDF),
            "company_mchid",
        ),
        (
            "/" + CANCEL,
            {"filename": "a.png", "sha256": sha256(PNG)},
            _file_part("file", "a.png", PNG),
            "meta.file_name",
        ),
        (  # item_id in meta only
            "/v3/mch-manage/submission-files/sub-mchid/P1/upload",
            {"file_name": "a.jpg", "file_digest": sha256(PNG), "item_id": 56},
            _file_part("submission_file", "a.jpg", PNG),
            "item_id",
        ),
    ],
)
async def test_the_sandbox_refuses_what_the_pages_rule_out(
    path: str, meta: dict[str, Any], parts: bytes, words: str
) -> None:
    async with Sandbox() as sandbox:
        status, answer = await _by_hand(sandbox, path, json.dumps(meta).encode(), parts)
    assert status == 400 and words in answer["message"], answer


async def test_the_sandbox_takes_an_upper_case_digest_and_a_form_field() -> None:
    meta = json.dumps({"file_name": "a.jpg", "file_digest": sha256(PNG).upper()}).encode()
    item = b'--BOUNDARY\r\nContent-Disposition: form-data; name="item_id"\r\n\r\n56\r\n'
    async with Sandbox() as sandbox:
        path = "/v3/mch-manage/submission-files/sub-mchid/P1/upload"
        status, answer = await _by_hand(sandbox, path, meta, _file_part("submission_file", "a.jpg", PNG) + item)
    assert status == 200 and answer["file_id"].startswith("SBX_MEDIA_")
