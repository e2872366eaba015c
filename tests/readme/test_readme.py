"""README.md runs: every python block against a fresh sandbox, its pytest example under plain pytest, its
typed example under ``mypy --strict``; its ids are the sandbox's; its pipeline is drawn in five lines.

Markers (an HTML comment on the line right before a block, documented in the README's last section):
``<!-- readme: illustrative (why) -->`` shows a block without running it; ``<!-- readme: mypy --strict -->``
also type-checks it.
"""

from __future__ import annotations

import ast
import asyncio
import codeop
import inspect
import logging
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from wxpay_chain.sandbox import (
    DEMO_APPID,
    DEMO_BUSIFAVOR_STOCK_IDS,
    DEMO_FAVOR_COUPON_IDS,
    DEMO_OPENIDS,
    DEMO_PRODUCT_COUPON_IDS,
    DEMO_STOCK_IDS,
    Sandbox,
    ThreadedSandbox,
)
from wxpay_chain.sandbox._cli import write_env_file

from ..cli.conftest import PACKAGE_ROOT, read_env_file

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARKER = re.compile(r"<!-- readme: (.*) -->")
ILLUSTRATIVE = re.compile(r"illustrative \((.+)\)")
MYPY = "mypy --strict"


@attrs.frozen
class Block:
    line: int  # of the block's first line of code
    code: str
    marker: str | None

    @property
    def illustrative(self) -> bool:
        return self.marker is not None and self.marker.startswith("illustrative")

    @property
    def tests(self) -> list[str]:
        """The test functions it defines: such a block is a test file for the pytest plugin."""
        body = ast.parse(self.code).body
        return [n.name for n in body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]

    def __str__(self) -> str:
        return f"README.md:{self.line}"


def read_blocks() -> list[Block]:
    lines = README.read_text("utf-8").splitlines()
    blocks: list[Block] = []
    n = 0
    while n < len(lines):
        if lines[n].strip() == "```python":
            end = lines.index("```", n + 1)
            marker = MARKER.fullmatch(lines[n - 1].strip()) if n else None
            code = "\n".join(lines[n + 1 : end]) + "\n"
            blocks.append(Block(n + 2, code, marker.group(1) if marker else None))
            n = end
        n += 1
    return blocks


BLOCKS = read_blocks()
RUN = [b for b in BLOCKS if not b.illustrative and not b.tests]


@pytest.fixture
def sandbox_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedSandbox]:
    """A fresh sandbox, and its wxpay.env loaded into WXPAY_*, as the README tells a reader to do."""
    for name in list(os.environ):
        if name.startswith("WXPAY_"):
            monkeypatch.delenv(name)
    with Sandbox.in_thread() as sb:
        for name, value in read_env_file(write_env_file(sb.write_config(tmp_path))).items():
            monkeypatch.setenv(name, value)
        yield sb
        bugs = [r.raw_path for r in sb.received if r.code == "SYSTEM_ERROR"]
        assert not bugs, f"the sandbox answered 500 to {bugs}"


def test_the_readme_has_blocks_of_every_kind() -> None:
    assert len(RUN) >= 6
    assert any(b.tests for b in BLOCKS) and any(b.marker == MYPY for b in BLOCKS)


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """A block may configure logging (logging.basicConfig); the rest of the suite gets it back as it was."""
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in list(logging.root.manager.loggerDict))]
    saved = [(logger, logger.level, list(logger.handlers)) for logger in loggers]
    yield
    for logger, level, handlers in saved:
        logger.setLevel(level)
        logger.handlers[:] = handlers


@pytest.mark.parametrize("block", RUN, ids=str)
def test_block_runs_against_the_sandbox(
    block: Block, sandbox_environment: ThreadedSandbox, logging_restored: None
) -> None:
    code = compile(block.code, str(block), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, object] = {"__name__": "__main__"}  # as `python file.py` and the REPL run it
    if code.co_flags & inspect.CO_COROUTINE:  # top-level await, as in `python -m asyncio`
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.tests and not b.illustrative], ids=str)
def test_pytest_block_passes_under_plain_pytest(block: Block, tmp_path: Path) -> None:
    # Plain pytest: no async plugin, as in a project that installs only pytest and wxpay-chain.
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_readme_block.py").write_text(block.code)
    args = ["-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:aiohttp"]
    # The plugin from this checkout, whatever else is installed.
    args += ["-p", "no:wxpay_chain", "-p", "wxpay_chain.sandbox.pytest_plugin", "test_readme_block.py"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(block.tests)} passed" in result.stdout


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.marker == MYPY], ids=str)
def test_typed_block_passes_mypy_strict(block: Block, tmp_path: Path) -> None:
    source = tmp_path / "readme_typed_example.py"
    # Top-level await (as `python -m asyncio` runs it) is checked as the body of a coroutine, line for line.
    source.write_text("async def readme_example() -> None:\n" + textwrap.indent(block.code, "    "))
    command = [sys.executable, "-m", "mypy", "--strict", str(source)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_what_mypy_catches_is_what_mypy_says(tmp_path: Path) -> None:
    # The typed-chain section shows a block of mistakes and mypy's report on it: both must stay true.
    text = README.read_text("utf-8")
    block = next(b for b in BLOCKS if b.marker and "mypy's report is below" in b.marker)
    report = text[text.index("```text\n", text.index(block.code)) + len("```text\n") :]
    expected = report[: report.index("```")].splitlines()
    (tmp_path / "mistakes.py").write_text(block.code, "utf-8")
    command = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "mistakes.py"]
    environment = {**os.environ, "MYPYPATH": str(ROOT)}  # an editable install is no path mypy reads
    run = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)
    errors = [line for line in run.stdout.splitlines() if ": error: " in line]  # notes are not shown
    assert errors == expected, run.stdout + run.stderr


def paste_errors(code: str) -> list[str]:
    """What pasting ``code`` into ``python -m asyncio`` reports, line by line as its console reads them: there
    a blank line ends a compound statement, and a dedent needs a blank line first."""
    compiler = codeop.CommandCompiler()
    compiler.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    buffer: list[str] = []
    errors: list[str] = []
    for n, line in enumerate([*code.splitlines(), ""], 1):
        buffer.append(line)
        try:
            complete = compiler("\n".join(buffer), "<stdin>", "single")
        except SyntaxError as exc:
            errors.append(f"line {n}: {exc.msg}")
            complete = True
        if complete:
            buffer = []
    return errors


def test_paste_errors_finds_a_blank_line_inside_a_suite() -> None:
    assert paste_errors("with open('f') as f:\n    a = 1\n\n    b = 2\n") == ["line 4: unexpected indent"]
    assert [error.split(":")[0] for error in paste_errors("if True:\n    a = 1\nb = 2\n")] == ["line 3"]
    assert paste_errors("import os\n\nasync with x:\n    await y\n    # z\n\nprint(1)\n") == []


@pytest.mark.parametrize("block", RUN, ids=str)
def test_block_pastes_into_python_m_asyncio(block: Block) -> None:
    assert paste_errors(block.code) == [], "no blank line inside an indented block, and one before a dedent"


def test_markers_are_known_and_illustrative_blocks_say_why() -> None:
    text = README.read_text("utf-8").splitlines()
    for n, line in enumerate(text):
        found = MARKER.fullmatch(line.strip())
        if found is None:
            continue
        assert text[n + 1].strip() == "```python", f"README.md:{n + 1}: a marker goes right before a python block"
        assert found.group(1) == MYPY or ILLUSTRATIVE.fullmatch(found.group(1)), f"README.md:{n + 1}: {line}"


def literal_values(code: str, names: set[str]) -> Iterator[tuple[str, str]]:
    """String literals given to keyword arguments or dict keys called ``names``."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in names and isinstance(node.value, ast.Constant):
            yield node.arg, str(node.value.value)
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in names and isinstance(value, ast.Constant):
                    yield str(key.value), str(value.value)


def test_the_examples_use_the_sandboxs_real_users_and_ids() -> None:
    known = {
        "openid": set(DEMO_OPENIDS),
        "appid": {DEMO_APPID},
        "brand_id": {"120344"},
        "coupon_id": set(DEMO_FAVOR_COUPON_IDS),
        "product_coupon_id": set(DEMO_PRODUCT_COUPON_IDS),
        "stock_id": set(DEMO_STOCK_IDS) | set(DEMO_BUSIFAVOR_STOCK_IDS),
    }
    used: set[str] = set()
    for block in RUN:
        for name, value in literal_values(block.code, set(known)):
            assert value in known[name], f"{block}: {name}={value!r} is not in the sandbox's demo data"
            used.add(value)
    assert {DEMO_OPENIDS[0], DEMO_OPENIDS[2], DEMO_FAVOR_COUPON_IDS[0]} <= used  # the rich and the fresh user
    text = README.read_text("utf-8")
    for value in (*DEMO_OPENIDS, DEMO_APPID, "120344", "1900000001", *DEMO_FAVOR_COUPON_IDS[:1], *DEMO_STOCK_IDS):
        assert value in text, value


def test_how_it_works_draws_the_pipeline_in_five_lines() -> None:
    section = README.read_text("utf-8").split("\n## How it works\n", 1)[1].split("\n## ", 1)[0]
    drawing = section.split("```\n", 2)[1].splitlines()
    assert len(drawing) == 5, drawing
    steps = [line.replace("→", " ").split()[0] for line in drawing]
    assert steps == ["config", "prepare", "sign", "transport", "verify"]
