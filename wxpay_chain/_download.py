"""Downloads: bills and files fetched with a signed GET whose answers WeChat Pay does not sign; a bill is
checked against the hash the (signed) bill answer gave for it instead.

The one list of such answers, and the rule the pipeline applies to every 2xx answer, are in ``_unsigned``.
:func:`download` streams the file through :class:`PlainFile` (AES-256-GCM opened, gzip inflated, hashed:
pure, no I/O) into memory or a temporary file renamed once it checks out.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import string
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ._config import ClientConfig
from ._crypto import rsa_oaep_open
from ._errors import (
    ConfigurationError,
    IntegrityError,
    InvalidRequestError,
    ResponseTooLargeError,
    TransportError,
    TransportTimeoutError,
)
from ._files import temporary_beside
from ._http import Headers, Response, plain_encoding
from ._request import PreparedRequest
from ._unsigned import must_verify
from ._uri import split_base_url

if TYPE_CHECKING:
    from ._pipeline import Pipeline

__all__ = ["Downloadable", "PlainFile", "Target", "download"]

_HASHES = {"SHA1": "sha1", "SHA256": "sha256", "SM3": "sm3"}
_TAG = 16  # bytes of the AES-GCM tag at the end of an encrypted bill
_PIECE = 1024 * 1024  # the most one gzip step inflates at a time: memory stays flat for any ratio
_TARGET = re.compile(r"/[\x21-\x22\x24-\x7e]*")  # visible ASCII, no "#"

# Real objects, not strings: typing.get_type_hints() evaluates "Target | None" in the signatures that use them.
Downloadable: TypeAlias = str | Mapping[str, Any] | Response | object
"""A bill answer's JSON (or the Response), an item of its ``download_bill_list``, a typed model of
either, or a download URL (then with ``hash_type=`` and ``hash_value=``)."""
Target: TypeAlias = str | os.PathLike[str]
Progress: TypeAlias = Callable[[int, int | None], None]
"""Told the bytes received so far and the total when the answer says it (the command line's progress bar)."""


@attrs.frozen
class _Source:
    url: str
    hash_type: str
    hash_value: str = attrs.field(repr=False)
    encrypt_key: str | None = attrs.field(default=None, repr=False)
    nonce: str | None = attrs.field(default=None, repr=False)


_FIELDS = ("download_url", "hash_type", "hash_value", "encrypt_key", "nonce")


def _source(answer: object, hash_type: str | None, hash_value: str | None) -> _Source:
    if isinstance(answer, Response):
        answer = answer.json()
    if isinstance(answer, str):
        fields: dict[str, Any] = {"download_url": answer}
    elif isinstance(answer, Mapping):
        fields = dict(answer)
    elif attrs.has(type(answer)):
        fields = {name: getattr(answer, name, None) for name in (*_FIELDS, "download_bill_list")}
    else:
        raise InvalidRequestError(
            "download() takes a bill answer, an item of its download_bill_list, or a download URL",
            [("answer", type(answer).__name__)],
        )
    items = fields.get("download_bill_list")
    if items is not None:
        listed = f"{len(items)} file(s)" if isinstance(items, (list, tuple)) else "files"
        raise InvalidRequestError(
            "Pass one item of download_bill_list to download()",
            [("answer", f"it lists {listed}: download each and join them in bill_sequence order")],
        )
    for name, given in (("hash_type", hash_type), ("hash_value", hash_value)):
        if given is not None:
            if fields.get(name) not in (None, given):
                raise InvalidRequestError("Two different hashes given", [(name, "the answer's and the keyword differ")])
            fields[name] = given
    problems = [
        (name, "missing: a bill answer carries it; pass hash_type= and hash_value= with a bare URL")
        if _blank(fields.get(name))
        else (name, f"text, not {type(fields[name]).__name__}")
        for name in _FIELDS[:3]
        if not isinstance(fields.get(name), str) or not fields[name]
    ]
    if problems:
        raise InvalidRequestError("Cannot download without a URL and the hash to check it with", problems)
    kind = str(fields["hash_type"]).upper()
    if kind not in _HASHES or _HASHES[kind] not in hashlib.algorithms_available:
        raise InvalidRequestError("Unsupported hash_type", [("hash_type", f"{kind[:20]!r}; known: SHA1, SHA256, SM3")])
    # Checked here, not after the whole file has come: a hash that can never match wastes the download.
    digits = hashlib.new(_HASHES[kind]).digest_size * 2
    expected = fields["hash_value"].strip()
    if not (len(expected) == digits and expected.isascii() and all(c in string.hexdigits for c in expected)):
        raise InvalidRequestError("Bad hash_value", [("hash_value", f"a {kind} hash is {digits} hex digits")])
    encrypted = [fields.get(name) for name in ("encrypt_key", "nonce")]
    if not all(_blank(v) for v in encrypted):  # each named for itself: missing, or not text
        problems = [
            (name, "missing" if _blank(v) else f"text, not {type(v).__name__}")
            for name, v in zip(("encrypt_key", "nonce"), encrypted, strict=True)
            if not (isinstance(v, str) and v)
        ]
        if problems:
            raise InvalidRequestError("An encrypted bill needs both encrypt_key and nonce", problems)
    if encrypted[1] and not 8 <= len(encrypted[1].encode("utf-8", "surrogatepass")) <= 128:
        raise InvalidRequestError("Bad nonce", [("nonce", "an encrypted bill's nonce is 8 to 128 bytes")])
    return _Source(fields["download_url"], kind, fields["hash_value"], encrypted[0] or None, encrypted[1] or None)


def _locate(config: ClientConfig, url: str) -> tuple[str, str, str]:
    """``(origin, target, template)`` of a download URL: it must name this client's API (its base URL or the
    backup one), and its path and query are sent exactly as given."""
    origin, prefix = config.defaults.origin_prefix
    if "://" in url:
        scheme_host_end = url.find("/", url.index("://") + 3)
        head, rest = (url, "/") if scheme_host_end < 0 else (url[:scheme_host_end], url[scheme_host_end:])
        try:
            given = split_base_url(head + "/", "download_url")[0]
        except ConfigurationError as exc:
            raise InvalidRequestError("Bad download_url", [("download_url", str(exc))]) from None
        if given not in (origin, config.backup_origin):
            raise InvalidRequestError(
                "download_url points at another host than this client's API; the SDK signs only for its own",
                [("download_url", f"{given[:80]} is not {origin}")],
            )
        target = rest
    else:
        target = url if url.startswith("/") else prefix + url
    if not _TARGET.fullmatch(target) or not target.startswith(prefix):
        raise InvalidRequestError(
            "Bad download_url", [("download_url", f"a path under {prefix} in plain ASCII, without spaces or '#'")]
        )
    return origin, target, target[len(prefix) :].partition("?")[0]


def _bill_key(config: ClientConfig, source: _Source) -> bytes | None:
    """The AES-256 key of an encrypted bill: its encrypt_key opened with the merchant's private key."""
    if source.encrypt_key is None:
        return None
    key = rsa_oaep_open(config.signer.key, source.encrypt_key)
    if key is None:
        raise IntegrityError("The bill's encrypt_key does not open with this client's merchant private key")
    if len(key) != 32:
        raise IntegrityError("The bill's key is not an AES-256 key: ask for the bill with algorithm=AEAD_AES_256_GCM")
    return key


class PlainFile:
    """Turns a file's bytes as they arrive into the plain file: decrypted (AES-256-GCM, the tag at the end),
    inflated when it is gzip, hashed, and handed to ``out``. ``finish()`` raises IntegrityError unless the
    whole file arrived and matches ``hash_value``. Pure: no I/O, no clock."""

    def __init__(
        self, hash_type: str, hash_value: str, out: Callable[[bytes], object], key: bytes | None = None, nonce: str = ""
    ) -> None:
        self._hash = hashlib.new(_HASHES[hash_type.upper()])
        self._kind = hash_type.upper()
        self._expected = hash_value.strip().lower()
        self._out = out
        self._decryptor = Cipher(algorithms.AES(key), modes.GCM(nonce.encode())).decryptor() if key else None
        self._tail = b""
        self._head: bytes | None = b""  # None once we know whether the plain stream is gzip
        self._inflater: Any = None

    def feed(self, chunk: bytes) -> None:
        if self._decryptor is not None:
            data = self._tail + chunk
            self._tail = data[-_TAG:]
            chunk = self._decryptor.update(data[:-_TAG])
        self._plain(chunk)

    def _plain(self, data: bytes) -> None:
        if self._head is not None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, None
            if data[:2] == b"\x1f\x8b":  # tar_type=GZIP
                self._inflater = zlib.decompressobj(31)
        if self._inflater is None:
            self._emit(data)
            return
        try:
            while data:
                if self._inflater.eof:  # another gzip member follows
                    self._inflater = zlib.decompressobj(31)
                self._emit(self._inflater.decompress(data, _PIECE))
                data = self._inflater.unconsumed_tail or (self._inflater.unused_data if self._inflater.eof else b"")
        except zlib.error:
            raise IntegrityError("The downloaded gzip file is damaged; nothing was kept") from None

    def _emit(self, data: bytes) -> None:
        if data:
            self._hash.update(data)
            self._out(data)

    def finish(self) -> None:
        if self._decryptor is not None:
            try:
                if len(self._tail) < _TAG:
                    raise InvalidTag
                self._plain(self._decryptor.finalize_with_tag(self._tail))
            except InvalidTag:
                raise IntegrityError(
                    "The encrypted bill did not decrypt: it was cut short or altered, or its encrypt_key and nonce "
                    "are not this file's; nothing was kept"
                ) from None
        if self._head:  # a file of one byte
            head, self._head = self._head, None
            self._emit(head)
        if self._inflater is not None and not self._inflater.eof:
            raise IntegrityError("The downloaded gzip file was cut short; nothing was kept")
        actual = self._hash.hexdigest()
        if not hmac.compare_digest(actual, self._expected):
            raise IntegrityError(
                f"The downloaded file does not match its {self._kind} hash (expected {self._expected[:16]}…, "
                f"got {actual[:16]}…): it was cut short or altered; nothing was kept"
            )


class _Sink:
    """What the transport hands a 2xx body to; it also keeps the raw body of an answer that turns out to
    be signed, so that the signature can be checked too. With ``restart`` (a download kept in memory) a
    body cut off is fetched again from the start: none of it has left the SDK."""

    def __init__(
        self,
        plain: Callable[[], PlainFile],
        template: str,
        cap: int,
        progress: Progress | None = None,
        restart: Callable[[], object] | None = None,
    ) -> None:
        self.new_plain, self.template, self.cap, self.progress, self.restart = plain, template, cap, progress, restart
        self.plain = plain()
        self.began = False
        self.raw: bytearray | None = None
        self.received = 0
        self.total: int | None = None

    @property
    def started(self) -> bool:
        """Whether bytes went where they cannot be taken back (a file): then the pipeline retries no cut."""
        return self.began and self.restart is None

    @property
    def signed_body(self) -> bytes:
        return b"" if self.raw is None else bytes(self.raw)

    def __call__(self, headers: Headers) -> Callable[[bytes], None]:
        if self.began and self.restart is not None:  # another attempt after a cut: start over
            self.restart()
            self.plain, self.received = self.new_plain(), 0
        self.began = True
        self.raw = bytearray() if must_verify("GET", self.template, headers) else None
        length = headers.get("Content-Length")
        # A Content-Length counts encoded bytes, while the sink gets them inflated.
        plain = plain_encoding(headers.getall("Content-Encoding"))
        self.total = int(length) if length and length.isascii() and length.isdigit() and plain else None
        return self.write

    def write(self, chunk: bytes) -> None:
        if self.raw is not None:
            if len(self.raw) + len(chunk) > self.cap:
                raise ResponseTooLargeError(self.cap, method="GET", path=self.template)
            self.raw += chunk
        self.plain.feed(chunk)
        if self.progress is not None:
            self.received += len(chunk)
            self.progress(self.received, self.total)


async def _fetch(pipeline: Pipeline, prepared: PreparedRequest, sink: _Sink) -> None:
    """The signed GET through the client's pipeline, the body streamed into ``sink``; a body cut off is final
    unless the sink can start over."""
    try:
        await pipeline.call(prepared, sink=sink)
    except TransportError as exc:
        # A timeout stays a timeout (``except TimeoutError`` catches it); other breaks after the first byte
        # leave a partial file, which is an integrity matter. Either way nothing of it was kept.
        if sink.began and not isinstance(exc, (ResponseTooLargeError, TransportTimeoutError)):
            cut = IntegrityError("The download was cut off before the whole file came; nothing was kept")
            cut.attempts = exc.attempts  # what the pipeline counted: in memory, every cut was retried
            raise cut from exc
        raise
    sink.plain.finish()


async def download(
    pipeline: Pipeline,
    config: ClientConfig,
    answer: Downloadable,
    to: Target | None = None,
    *,
    hash_type: str | None = None,
    hash_value: str | None = None,
    progress: Progress | None = None,
) -> bytes | Path:
    """Download a bill (or any file WeChat Pay gives a download_url and a hash for) and check it.

    The GET of the exact download path and query is signed; the answer is not (WeChat Pay signs none).
    Gzip is inflated, an encrypted sub-merchant bill opened (its encrypt_key with the merchant key,
    RSA-OAEP; the file with AES-256-GCM and the item's nonce), and the hash checked over the plain file.
    Without ``to`` the bytes are returned (at most ``max_response_bytes``); with it they are streamed to a
    temporary file beside ``to``, renamed to ``to`` only once the hash matches, and the path returned.
    A mismatch, a file cut short or one that does not decrypt raises IntegrityError and leaves nothing.
    """
    source = _source(answer, hash_type, hash_value)
    origin, target, template = _locate(config, source.url)
    key = _bill_key(config, source)
    defaults = config.defaults
    prepared = PreparedRequest("GET", template, origin, target, b"", defaults.plain_headers, defaults.timeout, b"")
    cap = config.max_response_bytes

    async def fetch(write: Callable[[bytes], object], restart: Callable[[], object] | None = None) -> None:
        def plain() -> PlainFile:
            return PlainFile(source.hash_type, source.hash_value, write, key, source.nonce or "")

        await _fetch(pipeline, prepared, _Sink(plain, template, cap, progress, restart))

    if to is None:
        kept = bytearray()

        def keep(data: bytes) -> None:
            if len(kept) + len(data) > cap:
                raise ResponseTooLargeError(cap, method="GET", path=template, hint=_TO_DISK)
            kept.extend(data)

        await fetch(keep, kept.clear)
        return bytes(kept)
    try:
        path = Path(to)
        if path.is_dir():
            raise IsADirectoryError(21, "is a folder: name the file to write")
        if path.exists() and not path.is_file():  # renamed over, a pipe or device (/dev/stdout) would be replaced
            raise OSError(22, "is not a regular file (a pipe or a device): name a file, or take the bytes without to=")
        handle, temporary = temporary_beside(path)  # the umask's mode, or the replaced file's: not mkstemp's 0600
    except OSError as exc:
        raise InvalidRequestError("Cannot write the download there", [("to", exc.strerror or str(exc))]) from None
    except (TypeError, ValueError) as exc:  # not a path (5, bytes), or one no file can have (a NUL, a lone surrogate)
        why = f"a path (str or os.PathLike), not {type(to).__name__}" if isinstance(exc, TypeError) else _unnamable(exc)
        raise InvalidRequestError("Cannot write the download there", [("to", why)]) from None
    try:
        with os.fdopen(handle, "wb") as file:
            await fetch(file.write)
            file.flush()
            os.fsync(file.fileno())  # on disk before the rename: a crash then never leaves a short file at ``to``
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


_TO_DISK = ". A file that large goes to disk: download(answer, to=PATH) streams it there, with no such limit"


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value)


def _unnamable(exc: ValueError) -> str:
    if isinstance(exc, UnicodeError):
        return "the path has text the file system cannot encode (a lone surrogate)"
    return "the path has a NUL character"
