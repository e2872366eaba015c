"""Uploads: the Media value, the multipart body WeChat Pay expects, and the per-endpoint rules.

WeChat Pay signs an upload over its ``meta`` JSON alone, not over the multipart body: :func:`encode`
returns both, and the meta bytes it signs are the very bytes it puts in the meta part. Pure: the
boundary is a parameter (random by default).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ._errors import InvalidRequestError

__all__ = ["CONTENT_TYPES", "UPLOADS", "Media", "UploadRule", "encode", "rule_for"]

IMAGES = ("jpg", "jpeg", "png", "bmp")
VIDEOS = ("avi", "wmv", "mpeg", "mp4", "mov", "mkv", "flv", "f4v", "m4v", "rmvb")
CONTENT_TYPES: Mapping[str, str] = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "bmp": "image/bmp",
    "avi": "video/x-msvideo",
    "wmv": "video/x-ms-wmv",
    "mpeg": "video/mpeg",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "mkv": "video/x-matroska",
    "flv": "video/x-flv",
    "f4v": "video/x-f4v",
    "m4v": "video/x-m4v",
    "rmvb": "application/vnd.rn-realmedia-vbr",
    "pdf": "application/pdf",
    "ofd": "application/ofd",
    "csv": "text/csv",
    "txt": "text/plain",
}
MiB = 1024 * 1024


@attrs.frozen
class UploadRule:
    """What one upload endpoint documents: the file part's name, the meta keys, the size limit, the suffixes."""

    limit: int | None = None
    suffixes: tuple[str, ...] | None = None
    file_field: str = "file"
    name_key: str = "filename"
    digest_key: str = "sha256"


# From each endpoint's documentation (a limit only where one is documented).
_IMAGE_2M = UploadRule(2 * MiB, IMAGES)
UPLOADS: Mapping[str, UploadRule] = {
    "v3/merchant/media/upload": _IMAGE_2M,
    "v3/merchant/media/video_upload": UploadRule(5 * MiB, VIDEOS),
    "v3/marketing/favor/media/image-upload": _IMAGE_2M,
    "v3/marketing/partner/product-coupon/media/upload-image": _IMAGE_2M,
    "brand/marketing/product-coupon/media/upload-image": _IMAGE_2M,
    "v3/merchant-service/images/upload": _IMAGE_2M,
    "v3/global/merchant-service/images/upload": _IMAGE_2M,
    "v3/ecommerce/account/cancel-applications/media": UploadRule(suffixes=IMAGES),
    "v3/global/merchant-storage/file/upload": UploadRule(),
    "v3/marketing/shopping-receipt/shoppingreceipts": UploadRule(200 * 1024, ("png", "jpg", "jpeg")),
    "v3/new-tax-control-fapiao/fapiao-applications/upload-fapiao-file": UploadRule(2 * MiB, ("pdf", "ofd")),
    "v3/taxi-invoice/cards/upload-file": UploadRule(),
    "v3/marketing/bank/packages/{package_id}/tasks": UploadRule(),
    "v3/mch-manage/submission-files/sub-mchid/{sub_mchid}/upload": UploadRule(
        file_field="submission_file", name_key="file_name", digest_key="file_digest"
    ),
    "v3/mch-operation-manage/enhanced-due-diligence/{due_diligence_id}/upload": UploadRule(
        file_field="due_diligence_file", name_key="file_name", digest_key="file_digest"
    ),
}
_DEFAULT_RULE = UploadRule()


def rule_for(template: str) -> UploadRule:
    return UPLOADS.get(template, _DEFAULT_RULE)


def _check_filename(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequestError("Media needs a filename", [("filename", "a non-empty str such as 'logo.png'")])
    if any(c in name for c in '\r\n\0"\\/'):
        raise InvalidRequestError("Bad Media filename", [("filename", "no quotes, slashes or line breaks")])
    return name


def _suffix(filename: str) -> str:
    return filename.rpartition(".")[2].lower() if "." in filename else ""


@attrs.frozen
class Media:
    """A file to upload: pass it as ``media=`` to an upload endpoint.

    ``meta`` adds fields to the meta JSON (some endpoints want more than the file's name and SHA-256);
    ``content_type`` defaults to the one of the filename's suffix.
    """

    content: bytes = attrs.field(repr=False)
    filename: str
    meta: Mapping[str, Any] | None = None
    content_type: str | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.content, (bytes, bytearray, memoryview)):
            raise InvalidRequestError("Media content must be bytes", [("content", type(self.content).__name__)])
        if not self.content:
            raise InvalidRequestError("Media content is empty", [("content", "WeChat Pay refuses an empty file")])
        _check_filename(self.filename)
        if self.meta is not None and not isinstance(self.meta, Mapping):
            raise InvalidRequestError("Media meta must be a dict", [("meta", type(self.meta).__name__)])
        kind = self.content_type
        if kind is not None and (not isinstance(kind, str) or not kind.isprintable() or "/" not in kind):
            raise InvalidRequestError("Bad Media content_type", [("content_type", "a MIME type such as 'image/png'")])

    def __repr__(self) -> str:
        return f"Media(filename={self.filename!r}, content=<{len(self.content)} bytes>)"

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], meta: Mapping[str, Any] | None = None) -> Media:
        """Read ``path``; the filename sent is its base name."""
        file = Path(path)
        try:
            content = file.read_bytes()
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise InvalidRequestError(f"Cannot read the file to upload, {str(file)!r}", [("path", why)]) from None
        return cls(content, file.name, meta)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def encode(media: object, template: str, other: bytes = b"", boundary: str | None = None) -> tuple[bytes, bytes, str]:
    """``(body, meta_bytes, content_type)`` of an upload to ``template``, after its documented checks.

    ``other`` is a body given with json= or data= as well: an upload carries nothing else."""
    if other:
        raise InvalidRequestError("Pass media= alone, without json= or data=", [("media", "extra fields go in meta")])
    if not isinstance(media, Media):
        raise InvalidRequestError("media= takes a wxpay_chain.Media", [("media", type(media).__name__)])
    rule = rule_for(template)
    content = bytes(media.content)
    suffix = _suffix(media.filename)
    if rule.suffixes is not None and suffix not in rule.suffixes:
        raise InvalidRequestError(
            f"{template} accepts {', '.join(rule.suffixes)} files", [("filename", f"{media.filename!r}")]
        )
    if rule.limit is not None and len(content) > rule.limit:
        raise InvalidRequestError(
            f"The file is too large for {template}",
            [("content", f"{len(content)} bytes; at most {rule.limit} ({rule.limit / MiB:g} MiB) are accepted")],
        )
    meta: dict[str, Any] = {rule.name_key: media.filename, rule.digest_key: media.sha256}
    for key, value in (media.meta or {}).items():
        if key in meta and value != meta[key]:
            raise InvalidRequestError(
                "Media meta disagrees with the file", [(f"meta.{key}", "leave it out: the SDK fills it in")]
            )
        meta[str(key)] = value
    try:
        meta_bytes = json.dumps(meta, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise InvalidRequestError("Media meta is not serialisable as JSON", [("meta", str(exc)[:200])]) from None
    file_type = media.content_type or CONTENT_TYPES.get(suffix, "application/octet-stream")
    boundary = boundary or secrets.token_hex(16)
    mark = b"--" + boundary.encode("ascii")
    while mark in content or mark in meta_bytes:  # a boundary must not occur inside a part
        mark = b"--" + secrets.token_hex(16).encode("ascii")
    body = b"".join(
        (
            mark,
            b'\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n',
            meta_bytes,
            b"\r\n",
            mark,
            f'\r\nContent-Disposition: form-data; name="{rule.file_field}"; filename="{media.filename}"\r\n'.encode(),
            f"Content-Type: {file_type}\r\n\r\n".encode(),
            content,
            b"\r\n",
            mark,
            b"--\r\n",
        )
    )
    return body, meta_bytes, f"multipart/form-data; boundary={mark[2:].decode('ascii')}"
