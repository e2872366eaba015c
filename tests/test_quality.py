"""The package's own gates: the curated public API, ruff and mypy --strict."""

from __future__ import annotations

import ast
import re
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


def test_the_suite_reads_nothing_outside_the_repository() -> None:
    # A stranger's clone has no ../shared beside it: every file the tests read lives under tests/.
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "tests").rglob("*.py")
        if path != Path(__file__)
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if '"shared"' in line or "../shared" in line
    ]
    assert offenders == []


def test_ci_runs_the_readmes_two_set_up_commands_exactly() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    setup = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = [block.split("```", 1)[0].strip() for block in setup.split("```sh\n")[1:]]
    assert len(commands) == 2 and "wxpay-chain demo" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    demo, tests = commands
    assert demo.replace(".venv/bin/wxpay-chain demo", ".venv/bin/wxpay-chain demo > demo.out") in ci
    assert tests in ci.splitlines()


def test_the_minimum_versions_file_pins_pyprojects_floors() -> None:
    # The file the README names for a run against the oldest dependencies: a floor raised in one place
    # and not the other would test versions the package no longer allows (or miss the ones it does).
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    listed = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    floors = dict(re.findall(r'"([a-z]+)>=([0-9.]+)"', listed))
    lines = (ROOT / "tests" / "minimum-versions.txt").read_text("utf-8").splitlines()
    pins = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    assert floors.keys() == pins.keys() == {"aiohttp", "cryptography", "attrs", "cattrs"}
    for name, floor in floors.items():  # the oldest release of the floor's line: 23.2 -> 23.2.1 (no 23.2.0)
        assert pins[name].split(".")[: floor.count(".") + 1] == floor.split("."), (name, pins[name], floor)


def test_core_modules_stay_small_and_the_client_class_under_300_lines() -> None:
    # Issue 16's shape: a pipeline of small parts, not a hub (the generated .pyi stubs are data).
    package = ROOT / "wxpay_chain"
    over = {
        str(path.relative_to(package)): lines
        for path in package.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert over == {}
    tree = ast.parse((package / "_client.py").read_text(encoding="utf-8"))
    (client,) = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "AsyncClient"]
    assert client.end_lineno is not None and client.end_lineno - client.lineno + 1 < 300
