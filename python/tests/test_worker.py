"""The Python worker runtime (coordinate.worker), its progress displays and
the `coordinate` command line. These use the system clock and short leases."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from coordinate import (
    AttemptStatus,
    Coordinate,
    Namespace,
    Retry,
    Task,
    WorkerPool,
    WorkUnitStatus,
)
from coordinate.flow import FlowError, install, load_flow, parse_flow
from coordinate.progress import (
    LiveProgress,
    PlainProgress,
    format_line,
    format_summary,
    make_progress,
)
from coordinate.worker import (
    RunResult,
    RunStats,
    Snapshot,
    SpecCounts,
    TaskFunction,
    TaskLoadError,
    register,
    resolve_function,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "wordcount" / "flow.yaml"


def setup(*specs: Dict[str, Any]) -> Tuple[Coordinate, Namespace]:
    coord = Coordinate()
    ns = coord.namespace("t")
    for data in specs:
        ns.set_work_spec(data)
    return coord, ns


def run(
    coord: Coordinate, ns: Namespace, functions: Dict[str, TaskFunction], **kw: Any
) -> RunResult:
    pool = WorkerPool(coord, ns, functions=functions, **kw)
    return pool.run(handle_signals=False, tick=0.02)


# ------------------------------------------------------------------ tasks


def test_task_succeeds_and_its_data_is_kept() -> None:
    seen: List[Tuple[str, str, str, Dict[str, Any]]] = []

    def upper(task: Task) -> None:
        seen.append((task.name, task.key, task.spec_name, task.config))
        task.data["upper"] = task.data["text"].upper()

    coord, ns = setup({"name": "s", "run_function": "upper", "config": {"k": 1}})
    spec = ns.work_spec("s")
    spec.add_work_units([("a", {"text": "abc"}), ("b", {"text": "xyz"})])
    result = run(coord, ns, {"upper": upper})
    assert result.exit_code == 0 and result.reason == "drained"
    assert result.stats.finished == 2 and result.stats.failed == 0
    assert spec.work_unit("a").status() == WorkUnitStatus.FINISHED
    assert spec.work_unit("a").data() == {"text": "abc", "upper": "ABC"}
    assert sorted(seen) == [("a", "a", "s", {"k": 1}), ("b", "b", "s", {"k": 1})]


def test_module_and_run_function_and_registry() -> None:
    coord, ns = setup(
        {"name": "m", "module": "_worker_tasks", "run_function": "shout", "config": {"x": 1}},
        {"name": "n", "module": "_worker_tasks", "run_function": "Tools.whisper"},
        {"name": "r", "run_function": "test-registered"},
    )

    @register("test-registered")
    def registered(task: Task) -> None:
        task.data["registered"] = True

    for s, u in (("m", "hey"), ("n", "HUSH"), ("r", "x")):
        ns.work_spec(s).add_work_unit(u)
    assert WorkerPool(coord, ns).run(handle_signals=False).exit_code == 0
    assert ns.work_spec("m").work_unit("hey").data() == {"shout": "HEY!", "spec_config": {"x": 1}}
    assert ns.work_spec("n").work_unit("HUSH").data() == {"whisper": "hush"}
    assert ns.work_spec("r").work_unit("x").data() == {"registered": True}


@pytest.mark.parametrize(
    "spec, message",
    [
        ({}, "has no run_function"),
        ({"run_function": "nobody-registered-this"}, "is not a registered function"),
        ({"module": "no_such_module_xyz", "run_function": "f"}, "cannot import module"),
        ({"module": "_worker_tasks", "run_function": "nope"}, "has no function 'nope'"),
        ({"module": "_worker_tasks", "run_function": "not_a_function"}, "is not callable"),
    ],
)
def test_resolve_function_errors(spec: Dict[str, Any], message: str) -> None:
    with pytest.raises(TaskLoadError, match=message):
        resolve_function(spec)


def test_task_that_raises_fails_its_attempt() -> None:
    def boom(task: Task) -> None:
        task.data["partial"] = 1
        raise ValueError(f"bad input {task.name}")

    coord, ns = setup({"name": "s", "run_function": "boom"})
    unit = ns.work_spec("s").add_work_unit("u7", {"keep": "me"})
    result = run(coord, ns, {"boom": boom})
    assert result.exit_code == 1 and result.failed_units == 1 and result.stats.failed == 1
    assert unit.status() == WorkUnitStatus.FAILED
    [attempt] = unit.attempts()
    assert attempt.status() == AttemptStatus.FAILED
    data = attempt.data()
    assert data["keep"] == "me" and data["partial"] == 1
    assert data["exception_type"] == "ValueError"
    assert data["exception_message"] == "bad input u7"
    assert "Traceback (most recent call last)" in data["traceback"]
    assert "ValueError: bad input u7" in data["traceback"]


def test_unstorable_data_fails_the_attempt() -> None:
    def bad(task: Task) -> None:
        task.data["oops"] = {1, 2}  # a set: not a data value

    coord, ns = setup({"name": "s", "run_function": "bad"})
    unit = ns.work_spec("s").add_work_unit("u")
    result = run(coord, ns, {"bad": bad})
    assert result.exit_code == 1
    assert unit.status() == WorkUnitStatus.FAILED
    assert unit.data()["exception_type"] == "TypeError"


def test_retry_runs_the_unit_again_after_the_delay() -> None:
    def flaky(task: Task) -> None:
        if task.attempt_number == 1:
            raise Retry("try later", delay=0.3)
        task.data["ok"] = task.attempt_number

    coord, ns = setup({"name": "s", "run_function": "flaky"})
    unit = ns.work_spec("s").add_work_unit("u", {"n": 1})
    result = run(coord, ns, {"flaky": flaky})
    assert result.exit_code == 0 and result.stats.retried == 1 and result.stats.finished == 1
    first, second = unit.attempts()
    assert first.status() == AttemptStatus.RETRYABLE
    assert first.data() == {"n": 1, "retry_reason": "try later"}
    not_before = unit.meta().not_before
    end = first.end_time()
    assert not_before is not None and end is not None
    assert not_before - end == timedelta(seconds=0.3)
    assert second.start_time() >= not_before
    assert second.status() == AttemptStatus.FINISHED and unit.data() == {"n": 1, "ok": 2}


def test_max_retries_is_the_cores_decision() -> None:
    def again(task: Task) -> None:
        raise Retry(delay=0)

    coord, ns = setup({"name": "s", "run_function": "again", "max_retries": 2})
    unit = ns.work_spec("s").add_work_unit("u")
    result = run(coord, ns, {"again": again})
    assert result.stats.retried == 2
    assert unit.status() == WorkUnitStatus.FAILED
    assert unit.data()["traceback"] == "too many retries"
    assert result.failed_units == 1 and result.exit_code == 1


def test_long_task_keeps_its_lease_by_renewal() -> None:
    expirations = []

    def slow(task: Task) -> None:
        expirations.append(task.attempt.expiration_time())
        time.sleep(2.5)
        expirations.append(task.attempt.expiration_time())

    coord, ns = setup({"name": "s", "run_function": "slow"})
    unit = ns.work_spec("s").add_work_unit("u")
    result = run(coord, ns, {"slow": slow}, lifetime=1.0)
    assert result.exit_code == 0 and result.stats.lost == 0
    assert result.stats.renewed >= 3  # every third of a second, for 2.5 s
    [attempt] = unit.attempts()
    assert attempt.status() == AttemptStatus.FINISHED
    assert expirations[1] - expirations[0] > timedelta(seconds=1.5)


def test_without_renewal_the_lease_is_lost_and_the_unit_reruns() -> None:
    def slow_once(task: Task) -> None:
        if task.attempt_number == 1:
            time.sleep(1.2)
        task.data["attempt"] = task.attempt_number

    coord, ns = setup({"name": "s", "run_function": "slow_once"})
    unit = ns.work_spec("s").add_work_unit("u")
    pool = WorkerPool(coord, ns, functions={"slow_once": slow_once}, lifetime=0.4, workers=2)
    pool._renew_due = lambda: None  # type: ignore[method-assign]  # a stalled heartbeat
    result = pool.run(handle_signals=False, tick=0.02)
    first, second = unit.attempts()
    assert first.status() == AttemptStatus.EXPIRED
    assert second.status() == AttemptStatus.FINISHED and unit.data() == {"attempt": 2}
    assert result.stats.lost == 1 and result.exit_code == 0


# --------------------------------------------------------------- chaining


def test_chaining_across_specs() -> None:
    def split(task: Task) -> None:
        for i, word in enumerate(task.data["text"].split()):
            task.add_output(f"{task.name}-{i}", {"word": word}, priority=i)

    def measure(task: Task) -> None:
        task.data["length"] = len(task.data["word"])
        task.data["output"] = {"total": {}}  # the map form of output

    def total(task: Task) -> None:
        task.data["done"] = True

    coord, ns = setup(
        {"name": "split", "run_function": "split", "then": "measure"},
        {"name": "measure", "run_function": "measure", "then": "total", "priority": 1},
        {"name": "total", "run_function": "total"},
    )
    ns.work_spec("split").add_work_unit("s", {"text": "one three fives"})
    fns: Dict[str, TaskFunction] = {"split": split, "measure": measure, "total": total}
    result = run(coord, ns, fns, workers=2)
    assert result.exit_code == 0
    units = ns.work_spec("measure").work_units()
    assert sorted(units) == ["s-0", "s-1", "s-2"]
    assert units["s-2"].priority() == 2.0
    assert [units[f"s-{i}"].data()["length"] for i in range(3)] == [3, 5, 5]
    assert ns.work_spec("total").work_unit("total").data() == {"done": True}
    by_spec = {s.name: s for s in result.specs}
    assert by_spec["measure"].finished == 3 and by_spec["total"].finished == 1


# ------------------------------------------------------------------- pool


def test_pool_of_threads_under_one_parent() -> None:
    lock = threading.Lock()
    running = {"now": 0, "peak": 0}
    observed: List[Tuple[str, bool, str, str]] = []
    pool_box: List[WorkerPool] = []

    def work(task: Task) -> None:
        with lock:
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
        parent = pool_box[0].parent
        in_children = task.attempt in parent.child_attempts()
        observed.append(
            (task.worker.name, in_children, task.worker.mode(), task.worker.data()["state"])
        )
        time.sleep(0.05)
        with lock:
            running["now"] -= 1

    coord, ns = setup({"name": "s", "run_function": "work"})
    spec = ns.work_spec("s")
    spec.add_work_units([f"u{i:02d}" for i in range(40)])
    pool = WorkerPool(coord, ns, functions={"work": work}, workers=4, name="pool")
    pool_box.append(pool)
    assert pool.parent.children() == pool.children and len(pool.children) == 4
    assert all(c.parent() == pool.parent for c in pool.children)
    result = pool.run(handle_signals=False, tick=0.02)
    assert result.exit_code == 0 and result.stats.finished == 40
    assert all(len(u.attempts()) == 1 for u in spec.work_units().values())
    assert running["peak"] > 1
    assert len({w for w, _, _, _ in observed}) > 1
    assert all(seen and mode == "run" and state == "busy" for _, seen, mode, state in observed)
    # After the run: everyone reported, stopped and was deactivated.
    assert not pool.parent.active() and pool.parent.mode() == "stop"
    assert pool.parent.data()["workers"] == 4 and pool.parent.child_attempts() == []
    for child in pool.children:
        assert not child.active() and child.data()["state"] == "stopped"
    assert sum(c.data()["tasks"] for c in pool.children) == 40
    assert {a.worker.name for u in spec.work_units().values() for a in u.attempts()} <= {
        c.name for c in pool.children
    }


def test_runtimes_limit_what_is_served() -> None:
    coord, ns = setup(
        {"name": "py", "run_function": "f", "runtime": "python"},
        {"name": "plain", "run_function": "f"},
        {"name": "go", "run_function": "f", "runtime": "go"},
        {"name": "off", "run_function": "f", "disabled": True},
    )
    for s in ("py", "plain", "go", "off"):
        ns.work_spec(s).add_work_unit("u")
    result = run(coord, ns, {"f": lambda task: None})
    assert result.exit_code == 0  # the go unit is not this pool's work, "off" is paused
    assert ns.work_spec("go").work_unit("u").status() == WorkUnitStatus.AVAILABLE
    assert ns.work_spec("off").work_unit("u").status() == WorkUnitStatus.AVAILABLE
    assert "go (not served)" in format_summary(result) and "off (paused)" in format_summary(result)
    assert ns.work_spec("py").work_unit("u").status() == WorkUnitStatus.FINISHED
    assert ns.work_spec("plain").work_unit("u").status() == WorkUnitStatus.FINISHED
    only_go = run(coord, ns, {"f": lambda task: None}, runtimes=["go"])
    assert only_go.exit_code == 0
    assert ns.work_spec("go").work_unit("u").status() == WorkUnitStatus.FINISHED


def test_stop_waits_for_running_tasks_within_grace() -> None:
    def nap(task: Task) -> None:
        time.sleep(0.5)
        task.data["slept"] = True

    coord, ns = setup({"name": "s", "run_function": "nap"})
    spec = ns.work_spec("s")
    spec.add_work_units(["a", "b", "c"])
    pool = WorkerPool(coord, ns, functions={"nap": nap}, grace=5)
    threading.Timer(0.2, pool.stop).start()
    result = pool.run(handle_signals=False, tick=0.02)
    assert result.reason == "stopped" and result.exit_code == 3
    assert result.stats.finished == 1 and result.stats.expired == 0
    counts = spec.count_work_unit_status()
    assert counts == {WorkUnitStatus.FINISHED: 1, WorkUnitStatus.AVAILABLE: 2}


def test_stop_expires_what_outlives_the_grace_period() -> None:
    release = threading.Event()

    def stuck(task: Task) -> None:
        release.wait(10)

    coord, ns = setup({"name": "s", "run_function": "stuck"})
    unit = ns.work_spec("s").add_work_unit("u", {"k": "v"})
    pool = WorkerPool(coord, ns, functions={"stuck": stuck}, grace=0.3)
    threading.Timer(0.2, pool.stop).start()
    t0 = time.monotonic()
    try:
        result = pool.run(handle_signals=False, tick=0.02)
    finally:
        release.set()
    assert time.monotonic() - t0 < 3
    assert result.exit_code == 3 and result.stats.expired == 1
    [attempt] = unit.attempts()
    assert attempt.status() == AttemptStatus.EXPIRED
    assert attempt.data()["expired"].startswith("worker stopped")
    assert unit.status() == WorkUnitStatus.AVAILABLE
    assert pool.parent.child_attempts() == []


# --------------------------------------------------------------- progress


def _snapshot(stopping: bool = False) -> Snapshot:
    return Snapshot(
        elapsed=1.5,
        specs=(
            SpecCounts("b", available=2, pending=1, finished=3),
            SpecCounts("a", finished=4, failed=1),
            SpecCounts("z", available=1, served=False),
        ),
        stats=RunStats(finished=7, failed=1),
        workers=2,
        busy=1,
        rate=4.0,
        stopping=stopping,
        stop_reason="SIGTERM" if stopping else "",
        grace_left=2.0 if stopping else None,
    )


def test_plain_progress_line() -> None:
    line = format_line(_snapshot(), order=["a"])
    assert line.startswith("[    1.5s] a 5/5 (1 failed) | b 3/6 (1 pending, 2 available)")
    assert "z 0/1 (1 available) [not served]" in line
    assert line.endswith("| 4.0 tasks/s, 1/2 workers busy")
    assert "stopping (SIGTERM): 1 running, 2.0s of grace left" in format_line(_snapshot(True))
    out = io.StringIO()
    p = PlainProgress(out, interval=60)
    p.start(_snapshot())
    p.update(_snapshot())  # within the interval: nothing
    p.update(_snapshot(True))  # a stop begins: a line
    p.close(_snapshot(True))
    assert len(out.getvalue().splitlines()) == 3


def test_auto_progress_is_plain_when_not_a_terminal() -> None:
    assert isinstance(make_progress("auto", io.StringIO()), PlainProgress)
    assert isinstance(make_progress("live", io.StringIO()), LiveProgress)
    with pytest.raises(ValueError):
        make_progress("fancy")


def test_live_progress_renders_a_table() -> None:
    from rich.console import Console

    console = Console(file=io.StringIO(), width=110, record=True)
    console.print(LiveProgress(io.StringIO(), order=["a"]).render(_snapshot(True)))
    text = console.export_text()
    assert "work spec" in text and "available" in text and "4.0 tasks/s" in text
    assert text.index(" a ") < text.index(" b ")
    assert "stopping (SIGTERM)" in text


def test_summary_table() -> None:
    result = RunResult(
        reason="signal",
        signal="SIGTERM",
        elapsed=2.0,
        stats=RunStats(finished=7, failed=1, expired=2),
        specs=_snapshot().specs,
        workers=2,
        failed_units=1,
    )
    text = format_summary(result, order=["a"])
    lines = text.splitlines()
    assert lines[0].split() == [
        "work", "spec", "units", "finished", "failed", "available", "delayed",
        "pending", "tasks", "retries", "avg", "s",
    ]  # fmt: skip
    assert lines[1].split()[:4] == ["a", "5", "4", "1"]
    assert "Stopped by SIGTERM after 2.00s" in text and "2 expired at shutdown" in text
    assert lines[-1] == "exit status 1: some work failed"


# ------------------------------------------------------------------- flows


def test_flow_units_with_priority_and_delay(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(
        textwrap.dedent(
            """
            flows:
              s: {run_function: f, when: 2026-01-01}
            units:
              s:
                - plain
                - {name: urgent, data: {k: 1}, priority: 5}
                - {name: later, delay: 3600}
            """
        )
    )
    flow = load_flow(path)
    assert flow.specs["s"] == {"name": "s", "run_function": "f", "when": "2026-01-01"}
    coord, ns = setup()
    assert install(flow, ns, coord.now()) == 3
    units = ns.work_spec("s").work_units()
    assert units["urgent"].priority() == 5.0 and units["urgent"].data() == {"k": 1}
    assert units["later"].status() == WorkUnitStatus.DELAYED
    assert units["plain"].status() == WorkUnitStatus.AVAILABLE


def test_flow_mapping_units_and_errors() -> None:
    flow = parse_flow({"flows": {"s": None}, "units": {"s": {"a": None, "b": {"x": 1}}}}, "f")
    assert [(u.name, u.data) for u in flow.units["s"]] == [("a", {}), ("b", {"x": 1})]
    with pytest.raises(FlowError, match="flow 's' has name 't'"):
        parse_flow({"flows": {"s": {"name": "t"}}}, "f")
    with pytest.raises(FlowError, match="unknown key 'flow'"):
        parse_flow({"flow": {}}, "f")


# ------------------------------------------------------- command line


def cli(
    *args: str, cwd: Optional[Path] = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-m", "coordinate", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or ROOT,
        env=env,
    )


def test_cli_runs_the_wordcount_example(tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    proc = cli(
        "run", str(EXAMPLE), "--workers", "3", "--seed", "7", "--progress", "plain",
        "--summary-json", str(summary),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert out.splitlines()[0].startswith("coordinate: running")
    assert out.splitlines()[1].startswith("[    0.0s] split 0/7 (7 available)")
    assert "exit status 0: all work done, nothing failed" in out
    assert "merge/total:" in out
    data = json.loads(summary.read_text())
    specs = data["specs"]
    assert specs["split"]["finished"] == 7
    assert specs["count"]["finished"] == 71 and specs["merge"]["finished"] == 1
    assert (
        sum(v for s in specs.values() for k, v in s.items() if k != "served" and k != "finished")
        == 0
    )
    assert data["tasks"]["retried"] >= 5  # every 9th chunk's first attempt, and merge waits
    [result] = data["results"]
    assert result["work_spec"] == "merge" and result["work_unit"] == "total"
    assert "top 12 words" in result["result"]
    assert result["result"].splitlines()[2].split() == ["238", "license"]


def test_console_script() -> None:
    script = Path(sys.executable).parent / "coordinate"
    assert script.exists(), "the coordinate console script is installed with the package"
    proc = subprocess.run([str(script), "run", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--workers" in proc.stdout


def _write(tmp_path: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))


GOOD = "flows:\n  a: {module: good, run_function: f}\n"
BAD_INPUT = {
    "missing flow file": ({}, ["nope.yaml"], "flow file not found: nope.yaml"),
    "malformed YAML": (
        {"flow.yaml": "flows:\n  a: {module: m\n"},
        ["flow.yaml"],
        "flow.yaml: malformed YAML at line 3, column 1",
    ),
    "malformed JSON": ({"flow.json": '{"flows": }'}, ["flow.json"], "flow.json: malformed JSON"),
    "no flows": ({"flow.yaml": "units: {}\n"}, ["flow.yaml"], "no 'flows' mapping"),
    "spec without run_function": (
        {"flow.yaml": "flows:\n  a: {module: good}\n", "good.py": "def f(task): pass\n"},
        ["flow.yaml"],
        "flow.yaml: flow 'a' has no run_function",
    ),
    "unimportable module": (
        {"flow.yaml": "flows:\n  a: {module: no_such_module_xyz, run_function: f}\n"},
        ["flow.yaml"],
        "flow 'a': cannot import module 'no_such_module_xyz' (No module named",
    ),
    "module that fails to import": (
        {"flow.yaml": GOOD, "good.py": "def f(task) pass\n"},
        ["flow.yaml"],
        "flow 'a': cannot import module 'good' (SyntaxError",
    ),
    "missing function": (
        {"flow.yaml": GOOD, "good.py": "def g(task): pass\n"},
        ["flow.yaml"],
        "flow 'a': module 'good' has no function 'f'",
    ),
    "unknown then": (
        {"flow.yaml": "flows:\n  a: {run_function: f, then: b}\n"},
        ["flow.yaml"],
        "flow 'a' chains to 'b' (then), which is not a flow",
    ),
    "units for an unknown spec": (
        {"flow.yaml": GOOD + "units:\n  b: [x]\n", "good.py": "def f(task): pass\n"},
        ["flow.yaml"],
        "units for 'b', which is not a flow",
    ),
    "missing units file": (
        {"flow.yaml": GOOD, "good.py": "def f(task): pass\n"},
        ["flow.yaml", "--units", "more.yaml"],
        "units file not found: more.yaml",
    ),
    "bad unit item": (
        {"flow.yaml": GOOD, "good.py": "def f(task): pass\n", "more.yaml": "a: [[x]]\n"},
        ["flow.yaml", "--units", "more.yaml"],
        "more.yaml: units of 'a', item 1: expected a name or a mapping",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_cli_bad_input_is_one_line(tmp_path: Path, case: str) -> None:
    files, args, message = BAD_INPUT[case]
    _write(tmp_path, files)
    proc = cli("run", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("coordinate: error: ")
    assert message in lines[0]


def test_cli_bad_arguments() -> None:
    proc = cli("run", str(EXAMPLE), "--workers", "0")
    assert proc.returncode == 2
    assert "must be at least 1" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------- shutdown by signal

NAP_MODULE = """
import time

def nap(task):
    time.sleep(float(task.config["seconds"]))
    task.data["slept"] = True
"""


def _run_and_terminate(
    tmp_path: Path, seconds: float, grace: float
) -> Tuple[int, str, Dict[str, Any]]:
    units = "\n".join(f"    - u{i:02d}" for i in range(12))
    _write(
        tmp_path,
        {
            "nap.py": NAP_MODULE,
            "flow.yaml": (
                "flows:\n  nap: {module: nap, run_function: nap, config: {seconds: %s}}\n"
                "units:\n  nap:\n%s\n" % (seconds, units)
            ),
        },
    )
    summary = tmp_path / "summary.json"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "coordinate", "run", "flow.yaml", "--workers", "2",
            "--progress", "plain", "--interval", "0.1", "--grace", str(grace),
            "--summary-json", str(summary),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )  # fmt: skip
    assert proc.stdout is not None
    # Wait until both workers hold a unit, then ask the process to stop.
    for line in proc.stdout:
        if "2/2 workers busy" in line:
            break
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, err, json.loads(summary.read_text())


def test_sigterm_lets_running_tasks_finish(tmp_path: Path) -> None:
    code, err, summary = _run_and_terminate(tmp_path, seconds=0.6, grace=10)
    assert code == 3, err
    assert summary["reason"] == "signal" and summary["signal"] == "SIGTERM"
    nap = summary["specs"]["nap"]
    assert nap["pending"] == 0 and nap["failed"] == 0
    assert nap["finished"] >= 2 and nap["finished"] + nap["available"] == 12  # none lost
    assert summary["tasks"]["expired"] == 0 and summary["tasks"]["finished"] == nap["finished"]
    assert "stopping (SIGTERM): waiting up to 10s for " in err


def test_sigterm_expires_tasks_that_outlive_the_grace(tmp_path: Path) -> None:
    t0 = time.monotonic()
    code, err, summary = _run_and_terminate(tmp_path, seconds=30, grace=0.5)
    assert time.monotonic() - t0 < 15
    assert code == 3, err
    nap = summary["specs"]["nap"]
    assert nap == {
        "available": 12, "pending": 0, "delayed": 0, "finished": 0, "failed": 0, "served": True,
    }  # fmt: skip
    assert summary["tasks"]["expired"] == 2
    assert err.count("still running at shutdown; its attempt was expired") == 2


# ------------------------------------------------------------------ typing


def test_runtime_and_example_pass_mypy_strict() -> None:
    pytest.importorskip("mypy")
    files = [
        "python/python/coordinate/worker.py",
        "python/python/coordinate/flow.py",
        "python/python/coordinate/progress.py",
        "python/python/coordinate/cli.py",
        "examples/wordcount/wordcount.py",
        "python/tests/test_worker.py",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
