"""The habits of the project, checked with the tests: ruff's lint rules and format, and mypy on the
package (configuration: pyproject.toml's [tool.ruff] and [tool.mypy]; versions pinned in the dev
extra). Fix what they find; `ruff format .` rewrites the layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    "args",
    [("ruff", "check", "--no-cache", "."), ("ruff", "format", "--check", "--no-cache", "."), ("mypy",)],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_clean(args):
    p = run(*args)
    assert p.returncode == 0, (p.stdout + p.stderr)[-6000:]
