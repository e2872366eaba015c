"""One measurement in a fresh process: ``python -m benchmarks.worker '<json spec>'`` prints one JSON line.

A fresh process per measurement keeps the figures apart. CPU is ``time.process_time`` (every thread of
this process: executor threads and the blocking Client's loop thread too) plus the CPU of live child
processes (a signing process works for its client). The server runs in another process, so its CPU
never lands here.

Spec keys: bench (floor, raw, raw_pool, sdk, sdk_process, sdk_sync, wpv3_async, soak), keys, port, calls,
concurrency, warmup; soak_samples for the soak.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import secrets
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from ._common import (
    MCHID,
    OPENID,
    PATH_AND_QUERY,
    PUB_KEY_ID,
    QUERY,
    Keys,
    answer_body,
    children_cpu_seconds,
    current_rss,
)

Spec = dict[str, Any]
Result = dict[str, Any]
AsyncCall = Callable[[], Awaitable[object]]


class Meter:
    """CPU (threads and live children included) and wall time between construction and :meth:`stop`."""

    def __init__(self) -> None:
        gc.collect()
        self._children = children_cpu_seconds()
        self._cpu = time.process_time()
        self._wall = time.perf_counter()

    def stop(self, calls: int) -> Result:
        wall = time.perf_counter() - self._wall
        cpu = time.process_time() - self._cpu
        child = sum(c - self._children.get(pid, 0.0) for pid, c in children_cpu_seconds().items())
        return {"calls": calls, "cpu_s": cpu + child, "child_cpu_s": child, "wall_s": wall}


async def drive(call: AsyncCall, calls: int, concurrency: int) -> None:
    """``calls`` calls, at most ``concurrency`` in flight (lanes pull from one shared counter)."""
    remaining = calls

    async def lane() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    await asyncio.gather(*(lane() for _ in range(min(concurrency, max(calls, 1)))))


def timed(spec: Spec, calls: AbstractAsyncContextManager[AsyncCall]) -> Result:
    """Warm up, then time ``spec["calls"]`` calls of the call that ``calls`` yields, on a new loop."""

    async def main() -> Result:
        async with calls as call:
            concurrency = int(spec["concurrency"])
            await drive(call, int(spec["warmup"]), concurrency)
            meter = Meter()
            await drive(call, int(spec["calls"]), concurrency)
            return meter.stop(int(spec["calls"]))

    return asyncio.run(main())


def timed_sync(spec: Spec, call: Callable[[], object]) -> Result:
    for _ in range(int(spec["warmup"])):
        call()
    meter = Meter()
    for _ in range(int(spec["calls"])):
        call()
    return meter.stop(int(spec["calls"]))


def base_url(spec: Spec) -> str:
    return f"http://127.0.0.1:{int(spec['port'])}/"


def _rsa(spec: Spec) -> tuple[Any, Any, Any, Any]:
    """The merchant's private key, the platform's public key, PKCS#1 v1.5 padding and SHA-256."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    keys = Keys.load(spec["keys"])
    key = serialization.load_pem_private_key(keys.merchant_key.read_bytes(), password=None)
    public = serialization.load_pem_public_key(keys.platform_pub.read_bytes())
    assert isinstance(key, rsa.RSAPrivateKey) and isinstance(public, rsa.RSAPublicKey)
    return key, public, padding.PKCS1v15(), hashes.SHA256()


# -- the floor: RSA sign + verify, in process, no network ------------------------------------------


def bench_floor(spec: Spec) -> Result:
    """Sign the request message and verify an answer's signature, as every client must once per call."""
    from cryptography.hazmat.primitives import serialization

    key, public, pkcs1, sha256 = _rsa(spec)
    platform = serialization.load_pem_private_key(Keys.load(spec["keys"]).platform_key.read_bytes(), None)
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    request = f"GET\n{PATH_AND_QUERY}\n{timestamp}\n{nonce}\n\n".encode()
    answer = f"{timestamp}\n{nonce}\n".encode() + answer_body() + b"\n"
    signature = base64.b64encode(platform.sign(answer, pkcs1, sha256)).decode()  # type: ignore[union-attr]

    def one() -> None:
        base64.b64encode(key.sign(request, pkcs1, sha256))
        public.verify(base64.b64decode(signature), answer, pkcs1, sha256)

    return timed_sync(spec, one)


# -- the baseline: raw aiohttp with hand-written signing and verification ---------------------------


@asynccontextmanager
async def raw_calls(spec: Spec, pool: bool = False) -> AsyncIterator[AsyncCall]:
    """The hand-written client's call; with ``pool`` it signs on the loop's default thread pool."""
    import aiohttp
    from yarl import URL

    key, public, pkcs1, sha256 = _rsa(spec)
    serial = Keys.load(spec["keys"]).merchant_serial
    origin = base_url(spec).rstrip("/")
    appid, offset, limit = QUERY["appid"], QUERY["offset"], QUERY["limit"]
    prefix = f'WECHATPAY2-SHA256-RSA2048 mchid="{MCHID}",nonce_str="'
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:

        async def call(openid: str = OPENID) -> bytes:
            # Built per call, as hand-written code does for a path that carries a value.
            target = f"/v3/marketing/busifavor/users/{openid}/coupons?appid={appid}&offset={offset}&limit={limit}"
            timestamp = int(time.time())
            nonce = secrets.token_hex(16)
            message = f"GET\n{target}\n{timestamp}\n{nonce}\n\n".encode()
            if pool:
                raw_signature = await loop.run_in_executor(None, key.sign, message, pkcs1, sha256)
            else:
                raw_signature = key.sign(message, pkcs1, sha256)
            signature = base64.b64encode(raw_signature).decode()
            headers = {
                "Accept": "application/json",
                "User-Agent": "raw-aiohttp-bench",
                "Wechatpay-Serial": PUB_KEY_ID,
                "Authorization": (
                    f'{prefix}{nonce}",timestamp="{timestamp}",serial_no="{serial}",signature="{signature}"'
                ),
            }
            url = URL(origin + target, encoded=True)  # sent exactly as signed
            async with session.get(url, headers=headers, allow_redirects=False) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"status {response.status}")
                answer = response.headers
                sent_at = answer["Wechatpay-Timestamp"]
                if abs(time.time() - int(sent_at)) > 300 or answer["Wechatpay-Serial"] != PUB_KEY_ID:
                    raise RuntimeError("stale or unknown answer")
                signed = f"{sent_at}\n{answer['Wechatpay-Nonce']}\n".encode() + body + b"\n"
                public.verify(base64.b64decode(answer["Wechatpay-Signature"]), signed, pkcs1, sha256)
                return body

        yield call


# -- wxpay_chain, default settings, public-key mode --------------------------------------------------


def sdk_options(spec: Spec) -> dict[str, Any]:
    keys = Keys.load(spec["keys"])
    return {
        "mchid": MCHID,
        "serial": keys.merchant_serial,
        "private_key": keys.text(keys.merchant_key),
        "platform_keys": {PUB_KEY_ID: keys.text(keys.platform_pub)},
        "base_url": base_url(spec),
        **({"offload_crypto": spec["offload_crypto"]} if "offload_crypto" in spec else {}),
    }


@asynccontextmanager
async def sdk_calls(spec: Spec) -> AsyncIterator[AsyncCall]:
    from wxpay_chain import AsyncClient

    async with AsyncClient(**sdk_options(spec)) as client:

        async def call() -> object:
            response = await client.v3.marketing.busifavor.users._openid_.coupons.get(openid=OPENID, query=QUERY)
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            return response

        yield call


def bench_sdk_sync(spec: Spec) -> Result:
    from wxpay_chain import Client

    with Client(**sdk_options(spec)) as client:

        def call() -> object:
            response = client.v3.marketing.busifavor.users._openid_.coupons.get(openid=OPENID, query=QUERY)
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            return response

        return timed_sync(spec, call)


# -- wechatpayv3 (PyPI) async client, public-key mode -------------------------------------------------


@asynccontextmanager
async def wpv3_async_calls(spec: Spec) -> AsyncIterator[AsyncCall]:
    from wechatpayv3 import WeChatPayType  # type: ignore[import-untyped]
    from wechatpayv3.async_ import AsyncWeChatPay  # type: ignore[import-untyped]

    keys = Keys.load(spec["keys"])
    options = {
        "wechatpay_type": WeChatPayType.NATIVE,
        "mchid": MCHID,
        "private_key": keys.text(keys.merchant_key),
        "cert_serial_no": keys.merchant_serial,
        "appid": QUERY["appid"],
        "apiv3_key": "0" * 32,
        "public_key": keys.text(keys.platform_pub),  # public-key mode: no certificate download
        "public_key_id": PUB_KEY_ID,
    }
    async with AsyncWeChatPay(**options) as pay:
        pay._core._gate_way = base_url(spec).rstrip("/")  # wechatpayv3's base URL is a fixed attribute

        async def call() -> object:
            code, text = await pay.marketing_busifavor_user_coupon(openid=OPENID, offset=0, limit=20)
            if code != 200 or not text:
                raise RuntimeError(f"status {code}")
            return text

        yield call


# -- soak: RSS and live objects over many SDK calls ----------------------------------------------------


def bench_soak(spec: Spec) -> Result:
    calls, concurrency = int(spec["calls"]), int(spec["concurrency"])
    step = max(1, calls // max(2, int(spec.get("soak_samples", 20))))

    def sample(done: int) -> dict[str, int]:
        gc.collect()
        return {"calls": done, "rss": current_rss(), "objects": len(gc.get_objects())}

    async def main() -> Result:
        async with sdk_calls(spec) as call:
            await drive(call, int(spec["warmup"]), concurrency)
            samples = [sample(0)]
            meter = Meter()
            done = 0
            while done < calls:
                batch = min(step, calls - done)
                await drive(call, batch, concurrency)
                done += batch
                samples.append(sample(done))
            return {**meter.stop(calls), "concurrency": concurrency, "samples": samples}

    return asyncio.run(main())


# -- bill: a large bill streamed to a file, peak RSS sampled (served from this process, in chunks) ----------


def bench_bill(spec: Spec) -> Result:
    import hashlib
    import tempfile
    from pathlib import Path

    from aiohttp import web

    from wxpay_chain import AsyncClient

    size, block = int(spec["bill_mib"]) << 20, b"`2025-01-01 00:00:00,`wx233544546545989,`4200000001,`0.01\r\n" * 1000
    pieces = [block[: min(len(block), size - at)] for at in range(0, size, len(block))]
    digest = hashlib.sha1()
    for piece in pieces:  # the same block object each time but the last: the server holds ~64 KiB
        digest.update(piece)

    async def serve(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = size
        await response.prepare(request)
        for piece in pieces:
            await response.write(piece)
        return response

    async def main() -> Result:
        app = web.Application()
        app.router.add_get("/v3/billdownload/file", serve)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
        peak = [0]

        async def watch() -> None:
            while True:
                peak[0] = max(peak[0], current_rss())
                await asyncio.sleep(0.02)

        async with AsyncClient(**{**sdk_options(spec), "base_url": url, "timeout": 900}) as client:
            with tempfile.TemporaryDirectory() as tmp:
                gc.collect()
                before, watcher, meter = current_rss(), asyncio.create_task(watch()), Meter()
                path = await client.download(f"{url}v3/billdownload/file?token=bench", Path(tmp) / "bill.csv",
                                             hash_type="SHA1", hash_value=digest.hexdigest())
                result, written = meter.stop(1), Path(path).stat().st_size
                watcher.cancel()
        await runner.cleanup()
        return {**result, "bytes": written, "rss_before": before, "rss_peak": peak[0]}

    return asyncio.run(main())


BENCHES: dict[str, Callable[[Spec], Result]] = {
    "floor": bench_floor,
    "raw": lambda spec: timed(spec, raw_calls(spec)),
    "raw_pool": lambda spec: timed(spec, raw_calls(spec, pool=True)),
    "sdk": lambda spec: timed(spec, sdk_calls(spec)),
    "sdk_process": lambda spec: timed(spec, sdk_calls({**spec, "offload_crypto": "process"})),
    "sdk_sync": bench_sdk_sync,
    "wpv3_async": lambda spec: timed(spec, wpv3_async_calls(spec)),
    "soak": bench_soak,
    "bill": bench_bill,
}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m benchmarks.worker '<json spec>'")
    spec: Spec = json.loads(args[0])
    result = BENCHES[spec["bench"]](spec)
    sys.stdout.write(json.dumps({**result, "bench": spec["bench"]}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
