"""`make test-dist`: the artifacts of `make dist` install and run. The wheel
goes into a fresh venv (python3 -m venv), which runs the quickstart and
`coordinate --help`; the npm tarball imports in Node; coordinated starts.
Not collected by plain `pytest python/tests` (it needs dist/ built)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = Path(os.environ.get("COORDINATE_DIST", ROOT / "dist"))


def one(pattern: str) -> Path:
    found = sorted(DIST.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {DIST}, found {found}"
    return found[0]


def test_the_wheel_installs_into_a_fresh_venv_and_runs(tmp_path: Path) -> None:
    wheel = one("coordinate-*.whl")
    assert "-abi3-" in wheel.name and "linux" in wheel.name
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(wheel)], check=True, timeout=300)  # fmt: skip
    quick = subprocess.run([str(py), str(ROOT / "examples" / "python_quickstart.py")],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert quick.returncode == 0, quick.stderr
    where = subprocess.run([str(py), "-c", "import coordinate; print(coordinate.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert where.stdout.startswith(str(venv))  # the installed package, not the repo's
    helped = subprocess.run([str(venv / "bin" / "coordinate"), "--help"],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert helped.returncode == 0
    for command in ("run", "worker", "serve", "load", "status", "workers"):
        assert command in helped.stdout


def test_the_npm_tarball_imports_in_node(tmp_path: Path) -> None:
    tgz = one("*.tgz")
    with tarfile.open(tgz) as t:
        names = t.getnames()
        assert "package/package.json" in names and "package/coordinate_wasm_bg.wasm" in names
        t.extractall(tmp_path, filter="data")
    node = subprocess.run(
        ["node", "--input-type=module", "-e",
         "const m = await import(process.argv[1]); console.log(typeof m.Coordinate);",
         str(tmp_path / "package" / "index.js")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert node.returncode == 0, node.stderr
    assert node.stdout.strip() == "function"


def test_the_daemon_binary_runs() -> None:
    daemon = DIST / "coordinated"
    if not daemon.exists():
        pytest.fail(f"{daemon} is missing")
    out = subprocess.run([str(daemon), "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("coordinated ")
