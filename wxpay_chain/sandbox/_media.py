"""The sandbox's file endpoints: uploads (multipart, signed over their meta JSON) and the image download,
plus the plumbing the bill endpoints (``._bills``) share: reading, verifying, answering.

The multipart parser and the meta rules are the sandbox's own, written from the upload documentation;
the signature is checked by ``._auth`` over the meta bytes exactly as they arrived in the meta part.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from aiohttp import web
from cryptography.hazmat.primitives import hashes

from ._answer import Answer, error_answer, read_body
from ._auth import AnswerSigner, Caller, RequestVerifier, Scheme
from ._clock import Clock
from ._exchange import exchange_of
from ._failures import ApiFailure, clean_text, invalid_request, json_bytes, not_found, param_error

MiB = 1024 * 1024
MAX_UPLOAD = 6 * MiB  # the largest documented limit (video, 5 MiB) and the multipart framing
_IMAGES = ("jpg", "jpeg", "png", "bmp")
_VIDEOS = ("avi", "wmv", "mpeg", "mp4", "mov", "mkv", "flv", "f4v", "m4v", "rmvb")
_BOUNDARY = re.compile(r'boundary="?([^";]{1,70})"?')
_DISPOSITION = re.compile(r'(\w+)="([^"]*)"')


@attrs.frozen
class UploadRoute:
    """One upload endpoint as its documentation describes it: the meta names the file (``name_key``, or the
    file part does), carries its ``digest`` in ``digest_key``, ``fixed`` values and ``required`` keys, and
    ``type_key`` its type; ``fields`` are plain form parts beside meta."""

    path: str
    scheme: Scheme
    answer: str  # the answer's field: media_id, media_url, image_url, file_id, fapiao_media_id or receipt
    limit: int | None = None
    suffixes: tuple[str, ...] | None = None
    file_field: str = "file"
    name_key: str | None = "filename"
    digest_key: str = "sha256"
    digest: str = "sha256"  # or "sm3"
    type_key: str | None = None
    fixed: tuple[tuple[str, str], ...] = ()
    required: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()


UPLOAD_ROUTES = (
    UploadRoute("/v3/merchant/media/upload", "merchant", "media_id", 2 * MiB, _IMAGES),
    UploadRoute("/v3/merchant/media/video_upload", "merchant", "media_id", 5 * MiB, _VIDEOS),
    UploadRoute("/v3/marketing/favor/media/image-upload", "merchant", "media_url", 2 * MiB, _IMAGES),
    UploadRoute("/v3/marketing/partner/product-coupon/media/upload-image", "merchant", "media_url", 2 * MiB, _IMAGES),
    UploadRoute("/brand/marketing/product-coupon/media/upload-image", "brand", "image_url", 2 * MiB, _IMAGES),
    UploadRoute("/v3/merchant-service/images/upload", "merchant", "media_id", 2 * MiB, _IMAGES),
    UploadRoute("/v3/global/merchant-service/images/upload", "merchant", "media_id", 2 * MiB, _IMAGES),
    UploadRoute(
        "/v3/ecommerce/account/cancel-applications/media",
        "merchant",
        "media_id",
        2 * MiB,
        _IMAGES,
        name_key="file_name",
        digest_key="file_digest",
    ),
    UploadRoute(
        "/v3/global/merchant-storage/file/upload",
        "merchant",
        "file_id",
        5 * MiB,
        ("pdf", "jpg", "bmp", "png"),
        digest_key="digest",
    ),
    UploadRoute(
        "/v3/marketing/shopping-receipt/shoppingreceipts", "merchant", "receipt", 200 * 1024, _IMAGES[:3], name_key=None
    ),
    UploadRoute(
        "/v3/new-tax-control-fapiao/fapiao-applications/upload-fapiao-file",
        "merchant",
        "fapiao_media_id",
        2 * MiB,
        ("pdf", "ofd"),
        name_key=None,
        digest_key="digest",
        digest="sm3",
        type_key="file_type",
        fixed=(("digest_alogrithm", "SM3"),),
    ),
    UploadRoute(
        "/v3/taxi-invoice/cards/upload-file",
        "merchant",
        "fapiao_media_id",
        2 * MiB,
        ("pdf",),
        name_key=None,
        digest_key="digest",
        digest="sm3",
        fixed=(("digest_algorithm", "DIGEST_ALGORITHM_SM3"),),
        required=("company_mchid", "region_id"),
    ),
    UploadRoute(
        "/v3/mch-manage/submission-files/sub-mchid/{sub_mchid}/upload",
        "merchant",
        "file_id",
        file_field="submission_file",
        name_key="file_name",
        digest_key="file_digest",
        fields=("item_id",),
    ),
    UploadRoute(
        "/v3/mch-operation-manage/enhanced-due-diligence/{due_diligence_id}/upload",
        "merchant",
        "file_id",
        file_field="due_diligence_file",
        name_key="file_name",
        digest_key="file_digest",
    ),
)
IMAGE_DOWNLOADS = ("/v3/merchant-service/images/{media_id}", "/v3/global/merchant-service/images/{media_id}")


@attrs.frozen
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes = attrs.field(repr=False)


def parse_multipart(content_type: str, body: bytes) -> dict[str, Part]:
    """The parts of a ``multipart/form-data`` body by name (RFC 7578), or ApiFailure saying what is wrong."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise invalid_request("上传接口的 Content-Type 必须是 multipart/form-data (an upload is multipart/form-data)")
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise invalid_request("multipart/form-data 缺少 boundary (the Content-Type has no boundary)")
    delimiter = b"--" + found.group(1).encode("latin-1")
    pieces = body.split(b"\r\n" + delimiter)
    if not pieces[0].startswith(delimiter) or not pieces[-1].startswith(b"--"):
        raise invalid_request("multipart 报文不完整 (the multipart body is not framed by its boundary)")
    parts: dict[str, Part] = {}
    for index, piece in enumerate(pieces[:-1]):
        raw = piece[len(delimiter) :] if index == 0 else piece
        if not raw.startswith(b"\r\n") or b"\r\n\r\n" not in raw:
            raise invalid_request("multipart 分段格式错误 (a part has no header block)")
        head, _, data = raw[2:].partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = dict(_DISPOSITION.findall(headers.get("content-disposition", "")))
        if "name" not in disposition:
            raise invalid_request("multipart 分段缺少 name (a part has no Content-Disposition name)")
        name = disposition["name"]
        parts[name] = Part(name, disposition.get("filename"), headers.get("content-type"), data)
    return parts


class FileEndpoints:
    """The plumbing of an aiohttp route outside the main dispatcher: read, verify, answer (``._gate`` records)."""

    def __init__(
        self,
        *,
        verifier: RequestVerifier,
        signer: AnswerSigner,
        clock: Clock,
        answer_serial: Callable[[Scheme], str],
    ) -> None:
        self.verifier, self.signer, self.clock = verifier, signer, clock
        self.answer_serial = answer_serial

    def route(self, work: Callable[[web.Request, bytes], tuple[Answer, Caller | None]]) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.Response:
            exchange = exchange_of(request)  # the gate records the request from it
            caller: Caller | None = None
            try:
                exchange.body = await read_body(request, MAX_UPLOAD)
                answer, caller = work(request, exchange.body)
            except ApiFailure as failure:
                answer = error_answer(failure)
            exchange.caller, exchange.code = (caller.label if caller else None), answer.code
            headers = {"Request-ID": exchange.request_id, "Content-Type": answer.content_type}
            if answer.scheme is not None and 200 <= answer.status < 300:
                headers.update(
                    self.signer.headers(
                        answer.body,
                        timestamp=int(self.clock()),
                        serial=self.answer_serial(answer.scheme),
                        scheme=answer.scheme,
                    )
                )
            return web.Response(status=answer.status, body=answer.body, headers=headers)

        return handle

    def verify(self, request: web.Request, scheme: Scheme, signed: bytes) -> Caller:
        return self.verifier.verify(
            scheme=scheme,
            method=request.method,
            raw_path=request.raw_path,
            headers=request.headers,
            body=signed,
            now=self.clock(),
        )


@attrs.frozen
class Stored:
    media_id: str
    url: str
    content_type: str
    content: bytes = attrs.field(repr=False)


class MediaStore:
    """What was uploaded, newest kept: at most ``keep`` files and ``max_bytes`` in all."""

    def __init__(self, keep: int = 64, max_bytes: int = 32 * MiB) -> None:
        self._items: OrderedDict[str, Stored] = OrderedDict()
        self._keep, self._max_bytes = keep, max_bytes

    def add(self, content: bytes, suffix: str, content_type: str | None) -> Stored:
        """Keep an upload; ``suffix`` is its name's, lower case ("" for a name without one)."""
        digest = hashlib.sha256(content).hexdigest()
        # The suffix goes into an id and a URL: anything but letters and digits there is named "bin".
        suffix = suffix if suffix.isascii() and suffix.isalnum() else "bin"
        media_id = f"SBX_MEDIA_{digest[:40]}.{suffix}"
        url = f"https://wxpaylogo.qpic.cn/wxpaylogo/sandbox/{digest[:40]}.{suffix}"
        stored = Stored(media_id, url, content_type or "application/octet-stream", content)
        self._items.pop(media_id, None)
        self._items[media_id] = stored
        while len(self._items) > self._keep or sum(len(s.content) for s in self._items.values()) > self._max_bytes:
            self._items.popitem(last=False)
        return stored

    def get(self, media_id: str) -> Stored | None:
        return self._items.get(media_id)


class MediaEndpoints:
    """POST uploads and GET image downloads; ``store`` keeps what was uploaded."""

    def __init__(self, plumbing: FileEndpoints) -> None:
        self._plumbing = plumbing
        self.store = MediaStore()

    def register(self, app: web.Application) -> None:
        for route in UPLOAD_ROUTES:
            app.router.add_post(route.path, self._plumbing.route(self._upload(route)))
        for path in IMAGE_DOWNLOADS:
            app.router.add_get(path, self._plumbing.route(self._image))

    def _upload(self, route: UploadRoute) -> Callable[[web.Request, bytes], tuple[Answer, Caller | None]]:
        def work(request: web.Request, body: bytes) -> tuple[Answer, Caller | None]:
            parts = parse_multipart(request.headers.get("Content-Type", ""), body)
            meta_part = parts.get("meta")
            if meta_part is None:
                raise param_error("meta", "is required", location="body")
            caller = self._plumbing.verify(request, route.scheme, meta_part.data)  # over the meta bytes only
            return self._accept(route, parts, meta_part), caller

        return work

    def _accept(self, route: UploadRoute, parts: Mapping[str, Part], meta_part: Part) -> Answer:
        try:
            meta = json.loads(meta_part.data)
        except ValueError:
            raise param_error("meta", "is not JSON", location="body") from None
        if not isinstance(meta, dict):
            raise param_error("meta", "must be a JSON object", location="body")
        file = parts.get(route.file_field)
        if file is None or not file.data:
            raise param_error(route.file_field, "is required (the file part)", location="body")
        name: Any = file.filename or ""  # when the meta names no file, the file part does
        if route.name_key is not None:
            name = meta.get(route.name_key)
            if not isinstance(name, str) or not name:
                raise param_error(f"meta.{route.name_key}", "is required", location="body")
        suffix = name.rpartition(".")[2].lower() if "." in name else ""
        digest, algorithm = meta.get(route.digest_key), "SM3" if route.digest == "sm3" else "SHA-256"
        if not isinstance(digest, str) or digest.lower() != _digest(file.data, route.digest):
            raise invalid_request(
                f"meta.{route.digest_key} 与文件的 {algorithm} 不一致 (the digest does not match the file sent)"
            )
        if route.suffixes is not None and suffix not in route.suffixes:
            raise invalid_request(f"文件格式不支持 (only {', '.join(route.suffixes)}; got {clean_text(name)})")
        if route.limit is not None and len(file.data) > route.limit:
            raise invalid_request(f"文件大小超过限制 (the file is {len(file.data)} bytes, over {route.limit})")
        expected = dict(route.fixed)
        if route.type_key is not None:
            expected[route.type_key] = suffix.upper()
        for key in (*expected, *route.required):
            if meta.get(key) in (None, ""):
                raise param_error(f"meta.{key}", "is required", location="body")
        for key, value in expected.items():
            if meta[key] != value:
                raise param_error(f"meta.{key}", f"must be {value}", location="body")
        for field in route.fields:
            if field not in parts:
                raise param_error(field, "is required (a form field of its own)", location="body")
        stored = self.store.add(file.data, suffix, file.content_type)
        if route.answer == "receipt":
            payload: dict[str, Any] = {"receipt": _receipt(meta, stored, digest)}
        elif route.answer in ("media_url", "image_url"):
            payload = {route.answer: stored.url}
        else:
            payload = {route.answer: stored.media_id}
        return Answer(200, json_bytes(payload), scheme=route.scheme)

    def _image(self, request: web.Request, body: bytes) -> tuple[Answer, Caller | None]:
        caller = self._plumbing.verify(request, "merchant", body)
        stored = self.store.get(request.match_info["media_id"])
        if stored is None:
            raise not_found("图片不存在 (no uploaded image has that media_id)")
        return Answer(200, stored.content, content_type=stored.content_type), caller  # a file: unsigned


def _digest(content: bytes, algorithm: str) -> str:
    if algorithm == "sm3":
        sm3 = hashes.Hash(hashes.SM3())
        sm3.update(content)
        return sm3.finalize().hex()
    return hashlib.sha256(content).hexdigest()


def _receipt(meta: Mapping[str, Any], stored: Stored, digest: str) -> dict[str, Any]:
    return {
        "receipt_id": stored.media_id[10:22],
        "state": "WAIT_REVIEW",
        "transaction_id": str(meta.get("transaction_id", "")),
        "openid": str(meta.get("openid", "")),
        "sha256": digest.lower(),
        "image_type": stored.media_id.rpartition(".")[2].upper(),
        "create_time": "2025-01-01T00:00:00+08:00",
        "modify_time": "2025-01-01T00:00:00+08:00",
    }
