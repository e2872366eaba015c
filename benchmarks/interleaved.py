"""``--interleaved``: the clients of a comparison take turns, a block of calls each.

The suite's rows run one after another, a second or two each, and this machine's speed drifts by tens
of percent over that time (the floor alone spent 279–453 µs per call from one worker to the next). Here
each client runs in its own warm worker process (``worker.serve_blocks``) and makes ``block_calls``
calls when its turn comes; the order rotates by one client every block, so all of them meet the same
drift and a ratio of their sums keeps little of it. The raw client runs twice (``…-again``): that A/A
ratio shows what noise is left. A round is one such set of workers, started afresh.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from typing import IO, Any

from ._common import REPO_ROOT, child_env
from .report import ratio_verdict, render_targets
from .suite import FIGURES, RATIO_TARGETS, Run, Target, summary

Client = tuple[str, str, str]  # label, worker client kind, offload_crypto

# Not wechatpayv3: its calls cost ~13% more CPU when they come in blocks with pauses between them
# (1,932-1,988 µs against 1,597-1,838 back to back; raw and the SDK showed no such difference), so
# taking turns would judge it on worse terms than the suite's continuous calls.
GROUPS: dict[str, tuple[Client, ...]] = {
    "c1": (
        ("raw-c1", "raw", "auto"),
        ("raw-c1-again", "raw", "auto"),
        ("sdk-c1", "sdk", "auto"),
    ),
    "c32": (
        ("raw-c32", "raw", "auto"),
        ("raw-c32-again", "raw", "auto"),
        ("sdk-c32-auto", "sdk", "auto"),
        ("sdk-c32-process", "sdk", "process"),
    ),
}
CONCURRENCY = {"c1": 1, "c32": 32}
# Short against the drift, long against what starts and ends a block: cold caches at c=1 (40 calls,
# ~30 ms); at c=32 the filling and draining of 32 calls in flight, when a signing thread or process
# has less to overlap. 640-call blocks put the offloading modes 10-20% lower than 1,600-call ones,
# the length of the suite's runs; a service under steady load has no such edges at all.
BLOCK_CALLS = {"c1": 40, "c32": 1600}
BLOCKS = {"c1": 24, "c32": 4}  # multiples of the number of clients: each takes every place in the turn alike
REFERENCE = {"c1": "raw-c1", "c32": "raw-c32"}

Result = dict[str, Any]


def _totals(result: Result, label: str) -> Run:
    """One client's blocks summed into a run, so the suite's own figures apply to it."""
    calls = len(result["cpu_s"][label]) * int(result["block_calls"])
    return {"calls": calls, "cpu_s": sum(result["cpu_s"][label]), "wall_s": sum(result["wall_s"][label])}


def cpu_us(result: Result, label: str) -> float:
    """CPU per call over every block."""
    return FIGURES["cpu"](_totals(result, label))


def rps(result: Result, label: str) -> float:
    return FIGURES["rps"](_totals(result, label))


def ratio(result: Result, label: str, reference: str, figure: str) -> float:
    """``figure(label) / figure(reference)`` over the sums of one round's blocks."""
    measure = FIGURES[figure]
    return measure(_totals(result, label)) / measure(_totals(result, reference))


def take_turns(spec: dict[str, Any], clients: list[Client], blocks: int, block_calls: int, timeout: float) -> Result:
    """One worker per client, warm, then ``blocks`` rounds of turns; CPU and wall time per block."""
    with tempfile.TemporaryFile() as errors:  # every worker's stderr, for the message if one fails
        return _take_turns(spec, clients, blocks, block_calls, timeout, errors)


def _take_turns(
    spec: dict[str, Any], clients: list[Client], blocks: int, block_calls: int, timeout: float, errors: IO[bytes]
) -> Result:
    workers: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for label, kind, offload in clients:
            command = json.dumps({**spec, "bench": "blocks", "client": kind, "offload": offload})
            workers[label] = worker = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.worker", command],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                cwd=REPO_ROOT,
                env=child_env(),
            )
        for label, worker in workers.items():
            if _reply(worker, label, timeout) != b"READY":
                return {"error": f"{label}: the worker did not start; {_last_line(errors)}"}
        cpu: dict[str, list[float]] = {label: [] for label in workers}
        wall: dict[str, list[float]] = {label: [] for label in workers}
        order: list[list[str]] = []
        for block in range(blocks):
            turn = block % len(clients)
            order.append([label for label, _, _ in clients[turn:] + clients[:turn]])
            for label in order[-1]:
                worker = workers[label]
                assert worker.stdin is not None
                worker.stdin.write(b"%d\n" % block_calls)
                worker.stdin.flush()
                reply = _reply(worker, label, timeout)
                if not reply:
                    return {"error": f"{label}: the worker stopped in block {block + 1}; {_last_line(errors)}"}
                figures = json.loads(reply)
                cpu[label].append(float(figures["cpu_s"]))
                wall[label].append(float(figures["wall_s"]))
        return {
            "block_calls": block_calls,
            "concurrency": spec["concurrency"],
            "cpu_s": cpu,
            "wall_s": wall,
            "order": order,
        }
    except OSError as exc:  # a timeout, or a worker gone before it read its command
        return {"error": f"{exc}; {_last_line(errors)}"}
    finally:
        for worker in workers.values():
            _stop(worker)


def _last_line(stream: IO[bytes]) -> str:
    stream.seek(0)
    lines = [line for line in stream.read().decode(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def _reply(worker: subprocess.Popen[bytes], label: str, timeout: float) -> bytes:
    """The worker's next line (without the newline); b"" if it ended. Outside the timed part."""
    assert worker.stdout is not None
    line = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(worker.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(timeout=remaining):
                raise TimeoutError(f"{label}: no answer within {timeout:.0f} s")
            chunk = os.read(worker.stdout.fileno(), 4096)
            if not chunk:
                return b""
            line += chunk
    return line.strip()


def _stop(worker: subprocess.Popen[bytes]) -> None:
    try:
        if worker.stdin is not None:
            worker.stdin.close()  # an empty read: the worker leaves its loop and closes its client
        worker.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        worker.kill()
        worker.wait(timeout=10)
    finally:
        if worker.stdout is not None:
            worker.stdout.close()


def block_ratios(result: Result, label: str, reference: str, figure: str) -> list[float]:
    """The same ratio block by block: its spread shows how far one short comparison can be off."""
    if figure == "cpu":
        return [a / b for a, b in zip(result["cpu_s"][label], result["cpu_s"][reference], strict=True) if b > 0]
    # A rate is calls over wall time, so the ratio of rates is the inverse ratio of wall times.
    return [b / a for a, b in zip(result["wall_s"][label], result["wall_s"][reference], strict=True) if a > 0]


def _targets_for(labels: set[str]) -> list[Target]:
    return [t for t in RATIO_TARGETS if t.label in labels and t.reference in labels]


def summarise(results: dict[str, list[Result]]) -> dict[str, Any]:
    """Per group: each client's figures and its ratios to the group's raw client, over rounds."""
    groups: dict[str, Any] = {}
    verdicts: list[dict[str, Any]] = []
    for group, runs in results.items():
        good = [run for run in runs if "error" not in run]
        labels = list(good[0]["cpu_s"]) if good else []
        reference = REFERENCE[group]
        clients = {}
        for label in labels:
            per_block = [r for run in good for r in block_ratios(run, label, reference, "cpu")]
            clients[label] = {
                "cpu_us": summary([cpu_us(run, label) for run in good]),
                "rps": summary([rps(run, label) for run in good]),
                "cpu_vs_raw": summary([ratio(run, label, reference, "cpu") for run in good]),
                "rps_vs_raw": summary([ratio(run, label, reference, "rps") for run in good]),
                "cpu_vs_raw_blocks": summary(per_block),
            }
        groups[group] = {
            "clients": clients,
            "rounds": len(good),
            "errors": [run["error"] for run in runs if "error" in run],
            "block_calls": good[0]["block_calls"] if good else None,
            "blocks": len(good[0]["cpu_s"][labels[0]]) if good and labels else 0,
        }
        for target in _targets_for(set(labels)):
            verdicts.append(
                ratio_verdict(target, [ratio(run, target.label, target.reference, target.figure) for run in good])
            )
    return {"groups": groups, "targets": verdicts}


def render(report: dict[str, Any]) -> str:
    lines = []
    for group, data in report["groups"].items():
        lines.append(
            f"interleaved, c={group[1:]}: {data['rounds']} round(s) x {data['blocks']} blocks of "
            f"{data['block_calls']} calls per client (median over rounds [min-max])"
        )
        lines.append(
            f"  {'client':<16} {'CPU us/call':>11} {'CPU xraw':>18} {'per block':>18} {'req/s':>7} {'req/s xraw':>18}"
        )
        for label, c in data["clients"].items():
            lines.append(
                f"  {label:<16} {c['cpu_us']['median']:>11,.0f} {_with_range(c['cpu_vs_raw']):>18} "
                f"{_with_range(c['cpu_vs_raw_blocks']):>18} {c['rps']['median']:>7,.0f} "
                f"{_with_range(c['rps_vs_raw']):>18}"
            )
        for error in data["errors"]:
            lines.append(f"  a worker failed: {error[:100]}")
        lines.append("")
    lines.append(
        render_targets(report["targets"]).replace(
            "targets (ratios: median over rounds of the ratio within each round;",
            "targets, interleaved (a round's ratio is of sums over its blocks;",
        )
    )
    return "\n".join(lines)


def _with_range(stats: dict[str, float]) -> str:
    if not stats["n"]:
        return "-"
    return f"{stats['median']:.3f} [{stats['min']:.2f}-{stats['max']:.2f}]"
