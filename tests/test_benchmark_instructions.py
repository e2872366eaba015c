"""The --instructions mode's arithmetic: callgrind totals in, instructions per call and ratios out."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import instructions

# The head of a real callgrind output file (--cache-sim=yes), cut short.
HEAD = """# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  python -m benchmarks.worker {...}

positions: line
events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
summary: 2276672562 667569010 218684665 10354379 10216391 2061178 32465 113715 328656


totals: 2276672560 667569010 218684665 10354378 10216391 2061178 32464 113715 328656
"""


def test_read_totals_takes_the_summary_line_by_event_name(tmp_path: Path) -> None:
    path = tmp_path / "callgrind.out"
    path.write_text(HEAD)
    totals = instructions.read_totals(path)
    assert totals["Ir"] == 2_276_672_562
    assert totals["I1mr"] == 10_354_379
    assert totals["D1mr"] == 10_216_391
    assert len(totals) == 9


def test_read_totals_without_cache_simulation(tmp_path: Path) -> None:
    path = tmp_path / "callgrind.out"
    path.write_text("events: Ir\nsummary: 1234\n")
    assert instructions.read_totals(path) == {"Ir": 1234}


def test_read_totals_rejects_a_file_that_is_not_callgrind_output(tmp_path: Path) -> None:
    path = tmp_path / "callgrind.out"
    path.write_text("==1== valgrind: failed to start tool\n")
    with pytest.raises(ValueError, match="not a callgrind output file"):
        instructions.read_totals(path)


def test_per_call_cancels_what_both_runs_share() -> None:
    # Start-up 1,000,000 instructions in both; 7,000 per call; the runs differ by 200 calls.
    short = {"Ir": 1_000_000 + 50 * 7_000, "I1mr": 500 + 50 * 3}
    long = {"Ir": 1_000_000 + 250 * 7_000, "I1mr": 500 + 250 * 3}
    assert instructions.per_call(short, long, 200) == {"Ir": 7_000.0, "I1mr": 3.0}
    with pytest.raises(ValueError):
        instructions.per_call(short, long, 0)


def test_short_and_long_runs_always_differ() -> None:
    assert instructions.short_and_long(250) == (50, 250)
    assert instructions.short_and_long(1) == (1, 2)


def test_summarise_takes_ratios_against_raw_in_all_and_above_the_floor() -> None:
    measured = {
        "floor": {"per_call": {"Ir": 6_800_000.0}},
        "raw-c1": {"per_call": {"Ir": 7_200_000.0}},  # 400,000 above the floor
        "sdk-c1": {"per_call": {"Ir": 7_320_000.0}},  # 520,000 above the floor
        "wpv3-async-c1": {"per_call": {"Ir": 21_960_000.0}},
        "wpv3-sync-c1": {"error": "timed out"},
    }
    summary = instructions.summarise(measured)
    assert summary["ratios"] == pytest.approx(
        {
            "sdk-c1 / raw-c1, all instructions": 7_320_000 / 7_200_000,
            "sdk-c1 / raw-c1, above the floor (all but the RSA)": 1.3,
            "wpv3-async-c1 / sdk-c1, all instructions": 3.0,
            "wpv3-async-c1 / sdk-c1, above the floor": (21_960_000 - 6_800_000) / 520_000,
        }
    )
    assert summary["rows"]["sdk-c1"]["above_floor"] == pytest.approx(520_000)
    assert summary["rows"]["wpv3-sync-c1"]["x_raw"] is None
    text = instructions.render(summary, {"sdk-sync-c1": "not run"})
    assert "7,320,000" in text and "520,000" in text and "1.017" in text
    assert "wpv3-sync-c1    FAILED: timed out" in text
    assert "sdk-sync-c1     skipped: not run" in text


def test_summarise_without_a_floor_gives_no_above_floor_ratio() -> None:
    measured = {"raw-c1": {"per_call": {"Ir": 100.0}}, "sdk-c1": {"per_call": {"Ir": 110.0}}}
    summary = instructions.summarise(measured)
    assert summary["ratios"] == pytest.approx({"sdk-c1 / raw-c1, all instructions": 1.1})
    assert summary["rows"]["sdk-c1"]["above_floor"] is None


def test_a_what_if_row_is_compared_with_its_unpatched_row_above_the_floor() -> None:
    measured = {
        "floor": {"per_call": {"Ir": 1000.0}},
        "raw-c1": {"per_call": {"Ir": 1400.0}},
        "sdk-c1": {"per_call": {"Ir": 1500.0}},
        "sdk-c1+wi": {"per_call": {"Ir": 1450.0}},
    }
    summary = instructions.summarise(measured)
    assert summary["ratios"]["sdk-c1+wi / sdk-c1, above the floor"] == pytest.approx(0.9)
    lines = instructions.render(summary, {}).splitlines()
    assert [line.split()[0] for line in lines[3:7]] == ["floor", "raw-c1", "sdk-c1", "sdk-c1+wi"]
