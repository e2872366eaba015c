"""The sandbox helpers and the pytest fixtures are typed with the client they give (Client or AsyncClient)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import wxpay_chain.sandbox.pytest_plugin

ROOT = Path(__file__).resolve().parents[2]


def test_sandbox_helpers_type_check_under_mypy_strict() -> None:
    command = [sys.executable, "-m", "mypy", "--strict", str(Path(__file__).with_name("typed_usage.py"))]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_fixtures_are_annotated_with_their_client_type() -> None:
    tree = ast.parse(Path(wxpay_chain.sandbox.pytest_plugin.__file__).read_text("utf-8"))
    returns = {f.name: ast.unparse(f.returns) for f in tree.body if isinstance(f, ast.FunctionDef) and f.returns}
    assert returns["wxpay_client"] == returns["wxpay_brand_client"] == "Iterator[Client]"
    assert returns["wxpay_async_client"] == returns["wxpay_async_brand_client"] == "Callable[..., AsyncClient]"
    assert returns["wxpay_sandbox"] == "Iterator[ThreadedSandbox]"
