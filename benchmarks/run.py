"""Run the wxpay_chain benchmark suite: ``.venv/bin/python -m benchmarks.run [--json FILE] [--png FILE]``.

Modes (see ``--help``): the default suite (table + targets), ``--quick`` (every bench for a handful of
calls: a smoke check in seconds), ``--soak`` (RSS over 100,000 calls), ``--profile LABEL`` (one bench
under cProfile or pyinstrument), ``--instructions`` (instructions per call of the c=1 rows, counted by
valgrind's callgrind), ``--interleaved`` (the clients of a comparison taking turns, each in its own worker).

The replay server runs in its own process and every measurement in a fresh worker process; the server is
always terminated on the way out (normal end, error or Ctrl-C). Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

from . import instructions, interleaved
from ._common import BENCH_DIR, NODE_DIR, REPO_ROOT, Keys, child_env, generate_keys, process_cpu_seconds
from .report import (
    evaluate_targets,
    render_chain,
    render_soak,
    render_table,
    render_targets,
    summarise_chain,
    summarise_rows,
    summarise_soak,
    write_png,
)
from .suite import BY_LABEL, WHATIF_SUFFIX, Config, Run, cpu_us, rps, select

RESULTS_DIR = BENCH_DIR / "results"


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


# -- the server process -----------------------------------------------------------------------------


class ServerProcess:
    """The replay server in a child process; :meth:`stop` always ends it (terminate, then kill)."""

    def __init__(self, keys: Keys, max_seconds: float) -> None:
        self._keys = keys
        self._max_seconds = max_seconds
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._stderr_path = keys.directory.parent / "server.stderr"

    def start(self) -> None:
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.server",
            "--keys",
            str(self._keys.directory),
            "--max-seconds",
            str(self._max_seconds),
        ]
        with open(self._stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, cwd=REPO_ROOT, env=child_env()
            )
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            chunk = os.read(self.process.stdout.fileno(), 256)
            if not chunk:
                break
            line += chunk
        selector.close()
        if not line.startswith(b"READY "):
            self.stop()
            detail = self._stderr_path.read_text(errors="replace")[-2000:] if self._stderr_path.exists() else ""
            raise RuntimeError(f"the replay server did not start: {line!r} {detail}")
        self.port = int(line.split()[1])

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the server process so far (Linux /proc), or None."""
        return None if self.process is None else process_cpu_seconds(self.process.pid)

    def stderr_tail(self) -> str:
        try:
            return self._stderr_path.read_text(errors="replace")[-500:].strip()
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        process = self.process
        if process is None:
            return
        try:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
        finally:
            if process.stdout is not None:
                process.stdout.close()
            self.process = None


# -- workers ----------------------------------------------------------------------------------------


def worker_command(config_bench: str, spec: dict[str, Any]) -> list[str]:
    if config_bench == "node":
        return ["node", str(NODE_DIR / "bench.js"), json.dumps(spec)]
    return [sys.executable, "-m", "benchmarks.worker", json.dumps(spec)]


def run_worker(bench: str, spec: dict[str, Any], timeout: float, wrapper: list[str] | None = None) -> Run:
    """One worker process; ``wrapper`` goes in front of its command (valgrind, for --instructions)."""
    spec = {**spec, "bench": bench}
    try:
        proc = subprocess.run(
            [*(wrapper or []), *worker_command(bench, spec)],
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
        tail = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        return {"error": (tail[-1] if tail else f"exit status {proc.returncode}")[:300]}
    try:
        result: Run = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": f"no JSON result on stdout: {proc.stdout[-200:]!r}"}
    return result


def _spec_for(config: Config, args: argparse.Namespace, keys: Keys, port: int) -> dict[str, Any]:
    calls = args.calls32 if config.concurrency > 2 else args.calls
    return {
        "keys": str(keys.directory),
        "port": port,
        "calls": calls,
        "concurrency": config.concurrency,
        "warmup": max(args.warmup, 2 * config.concurrency),
        "offload": config.offload,
        "whatif": list(config.whatif),
    }


def _timeout_for(calls: int) -> float:
    return 120.0 + calls * 0.05


# -- modes --------------------------------------------------------------------------------------------


def run_suite(args: argparse.Namespace, keys: Keys, server: ServerProcess) -> dict[str, Any]:
    configs = select(args.only, args.all)
    if args.whatif:
        configs += [c.twin(tuple(args.whatif)) for c in configs if c.group == "sdk"]
    skipped: dict[str, str] = {}
    runnable: list[Config] = []
    for config in configs:
        reason = config.requires()
        if reason:
            skipped[config.label] = reason
            log(f"skip {config.label}: {reason}")
        else:
            runnable.append(config)
    rounds: list[dict[str, Run]] = []
    chain_runs: list[dict[str, Any]] = []
    chain_whatif_runs: list[dict[str, Any]] = []
    # A new order every run unless --seed repeats one: with one fixed order, whatever drifts over a round
    # (the machine slows under sustained load) would fall on the same rows in every run.
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    rng = random.Random(seed)
    started = time.monotonic()
    for index in range(args.rounds):
        chain_jobs: list[tuple[str, ...]] = [()] if args.chain else []
        if args.chain and args.whatif:
            chain_jobs.append(tuple(args.whatif))
        order: list[Config | tuple[str, ...]] = [*runnable, *chain_jobs]  # tuples: chain building (+ patches)
        rng.shuffle(order)  # no bench always runs first, or right after the same neighbour
        round_runs: dict[str, Run] = {}
        for job in order:
            if isinstance(job, tuple):
                result = run_worker(
                    "chain",
                    {
                        "keys": str(keys.directory),
                        "port": server.port,
                        "budget": args.chain_budget,
                        "repeats": args.chain_repeats,
                        "whatif": list(job),
                    },
                    timeout=300,
                )
                (chain_whatif_runs if job else chain_runs).append(result)
                if "error" in result:
                    log(f"round {index + 1}: chain failed: {result['error']}")
                continue
            config = job
            if not server.alive():
                raise RuntimeError(f"the replay server exited: {server.stderr_tail() or 'no message'}")
            spec = _spec_for(config, args, keys, server.port)
            before = server.cpu_seconds()
            result = run_worker(config.bench, spec, timeout=_timeout_for(spec["calls"]))
            after = server.cpu_seconds()
            load = _loadavg()
            result["loadavg_1m_after"] = load[0] if load else None  # how busy the machine was (noise)
            if "error" not in result and before is not None and after is not None:
                result["server_cpu_us"] = (after - before) / (spec["calls"] + spec["warmup"]) * 1e6
            round_runs[config.label] = result
            if "error" in result:
                log(f"round {index + 1}/{args.rounds} {config.label:<15} FAILED: {result['error']}")
            else:
                log(
                    f"round {index + 1}/{args.rounds} {config.label:<15} {rps(result):8,.0f} req/s "
                    f"{cpu_us(result):7,.0f} us CPU/call"
                )
        rounds.append(round_runs)
    rows = summarise_rows(configs, rounds, skipped)
    chain = summarise_chain(chain_runs) if args.chain else None
    out: dict[str, Any] = {
        "rows": rows,
        "chain": chain,
        "chain_runs": chain_runs,
        "targets": evaluate_targets(rounds, chain, None),
        "seconds": time.monotonic() - started,
        "seed": seed,
    }
    if args.whatif:
        chain_whatif = summarise_chain(chain_whatif_runs) if args.chain else None
        out["whatif"] = {
            "patches": args.whatif,
            "chain": chain_whatif,
            "chain_runs": chain_whatif_runs,
            "targets": evaluate_targets(rounds, chain_whatif, None, suffix=WHATIF_SUFFIX),
        }
    return out


def run_soak(args: argparse.Namespace, keys: Keys, server: ServerProcess) -> dict[str, Any]:
    spec = {
        "keys": str(keys.directory),
        "port": server.port,
        "calls": args.soak_calls,
        "concurrency": args.soak_concurrency,
        "warmup": max(args.warmup, 2 * args.soak_concurrency),
        "offload": args.soak_offload,
        "soak_samples": args.soak_samples,
    }
    log(f"soak: {args.soak_calls:,} calls at concurrency {args.soak_concurrency} ...")
    result = run_worker("soak", spec, timeout=120 + args.soak_calls * 0.02)
    if "error" in result:
        raise RuntimeError(f"soak failed: {result['error']}")
    result["concurrency"] = args.soak_concurrency
    soak = summarise_soak(result)
    return {"soak": soak, "targets": [v for v in evaluate_targets([], None, soak) if v["key"] == "soak"]}


def run_profile(args: argparse.Namespace, keys: Keys, server: ServerProcess) -> dict[str, Any]:
    config = BY_LABEL.get(args.profile)
    if config is None or config.bench == "node":
        raise SystemExit(
            f"--profile takes a Python bench label: {', '.join(k for k, c in BY_LABEL.items() if c.bench != 'node')}"
        )
    reason = config.requires()
    if reason:
        raise SystemExit(f"{config.label}: {reason}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    suffix = "txt" if args.profiler == "pyinstrument" else "prof"
    out = Path(args.profile_out or RESULTS_DIR / f"profile-{config.label}.{suffix}")
    spec = {**_spec_for(config, args, keys, server.port), "profile": str(out), "profiler": args.profiler}
    result = run_worker(config.bench, spec, timeout=_timeout_for(spec["calls"]) * 3)
    if "error" in result:
        raise RuntimeError(f"profile run failed: {result['error']}")
    log(f"{config.label}: {rps(result):,.0f} req/s, {cpu_us(result):,.0f} us CPU/call under the profiler")
    if args.profiler == "pyinstrument":
        print(out.read_text())
    else:
        import io
        import pstats

        buffer = io.StringIO()
        stats = pstats.Stats(str(out), stream=buffer)
        stats.strip_dirs().sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
        text = buffer.getvalue()
        out.with_suffix(".txt").write_text(text)
        print(text)
    log(f"profile written to {out}")
    return {"profile": str(out), "result": result}


def run_interleaved(args: argparse.Namespace, keys: Keys, server: ServerProcess) -> dict[str, Any]:
    """Each group's clients taking turns, each in its own worker; a fresh set of workers per round."""
    results: dict[str, list[Run]] = {}
    skipped: dict[str, str] = {}
    for group, clients in interleaved.GROUPS.items():
        present = []
        for client in clients:
            config = BY_LABEL.get(client[0])  # the "-again" twins of the raw client have no row of their own
            reason = config.requires() if config is not None else None
            if reason:
                skipped[client[0]] = reason
            else:
                present.append(client)
        concurrency = interleaved.CONCURRENCY[group]
        spec = {
            "keys": str(keys.directory),
            "port": server.port,
            "concurrency": concurrency,
            "warmup": max(args.warmup, 2 * concurrency),
        }
        blocks, block_calls = interleaved.BLOCKS[group], interleaved.BLOCK_CALLS[group]
        if args.quick:  # a smoke check: one turn each, a few calls
            blocks, block_calls = len(present), 2 * concurrency
        results[group] = []
        for number in range(1, args.rounds + 1):
            log(f"interleaved c={concurrency}, round {number}/{args.rounds}: {', '.join(c[0] for c in present)}")
            timeout = _timeout_for(block_calls + spec["warmup"])
            results[group].append(interleaved.take_turns(spec, present, blocks, block_calls, timeout))
    return {"interleaved": {**interleaved.summarise(results), "skipped": skipped}, "interleaved_runs": results}


def run_instructions(args: argparse.Namespace, keys: Keys, server: ServerProcess) -> dict[str, Any]:
    """Every c=1 Python bench twice under callgrind; the difference gives instructions per call."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind on PATH (Debian: apt-get install valgrind)")
    short, long = instructions.short_and_long(args.instructions_calls)
    uncounted = [label for label in args.only or () if label not in instructions.LABELS]
    if uncounted:
        raise SystemExit(
            f"--instructions counts only the c=1 Python rows ({', '.join(instructions.LABELS)}); "
            f"not: {', '.join(uncounted)}"
        )
    skipped: dict[str, str] = {}
    configs: list[Config] = []
    for label in instructions.LABELS:
        if args.only and label not in args.only:
            continue
        config = BY_LABEL[label]
        reason = config.requires()
        if reason:
            skipped[label] = reason
            continue
        configs.append(config)
        if args.whatif and config.group == "sdk":
            configs.append(config.twin(tuple(args.whatif)))
    jobs = [(config, calls) for config in configs for calls in (short, long)]

    def measure(job: tuple[Config, int], out_dir: Path) -> dict[str, int] | str:
        config, calls = job
        out_file = out_dir / f"{config.label}.{calls}.out"
        spec = {**_spec_for(config, args, keys, server.port), "calls": calls}
        # Under callgrind a worker takes tens of seconds to start and a call a fraction of one; generous.
        timeout = 10 * (20 + 0.3 * (calls + spec["warmup"]))
        log(f"callgrind {config.label}: {calls} calls ...")
        result = run_worker(config.bench, spec, timeout, instructions.valgrind_prefix(out_file, args.cache_sim))
        if "error" in result:
            return str(result["error"])
        try:
            return instructions.read_totals(out_file)
        except (OSError, ValueError) as exc:
            return str(exc)

    # Counts do not depend on what else runs, so the runs share the cores.
    with tempfile.TemporaryDirectory(prefix="wxpay-callgrind-") as tmp:
        pool = ThreadPoolExecutor(max_workers=max(1, args.jobs))
        try:
            totals = dict(zip(jobs, pool.map(measure, jobs, [Path(tmp)] * len(jobs)), strict=True))
        finally:
            pool.shutdown(cancel_futures=True)  # on Ctrl-C or SIGTERM, start no further valgrind runs
    measured: dict[str, dict[str, Any]] = {}
    for config in configs:
        first, second = totals[(config, short)], totals[(config, long)]
        if isinstance(first, str) or isinstance(second, str):
            measured[config.label] = {"error": first if isinstance(first, str) else second}
            continue
        per_call = instructions.per_call(first, second, long - short)
        measured[config.label] = {"per_call": per_call, "calls": [short, long], "totals": [first, second]}
    summary = instructions.summarise(measured)
    return {"instructions": {**summary, "skipped": skipped, "cache_sim": args.cache_sim}}


# -- environment --------------------------------------------------------------------------------------


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in (
        "wxpay-chain",
        "aiohttp",
        "yarl",
        "cryptography",
        "attrs",
        "cattrs",
        "wechatpayv3",
        "httpx",
        "requests",
    ):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    try:
        out["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        out["node"] = None
    lock = NODE_DIR / "node_modules" / "wechatpay-axios-plugin" / "package.json"
    out["wechatpay-axios-plugin"] = json.loads(lock.read_text())["version"] if lock.exists() else None
    return out


def _git_revision() -> str | None:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "wxpay_chain"],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=10,
        ).stdout.strip()
        return rev + ("+uncommitted changes in wxpay_chain/" if dirty else "") if rev else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def _loadavg() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except OSError:
        return None


# -- command line -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="wxpay_chain benchmarks against a local replay server (127.0.0.1 only).",
    )
    parser.add_argument("--json", metavar="FILE", help="write the full report as JSON")
    parser.add_argument("--png", metavar="FILE", help="write a chart (needs matplotlib; skipped with a note otherwise)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; every bench runs once per round (default 5)")
    parser.add_argument("--calls", type=int, default=800, help="timed calls per run at concurrency 1 (default 800)")
    parser.add_argument(
        "--calls32", type=int, default=1600, help="timed calls per run at concurrency 32 (default 1600)"
    )
    parser.add_argument("--warmup", type=int, default=40, help="untimed calls before each run (default 40)")
    parser.add_argument("--only", type=lambda s: [x for x in s.split(",") if x], help="comma-separated bench labels")
    parser.add_argument("--all", action="store_true", help="also run the extra rows (offload always, threaded sync)")
    parser.add_argument("--no-chain", dest="chain", action="store_false", help="skip the chain-building micro-bench")
    parser.add_argument("--chain-budget", type=float, default=0.05, help="seconds per timeit repeat (default 0.05)")
    parser.add_argument("--chain-repeats", type=int, default=7, help="timeit repeats per case (default 7)")
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the per-round bench order (default: a new one, printed)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke check: every bench, 1 round, a handful of calls")
    parser.add_argument("--soak", action="store_true", help="soak mode: RSS over --soak-calls calls (default 100,000)")
    parser.add_argument("--soak-calls", type=int, default=100_000)
    parser.add_argument("--soak-concurrency", type=int, default=32)
    parser.add_argument("--soak-offload", choices=("auto", "always", "never", "process"), default="auto")
    parser.add_argument("--soak-samples", type=int, default=20, help="RSS samples taken along the soak")
    parser.add_argument(
        "--whatif",
        type=lambda s: [x for x in s.split(",") if x],
        help="also run every SDK row (and chain building) with these benchmarks.whatif patches, as '+wi' rows",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per call of the c=1 rows under valgrind's callgrind (deterministic; slow)",
    )
    parser.add_argument(
        "--instructions-calls",
        type=int,
        default=250,
        help="calls of the long callgrind run; the short run makes a fifth of them (default 250)",
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="callgrind runs at a time (default: the CPU count)"
    )
    parser.add_argument("--cache-sim", action="store_true", help="with --instructions: also count L1 cache misses")
    parser.add_argument(
        "--interleaved",
        action="store_true",
        help="the SDK / raw ratios at c=1 and c=32 with the clients taking turns, each in its own worker, "
        "a block of calls at a time (--rounds sets of workers): ratios that keep little of the machine's drift",
    )
    parser.add_argument("--profile", metavar="LABEL", help="profile mode: run one Python bench under a profiler")
    parser.add_argument("--profiler", choices=("cprofile", "pyinstrument"), default="cprofile")
    parser.add_argument("--profile-out", metavar="FILE", help="where the profile goes (default benchmarks/results/)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.calls, args.calls32, args.warmup = 1, 20, 64, 4
        args.chain_budget, args.chain_repeats = 0.002, 3
        args.all = args.all or not args.only
        if args.soak and args.soak_calls == 100_000:
            args.soak_calls, args.soak_samples = 2_000, 5
    for name in ("rounds", "calls", "calls32", "soak_calls", "chain_repeats", "instructions_calls"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks: the server is stopped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    meta: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_start": _loadavg(),
        "git": _git_revision(),
        "versions": _versions(),
        "args": {k: v for k, v in vars(args).items()},
    }
    report: dict[str, Any] = {"meta": meta}
    with tempfile.TemporaryDirectory(prefix="wxpay-bench-") as tmp:
        keys = generate_keys(Path(tmp) / "keys")
        server = ServerProcess(keys, max_seconds=7200)
        try:
            server.start()
            log(f"replay server on 127.0.0.1:{server.port} (pid {server.process.pid if server.process else '?'})")
            if args.profile:
                report.update(run_profile(args, keys, server))
            elif args.soak:
                report.update(run_soak(args, keys, server))
            elif args.instructions:
                report.update(run_instructions(args, keys, server))
            elif args.interleaved:
                report.update(run_interleaved(args, keys, server))
            else:
                report.update(run_suite(args, keys, server))
        except KeyboardInterrupt:
            log("interrupted: stopping the server")
            return 130
        except RuntimeError as exc:
            log(f"benchmark aborted: {exc}")
            return 1
        finally:
            server.stop()
    meta["loadavg_end"] = _loadavg()
    if args.profile:
        return 0
    print()
    if "rows" in report:
        print(render_table(report["rows"]))
        print()
        print(render_chain(report["chain"]))
        print()
    if "soak" in report:
        print(render_soak(report["soak"]))
        print()
    if "instructions" in report:
        print(instructions.render(report["instructions"], report["instructions"]["skipped"]))
    elif "interleaved" in report:
        print(interleaved.render(report["interleaved"]))
        for label, reason in report["interleaved"]["skipped"].items():
            print(f"  skipped {label}: {reason}")
    else:
        print(render_targets(report["targets"]))
    if "whatif" in report:
        print()
        print(f"WHAT-IF (SDK patched in the worker process only, with: {', '.join(report['whatif']['patches'])})")
        print(render_chain(report["whatif"]["chain"]))
        print(render_targets(report["whatif"]["targets"]).replace("targets (", "what-if targets (", 1))
    print(
        f"\n{meta['cpus']} CPUs, load average {meta['loadavg_start']} -> {meta['loadavg_end']}; "
        f"wxpay_chain {meta['versions'].get('wxpay-chain')} at {meta['git']}; "
        + (f"suite took {report['seconds']:.0f} s" if "seconds" in report else "")
        + (f" (order: --seed {report['seed']})" if "seed" in report else "")
    )
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, default=str))
        print(f"JSON report: {path}")
    if args.png:
        if "rows" not in report:
            print("PNG skipped: the chart shows the suite's table (not written in --soak or --instructions mode)")
        else:
            note = write_png(Path(args.png), report["rows"], report["chain"])
            print(note or f"PNG chart: {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
