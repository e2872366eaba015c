"""The suite's verdicts: a ratio target is judged on the median over rounds, and says how many rounds met it."""

from __future__ import annotations

import pytest

from benchmarks.report import evaluate_targets, render_targets


def _run(cpu_s: float, wall_s: float = 1.0) -> dict[str, float]:
    return {"calls": 1000, "cpu_s": cpu_s, "wall_s": wall_s}


def test_cpu_target_counts_the_rounds_that_met_it() -> None:
    # SDK CPU / raw CPU per round: 1.05, 1.12, 1.08, 1.15, 1.02 -> median 1.08, three of five at or under 1.10.
    rounds = [{"raw-c1": _run(1.0), "sdk-c1": _run(ratio)} for ratio in (1.05, 1.12, 1.08, 1.15, 1.02)]
    verdict = next(v for v in evaluate_targets(rounds, None, None) if v["key"] == "cpu_c1_vs_raw")
    assert verdict["status"] == "MET"
    assert verdict["value"] == pytest.approx(1.08)
    assert (verdict["rounds"], verdict["rounds_met"]) == (5, 3)
    assert "1.08 [1.02-1.15] over 5 rounds, met in 3" in render_targets([verdict])


def test_rate_target_is_missed_below_the_line() -> None:
    # req/s is calls / wall: the SDK at c=32 takes 1/1.2 of raw's wall time in every round.
    rounds = [{"raw-c32": _run(1.0, 1.2), "sdk-c32-auto": _run(1.0, 1.0)} for _ in range(3)]
    verdict = next(v for v in evaluate_targets(rounds, None, None) if v["key"] == "rps_c32_vs_raw")
    assert verdict["status"] == "MISSED"
    assert verdict["rounds_met"] == 0
