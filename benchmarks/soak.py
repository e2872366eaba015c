"""Soak: many signed, verified requests at high concurrency against the sandbox.

    .venv/bin/python -m benchmarks.soak [--requests 10000] [--concurrency 200] [--pool 100]

Reports unexpected errors, resident memory per thousand requests (growth from the first to the last
thousand), and the most TCP connections the sandbox ever had open at once, read from /proc/net/tcp, which
must never exceed the client's pool limit. Exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from pathlib import Path

from wxpay_chain import WxPayError
from wxpay_chain.sandbox import DEMO_APPID, DEMO_OPENIDS, Sandbox

ESTABLISHED = "01"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_connections(port: int) -> int:
    """Established sockets whose local port is the sandbox's: the server side of each connection."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == ESTABLISHED and int(fields[1].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


async def soak(requests: int, concurrency: int, pool: int) -> dict[str, object]:
    with Sandbox.in_thread() as sb:
        port = int(sb.base_url.rsplit(":", 1)[1].strip("/"))
        errors: list[str] = []
        rss: list[float] = []
        peak_connections = 0
        done = 0
        gate = asyncio.Semaphore(concurrency)
        query = {"appid": DEMO_APPID, "limit": 5}
        sampling = True

        async def sample() -> None:
            nonlocal peak_connections
            while sampling:
                peak_connections = max(peak_connections, open_connections(port))
                await asyncio.sleep(0.05)

        async def one(client: object, n: int) -> None:
            nonlocal done
            async with gate:
                try:
                    await client.v3.marketing.busifavor.users._openid_.coupons.get(  # type: ignore[attr-defined]
                        openid=DEMO_OPENIDS[n % 2], query=query
                    )
                except WxPayError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                done += 1
                if done % 1000 == 0:
                    sb.received.clear()  # the sandbox's request log lives in this process too; it is not ours
                    gc.collect()
                    rss.append(rss_mb())

        sampler = asyncio.ensure_future(sample())
        started = time.perf_counter()
        async with sb.client(pool_limit=pool) as client:
            await asyncio.gather(*(one(client, n) for n in range(requests)))
        elapsed = time.perf_counter() - started
        sampling = False
        await sampler
    return {
        "requests": requests,
        "concurrency": concurrency,
        "pool_limit": pool,
        "seconds": round(elapsed, 2),
        "requests_per_second": round(requests / elapsed, 1),
        "unexpected_errors": len(errors),
        "first_errors": errors[:3],
        "rss_mb_per_thousand": [round(x, 1) for x in rss],
        "rss_growth_mb": round(rss[-1] - rss[0], 1) if len(rss) > 1 else 0.0,
        "peak_open_connections": peak_connections,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--pool", type=int, default=100)
    parser.add_argument("--json", default=None, help="also write the report here")
    args = parser.parse_args(argv)
    report = asyncio.run(soak(args.requests, args.concurrency, args.pool))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), "utf-8")
    ok = (
        report["unexpected_errors"] == 0
        and float(report["rss_growth_mb"]) < 20  # type: ignore[arg-type]
        and int(report["peak_open_connections"]) <= args.pool  # type: ignore[call-overload]
    )
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
