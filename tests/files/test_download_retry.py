"""A download cut off on the wire: kept in memory nothing of it has left the SDK, so it is fetched again
from the start like any connection failure; streamed to a file (to=) it stays final. Against the real
127.0.0.1 file peer, whose answer promises more bytes than it sends and then drops the connection."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wxpay_chain import AsyncClient, IntegrityError, RetryPolicy

from ._peer import FilePeer, Seen
from .test_downloads import BILL, answer, encrypted

RETRY = RetryPolicy(attempts=3, backoff=0, jitter=False)


def cut_first(peer: FilePeer, body: bytes, cuts: int = 1) -> None:
    """The first ``cuts`` answers stop 100 bytes short of what they promise; later ones are whole."""

    def reply(seen: Seen) -> tuple[int, bytes, dict[str, str], bool]:
        peer.cut = 100 if len(peer.seen) <= cuts else 0
        return 200, body, {"Content-Type": "application/octet-stream"}, False

    peer.answer = reply


@pytest.mark.parametrize("form", ["plain", "gzip", "encrypted"])
async def test_a_cut_off_download_in_memory_is_fetched_again_and_comes_whole(
    form: str, peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str, merchant_key: Any
) -> None:
    extra: dict[str, str] = {}
    body = gzip.compress(BILL) if form == "gzip" else BILL
    if form == "encrypted":
        body, extra = encrypted(merchant_key, BILL)
    cut_first(peer, body)
    seen: list[tuple[int, int | None]] = []
    async with make_client(retry=RETRY) as client:
        got = await client.download(answer(base_url, **extra), progress=lambda n, total: seen.append((n, total)))
    assert got == BILL  # the cut attempt's bytes were dropped, not kept in front
    assert len(peer.seen) == 2 and all(s.signature_ok for s in peer.seen)
    assert seen[-1] == (len(body), len(body))


async def test_a_download_cut_off_on_every_attempt_says_how_often_it_was_tried(
    peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str
) -> None:
    cut_first(peer, BILL, cuts=3)
    async with make_client(retry=RETRY) as client:
        with pytest.raises(IntegrityError, match="cut off") as info:
            await client.download(answer(base_url))
    assert len(peer.seen) == 3
    assert info.value.attempts == ("#1 TransportError", "#2 TransportError", "#3 TransportError")


async def test_a_download_to_a_file_cut_off_stays_final_and_leaves_nothing(
    peer: FilePeer, make_client: Callable[..., AsyncClient], base_url: str, tmp_path: Path
) -> None:
    cut_first(peer, BILL)
    target = tmp_path / "bill.csv"
    async with make_client(retry=RETRY) as client:
        with pytest.raises(IntegrityError, match="cut off") as info:
            await client.download(answer(base_url), to=target)
    assert len(peer.seen) == 1  # bytes went to the file: never fetched twice
    assert info.value.attempts == ("#1 TransportError",)
    assert list(tmp_path.iterdir()) == []
