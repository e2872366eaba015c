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


def test_table_shows_how_busy_the_loop_thread_was() -> None:
    # The loop thread ran 0.45 s of the 1.0 s wall time in one round and 0.55 s in the other: median 50%.
    from benchmarks.report import render_table, summarise_rows
    from benchmarks.suite import BY_LABEL

    rounds = [
        {"sdk-c32-auto": {**_run(1.3, 1.0), "thread_cpu_s": busy}, "raw-c32": _run(1.0, 1.3)} for busy in (0.45, 0.55)
    ]
    rows = summarise_rows([BY_LABEL["raw-c32"], BY_LABEL["sdk-c32-auto"]], rounds, {})
    assert rows["sdk-c32-auto"]["loop_busy"]["median"] == pytest.approx(0.50)
    assert rows["raw-c32"]["loop_busy"]["n"] == 0  # no thread figure, no column value
    header, _, raw_line, sdk_line = render_table(rows).splitlines()
    column = header.index("loop %")
    assert sdk_line[column : column + 6].strip() == "50"
    assert raw_line[column : column + 6].strip() == "-"


def test_cores_count_the_client_and_the_server() -> None:
    # 1.3 s of client CPU and 1,000 calls x 200 us of server CPU over 1.0 s of wall time: 1.5 cores.
    from benchmarks.report import render_table, summarise_rows
    from benchmarks.suite import BY_LABEL

    rounds = [{"raw-c32": {**_run(1.3, 1.0), "server_cpu_us": 200.0}}]
    rows = summarise_rows([BY_LABEL["raw-c32"]], rounds, {})
    assert rows["raw-c32"]["cores"]["median"] == pytest.approx(1.5)
    header, _, line = render_table(rows).splitlines()
    column = header.index("cores")
    assert line[column : column + 5].strip() == "1.50"
