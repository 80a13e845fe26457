"""The engine stays typed and tidy: mypy --strict and ruff, as part of `make test`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_mypy_strict_on_the_engine() -> None:
    completed = _run(str(BIN / "mypy"))
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_ruff_lint_and_format() -> None:
    lint = _run(str(BIN / "ruff"), "check", "src", "tests", "scripts")
    assert lint.returncode == 0, lint.stdout
    formatting = _run(str(BIN / "ruff"), "format", "--check", "src", "tests", "scripts")
    assert formatting.returncode == 0, formatting.stdout
