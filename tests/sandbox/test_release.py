"""A closed sandbox lets go of everything: aiohttp's app-wide middleware cache must not keep its state
alive, and no descriptor onto its SQLite files may outlive ``close()``; a closed sandbox still restarts."""

from __future__ import annotations

import gc
import os
import urllib.error
import urllib.request
import weakref
from pathlib import Path

import aiohttp
import pytest

from wxpay_chain.sandbox import DEMO_APPID, Sandbox, SandboxState, default_key_set

from ._paths import BRAND_ID, FRESH, partner, send_body
from ._wire import Identity, Wire

#: One path on each kind of route: the APIv3 catch-all, a bill, an image, APIv2, a coupon page.
PATHS = (
    ("GET", "v3/certificates"),
    ("GET", "v3/bill/tradebill?bill_date=2024-01-01"),
    ("GET", "v3/merchant-service/images/nope"),
    ("POST", "mmpaymkttransfers/send_coupon"),
    ("GET", "busifavor/getcouponinfo"),
)


def descriptors_onto(directory: Path) -> list[str]:
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("no /proc/self/fd to list open files with")
    found = []
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed since listed (the listing's own descriptor, say)
            continue
        if target.startswith(str(directory.resolve())):
            found.append(target)
    return found


def collected(ref: weakref.ref[SandboxState]) -> bool:
    gc.collect()
    return ref() is None


async def test_a_closed_sandbox_is_collected_after_serving_every_kind_of_route(tmp_path: Path) -> None:
    sb = Sandbox(state_dir=tmp_path, keys=default_key_set())
    async with sb, aiohttp.ClientSession() as http:
        for method, path in PATHS:
            async with http.request(method, sb.base_url + path, headers={"Accept": "*/*"}) as response:
                await response.read()
    ref = weakref.ref(sb.state)
    del sb
    assert collected(ref), "something still holds the closed sandbox's state (aiohttp's middleware cache?)"


def test_a_closed_threaded_sandbox_is_collected(tmp_path: Path) -> None:
    with Sandbox.in_thread(state_dir=tmp_path, keys=default_key_set()) as sb:
        for method, path in PATHS:
            data = b"<xml></xml>" if method == "POST" else None
            request = urllib.request.Request(sb.base_url + path, data=data, method=method, headers={"Accept": "*/*"})
            try:
                urllib.request.urlopen(request, timeout=10).close()
            except urllib.error.HTTPError as refused:
                refused.close()
        ref = weakref.ref(sb.state)
    del sb
    assert collected(ref)


async def test_close_leaves_no_descriptor_onto_the_state_files(tmp_path: Path) -> None:
    sb = Sandbox(state_dir=tmp_path, keys=default_key_set())
    async with sb, aiohttp.ClientSession() as http:
        assert descriptors_onto(tmp_path)  # the check sees them while it runs
        async with http.get(sb.base_url + "v3/certificates", headers={"Accept": "*/*"}) as response:
            await response.read()
    assert descriptors_onto(tmp_path) == []  # while the closed sandbox itself is still referenced


async def test_a_sandbox_never_started_frees_its_state_files_on_close(tmp_path: Path) -> None:
    sb = Sandbox(state_dir=tmp_path)
    await sb.close()
    assert descriptors_onto(tmp_path) == []
    async with sb:  # and it can still start after that
        assert len(sb.issued_coupons()) > 0


@pytest.mark.parametrize("on_disk", [True, False], ids=["state_dir", "in_memory"])
async def test_a_closed_sandbox_restarts_with_its_coupons(tmp_path: Path, on_disk: bool) -> None:
    sb = Sandbox(state_dir=tmp_path if on_disk else None, keys=default_key_set())
    async with aiohttp.ClientSession() as http:
        async with sb:
            wire = Wire(http, sb.base_url, Identity.merchant(sb.credentials))
            issued = (await wire.send("POST", partner(FRESH), send_body("restart-1"))).json()
        async with sb:
            wire = Wire(http, sb.base_url, Identity.merchant(sb.credentials))
            replay = (await wire.send("POST", partner(FRESH), send_body("restart-1"))).json()
            assert replay["coupon_code"] == issued["coupon_code"]
            listed = (await wire.send("GET", partner(FRESH, brand_id=BRAND_ID, appid=DEMO_APPID))).json()
            assert listed["total_count"] == 1
    if on_disk:
        assert descriptors_onto(tmp_path) == []


async def test_the_ledger_of_a_closed_sandbox_can_still_be_read(tmp_path: Path) -> None:
    async with Sandbox(state_dir=tmp_path, keys=default_key_set()) as sb:
        seeded = len(sb.issued_coupons())
    assert len(sb.issued_coupons()) == seeded  # opens the file again, until the next close()
    await sb.close()
    assert descriptors_onto(tmp_path) == []
