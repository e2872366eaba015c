"""``--interleaved``: clients take turns block by block, and the figures are ratios of their sums."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks import interleaved

ROOT = Path(__file__).resolve().parents[1]


def _worker(cpu: dict[str, list[float]], wall: dict[str, list[float]], block_calls: int = 10) -> dict[str, object]:
    return {"block_calls": block_calls, "concurrency": 1, "cpu_s": cpu, "wall_s": wall}


def test_ratios_are_taken_over_the_sums_of_the_blocks() -> None:
    # raw: 2 blocks of 10 calls, 10 ms CPU and 20 ms wall each; the SDK twice as much CPU in the second block.
    run = _worker(
        cpu={"raw-c1": [0.010, 0.010], "sdk-c1": [0.010, 0.020]},
        wall={"raw-c1": [0.020, 0.020], "sdk-c1": [0.020, 0.030]},
    )
    assert interleaved.cpu_us(run, "raw-c1") == pytest.approx(1000.0)
    assert interleaved.ratio(run, "sdk-c1", "raw-c1", "cpu") == pytest.approx(1.5)  # 30 ms / 20 ms
    assert interleaved.ratio(run, "sdk-c1", "raw-c1", "rps") == pytest.approx(40 / 50)  # rates: inverse of wall
    assert interleaved.block_ratios(run, "sdk-c1", "raw-c1", "cpu") == pytest.approx([1.0, 2.0])
    assert interleaved.block_ratios(run, "sdk-c1", "raw-c1", "rps") == pytest.approx([1.0, 20 / 30])


def test_targets_are_judged_on_the_median_round() -> None:
    # Three rounds per group: SDK CPU 1.05, 1.12, 1.08 x raw at c=1; at c=32 the process mode takes
    # 1/1.4, 1/1.25 and 1/1.5 of raw's wall time for the same calls.
    c1 = [
        _worker(cpu={"raw-c1": [1.0], "sdk-c1": [sdk]}, wall={"raw-c1": [1.0], "sdk-c1": [1.0]})
        for sdk in (1.05, 1.12, 1.08)
    ]
    c32 = [
        _worker(cpu={"raw-c32": [1.0], "sdk-c32-process": [1.0]}, wall={"raw-c32": [speedup], "sdk-c32-process": [1.0]})
        for speedup in (1.4, 1.25, 1.5)
    ]
    report = interleaved.summarise({"c1": c1, "c32": c32})
    verdicts = {v["key"]: v for v in report["targets"]}
    assert set(verdicts) == {"cpu_c1_vs_raw", "rps_c32_process_vs_raw"}  # only targets whose rows took part
    assert verdicts["cpu_c1_vs_raw"]["status"] == "MET"
    assert verdicts["cpu_c1_vs_raw"]["value"] == pytest.approx(1.08)
    assert verdicts["cpu_c1_vs_raw"]["rounds_met"] == 2
    assert verdicts["rps_c32_process_vs_raw"]["value"] == pytest.approx(1.4)
    assert verdicts["rps_c32_process_vs_raw"]["rounds_met"] == 2
    text = interleaved.render(report)
    assert "[MET] client CPU per call, SDK c=1 / raw c=1 <= 1.1: 1.08 [1.05-1.12] over 3 rounds, met in 2" in text
    assert "sdk-c1" in text and "sdk-c32-process" in text


def test_a_failed_worker_is_reported_and_left_out() -> None:
    good = _worker(cpu={"raw-c1": [1.0], "sdk-c1": [1.1]}, wall={"raw-c1": [1.0], "sdk-c1": [1.0]})
    report = interleaved.summarise({"c1": [good, {"error": "status 500"}]})
    assert report["groups"]["c1"]["rounds"] == 1
    assert report["groups"]["c1"]["errors"] == ["status 500"]
    assert "a worker failed: status 500" in interleaved.render(report)


def test_clients_take_turns_against_the_replay_server(tmp_path: Path) -> None:
    """Real workers: the raw client twice and the SDK, each in its own process, on 127.0.0.1."""
    import subprocess

    from benchmarks._common import generate_keys

    keys = generate_keys(tmp_path / "keys")
    with subprocess.Popen(
        [sys.executable, "-m", "benchmarks.server", "--keys", str(keys.directory), "--max-seconds", "120"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    ) as server:  # on the way out: its pipe closed and the process waited for
        try:
            assert server.stdout is not None
            ready = server.stdout.readline().split()
            assert ready[0] == b"READY"
            spec = {"keys": str(keys.directory), "port": int(ready[1]), "concurrency": 1, "warmup": 1}
            clients = [("raw-c1", "raw", "auto"), ("sdk-c1", "sdk", "auto"), ("raw-c1-again", "raw", "auto")]
            result = interleaved.take_turns(spec, clients, blocks=3, block_calls=2, timeout=60)
        finally:
            server.terminate()
    assert "error" not in result, result
    assert result["order"] == [
        ["raw-c1", "sdk-c1", "raw-c1-again"],
        ["sdk-c1", "raw-c1-again", "raw-c1"],
        ["raw-c1-again", "raw-c1", "sdk-c1"],
    ]
    for label in ("raw-c1", "sdk-c1", "raw-c1-again"):
        assert len(result["cpu_s"][label]) == len(result["wall_s"][label]) == 3
        assert all(seconds > 0 for seconds in result["cpu_s"][label] + result["wall_s"][label])


def test_a_worker_that_cannot_start_is_an_error_not_a_hang(tmp_path: Path) -> None:
    # No keys in that directory: the worker fails while loading them, and its last stderr line says why.
    spec = {"keys": str(tmp_path / "missing"), "port": 9, "concurrency": 1, "warmup": 1}
    result = interleaved.take_turns(spec, [("raw-c1", "raw", "auto")], blocks=1, block_calls=1, timeout=60)
    assert result["error"].startswith("raw-c1: the worker did not start; ")
    assert "no message" not in result["error"]
