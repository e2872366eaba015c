"""The package's own gates: the curated public API, ruff and mypy --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import wxpay_chain

ROOT = Path(__file__).resolve().parents[1]


def test_public_api_is_sorted_and_importable() -> None:
    names = wxpay_chain.__all__

    def isort_style(name: str) -> tuple[int, str]:  # ruff's RUF022 order: CONSTANTS, Classes, functions
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert list(names) == sorted(names, key=isort_style)
    for name in names:
        assert getattr(wxpay_chain, name) is not None


def test_package_ships_py_typed() -> None:
    assert (Path(wxpay_chain.__file__).parent / "py.typed").exists()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_is_clean() -> None:
    result = run("ruff", "check", "wxpay_chain", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    targets = ["wxpay_chain"] + [str(p) for p in (ROOT / "tests" / "typing").glob("*.py")]
    result = run("mypy", "--strict", *targets)
    assert result.returncode == 0, result.stdout + result.stderr
