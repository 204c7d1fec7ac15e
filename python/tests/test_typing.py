"""Typing: the stubs match the runtime (stubtest) and the example script
passes `mypy --strict`. Skipped if mypy is not installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("mypy")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_stubtest_is_clean() -> None:
    proc = run("mypy.stubtest", "coordinate")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_example_passes_mypy_strict() -> None:
    proc = run("mypy", "--strict", "examples/python_quickstart.py", "python/tests/test_api.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_example_runs() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "python_quickstart.py")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "NoSuchWorkSpecError: No such work spec missing" in proc.stdout
