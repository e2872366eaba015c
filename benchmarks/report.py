"""Turning the collected runs into the table, the target verdicts, the JSON report and the PNG chart."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .suite import (
    CHAIN_CASES,
    CHAIN_TARGETS,
    FIGURES,
    RATIO_TARGETS,
    SOAK_OBJECT_LIMIT,
    SOAK_RSS_LIMIT,
    Config,
    Run,
    Target,
    cpu_us,
    paired_ratios,
    peak_mib,
    rps,
    summary,
    wall_ms,
)


def _fmt(value: float, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _ratio_text(stats: dict[str, float]) -> str:
    if not stats["n"]:
        return "-"
    return f"{stats['median']:.2f}"


def summarise_rows(
    configs: Sequence[Config], rounds: Sequence[dict[str, Run]], skipped: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Per row: medians over rounds of each figure, and per-round ratios against the raw baseline."""
    rows: dict[str, dict[str, Any]] = {}
    for config in configs:
        runs = [r[config.label] for r in rounds if config.label in r]
        good = [run for run in runs if "error" not in run]
        errors = [run["error"] for run in runs if "error" in run]
        row: dict[str, Any] = {
            "label": config.label,
            "title": config.title,
            "group": config.group,
            "concurrency": config.concurrency,
            "offload": config.offload if config.bench in ("sdk", "sdk_sync") else None,
            "reference": config.reference,
            "whatif": list(config.whatif),
            "skipped": skipped.get(config.label),
            "errors": errors,
            "runs": runs,
            "calls": good[0]["calls"] if good else 0,
            "cpu_us": summary([cpu_us(run) for run in good]),
            "loop_cpu_us": summary(
                [float(run["thread_cpu_s"]) / int(run["calls"]) * 1e6 for run in good if "thread_cpu_s" in run]
            ),
            # Share of the wall time the loop thread ran: well under 100% at c=32 means it waits on the signer.
            "loop_busy": summary(
                [float(run["thread_cpu_s"]) / float(run["wall_s"]) for run in good if "thread_cpu_s" in run]
            ),
            "cores": summary([_cores(run) for run in good]),
            "rps": summary([rps(run) for run in good]),
            "wall_ms": summary([wall_ms(run) for run in good]),
            "peak_delta_mib": summary([peak_mib(run) for run in good]),
            "server_cpu_us": summary([run["server_cpu_us"] for run in good if run.get("server_cpu_us") is not None]),
        }
        row["cpu_vs_raw"] = summary(paired_ratios(rounds, config.label, config.reference, cpu_us))
        row["rps_vs_raw"] = summary(paired_ratios(rounds, config.label, config.reference, rps))
        rows[config.label] = row
    return rows


def _cores(run: Run) -> float:
    """Cores kept busy during the run: the client's CPU (its threads and signing process) plus the server's."""
    server_s = float(run.get("server_cpu_us") or 0.0) * int(run["calls"]) / 1e6
    return (float(run["cpu_s"]) + server_s) / max(float(run["wall_s"]), 1e-9)


def ratio_verdict(target: Target, ratios: Sequence[float]) -> dict[str, Any]:
    """A ratio target judged on the median of ``ratios`` (one per round), with their spread."""
    stats = summary(ratios)
    value = stats["median"]
    return {
        "key": target.key,
        "target": f"{target.text} {'<=' if target.at_most else '>='} {target.limit:g}",
        "value": value,
        "spread": [stats["min"], stats["max"]],
        "rounds": len(ratios),
        # How often a single round would have said MET: near the line, noise decides a verdict.
        "rounds_met": sum(1 for ratio in ratios if target.passes(ratio)),
        "status": ("MET" if target.passes(value) else "MISSED") if ratios else "not measured",
        "margin": (value / target.limit - 1.0) if ratios else None,
    }


def evaluate_targets(
    rounds: Sequence[dict[str, Run]], chain: dict[str, Any] | None, soak: dict[str, Any] | None, suffix: str = ""
) -> list[dict[str, Any]]:
    """Verdicts; with ``suffix`` the SDK side of each ratio is the what-if twin row (``sdk-c1+wi``)."""
    verdicts: list[dict[str, Any]] = []
    for target in RATIO_TARGETS:
        ratios = paired_ratios(rounds, target.label + suffix, target.reference, FIGURES[target.figure])
        verdicts.append(ratio_verdict(target, ratios))
    for key, (text, limit_ns) in CHAIN_TARGETS.items():
        case = (chain or {}).get(key)
        if case is None:
            verdicts.append({"key": key, "target": f"{text} < {limit_ns / 1000:g} us", "status": "not measured"})
            continue
        value = case["median_ns"]
        verdicts.append(
            {
                "key": key,
                "target": f"{text} < {limit_ns / 1000:g} us",
                "value": value,
                "unit": "ns",
                "spread": [case["min_ns"], case["max_ns"]],
                "status": "MET" if value < limit_ns else "MISSED",
                "margin": value / limit_ns - 1.0,
            }
        )
    if suffix:
        return verdicts
    if soak is None:
        verdicts.append(
            {
                "key": "soak",
                "target": "memory flat over 100,000 calls",
                "status": "not run here (python -m benchmarks.run --soak)",
            }
        )
    else:
        verdicts.append(
            {
                "key": "soak",
                "target": (
                    f"memory flat over {soak['calls']:,} calls (RSS growth after warm-up <= "
                    f"{SOAK_RSS_LIMIT / 2**20:g} MiB and live objects <= +{SOAK_OBJECT_LIMIT})"
                ),
                "value": soak["rss_growth"],
                "unit": "bytes",
                "status": "MET" if soak["flat"] else "MISSED",
            }
        )
    return verdicts


def summarise_chain(runs: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    good = [run for run in runs if "error" not in run and "cases" in run]
    if not good:
        return None
    out: dict[str, Any] = {}
    for name in CHAIN_CASES:
        medians = [run["cases"][name]["median_ns"] for run in good if name in run["cases"]]
        mins = [run["cases"][name]["min_ns"] for run in good if name in run["cases"]]
        if medians:
            stats = summary(medians)
            out[name] = {
                "median_ns": stats["median"],
                "min_ns": min(mins),
                "max_ns": stats["max"],
                "rounds": len(medians),
            }
    return out


def summarise_soak(run: dict[str, Any]) -> dict[str, Any]:
    samples = run["samples"]
    calls = int(run["calls"])
    warm = next((s for s in samples if s["calls"] >= calls * 0.1), samples[0])
    tail = [s for s in samples if s["calls"] >= warm["calls"]]
    last = samples[-1]
    rss_growth = last["rss"] - warm["rss"]
    object_growth = last["objects"] - warm["objects"]
    xs = [s["calls"] for s in tail]
    ys = [s["rss"] for s in tail]
    slope = 0.0
    if len(xs) > 1:
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        var = sum((x - mean_x) ** 2 for x in xs)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0
    return {
        "calls": calls,
        "concurrency": run.get("concurrency"),
        "cpu_s": run["cpu_s"],
        "wall_s": run["wall_s"],
        "rps": calls / run["wall_s"] if run["wall_s"] else float("nan"),
        "warm_at_calls": warm["calls"],
        "rss_start": samples[0]["rss"],
        "rss_warm": warm["rss"],
        "rss_end": last["rss"],
        "rss_max": max(s["rss"] for s in tail),
        "rss_growth": rss_growth,
        "rss_slope_bytes_per_10k_calls": slope * 10_000,
        "objects_warm": warm["objects"],
        "objects_end": last["objects"],
        "object_growth": object_growth,
        "flat": rss_growth <= SOAK_RSS_LIMIT and object_growth <= SOAK_OBJECT_LIMIT,
        "samples": samples,
    }


# -- text ---------------------------------------------------------------------------------------------


def render_table(rows: dict[str, dict[str, Any]]) -> str:
    head = (
        f"{'bench':<15} {'what':<38} {'conc':>4} {'calls':>6} {'CPU us/call':>11} {'CPU xraw':>8} "
        f"{'loop us':>7} {'loop %':>6} {'cores':>5} {'wall ms/call':>12} {'req/s':>7} {'req/s xraw':>10} "
        f"{'peak dRSS MiB':>13} {'srv us':>6}  note"
    )
    lines = [head, "-" * len(head)]
    for label, row in rows.items():
        note = ""
        if row["skipped"]:
            note = "skipped: " + row["skipped"]
        elif row["errors"]:
            note = f"{len(row['errors'])} run(s) failed: {row['errors'][0][:60]}"
        elif row["group"] == "baseline":
            note = "baseline"
        elif row.get("whatif"):
            note = "WHAT-IF: " + ",".join(row["whatif"])
        has = bool(row["cpu_us"]["n"])
        lines.append(
            f"{label:<15} {row['title']:<38} {row['concurrency']:>4} {row['calls'] if has else '-':>6} "
            f"{_fmt(row['cpu_us']['median']) if has else '-':>11} "
            f"{_ratio_text(row['cpu_vs_raw']) if has else '-':>8} "
            f"{_fmt(row['loop_cpu_us']['median']) if row['loop_cpu_us']['n'] else '-':>7} "
            f"{_fmt(row['loop_busy']['median'] * 100) if row['loop_busy']['n'] else '-':>6} "
            f"{_fmt(row['cores']['median'], 2) if has else '-':>5} "
            f"{_fmt(row['wall_ms']['median'], 3) if has else '-':>12} "
            f"{_fmt(row['rps']['median']) if has else '-':>7} "
            f"{_ratio_text(row['rps_vs_raw']) if has else '-':>10} "
            f"{_fmt(row['peak_delta_mib']['median'], 1) if has else '-':>13} "
            f"{_fmt(row['server_cpu_us']['median']) if row['server_cpu_us']['n'] else '-':>6}  {note}"
        )
    return "\n".join(lines)


def render_chain(chain: dict[str, Any] | None) -> str:
    if not chain:
        return "chain building: not measured"
    lines = [f"{'chain building (timeit, ns per op)':<68} {'median':>8} {'best':>8}"]
    for name, text in CHAIN_CASES.items():
        case = chain.get(name)
        if case:
            lines.append(f"  {text:<66} {case['median_ns']:>8,.0f} {case['min_ns']:>8,.0f}")
    return "\n".join(lines)


def render_targets(verdicts: Sequence[dict[str, Any]]) -> str:
    lines = ["targets (ratios: median over rounds of the ratio within each round; [min-max])"]
    for v in verdicts:
        value = v.get("value")
        if value is None:
            shown = ""
        elif v.get("unit") == "ns":
            shown = f"{value:,.0f} ns [{v['spread'][0]:,.0f}-{v['spread'][1]:,.0f}]"
        elif v.get("unit") == "bytes":
            shown = f"{value / 2**20:+.2f} MiB"
        else:
            shown = (
                f"{value:.2f} [{v['spread'][0]:.2f}-{v['spread'][1]:.2f}] over {v['rounds']} rounds, "
                f"met in {v['rounds_met']}"
            )
        margin = v.get("margin")
        margin_text = f" ({margin:+.0%} vs target)" if margin is not None and v.get("unit") != "bytes" else ""
        lines.append(f"  [{v['status']}] {v['target']}" + (f": {shown}{margin_text}" if shown else ""))
    return "\n".join(lines)


def render_soak(soak: dict[str, Any]) -> str:
    mib = 2**20
    lines = [
        f"soak: {soak['calls']:,} calls of wxpay_chain AsyncClient at concurrency {soak['concurrency']}, "
        f"{soak['wall_s']:.1f} s ({soak['rps']:,.0f} req/s)",
        f"  RSS start {soak['rss_start'] / mib:.1f} MiB, after warm-up ({soak['warm_at_calls']:,} calls) "
        f"{soak['rss_warm'] / mib:.2f} MiB, end {soak['rss_end'] / mib:.2f} MiB, max {soak['rss_max'] / mib:.2f} MiB",
        f"  growth after warm-up {soak['rss_growth'] / mib:+.2f} MiB "
        f"(slope {soak['rss_slope_bytes_per_10k_calls'] / 1024:+.1f} KiB per 10k calls); live objects "
        f"{soak['objects_warm']:,} -> {soak['objects_end']:,} ({soak['object_growth']:+,})",
        "  verdict: " + ("flat" if soak["flat"] else "NOT flat"),
        "  samples (calls: RSS MiB / live objects): "
        + ", ".join(f"{s['calls']:,}: {s['rss'] / mib:.2f}/{s['objects']:,}" for s in soak["samples"]),
    ]
    return "\n".join(lines)


# -- chart --------------------------------------------------------------------------------------------


def write_png(path: Path, rows: dict[str, dict[str, Any]], chain: dict[str, Any] | None) -> str | None:
    """Bar charts of req/s and CPU per call (median, min-max whiskers). Returns a note if skipped."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "PNG skipped: matplotlib is not installed (pip install -r benchmarks/requirements.txt)"
    shown = [row for row in rows.values() if row["rps"]["n"] and row["group"] != "floor"]
    floor = [row for row in rows.values() if row["cpu_us"]["n"] and row["group"] == "floor"]
    colours = {"floor": "#999999", "baseline": "#4c72b0", "sdk": "#55a868", "peer": "#c44e52"}
    fig, axes = plt.subplots(1, 3, figsize=(18, 6.5), gridspec_kw={"width_ratios": [3, 3, 2]})
    for ax, key, title in (
        (axes[0], "rps", "requests per second (higher is better)"),
        (axes[1], "cpu_us", "client CPU per call, us (lower is better)"),
    ):
        chosen = shown if key == "rps" else shown + floor
        labels = [row["label"] for row in chosen]
        medians = [row[key]["median"] for row in chosen]
        lows = [row[key]["median"] - row[key]["min"] for row in chosen]
        highs = [row[key]["max"] - row[key]["median"] for row in chosen]
        ax.barh(labels, medians, xerr=[lows, highs], color=[colours[row["group"]] for row in chosen], capsize=3)
        for y, (value, high) in enumerate(zip(medians, highs, strict=True)):
            ax.text(value + high, y, f"  {value:,.0f}", va="center", fontsize=8)
        ax.invert_yaxis()
        ax.set_title(title)
        ax.grid(axis="x", alpha=0.3)
    if chain:
        names = [name for name in CHAIN_CASES if name in chain]
        values = [chain[name]["median_ns"] for name in names]
        axes[2].barh(names, values, color="#8172b2")
        for y, value in enumerate(values):
            axes[2].text(value, y, f" {value:,.0f}", va="center", fontsize=8)
        axes[2].axvline(1000, color="#c44e52", linestyle="--", linewidth=1, label="1 us (hop target)")
        axes[2].axvline(5000, color="#dd8452", linestyle="--", linewidth=1, label="5 us (expansion target)")
        axes[2].set_xscale("log")
        axes[2].invert_yaxis()
        axes[2].set_title("chain building, ns per op (median)")
        axes[2].legend(fontsize=8, loc="lower right")
    fig.suptitle("wxpay_chain benchmarks (local replay server, medians over rounds; whiskers: min-max)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None
