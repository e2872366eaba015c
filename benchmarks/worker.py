"""One measurement in a fresh process: ``python -m benchmarks.worker '<json spec>'`` prints one JSON line.

A fresh process per measurement keeps the figures apart: process CPU (``time.process_time``, which
counts every thread of this process: executor threads and the blocking Client's loop thread too), and
peak RSS (the kernel's high-water mark is reset just before the timed loop, then read after it). The
server runs in another process, so its CPU never lands here.

Spec keys: bench (floor, raw, sdk, sdk_sync, wpv3_sync, wpv3_async, chain, soak, blocks), calls,
concurrency, warmup, port, keys, offload, profile (a file path; cProfile, or pyinstrument when profiler is
"pyinstrument"), soak_samples, whatif (names of benchmarks.whatif patches to apply first); for blocks:
client (raw or sdk), and the commands come on stdin (see ``serve_blocks``).
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import re
import secrets
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TextIO

from ._common import (
    MCHID,
    OPENID,
    PATH_AND_QUERY,
    PUB_KEY_ID,
    QUERY,
    TEMPLATE,
    Keys,
    children_cpu_seconds,
    current_rss,
    peak_rss,
)

Spec = dict[str, Any]
Result = dict[str, Any]
AsyncCall = Callable[[], Awaitable[object]]


# -- measurement helpers ---------------------------------------------------------------------------


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux ``clear_refs`` 5); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_since_reset(resettable: bool) -> int:
    if resettable:
        try:
            with open("/proc/self/status") as f:
                match = re.search(r"VmHWM:\s+(\d+) kB", f.read())
            if match:
                return int(match.group(1)) * 1024
        except OSError:
            pass
    return peak_rss()


def _children_cpu_since(before: dict[int, float]) -> float:
    """CPU that live child processes used since ``before``: a signing process works for its client."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in children_cpu_seconds().items())


class Meter:
    """CPU, wall and memory of the code between :meth:`start` and :meth:`stop`."""

    def __init__(self, spec: Spec) -> None:
        self._spec = spec
        self._profiler: Any = None

    def start(self) -> None:
        gc.collect()
        self._resettable = _reset_peak()
        self.rss_before = current_rss()
        self._start_profile()
        self._children = children_cpu_seconds()
        self._cpu = time.process_time()
        self._thread_cpu = time.thread_time()
        self._wall = time.perf_counter()

    def stop(self, calls: int) -> Result:
        wall = time.perf_counter() - self._wall
        cpu = time.process_time() - self._cpu
        thread_cpu = time.thread_time() - self._thread_cpu
        child_cpu = _children_cpu_since(self._children)
        self._stop_profile()
        peak = _peak_since_reset(self._resettable)
        rss_after = current_rss()
        return {
            "calls": calls,
            "cpu_s": cpu + child_cpu,
            "child_cpu_s": child_cpu,
            "thread_cpu_s": thread_cpu,  # the measuring thread alone: the event-loop thread for async benches
            "wall_s": wall,
            "rss_before": self.rss_before,
            "rss_after": rss_after,
            "peak_rss": peak,
            "peak_delta": max(0, peak - self.rss_before),
            "peak_exact": self._resettable,
        }

    def _start_profile(self) -> None:
        if not self._spec.get("profile"):
            return
        if self._spec.get("profiler") == "pyinstrument":
            from pyinstrument import Profiler

            self._profiler = Profiler(interval=0.0005, async_mode="enabled")
        else:
            import cProfile

            self._profiler = cProfile.Profile()
        self._profiler.start() if hasattr(self._profiler, "start") else self._profiler.enable()

    def _stop_profile(self) -> None:
        profiler = self._profiler
        if profiler is None:
            return
        path = str(self._spec["profile"])
        if self._spec.get("profiler") == "pyinstrument":
            profiler.stop()
            with open(path, "w") as f:
                f.write(profiler.output_text(unicode=True, color=False, show_all=False))
        else:
            profiler.disable()
            profiler.dump_stats(path)


async def _drive(call: AsyncCall, calls: int, concurrency: int) -> None:
    """``calls`` calls, at most ``concurrency`` in flight (lanes pull from one shared counter)."""
    remaining = calls

    async def lane() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    await asyncio.gather(*(lane() for _ in range(min(concurrency, max(calls, 1)))))


async def _timed_async(spec: Spec, call: AsyncCall) -> Result:
    concurrency = int(spec["concurrency"])
    await _drive(call, int(spec["warmup"]), concurrency)
    meter = Meter(spec)
    meter.start()
    await _drive(call, int(spec["calls"]), concurrency)
    return meter.stop(int(spec["calls"]))


def _timed_calls(spec: Spec, calls: AbstractAsyncContextManager[AsyncCall]) -> Result:
    """``_timed_async`` over the call that the async context manager ``calls`` yields, on a new loop."""

    async def main() -> Result:
        async with calls as call:
            return await _timed_async(spec, call)

    return asyncio.run(main())


def _drive_sync(call: Callable[[], object], calls: int, concurrency: int) -> None:
    if concurrency <= 1:
        for _ in range(calls):
            call()
        return
    lock = threading.Lock()
    remaining = [calls]
    errors: list[BaseException] = []

    def lane() -> None:
        while True:
            with lock:
                if remaining[0] <= 0 or errors:
                    return
                remaining[0] -= 1
            try:
                call()
            except BaseException as exc:  # surfaced below, in the main thread
                errors.append(exc)
                return

    threads = [threading.Thread(target=lane) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _timed_sync(spec: Spec, call: Callable[[], object]) -> Result:
    concurrency = int(spec["concurrency"])
    _drive_sync(call, int(spec["warmup"]), concurrency)
    meter = Meter(spec)
    meter.start()
    _drive_sync(call, int(spec["calls"]), concurrency)
    return meter.stop(int(spec["calls"]))


def _base_url(spec: Spec) -> str:
    return f"http://127.0.0.1:{int(spec['port'])}/"


# -- the floor: RSA sign + verify, in process ------------------------------------------------------


def bench_floor(spec: Spec) -> Result:
    """Sign the request message and verify a server answer, as every client must per call.

    With concurrency > 1, that many threads share the work: the ceiling that both cores allow.
    """
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from ._common import answer_body

    keys = Keys.load(spec["keys"])
    key = serialization.load_pem_private_key(keys.merchant_key.read_bytes(), password=None)
    platform = serialization.load_pem_private_key(keys.platform_key.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and isinstance(platform, rsa.RSAPrivateKey)
    public = platform.public_key()
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    timestamp = str(int(time.time()))
    nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
    request = f"GET\n{PATH_AND_QUERY}\n{timestamp}\n{nonce}\n\n".encode()
    answer = f"{timestamp}\n{nonce}\n".encode() + answer_body() + b"\n"
    answer_signature = base64.b64encode(platform.sign(answer, pkcs1, sha256)).decode()

    def one() -> None:
        base64.b64encode(key.sign(request, pkcs1, sha256))
        public.verify(base64.b64decode(answer_signature), answer, pkcs1, sha256)

    return _timed_sync(spec, one)


# -- the baseline: raw aiohttp, hand-written signing and verification on the event-loop thread ------


@asynccontextmanager
async def raw_calls(spec: Spec) -> AsyncIterator[AsyncCall]:
    """The hand-written client's call, with its session open for as long as the context lasts."""
    import aiohttp
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from yarl import URL

    keys = Keys.load(spec["keys"])
    key = serialization.load_pem_private_key(keys.merchant_key.read_bytes(), password=None)
    public = serialization.load_pem_public_key(keys.platform_pub.read_bytes())
    assert isinstance(key, rsa.RSAPrivateKey) and isinstance(public, rsa.RSAPublicKey)
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    serial = keys.merchant_serial
    origin = _base_url(spec).rstrip("/")
    appid, offset, limit = QUERY["appid"], QUERY["offset"], QUERY["limit"]
    prefix = f'WECHATPAY2-SHA256-RSA2048 mchid="{MCHID}",nonce_str="'
    if f"/v3/marketing/busifavor/users/{OPENID}/coupons?appid={appid}&offset={offset}&limit={limit}" != PATH_AND_QUERY:
        raise AssertionError("the raw client must sign and send the same path as the others")

    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call(openid: str = OPENID) -> bytes:
            # Built per call, as hand-written code does for a path that carries a value.
            target = f"/v3/marketing/busifavor/users/{openid}/coupons?appid={appid}&offset={offset}&limit={limit}"
            timestamp = int(time.time())
            nonce = secrets.token_hex(16)
            message = f"GET\n{target}\n{timestamp}\n{nonce}\n\n".encode()
            signature = base64.b64encode(key.sign(message, pkcs1, sha256)).decode()
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


def bench_raw(spec: Spec) -> Result:
    return _timed_calls(spec, raw_calls(spec))


# -- wxpay_chain -----------------------------------------------------------------------------------


def _sdk_options(spec: Spec) -> dict[str, Any]:
    keys = Keys.load(spec["keys"])
    return {
        "mchid": MCHID,
        "serial": keys.merchant_serial,
        "private_key": keys.text(keys.merchant_key),
        "platform_keys": {PUB_KEY_ID: keys.text(keys.platform_pub)},
        "base_url": _base_url(spec),
        "offload_crypto": spec.get("offload", "auto"),
    }


@asynccontextmanager
async def sdk_calls(spec: Spec) -> AsyncIterator[AsyncCall]:
    from wxpay_chain import AsyncClient

    async with AsyncClient(**_sdk_options(spec)) as client:

        async def call() -> object:
            response = await client.v3.marketing.busifavor.users._openid_.coupons.get(openid=OPENID, query=QUERY)
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            return response

        yield call


def bench_sdk(spec: Spec) -> Result:
    return _timed_calls(spec, sdk_calls(spec))


def bench_sdk_sync(spec: Spec) -> Result:
    from wxpay_chain import Client

    with Client(**_sdk_options(spec)) as client:

        def call() -> object:
            response = client.v3.marketing.busifavor.users._openid_.coupons.get(openid=OPENID, query=QUERY)
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            return response

        return _timed_sync(spec, call)


# -- wechatpayv3 (PyPI), public-key mode, pointed at the replay server -------------------------------


def _wpv3_options(spec: Spec) -> dict[str, Any]:
    from wechatpayv3 import WeChatPayType  # type: ignore[import-untyped]

    keys = Keys.load(spec["keys"])
    return {
        "wechatpay_type": WeChatPayType.NATIVE,
        "mchid": MCHID,
        "private_key": keys.text(keys.merchant_key),
        "cert_serial_no": keys.merchant_serial,
        "appid": QUERY["appid"],
        "apiv3_key": "0" * 32,
        # Public-key mode: no /v3/certificates download at start-up.
        "public_key": keys.text(keys.platform_pub),
        "public_key_id": PUB_KEY_ID,
    }


def bench_wpv3_sync(spec: Spec) -> Result:
    from wechatpayv3 import WeChatPay

    pay = WeChatPay(**_wpv3_options(spec))
    pay._core._gate_way = _base_url(spec).rstrip("/")  # its base URL is a fixed attribute

    def call() -> object:
        code, text = pay.marketing_busifavor_user_coupon(openid=OPENID, offset=0, limit=20)
        if code != 200 or not text:
            raise RuntimeError(f"status {code}")
        return text

    return _timed_sync(spec, call)


@asynccontextmanager
async def wpv3_async_calls(spec: Spec) -> AsyncIterator[AsyncCall]:
    from wechatpayv3.async_ import AsyncWeChatPay  # type: ignore[import-untyped]

    async with AsyncWeChatPay(**_wpv3_options(spec)) as pay:
        pay._core._gate_way = _base_url(spec).rstrip("/")

        async def call() -> object:
            code, text = await pay.marketing_busifavor_user_coupon(openid=OPENID, offset=0, limit=20)
            if code != 200 or not text:
                raise RuntimeError(f"status {code}")
            return text

        yield call


def bench_wpv3_async(spec: Spec) -> Result:
    return _timed_calls(spec, wpv3_async_calls(spec))


# -- blocks on demand, for --interleaved ------------------------------------------------------------

BLOCK_CLIENTS: dict[str, Callable[[Spec], AbstractAsyncContextManager[AsyncCall]]] = {
    "raw": raw_calls,
    "sdk": sdk_calls,
}


def serve_blocks(spec: Spec, commands: TextIO, replies: TextIO) -> None:
    """One client (``spec["client"]``), warmed up, then ``N`` calls each time a line ``N`` arrives.

    Answers ``READY`` once warm, then one JSON line per block: CPU (a signing process's included) and
    wall time. An empty line or the end of input ends it. ``--interleaved`` runs several of these and
    lets them take turns, so every client meets the machine's drift alike, each in its own process.
    """
    concurrency = int(spec["concurrency"])

    async def main() -> None:
        async with BLOCK_CLIENTS[spec["client"]](spec) as call:
            await _drive(call, int(spec["warmup"]), concurrency)
            gc.collect()
            replies.write("READY\n")
            replies.flush()
            # Blocking reads on the loop thread: between blocks this client has nothing else to do.
            while line := commands.readline().strip():
                children = children_cpu_seconds()
                cpu_start, wall_start = time.process_time(), time.perf_counter()
                await _drive(call, int(line), concurrency)
                wall_end, cpu_end = time.perf_counter(), time.process_time()
                # 10 ms ticks for a signing process: right in sum over the blocks, not in each one.
                child = _children_cpu_since(children)
                replies.write(json.dumps({"cpu_s": cpu_end - cpu_start + child, "wall_s": wall_end - wall_start}))
                replies.write("\n")
                replies.flush()

    asyncio.run(main())


# -- chain building in isolation ---------------------------------------------------------------------


def _per_op_ns(stmt: Callable[[], object], ops_per_call: int, budget: float, repeats: int) -> dict[str, float]:
    """timeit-style: pick a loop count that lasts about ``budget`` seconds, repeat, report ns per op."""
    import timeit

    timer = timeit.Timer(stmt)
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= budget / 5 or number >= 10_000_000:
            break
        number *= 10
    number = max(1, int(number * (budget / max(elapsed, 1e-9))))
    times = sorted(t / number / ops_per_call * 1e9 for t in timer.repeat(repeat=repeats, number=number))
    return {"min_ns": times[0], "median_ns": times[len(times) // 2], "number": float(number)}


def bench_chain(spec: Spec) -> Result:
    from wxpay_chain import AsyncClient
    from wxpay_chain._crypto import make_nonce
    from wxpay_chain._uri import expand

    client = AsyncClient(**_sdk_options(spec))
    budget = float(spec.get("budget", 0.05))
    repeats = int(spec.get("repeats", 7))
    v3 = client.v3
    values = {"openid": OPENID}
    options = {"openid": OPENID, "query": QUERY}
    cases: dict[str, tuple[Callable[[], object], int]] = {
        "hop_cached": (lambda: v3.marketing, 1),
        "chain_6_hops": (lambda: client.v3.marketing.busifavor.users._openid_.coupons, 6),
        "item_access": (lambda: client[TEMPLATE], 1),
        "verb_access": (lambda: v3.marketing.get, 2),
        "expand": (lambda: expand(TEMPLATE, values), 1),
        "prepare": (lambda: client.prepare("GET", TEMPLATE, (), options), 1),
        "make_nonce": (make_nonce, 1),
    }
    gc.collect()
    started = time.perf_counter()
    cpu = time.process_time()
    out = {name: _per_op_ns(stmt, ops, budget, repeats) for name, (stmt, ops) in cases.items()}
    return {
        "cases": out,
        "calls": 0,
        "cpu_s": time.process_time() - cpu,
        "wall_s": time.perf_counter() - started,
    }


# -- soak: RSS over many calls -------------------------------------------------------------------------


def bench_soak(spec: Spec) -> Result:
    """wxpay_chain AsyncClient for ``calls`` calls; RSS and live-object count sampled along the way."""
    from wxpay_chain import AsyncClient

    calls = int(spec["calls"])
    concurrency = int(spec["concurrency"])
    samples_wanted = max(2, int(spec.get("soak_samples", 20)))
    step = max(1, calls // samples_wanted)

    async def main() -> Result:
        async with AsyncClient(**_sdk_options(spec)) as client:

            async def call() -> object:
                return await client.v3.marketing.busifavor.users._openid_.coupons.get(openid=OPENID, query=QUERY)

            await _drive(call, int(spec["warmup"]), concurrency)
            gc.collect()
            samples = [{"calls": 0, "rss": current_rss(), "objects": len(gc.get_objects()), "t": 0.0}]
            started = time.perf_counter()
            cpu = time.process_time()
            done = 0
            while done < calls:
                batch = min(step, calls - done)
                await _drive(call, batch, concurrency)
                done += batch
                gc.collect()
                samples.append(
                    {
                        "calls": done,
                        "rss": current_rss(),
                        "objects": len(gc.get_objects()),
                        "t": time.perf_counter() - started,
                    }
                )
            return {
                "calls": calls,
                "cpu_s": time.process_time() - cpu,
                "wall_s": time.perf_counter() - started,
                "samples": samples,
            }

    return asyncio.run(main())


BENCHES: dict[str, Callable[[Spec], Result]] = {
    "floor": bench_floor,
    "raw": bench_raw,
    "sdk": bench_sdk,
    "sdk_sync": bench_sdk_sync,
    "wpv3_sync": bench_wpv3_sync,
    "wpv3_async": bench_wpv3_async,
    "chain": bench_chain,
    "soak": bench_soak,
}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m benchmarks.worker '<json spec>'")
    spec: Spec = json.loads(args[0])
    if spec.get("whatif"):
        from .whatif import apply

        apply(list(spec["whatif"]))
    if spec["bench"] == "blocks":
        serve_blocks(spec, sys.stdin, sys.stdout)
        return
    result = BENCHES[spec["bench"]](spec)
    result["bench"] = spec["bench"]
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
