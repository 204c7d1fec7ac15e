"""Stores that worker processes and the admin commands share, started by
the tests themselves: SQLite files, a real `coordinated` (system clock, not
test mode) on a SQLite file, and PostgreSQL when COORDINATE_TEST_POSTGRES
holds a base URL (`make test` provides one)."""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from coordinate import connect

REPO = Path(__file__).resolve().parents[2]
COORDINATED = Path(os.environ.get("COORDINATED", REPO / "target" / "release" / "coordinated"))
POSTGRES_ENV = "COORDINATE_TEST_POSTGRES"
_DAEMON: Dict[str, str] = {}
_NAMES = itertools.count()

#: The stores each process test runs on.
KINDS = ["sqlite", "http", "postgres"]


def unique_namespace(prefix: str = "t") -> str:
    """A namespace name unique to this run, so tests can share a store."""
    return f"{prefix}-{os.getpid()}-{int(time.time() * 1000) % 10**8}-{next(_NAMES)}"


def daemon() -> str:
    """The URL of this run's `coordinated` serving a SQLite file in a
    temporary folder, started on a free loopback port on first use and
    stopped (and the folder removed) at exit."""
    if "url" in _DAEMON:
        return _DAEMON["url"]
    if not COORDINATED.exists():
        raise RuntimeError(f"{COORDINATED} is missing: build it with `make coordinated`")
    folder = tempfile.mkdtemp(prefix="coordinate-fleet-daemon-")
    proc = subprocess.Popen(
        [str(COORDINATED), "--listen", "127.0.0.1:0", "--store",
         f"sqlite:///{folder}/store.db", "--log-level", "warn"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    atexit.register(_stop, proc, folder)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise RuntimeError(f"coordinated did not start: {line!r}")
    _DAEMON["url"] = "http://" + line.removeprefix("listening on ")
    return _DAEMON["url"]


def _stop(proc: "subprocess.Popen[str]", folder: str) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(folder, ignore_errors=True)


def postgres() -> Optional[str]:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    return url or None


def store_url(kind: str, tmp_path: Path) -> str:
    """A store URL of `kind`; skips when PostgreSQL is not provided."""
    if kind == "sqlite":
        return f"sqlite://{tmp_path}/store.db"
    if kind == "http":
        return daemon()
    if kind == "postgres":
        base = postgres()
        if base is None:
            if os.environ.get("COORDINATE_REQUIRE_POSTGRES"):
                pytest.fail(f"COORDINATE_REQUIRE_POSTGRES is set but {POSTGRES_ENV} is not")
            pytest.skip(
                f"no PostgreSQL: set {POSTGRES_ENV}=postgresql://user@host:port/db "
                "(make test-postgres starts a throwaway server)"
            )
        sep = "&" if "?" in base else "?"
        url = f"{base}{sep}schema=t_fleet_{os.getpid()}_{next(_NAMES)}"
        try:
            connect(url).namespace(unique_namespace("probe")).destroy()
        except Exception as e:  # no PostgreSQL store in this build, or no server
            if os.environ.get("COORDINATE_REQUIRE_POSTGRES"):
                raise
            pytest.skip(f"{POSTGRES_ENV}: {url} cannot be opened here: {e}")
        return url
    raise ValueError(kind)


def coordinate_cli(*args: str, env: Optional[Dict[str, str]] = None, timeout: float = 60,
                   input: Optional[str] = None, cwd: Optional[Path] = None,
                   ) -> "subprocess.CompletedProcess[str]":
    """Runs `python -m coordinate ARGS` (bounded in time)."""
    full_env = dict(os.environ, PYTHONUNBUFFERED="1")
    full_env.pop("COORDINATE_URL", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "coordinate", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        input=input,
        cwd=cwd or REPO,
    )


def popen_cli(*args: str, env: Optional[Dict[str, str]] = None,
              cwd: Optional[Path] = None) -> "subprocess.Popen[str]":
    full_env = dict(os.environ, PYTHONUNBUFFERED="1")
    full_env.pop("COORDINATE_URL", None)
    full_env.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "coordinate", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        cwd=cwd or REPO,
    )


def wait_for(what: str, check: "object", timeout: float = 30.0) -> None:
    """Polls `check()` until it is true; fails the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


__all__: List[str] = [
    "KINDS", "coordinate_cli", "daemon", "popen_cli", "postgres", "store_url",
    "unique_namespace", "wait_for",
]
