"""Instructions per call, counted by valgrind's callgrind: a figure the machine's load does not move.

On a shared machine the same code measures 13 to 23 µs of Python per call from one process to the next,
which is more than the gaps the c=1 targets are about. Callgrind counts the instructions a process
executes: the same for the same code and inputs, whatever else the machine does. Each c=1 worker runs
twice under it, with a short and a long timed loop; the difference, divided by the difference in calls,
is the instructions per call, with start-up, imports and warm-up cancelled out.

It counts user-space instructions only. Kernel time (system calls), cache misses and waits for the GIL
are not in it, so it explains the CPU target and tells noise from change; it does not replace it. And
valgrind hides AVX-512 and ADX from the program, so OpenSSL's RSA runs another code path than natively:
the count above the floor (everything but the RSA) is the part that compares clients.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .suite import WHATIF_SUFFIX

# c=1 rows only: under valgrind threads take turns, so figures at concurrency 32 would mean nothing.
LABELS = ("floor", "raw-c1", "sdk-c1", "sdk-sync-c1", "wpv3-async-c1", "wpv3-sync-c1")
# With --cache-sim: first-level instruction and data read misses, what more code touched costs.
EVENTS = ("Ir", "I1mr", "D1mr")


def read_totals(path: Path) -> dict[str, int]:
    """The whole-run event counts of a callgrind output file (its ``events:`` and ``summary:`` lines)."""
    names: list[str] = []
    totals: list[int] = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("events:"):
            names = line.split()[1:]
        elif re.match(r"(summary|totals):", line):
            totals = [int(x) for x in line.split()[1:]]
            break
    if not names or len(totals) != len(names):
        raise ValueError(f"{path}: no events/summary lines, not a callgrind output file")
    return dict(zip(names, totals, strict=True))


def per_call(short: Mapping[str, int], long: Mapping[str, int], extra_calls: int) -> dict[str, float]:
    """Events per call from two runs that differ only by ``extra_calls`` timed calls."""
    if extra_calls <= 0:
        raise ValueError("the long run must make more calls than the short one")
    return {name: (long[name] - short[name]) / extra_calls for name in EVENTS if name in long and name in short}


def summarise(measured: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Ratios against raw-c1, in all and above the floor (the SDK against the peers too), keyed by label."""

    def ir(label: str) -> float | None:
        row = measured.get(label)
        return None if not row or "error" in row else float(row["per_call"]["Ir"])

    raw, sdk, floor = ir("raw-c1"), ir("sdk-c1"), ir("floor")
    rows = {}
    for label, row in measured.items():
        count = ir(label)
        above = count - floor if count is not None and floor is not None else None
        rows[label] = {
            **row,
            "above_floor": above,
            "x_raw": count / raw if count is not None and raw else None,
        }
    ratios: dict[str, float] = {}
    if sdk is not None and raw:
        ratios["sdk-c1 / raw-c1, all instructions"] = sdk / raw
        if floor is not None and raw > floor:
            ratios["sdk-c1 / raw-c1, above the floor (all but the RSA)"] = (sdk - floor) / (raw - floor)
    for label in measured:
        base = label.removesuffix(WHATIF_SUFFIX)
        patched, unpatched = ir(label), ir(base)
        if label != base and patched is not None and unpatched is not None and floor is not None:
            ratios[f"{label} / {base}, above the floor"] = (patched - floor) / (unpatched - floor)
    for peer in ("wpv3-async-c1", "wpv3-sync-c1"):
        count = ir(peer)
        if count is not None and sdk:
            ratios[f"{peer} / sdk-c1, all instructions"] = count / sdk
            if floor is not None and sdk > floor:
                ratios[f"{peer} / sdk-c1, above the floor"] = (count - floor) / (sdk - floor)
    return {"rows": rows, "ratios": ratios}


def render(summary: Mapping[str, Any], skipped: Mapping[str, str]) -> str:
    rows: Mapping[str, Mapping[str, Any]] = summary["rows"]
    cache = any("I1mr" in row.get("per_call", {}) for row in rows.values())
    head = f"{'bench':<15} {'instructions/call':>18} {'above floor':>12} {'x raw':>7}"
    if cache:
        head += f" {'I1 misses/call':>15} {'D1 read misses/call':>20}"
    lines = ["instructions per call (valgrind --tool=callgrind; user space only)", head, "-" * len(head)]
    for label in (name for base in LABELS for name in (base, base + WHATIF_SUFFIX)):
        if label in skipped:
            lines.append(f"{label:<15} skipped: {skipped[label]}")
            continue
        row = rows.get(label)
        if row is None:
            continue
        if "error" in row:
            lines.append(f"{label:<15} FAILED: {row['error']}")
            continue
        counts = row["per_call"]
        x_raw = f"{row['x_raw']:.3f}" if row.get("x_raw") else "-"
        above = f"{row['above_floor']:,.0f}" if row.get("above_floor") is not None else "-"
        line = f"{label:<15} {counts['Ir']:>18,.0f} {above:>12} {x_raw:>7}"
        if cache:
            line += f" {counts.get('I1mr', 0):>15,.0f} {counts.get('D1mr', 0):>20,.0f}"
        lines.append(line)
    for name, value in summary["ratios"].items():
        lines.append(f"  {name}: {value:.3f}")
    lines.append(
        "  (valgrind hides AVX-512 and ADX from the program, so the RSA takes another code path than natively;"
        " compare the counts above the floor)"
    )
    return "\n".join(lines)


def short_and_long(calls: int) -> tuple[int, int]:
    """The two loop lengths: the short run a fifth of the long one (at least one call apart)."""
    short = max(1, calls // 5)
    return short, max(calls, short + 1)


def valgrind_prefix(out_file: Path, cache_sim: bool) -> list[str]:
    return [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out_file}",
        f"--cache-sim={'yes' if cache_sim else 'no'}",
    ]
