"""``--interleaved``: the c=1 clients take turns in one worker process, a short block each.

The suite's rows run one after another, a second or two each, and this machine's speed drifts by tens
of percent over that time (the floor alone spent 279–453 µs per call from one worker to the next).
Here every client runs ``block_calls`` calls in turn, the order rotating by one each block, so they all
meet the same drift; a ratio of their sums keeps little of it. The raw client runs twice
(``…-again``): that A/A ratio shows what noise is left. Each round is a fresh worker.

In one process the clients share the heap and the caches, which the suite's rows do not; the figures
are a complement to the suite's, not a replacement.
"""

from __future__ import annotations

from typing import Any

from .report import ratio_verdict, render_targets
from .suite import RATIO_TARGETS, Target, summary

Client = tuple[str, str, str]  # label, worker client kind, offload_crypto

# Only c=1. At c=32 the SDK's signing thread would share the process with the other clients, and that
# changes what is measured: req/s 1.07-1.26 x raw in five such workers, 1.14-1.37 in the suite's own.
GROUPS: dict[str, tuple[Client, ...]] = {
    "c1": (
        ("raw-c1", "raw", "auto"),
        ("raw-c1-again", "raw", "auto"),
        ("sdk-c1", "sdk", "auto"),
        ("wpv3-async-c1", "wpv3_async", "auto"),
    ),
}
CONCURRENCY = {"c1": 1}
BLOCK_CALLS = {"c1": 20}  # about 15 ms of the raw client
BLOCKS = {"c1": 48}  # a multiple of 3 and 4 clients, so each takes every place in the turn equally often
REFERENCE = {"c1": "raw-c1"}

Result = dict[str, Any]


def cpu_us(result: Result, label: str) -> float:
    """CPU per call over every block."""
    blocks = result["cpu_s"][label]
    return sum(blocks) / (len(blocks) * int(result["block_calls"])) * 1e6


def rps(result: Result, label: str) -> float:
    blocks = result["wall_s"][label]
    return len(blocks) * int(result["block_calls"]) / max(sum(blocks), 1e-9)


def ratio(result: Result, label: str, reference: str, figure: str) -> float:
    """``figure(label) / figure(reference)`` over the sums of one worker's blocks."""
    measure = cpu_us if figure == "cpu" else rps
    return measure(result, label) / measure(result, reference)


def block_ratios(result: Result, label: str, reference: str, figure: str) -> list[float]:
    """The same ratio block by block: its spread shows how far one short comparison can be off."""
    if figure == "cpu":
        return [a / b for a, b in zip(result["cpu_s"][label], result["cpu_s"][reference], strict=True) if b > 0]
    # A rate is calls over wall time, so the ratio of rates is the inverse ratio of wall times.
    return [b / a for a, b in zip(result["wall_s"][label], result["wall_s"][reference], strict=True) if a > 0]


def _targets_for(labels: set[str]) -> list[Target]:
    return [t for t in RATIO_TARGETS if t.label in labels and t.reference in labels]


def summarise(results: dict[str, list[Result]]) -> dict[str, Any]:
    """Per group: each client's figures and its ratios to the group's raw client, over rounds (workers)."""
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
            f"interleaved, c={group[1:]}: {data['rounds']} worker(s) x {data['blocks']} blocks of "
            f"{data['block_calls']} calls per client (median over workers [min-max])"
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
            "targets, interleaved (a round is one worker; its ratio is of sums over its blocks;",
        )
    )
    return "\n".join(lines)


def _with_range(stats: dict[str, float]) -> str:
    if not stats["n"]:
        return "-"
    return f"{stats['median']:.3f} [{stats['min']:.2f}-{stats['max']:.2f}]"
