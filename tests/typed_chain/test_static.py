"""The typed chain under type checkers: good calls pass, each marked mistake is an error on its line.

mypy --strict and basedpyright, both in the test extra (basedpyright is skipped only where it is not
installed). Both run cold, from an empty cache, over wxpay_chain and the samples: a user's first run.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = Path(__file__).with_name("samples")
GOOD, BAD = SAMPLES / "good_calls.py", SAMPLES / "bad_calls.py"
MARK = re.compile(r"#\s*error:\s*([a-z-]+)\s*$")


def expected() -> set[tuple[int, str]]:
    lines = BAD.read_text("utf-8").splitlines()
    return {(n, m.group(1)) for n, line in enumerate(lines, 1) if (m := MARK.search(line))}


def test_the_bad_sample_marks_one_mistake_of_each_kind() -> None:
    codes = {code for _, code in expected()}
    # a misspelled segment, a missing path value, a wrong enum / wrongly typed value, an unknown body field
    assert {"attr-defined", "call-arg", "typeddict-item", "typeddict-unknown-key", "arg-type"} <= codes


def test_mypy_strict_accepts_the_good_calls_and_reports_each_mistake_at_its_line(tmp_path: Path) -> None:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), "--no-error-summary",
         "--hide-error-context", str(GOOD), str(BAD)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    elapsed = time.perf_counter() - started
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert not [e for e in errors if e.startswith(str(GOOD.relative_to(ROOT)))], result.stdout
    found = set()
    for line in errors:
        where, _, rest = line.partition(": error: ")
        code = re.search(r"\[([a-z-]+)\]$", rest)
        found.add((int(where.rsplit(":", 1)[1]), code.group(1) if code else ""))
    assert found == expected(), result.stdout + result.stderr
    assert elapsed < 30, f"cold mypy took {elapsed:.1f} s"


@pytest.mark.skipif(shutil.which("basedpyright", path=str(Path(sys.executable).parent)) is None,
                    reason="basedpyright is not installed")
def test_basedpyright_agrees_on_the_same_samples() -> None:
    tool = shutil.which("basedpyright", path=str(Path(sys.executable).parent))
    assert tool is not None
    result = subprocess.run(
        [tool, "--outputjson", "--pythonpath", sys.executable, str(GOOD), str(BAD)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    report = json.loads(result.stdout)
    errors = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    assert not [d for d in errors if d["file"] == str(GOOD)], errors
    lines = {d["range"]["start"]["line"] + 1 for d in errors if d["file"] == str(BAD)}
    assert lines == {line for line, _ in expected()}, errors
