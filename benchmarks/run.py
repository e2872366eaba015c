"""The wxpay_chain benchmark: ``.venv/bin/python -m benchmarks.run`` prints one table and the targets.

Options: ``--quick`` (one round of a handful of calls: a smoke check), ``--rounds N``, ``--json PATH``,
``--soak`` (also 100,000 SDK calls, memory sampled along the way), ``--bill`` (a 500 MiB bill streamed to
a file, peak RSS sampled), ``--seed N`` (repeat a row order).

The replay server runs in its own process and every measurement in a fresh worker process; each round
runs every row once, in a shuffled order. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from ._common import NODE_DIR, REPO_ROOT, Keys, child_env, generate_keys
from .report import (
    ROWS,
    TARGETS,
    Round,
    Row,
    cpu_us,
    render_table,
    render_targets,
    rps,
    soak_verdict,
    summarise,
    verdict,
)


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class Server:
    """The replay server (``benchmarks.server``) in a child process; :meth:`stop` always ends it."""

    def __init__(self, keys: Keys) -> None:
        cmd = [sys.executable, "-m", "benchmarks.server", "--keys", str(keys.directory), "--max-seconds", "7200"]
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=REPO_ROOT, env=child_env(), text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the server exits (EOF) rather than hang if it cannot listen
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"the replay server did not start: {line!r}")
        self.port = int(line.split()[1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def missing(row: Row) -> str | None:
    """Why a peer row cannot run here, or None."""
    if row.needs == "wpv3":
        absent = [m for m in ("wechatpayv3", "httpx", "aiofiles") if importlib.util.find_spec(m) is None]
        return f"not installed: {', '.join(absent)} (pip install -r benchmarks/requirements.txt)" if absent else None
    if row.needs == "node":
        if shutil.which("node") is None:
            return "node not found on PATH"
        if not (NODE_DIR / "node_modules" / "wechatpay-axios-plugin").is_dir():
            return "npm peer not installed (npm ci --prefix benchmarks/node)"
    return None


def run_worker(bench: str, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One worker process; its last stdout line is the JSON result, or an ``error`` entry."""
    spec = {**spec, "bench": bench}
    if bench == "node":
        cmd = ["node", str(NODE_DIR / "bench.js"), json.dumps(spec)]
    else:
        cmd = [sys.executable, "-m", "benchmarks.worker", json.dumps(spec)]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_env(),
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = [line for line in proc.stderr.splitlines() if line.strip()]
        return {"error": (tail[-1] if tail else f"exit status {proc.returncode}")[:300]}
    try:
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": f"no JSON result on stdout: {proc.stdout[-200:]!r}"}
    return result


def run_rounds(args: argparse.Namespace, keys: Keys, server: Server, rows: list[Row]) -> list[Round]:
    rng = random.Random(args.seed)
    rounds: list[Round] = []
    for number in range(1, args.rounds + 1):
        order = list(rows)
        rng.shuffle(order)  # no row always runs first, or right after the same neighbour
        runs: Round = {}
        for row in order:
            if server.process.poll() is not None:
                raise RuntimeError("the replay server exited")
            calls = args.calls32 if row.concurrency > 1 else args.calls
            if row.bench == "floor":
                calls *= 2
            spec = {
                "keys": str(keys.directory),
                "port": server.port,
                "calls": calls,
                "concurrency": row.concurrency,
                "warmup": max(args.warmup, 2 * row.concurrency),
            }
            runs[row.label] = result = run_worker(row.bench, spec, timeout=60 + calls * 0.05)
            if "error" in result:
                log(f"round {number}/{args.rounds} {row.label:<13} FAILED: {result['error']}")
            else:
                log(f"round {number}/{args.rounds} {row.label:<13} {rps(result):8,.0f} req/s {cpu_us(result):7,.0f} µs")
        rounds.append(runs)
    return rounds


def run_soak(args: argparse.Namespace, keys: Keys, server: Server) -> dict[str, Any]:
    log(f"soak: {args.soak_calls:,} SDK calls at c=32 ...")
    spec = {"keys": str(keys.directory), "port": server.port, "calls": args.soak_calls, "concurrency": 32}
    result = run_worker("soak", {**spec, "warmup": 200, "soak_samples": 20}, timeout=120 + args.soak_calls * 0.02)
    if "error" in result:
        return {"target": "memory flat (soak)", "value": result["error"], "status": "MISSED"}
    return {**soak_verdict(result), "run": result}


def run_bill(args: argparse.Namespace, keys: Keys) -> dict[str, Any]:
    mib = 16 if args.quick else 500
    log(f"bill: a {mib} MiB bill downloaded to a file ...")
    run = run_worker("bill", {"keys": str(keys.directory), "port": 0, "bill_mib": mib}, timeout=900)
    target = f"memory flat downloading a {mib} MiB bill to a file (peak RSS growth <= 64 MiB)"
    if "error" in run:
        return {"target": target, "value": run["error"], "status": "MISSED"}
    growth = run["rss_peak"] - run["rss_before"]
    value = f"RSS {run['rss_before'] / 2**20:.1f} -> peak {run['rss_peak'] / 2**20:.1f} MiB ({growth / 2**20:+.1f}); "
    return {"target": target, "value": value + f"{run['bytes'] / 2**20 / run['wall_s']:.0f} MiB/s",
            "status": "met" if growth <= 64 << 20 else "MISSED", "run": run}


def meta() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in ("wxpay-chain", "aiohttp", "cryptography", "wechatpayv3", "httpx"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    plugin = NODE_DIR / "node_modules" / "wechatpay-axios-plugin" / "package.json"
    versions["wechatpay-axios-plugin"] = json.loads(plugin.read_text())["version"] if plugin.exists() else None

    def git(*argv: str) -> str:
        try:
            return subprocess.run(["git", *argv], capture_output=True, text=True, cwd=REPO_ROOT, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            return ""

    dirty = git("status", "--porcelain", "--", "wxpay_chain").strip()
    revision = git("rev-parse", "--short", "HEAD").strip() + (" + uncommitted changes in wxpay_chain/" if dirty else "")
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "git": revision,
        "versions": versions,
        "loadavg_start": os.getloadavg(),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds; each runs every row once (default 7)")
    parser.add_argument("--calls", type=int, default=1000, help="timed calls per c=1 run (default 1000)")
    parser.add_argument("--calls32", type=int, default=2500, help="timed calls per c=32 run (default 2500)")
    parser.add_argument("--warmup", type=int, default=40, help="untimed calls before each run (default 40)")
    parser.add_argument("--seed", type=int, help="seed of the row order (default: a new one, printed)")
    parser.add_argument("--only", help="comma-separated row labels (the raw rows are always added)")
    parser.add_argument("--quick", action="store_true", help="smoke check: 1 round of a handful of calls")
    parser.add_argument("--soak", action="store_true", help="also 100,000 SDK calls: is memory flat?")
    parser.add_argument("--soak-calls", type=int, default=100_000, help=argparse.SUPPRESS)
    parser.add_argument("--bill", action="store_true", help="also a 500 MiB bill downloaded to a file: memory flat?")
    parser.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.calls, args.calls32, args.warmup = 1, 10, 64, 4
        args.soak_calls = min(args.soak_calls, 2_000)
    if min(args.rounds, args.calls, args.calls32, args.soak_calls) < 1:
        parser.error("--rounds and call counts must be at least 1")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(2**31)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # unwinds: server stopped
    wanted = set(args.only.split(",")) | {"raw-c1", "raw-c32"} if args.only else None
    rows = [row for row in ROWS if wanted is None or row.label in wanted]
    skipped = {row.label: reason for row in rows if (reason := missing(row))}
    report: dict[str, Any] = {"meta": meta(), "seed": args.seed, "args": vars(args)}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wxpay-bench-") as tmp:
        keys = generate_keys(Path(tmp) / "keys")
        server = Server(keys)
        try:
            log(f"replay server on 127.0.0.1:{server.port}; row order seed {args.seed}")
            rounds = run_rounds(args, keys, server, [row for row in rows if row.label not in skipped])
            soak = run_soak(args, keys, server) if args.soak else None
            bill = run_bill(args, keys) if args.bill else None
        except KeyboardInterrupt:
            log("interrupted")
            return 130
        except RuntimeError as exc:
            log(f"benchmark aborted: {exc}")
            return 1
        finally:
            server.stop()
    summary = summarise(rows, rounds, skipped)
    verdicts = [verdict(target, rounds) for target in TARGETS]
    verdicts.append(soak or {"target": "memory flat over 100,000 calls", "value": "-", "status": "not run (--soak)"})
    verdicts.append(bill or {"target": "memory flat for a 500 MiB bill", "value": "-", "status": "not run (--bill)"})
    info = report["meta"]
    print()
    print(render_table(summary))
    print()
    print(render_targets(verdicts, args.rounds))
    print(
        f"\n{info['cpus']} CPUs, load {info['loadavg_start'][0]:.2f} -> {os.getloadavg()[0]:.2f}; "
        f"wxpay_chain {info['versions']['wxpay-chain']} at {info['git']}; python {info['python']}; "
        f"{args.rounds} round(s), --seed {args.seed}, {time.monotonic() - started:.0f} s"
    )
    if args.json:
        report.update(rows=summary, targets=verdicts, rounds=rounds)
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2, default=str, ensure_ascii=False))
        print(f"JSON report: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
