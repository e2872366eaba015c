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
from typing import Any, Literal

import attrs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

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
    """What one upload endpoint documents: the file part's name, the meta keys, the size limit, the suffixes.

    The SDK fills in the meta's ``name_key`` (the filename; ``None``: the meta names no file), ``digest_key``
    (the hex ``digest`` of the file), ``type_key`` (the suffix in upper case) and the ``fixed`` values. The
    caller gives the ``required`` meta keys in ``Media.meta``, and the plain form ``fields`` (parts of their
    own beside meta and the file, unsigned) in ``Media.fields``.
    """

    limit: int | None = None
    suffixes: tuple[str, ...] | None = None
    file_field: str = "file"
    name_key: str | None = "filename"
    digest_key: str = "sha256"
    digest: Literal["sha256", "sm3"] = "sha256"
    type_key: str | None = None
    fixed: tuple[tuple[str, str], ...] = ()
    required: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()


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
    "v3/ecommerce/account/cancel-applications/media": UploadRule(
        2 * MiB, IMAGES, name_key="file_name", digest_key="file_digest"
    ),
    # The page's field table and its steps name the SHA-256 "digest", and so does the PHP SDK's own page for
    # it; only the page's signing example says "sha256", copied from the image upload (its value is not hex).
    "v3/global/merchant-storage/file/upload": UploadRule(5 * MiB, ("pdf", "jpg", "bmp", "png"), digest_key="digest"),
    # meta {transaction_id, transaction_mchid, out_trade_no, openid, sha256, ...}: no file name
    "v3/marketing/shopping-receipt/shoppingreceipts": UploadRule(200 * 1024, ("png", "jpg", "jpeg"), name_key=None),
    # meta {sub_mchid (a partner's), file_type, digest_alogrithm (sic, as documented), digest (SM3)}
    "v3/new-tax-control-fapiao/fapiao-applications/upload-fapiao-file": UploadRule(
        2 * MiB,
        ("pdf", "ofd"),
        name_key=None,
        digest_key="digest",
        digest="sm3",
        type_key="file_type",
        fixed=(("digest_alogrithm", "SM3"),),
    ),
    # meta {company_mchid, digest (SM3), digest_algorithm, region_id}: a PDF of at most 2M
    "v3/taxi-invoice/cards/upload-file": UploadRule(
        2 * MiB,
        ("pdf",),
        name_key=None,
        digest_key="digest",
        digest="sm3",
        fixed=(("digest_algorithm", "DIGEST_ALGORITHM_SM3"),),
        required=("company_mchid", "region_id"),
    ),
    "v3/marketing/bank/packages/{package_id}/tasks": UploadRule(),
    # the form: submission_file, meta {file_name, file_digest} and item_id, a part of its own
    "v3/mch-manage/submission-files/sub-mchid/{sub_mchid}/upload": UploadRule(
        file_field="submission_file", name_key="file_name", digest_key="file_digest", fields=("item_id",)
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


def _check_fields(fields: object) -> None:
    if not isinstance(fields, Mapping):
        raise InvalidRequestError("Media fields must be a dict", [("fields", type(fields).__name__)])
    for name, value in fields.items():
        if not isinstance(name, str) or not name.isascii() or not name.replace("_", "").isalnum():
            raise InvalidRequestError("Bad Media field name", [("fields", f"{name!r}: letters, digits and _")])
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise InvalidRequestError("A Media field is a str or an int", [(f"fields.{name}", type(value).__name__)])
        try:
            str(value).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidRequestError(
                "A Media field UTF-8 cannot encode", [(f"fields.{name}", "a lone surrogate")]
            ) from None


@attrs.frozen
class Media:
    """A file to upload: pass it as ``media=`` to an upload endpoint.

    ``meta`` adds fields to the meta JSON (some endpoints want more than what the SDK fills in, such as a
    ``sub_mchid``); ``fields`` are plain form parts of their own beside meta, for the endpoints that document
    them (``item_id`` of ``submission-files``); ``content_type`` defaults to the one of the filename's suffix.
    """

    content: bytes = attrs.field(repr=False)
    filename: str
    meta: Mapping[str, Any] | None = None
    content_type: str | None = None
    fields: Mapping[str, str | int] | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.content, (bytes, bytearray, memoryview)):
            raise InvalidRequestError("Media content must be bytes", [("content", type(self.content).__name__)])
        if not self.content:
            raise InvalidRequestError("Media content is empty", [("content", "WeChat Pay refuses an empty file")])
        _check_filename(self.filename)
        if self.meta is not None and not isinstance(self.meta, Mapping):
            raise InvalidRequestError("Media meta must be a dict", [("meta", type(self.meta).__name__)])
        if self.fields is not None:
            _check_fields(self.fields)
        kind = self.content_type
        if kind is not None and (not isinstance(kind, str) or not kind.isprintable() or "/" not in kind):
            raise InvalidRequestError("Bad Media content_type", [("content_type", "a MIME type such as 'image/png'")])

    def __repr__(self) -> str:
        return f"Media(filename={self.filename!r}, content=<{len(self.content)} bytes>)"

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        meta: Mapping[str, Any] | None = None,
        *,
        fields: Mapping[str, str | int] | None = None,
    ) -> Media:
        """Read ``path``; the filename sent is its base name."""
        file = Path(path)
        try:
            content = file.read_bytes()
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise InvalidRequestError(f"Cannot read the file to upload, {str(file)!r}", [("path", why)]) from None
        return cls(content, file.name, meta, fields=fields)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _digest(content: bytes, rule: UploadRule) -> str:
    """The lower-case hex digest of ``content`` by the endpoint's algorithm."""
    if rule.digest == "sha256":
        return hashlib.sha256(content).hexdigest()
    try:
        sm3 = hashes.Hash(hashes.SM3())
    except UnsupportedAlgorithm:
        why = "this build of OpenSSL has no SM3, which the endpoint's digest is"
        raise InvalidRequestError("Cannot compute the file's SM3 digest", [(f"meta.{rule.digest_key}", why)]) from None
    sm3.update(content)
    return sm3.finalize().hex()


def _meta(media: Media, content: bytes, rule: UploadRule, template: str, suffix: str) -> dict[str, Any]:
    """The meta JSON object: what the SDK fills in, then the caller's ``Media.meta``."""
    ours: dict[str, str] = {}
    if rule.name_key is not None:
        ours[rule.name_key] = media.filename
    if rule.type_key is not None:
        ours[rule.type_key] = suffix.upper()
    ours.update(rule.fixed)
    ours[rule.digest_key] = _digest(content, rule)
    meta: dict[str, Any] = dict(ours)
    for key, value in (media.meta or {}).items():
        key = str(key)
        if key == rule.digest_key and isinstance(value, str) and value.lower() == ours[key]:
            pass  # a hex digest in either case (the documentation's examples write upper case): sent as given
        elif key in ours and value != ours[key]:
            why = f"not the file's {rule.digest.upper()}; " if key == rule.digest_key else ""
            raise InvalidRequestError(
                "Media meta disagrees with the file", [(f"meta.{key}", f"{why}leave it out: the SDK fills it in")]
            )
        meta[key] = value
    missing = [key for key in rule.required if meta.get(key) in (None, "")]
    if missing:
        raise InvalidRequestError(
            f"{template} needs {', '.join(missing)} in Media meta",
            [(f"meta.{key}", "required by the endpoint; only the caller knows it") for key in missing],
        )
    return meta


def _fields(media: Media, rule: UploadRule, template: str) -> list[tuple[str, bytes]]:
    """The plain form parts, in the endpoint's documented order, after checking the caller gave exactly those."""
    given = media.fields or {}
    for name in given:
        if name not in rule.fields:
            why = "the endpoint has no such form part; extra fields go in meta"
            raise InvalidRequestError(f"{template} takes no form field {name!r}", [(f"fields.{name}", why)])
    missing = [name for name in rule.fields if name not in given]
    if missing:
        raise InvalidRequestError(
            f"{template} needs the form field {', '.join(missing)}",
            [
                (f"fields.{name}", f"a part of its own beside meta: Media(..., fields={{{name!r}: ...}})")
                for name in missing
            ],
        )
    return [(name, str(given[name]).encode("utf-8")) for name in rule.fields]


def encode(media: object, template: str, other: bytes = b"", boundary: str | None = None) -> tuple[bytes, bytes, str]:
    """``(body, meta_bytes, content_type)`` of an upload to ``template``, after its documented checks.

    ``other`` is a body given with json= or data= as well: an upload carries nothing else."""
    if other:
        raise InvalidRequestError(
            "Pass media= alone, without json= or data=", [("media", "extra fields go in Media's meta or fields")]
        )
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
    meta = _meta(media, content, rule, template, suffix)
    fields = _fields(media, rule, template)
    try:
        meta_bytes = json.dumps(meta, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise InvalidRequestError("Media meta is not serialisable as JSON", [("meta", str(exc)[:200])]) from None
    file_type = media.content_type or CONTENT_TYPES.get(suffix, "application/octet-stream")
    boundary = boundary or secrets.token_hex(16)
    mark = b"--" + boundary.encode("ascii")
    while any(mark in data for data in (content, meta_bytes, *(value for _, value in fields))):
        mark = b"--" + secrets.token_hex(16).encode("ascii")  # a boundary must not occur inside a part
    plain = (
        b"".join((mark, f'\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode(), value, b"\r\n"))
        for name, value in fields
    )
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
            *plain,
            mark,
            b"--\r\n",
        )
    )
    return body, meta_bytes, f"multipart/form-data; boundary={mark[2:].decode('ascii')}"
