"""The benchmark suite's pure parts (ratios, medians, verdicts, the table) and one --quick smoke run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.report import (
    BY_LABEL,
    ROWS,
    TARGETS,
    Target,
    cpu_us,
    median,
    ratios,
    render_table,
    render_targets,
    rps,
    soak_verdict,
    summarise,
    verdict,
)

REPO = Path(__file__).resolve().parent.parent


def run(calls: int, wall_s: float, cpu_s: float) -> dict[str, float]:
    return {"calls": calls, "wall_s": wall_s, "cpu_s": cpu_s}


def test_figures_and_median() -> None:
    assert rps(run(100, 0.5, 0.1)) == 200
    assert cpu_us(run(100, 0.5, 0.1)) == pytest.approx(1000)
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0]) == 1.5
    assert math.isnan(median([]))


def test_ratios_are_paired_within_rounds_and_skip_errors() -> None:
    rounds = [
        {"a": run(100, 1.0, 1.0), "b": run(100, 2.0, 1.0)},  # a twice b's req/s
        {"a": run(100, 1.0, 1.0), "b": {"error": "boom"}},
        {"a": run(100, 1.0, 3.0), "b": run(100, 4.0, 1.0)},
        {"b": run(100, 1.0, 1.0)},
    ]
    assert ratios(rounds, "a", "b", "rps") == [2.0, 4.0]
    assert ratios(rounds, "a", "b", "cpu") == [1.0, 3.0]


def test_every_target_names_existing_rows() -> None:
    for target in TARGETS:
        assert target.label in BY_LABEL and target.reference in BY_LABEL
        assert all(label in BY_LABEL for label in target.scale or ())
    assert {row.reference for row in ROWS} == {"raw-c1", "raw-c32"}


def test_verdict_met_missed_and_not_measured() -> None:
    at_most = Target("cpu", "a", "b", "cpu", 1.10, at_most=True)
    rounds = [{"a": run(10, 1, cpu), "b": run(10, 1, 1.0)} for cpu in (1.0, 1.05, 1.2)]
    met = verdict(at_most, rounds)
    assert met["status"] == "met" and met["value"] == pytest.approx(1.05)
    assert (met["rounds_met"], met["rounds"]) == (2, 3)
    at_least = Target("rps", "a", "b", "rps", 1.3)
    assert verdict(at_least, [{"a": run(10, 1.0, 1), "b": run(10, 1.2, 1)}])["status"] == "MISSED"
    assert verdict(at_least, [{"a": run(10, 1.0, 1)}])["status"] == "not measured"


def test_scaled_verdict_compares_with_the_reference_pair() -> None:
    target = Target("sdk/peer", "sdk", "peer", "rps", 0.95, scale=("raw", "peer"))
    rounds = [{"sdk": run(90, 1, 1), "raw": run(100, 1, 1), "peer": run(40, 1, 1)}]
    result = verdict(target, rounds)  # sdk/peer 2.25 < 0.95 x raw/peer (2.5) = 2.375
    assert result["limit"] == pytest.approx(0.95 * 2.5)
    assert result["status"] == "MISSED"
    rounds[0]["sdk"] = run(96, 1, 1)
    assert verdict(target, rounds)["status"] == "met"


def test_soak_verdict() -> None:
    samples = [
        {"calls": c, "rss": 50 * 2**20 + c * 4, "objects": 10_000 + c // 1000} for c in range(0, 100_001, 10_000)
    ]
    flat = soak_verdict({"calls": 100_000, "wall_s": 50.0, "cpu_s": 40.0, "concurrency": 32, "samples": samples})
    assert flat["status"] == "met" and flat["rss_growth"] == 90_000 * 4
    samples[-1] = {**samples[-1], "rss": 60 * 2**20}
    grown = soak_verdict({"calls": 100_000, "wall_s": 50.0, "cpu_s": 40.0, "concurrency": 32, "samples": samples})
    assert grown["status"] == "MISSED"


def test_render_table_and_targets() -> None:
    rows = [BY_LABEL["raw-c1"], BY_LABEL["sdk-c1"], BY_LABEL["wpv3-c1"]]
    rounds = [{"raw-c1": run(100, 0.1, 0.05), "sdk-c1": run(100, 0.125, 0.055)}]
    summary = summarise(rows, rounds, {"wpv3-c1": "not installed: wechatpayv3"})
    table = render_table(summary)
    lines = table.splitlines()
    assert lines[0].startswith("| row | client | c | req/s | CPU µs/call |")
    assert "| raw-c1 | raw aiohttp, hand-written signing | 1 | 1,000 | 500 | 1.00 | 1.00 |" in lines
    assert "| sdk-c1 | wxpay_chain AsyncClient (defaults) | 1 | 800 | 550 | 0.80 | 1.10 |" in lines
    assert any("skipped: not installed: wechatpayv3" in line for line in lines)
    text = render_targets([verdict(t, rounds) for t in TARGETS], 1)
    assert "met" in text and "not measured" in text


def test_quick_run_prints_the_table(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--only", "sdk-c1,sdk-c32", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "| sdk-c32 | wxpay_chain AsyncClient (defaults) | 32 |" in proc.stdout
    assert "Targets (" in proc.stdout
    report = json.loads(out.read_text())
    assert [row["label"] for row in report["rows"]] == ["raw-c1", "raw-c32", "sdk-c1", "sdk-c32"]
    assert all(row["rounds"] == 1 for row in report["rows"])
