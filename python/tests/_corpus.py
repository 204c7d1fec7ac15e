"""Loading the shared conformance corpus (tests/conformance/*.json)."""

from __future__ import annotations

import atexit
import itertools
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List

from coordinate import Coordinate, MockClock, connect

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "conformance"

HOST = "python"

# Scenarios this runner skips, with the reason (scenarios may also carry their
# own "skip": {"python": reason}). Keep this short and visible.
PYTHON_SKIPS: Dict[str, str] = {}


# The stores the corpus runs on: `COORDINATE_TEST_URLS`, comma separated.
# "new" is `Coordinate(clock=..., seed=...)`; anything else a `connect` URL,
# in which `{tmp}` becomes a fresh temporary folder per scenario, `{n}` a
# number unique in this run, and `{daemon}` / `{daemon-sqlite}` the address
# of a `coordinated` in test mode that the tests start themselves (its test
# stores in memory, or in SQLite files), e.g.
# `http://{daemon-sqlite}/?test_store={n}`.
DEFAULT_STORES = "new,memory:"

REPO = Path(__file__).resolve().parents[2]
COORDINATED = Path(os.environ.get("COORDINATED", REPO / "target" / "release" / "coordinated"))
_DAEMONS: Dict[str, str] = {}
_COUNTER = itertools.count()


def daemon(kind: str) -> str:
    """The address of this run's test-mode `coordinated` of `kind`
    (`daemon`: memory test stores; `daemon-sqlite`: SQLite files), started
    on a free loopback port on first use and stopped at exit."""
    if kind in _DAEMONS:
        return _DAEMONS[kind]
    if not COORDINATED.exists():
        raise RuntimeError(
            f"{COORDINATED} is missing: build it with "
            "`cargo build --release -p coordinate-server --bin coordinated`"
        )
    args = [str(COORDINATED), "--listen", "127.0.0.1:0", "--store", "memory:",
            "--test-mock-clock", "--log-level", "warn"]
    if kind == "daemon-sqlite":
        folder = tempfile.mkdtemp(prefix="coordinate-daemon-")
        args += ["--test-store-url", f"sqlite:///{folder}/{{name}}.db"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    atexit.register(_stop, proc)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise RuntimeError(f"coordinated did not start: {line!r}")
    _DAEMONS[kind] = line.removeprefix("listening on ")
    return _DAEMONS[kind]


def _stop(proc: "subprocess.Popen[str]") -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def store_urls() -> List[str]:
    urls = os.environ.get("COORDINATE_TEST_URLS", DEFAULT_STORES)
    return [u.strip() for u in urls.split(",") if u.strip()]


def store_label(url: str) -> str:
    """A short test-id prefix for a store URL (`memory`, `sqlite`, ...)."""
    return url.split(":", 1)[0] if ":" in url else url


def open_store(url: str, clock: MockClock, seed: int) -> Coordinate:
    """A fresh Coordinate on the store `url` names (see `store_urls`)."""
    if url == "new":
        return Coordinate(clock=clock, seed=seed)
    if "{tmp}" in url:
        url = url.replace("{tmp}", tempfile.mkdtemp(prefix="coordinate-corpus-"))
    for kind in ("daemon-sqlite", "daemon"):
        if "{" + kind + "}" in url:
            url = url.replace("{" + kind + "}", daemon(kind))
    url = url.replace("{n}", str(next(_COUNTER)))
    return connect(url, clock=clock, seed=seed)


def load_index() -> Dict[str, Any]:
    with open(CORPUS / "index.json", encoding="utf-8") as f:
        index: Dict[str, Any] = json.load(f)
    return index


def load_scenarios() -> List[Dict[str, Any]]:
    scenarios: List[Dict[str, Any]] = []
    for path in sorted(CORPUS.glob("*.json")):
        if path.name == "index.json":
            continue
        with open(path, encoding="utf-8") as f:
            for scenario in json.load(f):
                scenario["_file"] = path.name
                scenarios.append(scenario)
    return scenarios


def skip_reason(scenario: Dict[str, Any]) -> str | None:
    reason: str | None = scenario.get("skip", {}).get(HOST)
    if reason is None:
        reason = PYTHON_SKIPS.get(scenario["id"])
    return reason


def coverage() -> tuple[int, int, list[str], dict[str, str]]:
    """(covered, total, missing ids, skipped scenario id -> reason)."""
    index = load_index()
    catalogue: List[str] = index["catalogue"]
    host_level = set(index.get("host_level", {}))
    scenarios = load_scenarios()
    skipped = {s["id"]: r for s in scenarios if (r := skip_reason(s)) is not None}
    covered = set(host_level)
    for s in scenarios:
        if s["id"] not in skipped:
            covered.update(s["covers"])
    missing = [c for c in catalogue if c not in covered]
    return len(catalogue) - len(missing), len(catalogue), missing, skipped
