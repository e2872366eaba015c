"""Downloads against a real 127.0.0.1 peer: the signed GET of the exact path, gzip and encrypted bills, the
hash check, and nothing left behind when it fails. The test builds its files with plain cryptography/gzip."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wxpay_chain import (
    AsyncClient,
    IntegrityError,
    InvalidRequestError,
    MemoryTransport,
    RawResponse,
    ResponseTooLargeError,
    SignatureError,
    TransportTimeoutError,
)
from wxpay_chain._download import PlainFile
from wxpay_chain._http import Headers
from wxpay_chain._unsigned import must_verify

from ._peer import FilePeer, Seen

BILL = "交易时间,商户号,应结订单金额\r\n`2025-01-01 10:00:00,`1900000001,`0.01\r\n总交易单数\r\n`1\r\n".encode() * 50
SHA1 = hashlib.sha1(BILL).hexdigest()
TOKEN_PATH = "/v3/billdownload/file?token=T%2Bk-1&tartype=gzip"
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def serve(peer: FilePeer, body: bytes, *, signed: bool = False) -> None:
    peer.answer = lambda seen: (200, body, {"Content-Type": "application/octet-stream"}, signed)


def answer(base_url: str, **extra: Any) -> dict[str, Any]:
    return {"hash_type": "SHA1", "hash_value": SHA1, "download_url": base_url.rstrip("/") + TOKEN_PATH, **extra}


def encrypted(merchant_key: rsa.RSAPrivateKey, plain: bytes) -> tuple[bytes, dict[str, str]]:
    key, nonce = AESGCM.generate_key(bit_length=256), "a8607ef79034c49c"
    item = {"encrypt_key": base64.b64encode(merchant_key.public_key().encrypt(key, OAEP)).decode(), "nonce": nonce}
    return AESGCM(key).encrypt(nonce.encode(), plain, None), item


@pytest.mark.parametrize("form", ["plain", "gzip"])
async def test_bill_round_trips_and_the_exact_path_is_signed(
    form: str, peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str
) -> None:
    serve(peer, gzip.compress(BILL) if form == "gzip" else BILL)
    async with make_client() as client:
        assert await client.download(answer(base_url)) == BILL
    seen = peer.seen[-1]
    assert (seen.method, seen.raw_path, seen.body) == ("GET", TOKEN_PATH, b"")
    assert seen.signature_ok  # over the path and query exactly as written in download_url


async def test_encrypted_sub_merchant_bill_round_trips(
    peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str, merchant_key: rsa.RSAPrivateKey
) -> None:
    sealed, item = encrypted(merchant_key, gzip.compress(BILL))
    serve(peer, sealed)
    async with make_client() as client:
        assert await client.download(answer(base_url, bill_sequence=1, **item)) == BILL


async def test_to_streams_into_the_file_and_returns_its_path(
    peer: FilePeer,
    make_client: Callable[..., AsyncClient],
    base_url: str,
    tmp_path: Path,
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    sealed, item = encrypted(merchant_key, gzip.compress(BILL))
    serve(peer, sealed)
    async with make_client() as client:
        path = await client.download(answer(base_url, **item), to=tmp_path / "bill.csv")
    assert path == tmp_path / "bill.csv" and path.read_bytes() == BILL
    assert [p.name for p in tmp_path.iterdir()] == ["bill.csv"]


async def test_the_file_is_on_disk_before_it_is_renamed_into_place(
    peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str, tmp_path: Path, monkeypatch: Any
) -> None:
    import os

    steps: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        steps.append("fsync " + Path(f"/proc/self/fd/{fd}").resolve().name)
        real_fsync(fd)

    def replace(source: str, target: Path) -> None:
        steps.append("replace " + Path(source).name)
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    serve(peer, BILL)
    async with make_client() as client:
        await client.download(answer(base_url), to=tmp_path / "bill.csv")
    assert len(steps) == 2 and steps[0].startswith("fsync .bill.csv.") and steps[1] == "replace " + steps[0][6:]


@pytest.mark.parametrize(
    "damage",
    ["wrong hash", "altered", "cut off on the wire", "gzip cut short", "ciphertext cut short", "wrong nonce"],
)
async def test_a_damaged_download_raises_integrity_error_and_leaves_nothing(
    damage: str,
    peer: FilePeer,
    make_client: Callable[..., AsyncClient],
    base_url: str,
    tmp_path: Path,
    merchant_key: rsa.RSAPrivateKey,
) -> None:
    target = tmp_path / "bill.csv"
    target.write_bytes(b"yesterday's bill")  # an earlier file stays as it was
    extra: dict[str, Any] = {}
    body = BILL
    if damage == "wrong hash":
        extra["hash_value"] = "0" * 40
    elif damage == "altered":
        body = BILL.replace(b"0.01", b"9.99", 1)
    elif damage == "cut off on the wire":
        peer.cut = 100
    elif damage == "gzip cut short":
        body = gzip.compress(BILL)[:-20]
    else:
        sealed, extra = encrypted(merchant_key, BILL)
        body = sealed[:-5] if damage == "ciphertext cut short" else sealed
        if damage == "wrong nonce":
            extra["nonce"] = "0" * 16
    serve(peer, body)
    why = {"cut off on the wire": "cut off", "gzip cut short": "gzip", "wrong hash": "hash", "altered": "hash"}
    async with make_client() as client:
        with pytest.raises(IntegrityError, match=why.get(damage, "decrypt")):
            await client.download(answer(base_url, **extra), to=target)
        with pytest.raises(IntegrityError, match=why.get(damage, "decrypt")):
            await client.download(answer(base_url, **extra))
    assert target.read_bytes() == b"yesterday's bill"
    assert [p.name for p in tmp_path.iterdir()] == ["bill.csv"]


async def test_a_bare_url_takes_the_hash_as_keywords(
    peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str
) -> None:
    serve(peer, BILL)
    async with make_client() as client:
        url = base_url + TOKEN_PATH[1:]
        assert await client.download(url, hash_type="sha1", hash_value=SHA1.upper()) == BILL
        with pytest.raises(InvalidRequestError, match="hash") as caught:
            await client.download(url)
    assert {p for p, _ in caught.value.problems} == {"hash_type", "hash_value"}


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"download_url": "https://evil.example/v3/billdownload/file?token=1"}, "download_url"),
        ({"download_url": "v3/billdownload/file?token=a b"}, "download_url"),
        ({"download_url": "v3/billdownload/file#x"}, "download_url"),
        ({"hash_type": "MD5"}, "hash_type"),
        ({"download_bill_count": 2, "download_bill_list": [{}, {}]}, "answer"),
        ({"nonce": "abc"}, "encrypt_key"),  # the one missing (this said "nonce: missing")
        ({"encrypt_key": "a2V5", "nonce": "short"}, "nonce"),
        ({"download_bill_list": 5}, "answer"),
        ({"hash_value": "é" * 40}, "hash_value"),
        ({"hash_value": SHA1[:-1]}, "hash_value"),
        ({"hash_type": "SHA256"}, "hash_value"),  # a SHA1 value is too short for SHA256
    ],
)
async def test_bad_download_requests_are_refused_before_sending(
    given: dict[str, Any], field: str, peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str
) -> None:
    async with make_client() as client:
        with pytest.raises(InvalidRequestError) as caught:
            await client.download({**answer(base_url), **given})
    assert field in [p for p, _ in caught.value.problems]
    assert peer.seen == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
async def test_a_pipe_or_device_at_to_is_refused_not_replaced(
    peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str, tmp_path: Path
) -> None:
    # Renamed over, a pipe (or /dev/stdout, /dev/null for root) became a regular file, and its reader got nothing.
    pipe = tmp_path / "bill.pipe"
    os.mkfifo(pipe)
    async with make_client() as client:
        with pytest.raises(InvalidRequestError, match="not a regular file") as caught:
            await client.download(answer(base_url), to=pipe)
    assert [p for p, _ in caught.value.problems] == ["to"] and peer.seen == []
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)


def test_only_the_listed_download_paths_skip_answer_verification() -> None:
    bare = Headers({"Content-Type": "text/csv"})
    signed = Headers({"Wechatpay-Signature": "x", "Wechatpay-Serial": "PUB_KEY_ID_1"})
    assert not must_verify("GET", "v3/billdownload/file", bare)
    assert not must_verify("GET", "v3/merchant-service/images/{media_id}", bare)
    assert not must_verify("GET", "v3/merchant-service/images/abc.png", bare)  # a literal path too
    assert not must_verify("GET", "v3/transferdownload/signfile", bare)
    assert not must_verify("GET", "v3/statements", bare)
    assert must_verify("GET", "v3/billdownload/file", signed)  # it carries a signature: it is checked
    assert must_verify("POST", "v3/billdownload/file", bare)
    assert must_verify("GET", "v3/bill/tradebill", bare)
    assert must_verify("GET", "v3/merchant-service/images", bare)
    assert must_verify("GET", "v3/marketing/busifavor/users/{openid}/coupons", bare)


async def test_chain_calls_follow_the_allow_list(
    peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str
) -> None:
    serve(peer, b"\x89PNG image")
    async with make_client() as client:
        image = await client.v3.merchantService.images._media_id_.get(media_id="M1.png")
        assert image.body == b"\x89PNG image"  # unsigned, on a listed download path
        with pytest.raises(SignatureError):  # the same unsigned answer anywhere else
            await client.v3.merchantService.images.get()

        def forged(seen: Seen) -> tuple[int, bytes, dict[str, str], bool]:
            headers = peer.signature(b"another body")
            return 200, b"\x89PNG image", headers, False

        peer.answer = forged
        with pytest.raises(SignatureError):  # signature headers on a listed path: verified, and wrong
            await client.v3.merchantService.images._media_id_.get(media_id="M1.png")
        with pytest.raises(SignatureError):
            await client.download(answer(base_url))
        serve(peer, BILL, signed=True)  # a download whose answer is signed, and rightly so
        assert await client.download(answer(base_url)) == BILL


async def test_in_memory_downloads_are_capped_while_to_streams(
    peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str, tmp_path: Path
) -> None:
    serve(peer, gzip.compress(BILL))
    async with make_client(max_response_bytes=1024) as client:
        with pytest.raises(ResponseTooLargeError, match=r"download\(answer, to=PATH\) streams it there"):
            await client.download(answer(base_url))  # the error says what works: a second try would fail again
        path = await client.download(answer(base_url), to=tmp_path / "big.csv")
    assert Path(path).read_bytes() == BILL


async def test_an_expired_or_unknown_token_is_an_api_error_and_leaves_nothing(
    peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str, tmp_path: Path
) -> None:
    from wxpay_chain import ApiError

    peer.answer = lambda seen: (400, b'{"code":"INVALID_REQUEST","message":"expired"}', {}, False)
    async with make_client() as client:
        with pytest.raises(ApiError) as caught:
            await client.download(answer(base_url), to=tmp_path / "bill.csv")
    assert caught.value.code == "INVALID_REQUEST"
    assert list(tmp_path.iterdir()) == []


async def test_another_transport_downloads_whole(make_client: Callable[..., AsyncClient]) -> None:
    seen: list[str] = []

    def handler(request: Any) -> RawResponse:
        seen.append(request.target)
        return RawResponse(200, Headers({"Content-Type": "text/csv"}), gzip.compress(BILL))

    async with make_client(base_url="https://api.mch.weixin.qq.com/", transport=MemoryTransport(handler)) as client:
        url = "https://api.mch.weixin.qq.com/v3/billdownload/file?token=abc"
        assert await client.download(url, hash_type="SHA1", hash_value=SHA1) == BILL
    assert seen == ["/v3/billdownload/file?token=abc"]


async def test_a_content_length_that_is_not_ascii_digits_is_not_taken_as_the_size(
    make_client: Callable[..., AsyncClient],
) -> None:
    def handler(request: Any) -> RawResponse:
        return RawResponse(200, Headers({"Content-Type": "text/csv", "Content-Length": "\u00b2"}), BILL)

    seen: list[tuple[int, int | None]] = []
    async with make_client(base_url="https://api.mch.weixin.qq.com/", transport=MemoryTransport(handler)) as client:
        url = "https://api.mch.weixin.qq.com/v3/billdownload/file?token=abc"
        got = await client.download(url, hash_type="SHA1", hash_value=SHA1, progress=lambda n, t: seen.append((n, t)))
    assert got == BILL and seen[-1] == (len(BILL), None)


class ChunkingTransport(MemoryTransport):
    """A transport of the user's own that can stream: the download must hand its chunks on, not ask send()."""

    def __init__(self, body: bytes) -> None:
        super().__init__(lambda request: RawResponse(500, Headers({}), b"send() was used"))
        self.body = body
        self.streamed: list[str] = []

    async def stream(self, request: Any, sink: Callable[[Headers], Callable[[bytes], None]]) -> RawResponse:
        self.streamed.append(request.target)
        headers = Headers({"Content-Type": "text/csv"})
        write = sink(headers)
        for start in range(0, len(self.body), 100):
            write(self.body[start : start + 100])
        return RawResponse(200, headers, b"")


class StallingTransport(ChunkingTransport):
    """Streams the first chunk, then times out: a bill that trickles past the call's timeout."""

    async def stream(self, request: Any, sink: Callable[[Headers], Callable[[bytes], None]]) -> RawResponse:
        sink(Headers({"Content-Type": "text/csv"}))(self.body[:100])
        raise TransportTimeoutError("GET /v3/billdownload/file timed out after 1.5 s")


async def test_a_download_that_times_out_raises_a_timeout_and_leaves_nothing(
    make_client: Callable[..., AsyncClient], tmp_path: Path
) -> None:
    transport = StallingTransport(gzip.compress(BILL))
    async with make_client(base_url="https://api.mch.weixin.qq.com/", transport=transport) as client:
        url = "https://api.mch.weixin.qq.com/v3/billdownload/file?token=abc"
        with pytest.raises(TimeoutError) as caught:  # a timeout, for ``except TimeoutError``: not a forgery
            await client.download(url, hash_type="SHA1", hash_value=SHA1, to=tmp_path / "bill.csv")
    assert isinstance(caught.value, TransportTimeoutError) and list(tmp_path.iterdir()) == []


async def test_a_transport_that_streams_is_streamed_through(
    make_client: Callable[..., AsyncClient], tmp_path: Path
) -> None:
    transport = ChunkingTransport(gzip.compress(BILL))
    # A transport passed in is seen through the client's own view of it, which must stream as well.
    async with make_client(base_url="https://api.mch.weixin.qq.com/", transport=transport) as client:
        url = "https://api.mch.weixin.qq.com/v3/billdownload/file?token=abc"
        assert await client.download(url, hash_type="SHA1", hash_value=SHA1) == BILL
        path = await client.download(url, hash_type="SHA1", hash_value=SHA1, to=tmp_path / "bill.csv")
    assert Path(path).read_bytes() == BILL
    assert transport.streamed == ["/v3/billdownload/file?token=abc"] * 2
    assert transport.requests == []  # send() was never asked


async def test_a_downloaded_file_stays_out_of_the_answer_body_log(
    make_client: Callable[..., AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    def handler(request: Any) -> RawResponse:
        return RawResponse(200, Headers({"Content-Type": "text/csv"}), gzip.compress(BILL))

    caplog.set_level(logging.DEBUG, logger="wxpay_chain")
    for transport in (MemoryTransport(handler), ChunkingTransport(gzip.compress(BILL))):
        caplog.clear()
        async with make_client(
            base_url="https://api.mch.weixin.qq.com/", transport=transport, log_bodies=True
        ) as client:
            url = "https://api.mch.weixin.qq.com/v3/billdownload/file?token=abc"
            assert await client.download(url, hash_type="SHA1", hash_value=SHA1) == BILL
        lines = [record.getMessage() for record in caplog.records]
        assert any("v3/billdownload/file -> 200" in line for line in lines)  # the attempt is logged
        assert not any(line.startswith("answer body") for line in lines)  # but the file's bytes are not


def test_plain_file_takes_any_chunking(merchant_key: rsa.RSAPrivateKey) -> None:
    sealed, item = encrypted(merchant_key, gzip.compress(BILL) + gzip.compress(b"second member"))
    key = merchant_key.decrypt(base64.b64decode(item["encrypt_key"]), OAEP)
    expected = BILL + b"second member"
    out = bytearray()
    plain = PlainFile("SHA1", hashlib.sha1(expected).hexdigest(), out.extend, key, item["nonce"])
    for i in range(len(sealed)):
        plain.feed(sealed[i : i + 1])
    plain.finish()
    assert bytes(out) == expected


async def test_secrets_stay_out_of_download_errors(
    peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str, merchant_key: rsa.RSAPrivateKey
) -> None:
    sealed, item = encrypted(merchant_key, BILL)
    serve(peer, sealed[:-1] + bytes([sealed[-1] ^ 1]))
    async with make_client(apiv3_key="0123456789abcdef0123456789abcdef") as client:
        with pytest.raises(IntegrityError) as caught:
            await client.download(answer(base_url, **item))
        pem = client._config.signer.key
    key = merchant_key.decrypt(base64.b64decode(item["encrypt_key"]), OAEP)
    text = str(caught.value) + repr(caught.value)
    for secret in (key.hex(), base64.b64encode(key).decode(), "0123456789abcdef0123456789abcdef"):
        assert secret not in text
    assert "PRIVATE KEY" not in text and str(pem.private_numbers().d) not in text


async def test_the_blocking_client_downloads(
    peer: FilePeer, merchant_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPrivateKey, base_url: str, tmp_path: Path
) -> None:
    from wxpay_chain import Client

    from ..core.wire import pem_private, pem_public
    from .conftest import MCHID, PUB_KEY_ID, SERIAL

    serve(peer, gzip.compress(BILL))
    options = {
        "mchid": MCHID,
        "serial": SERIAL,
        "private_key": pem_private(merchant_key),
        "platform_keys": {PUB_KEY_ID: pem_public(platform_key)},
        "base_url": base_url,
    }

    def fetch() -> tuple[Any, Any]:  # on a thread: the peer answers from this test's event loop
        with Client(**options) as client:
            return client.download(answer(base_url)), client.download(answer(base_url), to=tmp_path / "b.csv")

    data, path = await asyncio.to_thread(fetch)
    assert data == BILL and Path(path).read_bytes() == BILL


def test_both_clients_take_the_same_download_arguments() -> None:
    import inspect

    from wxpay_chain import Client

    def keywords(method: Any) -> list[tuple[str, Any]]:
        return [(p.name, p.kind) for p in list(inspect.signature(method).parameters.values())[1:]]

    assert keywords(AsyncClient.download) == keywords(Client.download)
    assert [name for name, _ in keywords(Client.download)] == ["answer", "to", "hash_type", "hash_value", "progress"]


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        # Each was named by another setting or field: "download_url: base_url must be...", "nonce: missing"
        # for an encrypt_key that is there, "hash_type: missing" for one given as bytes.
        (
            {"download_url": "ftp://x/v3/billdownload/file"},
            ("download_url", "download_url must be an http(s) URL like 'https://api.mch.weixin.qq.com/'"),
        ),
        ({"download_url": "https:// x/v3/billdownload/file"}, ("download_url", "download_url must be plain ASCII"
                                                                 " with no spaces, backslashes or control characters")),
        ({"encrypt_key": 5, "nonce": "a8607ef79034c49c"}, ("encrypt_key", "text, not int")),
        ({"encrypt_key": "a2V5", "nonce": 12345678}, ("nonce", "text, not int")),
        ({"encrypt_key": "a2V5"}, ("nonce", "missing")),
        ({"hash_type": b"SHA1"}, ("hash_type", "text, not bytes")),
        ({"hash_value": SHA1.encode()}, ("hash_value", "text, not bytes")),
    ],
)
async def test_a_download_field_of_the_wrong_kind_is_named_for_itself(
    given: dict[str, Any], problem: tuple[str, str], peer: FilePeer, make_client: Callable[..., AsyncClient],
    base_url: str,
) -> None:
    async with make_client() as client:
        with pytest.raises(InvalidRequestError) as caught:
            await client.download({**answer(base_url), **given})
        assert caught.value.problems == (problem,)
        with pytest.raises(InvalidRequestError) as caught:  # a bare URL with the hash as keywords: the same
            await client.download(base_url + TOKEN_PATH[1:], hash_type=b"SHA1", hash_value=SHA1)  # type: ignore[arg-type]
        assert caught.value.problems == (("hash_type", "text, not bytes"),)
    assert peer.seen == []


@pytest.mark.parametrize(
    ("to", "why"),
    [
        (5, "a path (str or os.PathLike), not int"),
        (b"bill.csv", "a path (str or os.PathLike), not bytes"),
        ("bill\x00.csv", "the path has a NUL character"),
        ("\ud800bill.csv", "the path has text the file system cannot encode (a lone surrogate)"),
    ],
)
async def test_a_to_no_file_can_be_written_at_is_an_invalid_request(
    to: object, why: str, peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # They escaped as TypeError, ValueError ("embedded null byte") and UnicodeEncodeError.
    monkeypatch.chdir(tmp_path)
    serve(peer, BILL)
    async with make_client() as client:
        with pytest.raises(InvalidRequestError, match="Cannot write the download there") as caught:
            await client.download(answer(base_url), to=to)  # type: ignore[arg-type]
    assert caught.value.problems == (("to", why),) and peer.seen == []
    assert list(tmp_path.iterdir()) == []


def test_the_download_signatures_resolve_for_typing_tools() -> None:
    # get_type_hints() (sphinx, typeguard, pydantic) failed on "Target | None": the aliases were strings.
    import os
    import typing

    from wxpay_chain import Client

    for method in (AsyncClient.download, Client.download):
        hints = typing.get_type_hints(method)
        assert hints["to"] == str | os.PathLike[str] | None
        assert hints["progress"] == typing.Optional[Callable[[int, int | None], None]]  # noqa: UP045
