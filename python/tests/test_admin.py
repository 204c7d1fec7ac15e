"""The admin commands of `coordinate` end to end, against a real
`coordinated` (on a SQLite file) and a SQLite file directly, and every
bad-input case of the command line: one line on stderr, exit status 2."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from _stores import coordinate_cli, store_url, unique_namespace
from coordinate import AttemptStatus, WorkUnitStatus, connect

ROOT = Path(__file__).resolve().parents[2]
FLOW = """\
flows:
  a: {run_function: f, max_retries: 5}
  b: {run_function: g, then: a}
units:
  a: [a1, a2, {name: a3, data: {x: 3}, priority: 2}]
"""


@pytest.fixture(params=["sqlite", "http", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Tuple[str, str]:
    """(URL, namespace) of a store holding the flow above."""
    url = store_url(request.param, tmp_path)
    return url, unique_namespace("admin")


def run(store: Tuple[str, str], *args: str, input: str = "") -> Tuple[int, str, str]:
    url, ns = store
    p = coordinate_cli(*args, "--namespace", ns, env={"COORDINATE_URL": url}, input=input)
    return p.returncode, p.stdout, p.stderr


def plain(out: str) -> List[List[str]]:
    return [line.split("\t") for line in out.splitlines()]


def test_each_admin_command(store: Tuple[str, str], tmp_path: Path) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW)
    code, out, err = run(store, "load", str(flow))
    assert code == 0, err
    assert out.strip() == f"loaded 2 work specs (a, b) from {flow}; added 3 units"

    units = tmp_path / "more.yaml"
    units.write_text("- b1\n- {name: b2, data: {y: 1}}\n")
    assert run(store, "add", "b", "--units", str(units))[:2] == (0, "added 2 units to b\n")
    assert run(store, "add", "b", "--units", "-", input='{"b3": {"z": 2}}')[:2] == (
        0, "added 1 units to b\n")  # fmt: skip

    code, out, _ = run(store, "status")
    assert code == 0
    assert plain(out) == [
        ["work spec", "available", "pending", "delayed", "finished", "failed", "total", "paused"],
        ["a", "3", "0", "0", "0", "0", "3", ""],
        ["b", "3", "0", "0", "0", "0", "3", ""],
    ]

    # Work some units through the API: a1 finished, a2 failed (a3 left).
    url, ns_name = store
    ns = connect(url).namespace(ns_name)
    w = ns.worker("by-hand")
    done = {}
    for a in w.request_attempts(number_of_work_units=3, work_specs=["a"]):
        done[a.work_unit.name] = a
    done["a1"].finish({"ok": True})
    done["a2"].fail({"exception_message": "boom"})
    done["a3"].expire()

    code, out, _ = run(store, "status", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["work_specs"]["a"] == {"available": 1, "pending": 0, "delayed": 0,
                                      "finished": 1, "failed": 1, "total": 3, "paused": False}

    code, out, _ = run(store, "units", "a")
    assert plain(out) == [["unit", "status", "priority", "attempts"], ["a1", "finished", "0", "1"],
                          ["a2", "failed", "0", "1"], ["a3", "available", "2", "1"]]  # fmt: skip
    code, out, _ = run(store, "units", "a", "--status", "failed")
    assert [r[0] for r in plain(out)[1:]] == ["a2"]
    code, out, _ = run(store, "units", "b", "--limit", "2")
    assert [r[0] for r in plain(out)[1:]] == ["b1", "b2"]

    code, out, _ = run(store, "show", "a", "a2")
    assert code == 0
    assert out.splitlines()[0] == "a/a2: failed, priority 0"
    [row] = [r for r in plain(out) if r[0] == "1"]
    assert row[1:3] == ["by-hand", "failed"] and row[5] == "exception_message: boom"
    assert '"exception_message"' not in run(store, "show", "a", "a2", "--no-data")[1]
    code, out, _ = run(store, "show", "a", "a3", "--json")
    doc = json.loads(out)
    assert doc["data"] == {"x": 3} and doc["attempts"][0]["status"] == "expired"

    assert run(store, "pause", "a")[:2] == (0, "a: paused\n")
    assert ns.work_spec("a").meta().paused
    assert plain(run(store, "status")[1])[1][-1] == "yes"
    assert run(store, "resume", "a")[:2] == (0, "a: resumed\n")
    assert not ns.work_spec("a").meta().paused

    assert run(store, "retry", "a", "--failed")[:2] == (0, "a: 1 failed units made available again\n")
    assert ns.work_spec("a").work_unit("a2").status() == WorkUnitStatus.AVAILABLE
    assert ns.work_spec("a").work_unit("a2").attempts()[0].status() == AttemptStatus.FAILED

    assert run(store, "delete", "a", "--status", "finished")[:2] == (
        0, "a: deleted 1 units (finished)\n")  # fmt: skip
    assert sorted(ns.work_spec("a").work_units(limit=0)) == ["a2", "a3"]

    w.update(data={"pid": 4242, "state": "idle"}, now=ns_now(url), expiration=ns_now(url, 60),
             mode="run")  # fmt: skip
    code, out, _ = run(store, "workers")
    assert code == 0
    rows = plain(out)
    assert rows[0][:5] == ["worker", "parent", "active", "mode", "pid"]
    assert rows[1][:5] == ["by-hand", "", "yes", "run", "4242"]
    code, out, _ = run(store, "workers", "--json")
    assert json.loads(out)[0]["name"] == "by-hand"


def ns_now(url: str, plus: float = 0) -> "object":
    from datetime import timedelta

    return connect(url).now() + timedelta(seconds=plus)


def test_status_of_an_empty_namespace(store: Tuple[str, str]) -> None:
    assert run(store, "status")[:2] == (0, "no work specs in namespace " + repr(store[1]) + "\n")
    assert run(store, "workers")[:2] == (0, "no active workers\n")


def test_tables_on_a_terminal_are_rich(tmp_path: Path) -> None:
    from coordinate import admin

    buf_lines: List[str] = []

    class Tty:
        def isatty(self) -> bool:
            return True

        def write(self, s: str) -> int:
            buf_lines.append(s)
            return len(s)

        def flush(self) -> None:
            pass

    import sys

    old = sys.stdout
    sys.stdout = Tty()  # type: ignore[assignment]
    try:
        admin.print_table(["a", "b"], [["1", "2"]], title="T")
    finally:
        sys.stdout = old
    text = "".join(buf_lines)
    assert "┃" in text or "│" in text  # box drawing: a rich table, not tab-separated
    assert "\t" not in text


def test_serve_runs_the_installed_daemon(tmp_path: Path) -> None:
    from _stores import COORDINATED

    if not COORDINATED.exists():
        pytest.skip("coordinated is not built")
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "coordinate", "serve", "--listen", "127.0.0.1:0",
         "--store", f"sqlite://{tmp_path}/served.db", "--", "--log-level", "warn"],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ, COORDINATED=str(COORDINATED)),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on 127.0.0.1:")
        url = "http://" + line.removeprefix("listening on ")
        p = coordinate_cli("status", "--connect", url)
        assert p.returncode == 0 and p.stdout == "no work specs\n"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert (tmp_path / "served.db").exists()


# ------------------------------------------------------------ bad input

BAD: Dict[str, Tuple[List[str], str]] = {
    "no store": (["status"], "no store: pass --connect URL or set COORDINATE_URL"),
    "bad URL": (["status", "--connect", "nope://x"], "bad --connect URL 'nope://x'"),
    "unknown spec (units)": (["units", "zz", "@"], "no work spec 'zz'"),
    "unknown spec (pause)": (["pause", "zz", "@"], "no work spec 'zz'"),
    "unknown spec (add)": (["add", "zz", "--units", "-", "@"], "no work spec 'zz'"),
    "unknown unit": (["show", "a", "nope", "@"], "no work unit 'nope' in work spec 'a'"),
    "bad status": (["units", "a", "--status", "done", "@"], "unknown status 'done': use one of"),
    "bad delete status": (["delete", "a", "--status", "x", "@"], "unknown status 'x'"),
    "delete without status": (["delete", "a", "@"], "delete needs --status STATUS"),
    "delete with both": (["delete", "a", "--all", "--status", "failed", "@"], "not both"),
    "retry without --failed": (["retry", "a", "@"], "retry needs --failed"),
    "missing flow": (["load", "nope.yaml", "@"], "flow file not found: nope.yaml"),
    "missing units file": (["add", "a", "--units", "nope.yaml", "@"],
                           "units file not found: nope.yaml"),
    "bad units": (["add", "a", "--units", "-", "@"], "<stdin>: units of 'a' must be a list"),
    "negative limit": (["units", "a", "--limit", "-1", "@"], "must not be negative: '-1'"),
    "bad processes": (["worker", "--processes", "0", "@"], "must be at least 1: '0'"),
    "bad task timeout": (["worker", "--task-timeout", "-1", "@"], "must be positive"),
    "worker on memory": (["worker", "--connect", "memory:", "--processes", "2"],
                         "worker processes cannot share a memory: store"),
    "worker bad path": (["worker", "--path", "/nonexistent/dir", "@"],
                        "--path /nonexistent/dir: not a folder"),
    "no command": ([], "the following arguments are required: COMMAND"),
    "unknown command": (["frobnicate"], "invalid choice: 'frobnicate'"),
    "add without units": (["add", "a"], "the following arguments are required: --units"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_exit_2(case: str, tmp_path: Path) -> None:
    args, message = BAD[case]
    url = f"sqlite://{tmp_path}/bad.db"
    ns = connect(url).namespace("")
    ns.set_work_spec({"name": "a"})
    args = [a for a in args if a != "@"] + (["--connect", url] if "@" in args else [])
    p = coordinate_cli(*args, input="just text\n", env={"COORDINATED": "/nonexistent"})
    assert p.returncode == 2, p.stdout + p.stderr
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert p.stderr.startswith("coordinate: error: ")
    assert message in p.stderr


def test_serve_without_a_daemon_is_one_line() -> None:
    p = coordinate_cli("serve", env={"COORDINATED": "", "PATH": "/nonexistent"})
    assert p.returncode == 2
    assert p.stderr.startswith("coordinate: error: coordinated is not installed")
    assert p.stderr.count("\n") == 1


def test_unreachable_daemon_is_one_line_exit_1() -> None:
    p = coordinate_cli("status", "--connect", "http://127.0.0.1:9/", timeout=60)
    assert p.returncode == 1, p.stderr
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("coordinate: error: http://127.0.0.1:9/")

