"""The pure part of the suite: the rows, the targets, and how a run's figures become the table.

Every figure of a round comes from one fresh worker process. Ratios are taken within a round (between
runs made minutes apart at most, under the same machine load) and only then summarised as a median.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Run = dict[str, Any]
Round = dict[str, Run]


@dataclass(frozen=True)
class Row:
    label: str
    bench: str  # the worker's bench, or "node"
    concurrency: int
    title: str
    needs: str | None = None  # "wpv3" or "node": run only when installed

    @property
    def reference(self) -> str:
        """The raw row this row's ratios are taken against (same concurrency)."""
        return "raw-c32" if self.concurrency > 1 else "raw-c1"


ROWS: tuple[Row, ...] = (
    Row("floor", "floor", 1, "floor: RSA-2048 sign + verify, no network"),
    Row("raw-c1", "raw", 1, "raw aiohttp, hand-written signing"),
    Row("raw-c32", "raw", 32, "raw aiohttp, hand-written signing"),
    Row("raw-pool-c32", "raw_pool", 32, "raw aiohttp, signing on the thread pool"),
    Row("sdk-c1", "sdk", 1, "wxpay_chain AsyncClient (defaults)"),
    Row("sdk-c32", "sdk", 32, "wxpay_chain AsyncClient (defaults)"),
    Row("sdk-process-c32", "sdk_process", 32, 'wxpay_chain AsyncClient, offload_crypto="process"'),
    Row("sdk-sync-c1", "sdk_sync", 1, "wxpay_chain Client (blocking)"),
    Row("wpv3-c1", "wpv3_async", 1, "wechatpayv3 AsyncWeChatPay (httpx)", "wpv3"),
    Row("wpv3-c32", "wpv3_async", 32, "wechatpayv3 AsyncWeChatPay (httpx)", "wpv3"),
    Row("node-c1", "node", 1, "node wechatpay-axios-plugin", "node"),
    Row("node-c32", "node", 32, "node wechatpay-axios-plugin", "node"),
)
BY_LABEL = {row.label: row for row in ROWS}


def cpu_us(run: Run) -> float:
    """Client CPU per call, in microseconds."""
    return float(run["cpu_s"]) / max(1, int(run["calls"])) * 1e6


def rps(run: Run) -> float:
    return int(run["calls"]) / max(float(run["wall_s"]), 1e-9)


FIGURES: dict[str, Callable[[Run], float]] = {"cpu": cpu_us, "rps": rps}


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def ratios(rounds: Sequence[Round], label: str, reference: str, figure: str) -> list[float]:
    """``figure(label) / figure(reference)`` within each round where both ran without error."""
    out = []
    for runs in rounds:
        a, b = runs.get(label), runs.get(reference)
        if a and b and "error" not in a and "error" not in b and FIGURES[figure](b) > 0:
            out.append(FIGURES[figure](a) / FIGURES[figure](b))
    return out


def summarise(rows: Sequence[Row], rounds: Sequence[Round], skipped: dict[str, str]) -> list[dict[str, Any]]:
    """Per row: medians over rounds of req/s and CPU per call, and of the per-round ratios to raw."""
    out = []
    for row in rows:
        runs = [r[row.label] for r in rounds if row.label in r]
        good = [run for run in runs if "error" not in run]
        out.append(
            {
                "label": row.label,
                "title": row.title,
                "concurrency": row.concurrency,
                "skipped": skipped.get(row.label),
                "errors": [run["error"] for run in runs if "error" in run],
                "rounds": len(good),
                "rps": median([rps(run) for run in good]),
                "rps_range": [min(map(rps, good)), max(map(rps, good))] if good else None,
                "cpu_us": median([cpu_us(run) for run in good]),
                "rps_vs_raw": median(ratios(rounds, row.label, row.reference, "rps")),
                "cpu_vs_raw": median(ratios(rounds, row.label, row.reference, "cpu")),
            }
        )
    return out


@dataclass(frozen=True)
class Target:
    text: str
    label: str
    reference: str
    figure: str  # cpu | rps
    limit: float
    at_most: bool = False  # True: value <= limit passes
    scale: tuple[str, str] | None = None  # the limit is limit x median(ratio of this pair)


TARGETS: tuple[Target, ...] = (
    Target("SDK CPU/call c=1 / raw c=1", "sdk-c1", "raw-c1", "cpu", 1.10, at_most=True),
    Target("SDK req/s c=32 / raw c=32", "sdk-c32", "raw-c32", "rps", 1.3),
    Target("SDK req/s c=32 / raw-pool c=32", "sdk-c32", "raw-pool-c32", "rps", 0.95),
    Target("SDK req/s c=32 / wechatpayv3 c=32", "sdk-c32", "wpv3-c32", "rps", 6.0),
    Target("SDK req/s c=1 / wechatpayv3 c=1", "sdk-c1", "wpv3-c1", "rps", 0.95, scale=("raw-c1", "wpv3-c1")),
    # Not a target of the defaults: whether the opt-in signing process earns its lines.
    Target('offload_crypto="process" req/s c=32 / raw c=32', "sdk-process-c32", "raw-c32", "rps", 1.3),
)


def verdict(target: Target, rounds: Sequence[Round]) -> dict[str, Any]:
    """The target judged on the median of its per-round ratios; ``rounds_met`` shows how close it is."""
    values = ratios(rounds, target.label, target.reference, target.figure)
    limit, limit_text = target.limit, f"{target.limit:g}"
    if target.scale is not None:
        base = median(ratios(rounds, *target.scale, target.figure))
        limit = target.limit * base
        limit_text = f"{target.limit:g} x raw/wechatpayv3 ({base:.2f}) = {limit:.2f}"

    def passes(value: float) -> bool:
        return value <= limit if target.at_most else value >= limit

    value = median(values)
    measured = bool(values) and not math.isnan(limit)
    return {
        "target": f"{target.text} {'<=' if target.at_most else '>='} {limit_text}",
        "value": value,
        "limit": limit,
        "rounds": len(values),
        "rounds_met": sum(map(passes, values)) if measured else 0,
        "status": ("met" if passes(value) else "MISSED") if measured else "not measured",
    }


SOAK_RSS_LIMIT = 2 * 2**20  # bytes of RSS growth after warm-up that still count as flat
SOAK_OBJECT_LIMIT = 500  # live gc-tracked objects of growth after warm-up that still count as flat


def soak_verdict(run: Run) -> dict[str, Any]:
    """Memory flat: RSS and live objects from the sample at 10% of the calls to the last one."""
    samples, calls = run["samples"], int(run["calls"])
    warm = next((s for s in samples if s["calls"] >= calls * 0.1), samples[0])
    last = samples[-1]
    rss_growth, object_growth = last["rss"] - warm["rss"], last["objects"] - warm["objects"]
    flat = rss_growth <= SOAK_RSS_LIMIT and object_growth <= SOAK_OBJECT_LIMIT
    return {
        "target": f"memory flat over {calls:,} SDK calls at c={run['concurrency']} "
        f"(growth after {warm['calls']:,} calls <= {SOAK_RSS_LIMIT / 2**20:g} MiB RSS, "
        f"<= {SOAK_OBJECT_LIMIT} objects)",
        "value": f"RSS {warm['rss'] / 2**20:.1f} -> {last['rss'] / 2**20:.1f} MiB ({rss_growth / 2**20:+.2f}), "
        f"objects {warm['objects']:,} -> {last['objects']:,} ({object_growth:+,}); {rps(run):,.0f} req/s",
        "rss_growth": rss_growth,
        "object_growth": object_growth,
        "status": "met" if flat else "MISSED",
    }


# -- text ------------------------------------------------------------------------------------------


def _num(value: float, digits: int = 0) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def render_table(summary: Sequence[dict[str, Any]]) -> str:
    """A Markdown table: paste it into the README as is."""
    lines = [
        "| row | client | c | req/s | CPU µs/call | req/s ÷ raw | CPU ÷ raw |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for row in summary:
        head = f"| {row['label']} | {row['title']} | {row['concurrency']} |"
        if row["skipped"] or not row["rounds"]:
            why = f"skipped: {row['skipped']}" if row["skipped"] else f"failed: {'; '.join(row['errors'])[:120]}"
            lines.append(f"{head} {why} | | | |")
            continue
        lines.append(
            f"{head} {_num(row['rps'])} | {_num(row['cpu_us'])} | "
            f"{_num(row['rps_vs_raw'], 2)} | {_num(row['cpu_vs_raw'], 2)} |"
        )
    return "\n".join(lines)


def render_targets(verdicts: Sequence[dict[str, Any]], rounds: int) -> str:
    lines = [f"Targets (median of per-round ratios over {rounds} round(s); [rounds met]):"]
    for v in verdicts:
        value = v["value"] if isinstance(v["value"], str) else _num(v["value"], 2)
        met = f" [{v['rounds_met']}/{v['rounds']}]" if "rounds_met" in v and v["rounds"] else ""
        lines.append(f"  {v['status']:<16} {v['target']}: {value}{met}")
    return "\n".join(lines)
