"""The Python worker runtime (coordinate.worker), its progress displays and
the `coordinate` command line. These use the system clock and short leases."""

from __future__ import annotations

import io
import json
import logging
import os
import re
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
    MAX_SECONDS,
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


def run_bounded(pool: WorkerPool, limit: float = 60.0) -> RunResult:
    """``pool.run()``, but a run that never ends (a worker thread died and
    its attempt is renewed forever) fails the test instead of hanging it."""
    box: List[RunResult] = []
    thread = threading.Thread(
        target=lambda: box.append(pool.run(handle_signals=False, tick=0.02)), daemon=True
    )
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        pool.stop(now=True)
        thread.join(10)
        pytest.fail("the run did not end: a worker thread died and left its attempt pending")
    return box[0]


class Unprintable(Exception):
    def __str__(self) -> str:
        return str(1 / 0)


class StrNotAString(Exception):
    def __str__(self) -> Any:
        return 1


def test_unprintable_exception_fails_the_attempt_and_the_worker_goes_on() -> None:
    """Issue 15, point 2: an exception whose str() raises (or is not a
    string) must not kill the worker thread in the error formatter."""
    errors = {"a": Unprintable, "b": StrNotAString}

    def raiser(task: Task) -> None:
        if task.name in errors:
            raise errors[task.name]("ignored")
        task.data["ran"] = True

    coord, ns = setup({"name": "s", "run_function": "raiser"})
    spec = ns.work_spec("s")
    spec.add_work_units(["a", "b", "c"])
    pool = WorkerPool(coord, ns, functions={"raiser": raiser}, workers=1)
    result = run_bounded(pool)
    assert result.stats.failed == 2 and result.stats.finished == 1 and result.exit_code == 1
    a, b = spec.work_unit("a").data(), spec.work_unit("b").data()
    assert spec.work_unit("a").status() == WorkUnitStatus.FAILED
    assert a["exception_type"].endswith("Unprintable")
    assert a["exception_message"] == "<Unprintable object; its str() raised ZeroDivisionError>"
    assert "Unprintable" in a["traceback"]
    assert b["exception_message"] == "<StrNotAString object; its str() raised TypeError>"
    assert spec.work_unit("c").data() == {"ran": True}


def test_bookkeeping_failure_fails_the_attempt_and_the_worker_goes_on() -> None:
    """Issue 15, point 2: a failure in the runtime's own bookkeeping fails
    the attempt with a message saying so and keeps the worker thread."""
    coord, ns = setup({"name": "s", "run_function": "f"})
    spec = ns.work_spec("s")
    spec.add_work_units(["a", "b"])
    pool = WorkerPool(coord, ns, functions={"f": lambda task: None}, workers=1)
    real_store = pool._store
    broken: List[str] = []

    def store_once_broken(attempt: Any, how: str, data: Dict[str, Any], delay: float = 0.0) -> str:
        if not broken:
            broken.append(attempt.work_unit.name)
            raise RuntimeError("bookkeeping bug")
        return real_store(attempt, how, data, delay)

    pool._store = store_once_broken  # type: ignore[method-assign]
    result = run_bounded(pool)
    [first] = broken
    second = "b" if first == "a" else "a"
    assert spec.work_unit(first).status() == WorkUnitStatus.FAILED
    data = spec.work_unit(first).data()
    assert data["exception_type"] == "RuntimeError"
    assert data["exception_message"] == (
        "the worker runtime failed while handling this task: RuntimeError: bookkeeping bug"
    )
    assert spec.work_unit(second).status() == WorkUnitStatus.FINISHED
    assert result.stats.failed == 1 and result.stats.finished == 1 and result.exit_code == 1
    assert pool.parent.child_attempts() == []


def test_cli_unprintable_exception_fails_without_a_traceback(tmp_path: Path) -> None:
    """Issue 15, point 2, end to end: ``coordinate run`` ends (exit 1) and
    its log line does not become a logging traceback."""
    _write(
        tmp_path,
        {
            "bad.py": "class B(Exception):\n    __str__ = lambda s: 1 / 0\n\n"
            "def f(task):\n    raise B()\n",
            "flow.yaml": "flows:\n  a: {module: bad, run_function: f}\nunits:\n  a: [x, y]\n",
        },
    )
    proc = cli("run", "flow.yaml", "--workers", "1", "--progress", "none", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Logging error" not in proc.stderr
    assert proc.stderr.count("failed: B: <B object; its str() raised ZeroDivisionError>") == 2
    assert "exit status 1: some work failed" in proc.stdout


# ---------------------------------------------- return values and output


def test_returned_mapping_is_merged_into_the_data() -> None:
    """Issue 15, point 10: a returned mapping is merged over task.data, so
    ``return {"output": [...]}`` chains."""

    def produce(task: Task) -> Dict[str, Any]:
        task.data["seen"] = True
        return {"output": [f"{task.name}-next"], "n": task.data["n"] + 1}

    coord, ns = setup(
        {"name": "s", "run_function": "produce", "then": "t"},
        {"name": "t", "run_function": "noop"},
    )
    unit = ns.work_spec("s").add_work_unit("u", {"n": 1, "keep": "me"})
    result = run(coord, ns, {"produce": produce, "noop": lambda task: None})
    assert result.exit_code == 0
    assert unit.data() == {"n": 2, "keep": "me", "seen": True, "output": ["u-next"]}
    assert list(ns.work_spec("t").work_units()) == ["u-next"]


def test_other_return_values_are_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    coord, ns = setup({"name": "s", "run_function": "f"})
    spec = ns.work_spec("s")
    spec.add_work_units([("a", {"k": 1}), ("b", {"k": 2})])
    with caplog.at_level(logging.WARNING, logger="coordinate.worker"):
        result = run(coord, ns, {"f": lambda task: [1, 2]})
    assert result.exit_code == 0 and spec.work_unit("a").data() == {"k": 1}
    warnings = [r.getMessage() for r in caplog.records if "returned a list" in r.getMessage()]
    assert warnings == [
        "s: a run function returned a list, which is ignored; return a mapping "
        "(merged into task.data) or None"
    ]  # once per work spec, not per task


def test_dropped_output_items_are_logged_with_the_core_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 15, point 10: each output item the core rejects is logged with
    its reason; the good items still chain."""
    outputs: Dict[str, Any] = {
        "list": ["ok", 5, ["short"], ["bad-data", 7], [3, {}], ["fine", {"x": 1}]],
        "map": {"m1": {}, "m2": "not a map"},
        "string": "just-a-name",
    }

    def emit(task: Task) -> None:
        task.data["output"] = outputs[task.name]

    coord, ns = setup(
        {"name": "s", "run_function": "emit", "then": "t"},
        {"name": "t", "run_function": "noop"},
    )
    ns.work_spec("s").add_work_units(list(outputs))
    with caplog.at_level(logging.WARNING, logger="coordinate.worker"):
        result = run(coord, ns, {"emit": emit, "noop": lambda task: None})
    assert result.exit_code == 0
    assert sorted(ns.work_spec("t").work_units()) == ["fine", "ok"]
    messages = sorted(r.getMessage() for r in caplog.records)
    assert messages == sorted(
        [
            "s/list: output item 2 dropped: work unit not a list",
            "s/list: output item 3 dropped: too few parameters to work unit",
            "s/list: output item 4 dropped: bad work unit item: element 1 (data) is not a map",
            "s/list: output item 5 dropped: bad work unit item: element 0 (name) is not a string",
            "s/map: output dropped: the value of 'm2' is not a map of data (bad work unit item: "
            "element 1 (data) is not a map); one bad value drops the whole output map",
            "s/string: output dropped: it is a str, not a list of units or a map of name to "
            "data; nothing is chained",
        ]
    )


def test_output_without_then_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    coord, ns = setup({"name": "s", "run_function": "f"})
    ns.work_spec("s").add_work_units(["a", "b"])

    def f(task: Task) -> None:
        task.add_output("next")

    with caplog.at_level(logging.WARNING, logger="coordinate.worker"):
        assert run(coord, ns, {"f": f}).exit_code == 0
    [record] = caplog.records  # once per work spec, not per unit
    assert re.fullmatch(
        r"s/[ab]: work spec 's' has no 'then', so the output of its units is dropped",
        record.getMessage(),
    )


def test_output_delay_and_priority_out_of_range_fail_the_task() -> None:
    def f(task: Task) -> None:
        if task.name == "delay":
            task.add_output("x", delay=float("inf"))
        else:
            task.add_output("x", priority=float("nan"))

    coord, ns = setup({"name": "s", "run_function": "f", "then": "s"})
    spec = ns.work_spec("s")
    spec.add_work_units(["delay", "priority"])
    # Unchecked, the delay would chain a unit due in the year 262142: a run without end.
    result = run_bounded(WorkerPool(coord, ns, functions={"f": f}))
    assert result.stats.failed == 2 and "x" not in spec.work_units()
    assert spec.work_unit("delay").data()["exception_message"].startswith("delay must be at most")
    assert spec.work_unit("priority").data()["exception_message"] == (
        "priority must be a finite number, not nan"
    )


def test_units_left_in_a_paused_spec_are_reported() -> None:
    """Issue 15, point 10: a paused spec with units does not end a run
    with exit 0 "all work done"."""
    coord, ns = setup(
        {"name": "on", "run_function": "f"},
        {"name": "held", "run_function": "f", "disabled": True},
    )
    ns.work_spec("on").add_work_unit("u")
    ns.work_spec("held").add_work_units(["a", "b"])
    result = run(coord, ns, {"f": lambda task: None})
    assert result.reason == "drained" and result.stats.finished == 1
    assert result.paused_left == (("held", 2),) and result.exit_code == 3
    text = format_summary(result)
    assert "2 units left in paused work specs: held (2 units)." in text
    assert text.splitlines()[-1] == "exit status 3: work left in paused work specs: held (2 units)"


def test_cli_reports_units_left_in_paused_specs(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "good.py": "def f(task): pass\n",
            "flow.yaml": "flows:\n  a: {module: good, run_function: f}\n"
            "  b: {module: good, run_function: f, disabled: true}\n"
            "units:\n  a: [x]\n  b: [y]\n",
        },
    )
    summary = tmp_path / "summary.json"
    proc = cli(
        "run", "flow.yaml", "--progress", "none", "--summary-json", str(summary), cwd=tmp_path
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "exit status 3: work left in paused work specs: b (1 unit)" in proc.stdout
    data = json.loads(summary.read_text())
    assert data["paused_left"] == {"b": 1} and data["specs"]["b"]["paused"] is True


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
    # The go unit is not this pool's work; "off" is paused, and its unit is left undone.
    assert result.exit_code == 3 and result.paused_left == (("off", 1),)
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


def _alias_bomb(levels: int) -> str:
    """A flow file whose spec data, with its aliases expanded, holds
    ``10 ** levels`` strings; parsed as a graph, it stays a few kilobytes."""
    lines = ["flows:", "  a:", "    module: good", "    run_function: f"]
    lines.append("    l0: &a0 [x, x, x, x, x, x, x, x, x, x]")
    for i in range(1, levels):
        lines.append(f"    l{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    """Issue 15, point 3. The parse builds shared references, so this stays
    small even without the check; the bomb went off only later, converting
    the data for the core."""
    path = tmp_path / "flow.yaml"
    path.write_text(_alias_bomb(7))
    assert len(path.read_bytes()) < 600
    with pytest.raises(FlowError, match=r"YAML aliases would add more than 100000 values"):
        load_flow(path)
    path.write_text(_alias_bomb(5))  # 10**5 strings: a smaller bomb, still refused
    with pytest.raises(FlowError, match="alias bomb"):
        load_flow(path)


def test_yaml_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(
        "flows:\n"
        "  a: &defaults {run_function: f, config: &cfg {k: [1, 2, 3]}}\n"
        "  b: {<<: *defaults, priority: 2, other: *cfg}\n"
        "units:\n  b: [{name: u, data: *cfg}]\n"
    )
    flow = load_flow(path)
    cfg = {"k": [1, 2, 3]}
    assert flow.specs["b"] == {
        "name": "b", "run_function": "f", "config": cfg, "priority": 2, "other": cfg,
    }  # fmt: skip
    assert flow.units["b"][0].data == cfg


def test_cli_refuses_a_yaml_alias_bomb(tmp_path: Path) -> None:
    """Issue 15, point 3, end to end: one line, exit 2. Run under a 1 GiB
    address-space limit, so a regression fails instead of eating the
    machine's memory (the issue's 551-byte bomb took 17 GB)."""
    resource = pytest.importorskip("resource")
    _write(tmp_path, {"flow.yaml": _alias_bomb(7), "good.py": "def f(task): pass\n"})

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    proc = subprocess.run(
        [sys.executable, "-m", "coordinate", "run", "flow.yaml", "--progress", "none"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        preexec_fn=limit_memory,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.splitlines() == [
        "coordinate: error: flow.yaml: YAML aliases would add more than 100000 values "
        "to the document (an alias bomb?); use fewer aliases"
    ]


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
    # Issue 15, point 4: out-of-range durations in a flow file.
    "unit delay .inf": (
        {"flow.yaml": GOOD + "units:\n  a:\n    - {name: x, delay: .inf}\n"},
        ["flow.yaml"],
        "flow.yaml: units of 'a', item 1: delay: duration of inf s is outside the valid range",
    ),
    "unit delay 1.0e+12": (
        {"flow.yaml": GOOD + "units:\n  a:\n    - {name: x, delay: 1.0e+12}\n"},
        ["flow.yaml"],
        "flow.yaml: units of 'a', item 1: delay: duration of 1000000000000 s is outside the valid range",
    ),
    "unit delay .nan": (
        {"flow.yaml": GOOD + "units:\n  a:\n    - {name: x, delay: .nan}\n"},
        ["flow.yaml"],
        "flow.yaml: units of 'a', item 1: delay: duration is NaN",
    ),
    "unit delay in a units file": (
        {"flow.yaml": GOOD, "good.py": "def f(task): pass\n", "more.yaml": "a: [{name: x, delay: -.inf}]\n"},
        ["flow.yaml", "--units", "more.yaml"],
        "more.yaml: units of 'a', item 1: delay must not be negative",
    ),
    "unit priority .nan": (
        {"flow.yaml": GOOD + "units:\n  a:\n    - {name: x, priority: .nan}\n"},
        ["flow.yaml"],
        "flow.yaml: units of 'a', item 1: priority must be a number",
    ),
    # Issue 15, point 3: documents that would build more than they say.
    "recursive YAML alias": (
        {"flow.yaml": "flows:\n  a: &r {run_function: f, again: *r}\n"},
        ["flow.yaml"],
        "flow.yaml: the YAML node at line 2, column 6 contains an alias of itself",
    ),
    "deeply nested YAML": (
        {"flow.yaml": "flows: " + "[" * 5000 + "]" * 5000 + "\n"},
        ["flow.yaml"],
        "flow.yaml: YAML nested too deeply",
    ),
    "deeply nested JSON": (
        {"flow.json": '{"flows": ' + "[" * 100000 + "]" * 100000 + "}"},
        ["flow.json"],
        "flow.json: JSON nested too deeply",
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


@pytest.mark.parametrize(
    "option, value, problem",
    [
        ("--lifetime", "1e12", "must be at most 1000000000 seconds (about 31 years), not 1e+12"),
        ("--lifetime", "1e300", "must be at most 1000000000 seconds (about 31 years), not 1e+300"),
        ("--lifetime", "inf", "must be at most 1000000000 seconds (about 31 years), not inf"),
        ("--lifetime", "nan", "must be a number of seconds, not NaN"),
        ("--lifetime", "0", "must be positive, not 0"),
        ("--lifetime", "-5", "must be positive, not -5"),
        ("--grace", "-1", "must not be negative, not -1"),
        ("--grace", "1e10", "must be at most 1000000000 seconds"),
        ("--interval", "nan", "must be a number of seconds, not NaN"),
        ("--interval", "-inf", "must not be negative, not -inf"),
        ("--lifetime", "soon", "not a number of seconds: 'soon'"),
    ],
)
def test_cli_out_of_range_durations_are_one_line(option: str, value: str, problem: str) -> None:
    """Issue 15, point 4: a duration option out of range is one line naming
    the option and the problem, with exit status 2, never a traceback."""
    proc = cli("run", str(EXAMPLE), "--progress", "none", f"{option}={value}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"coordinate: error: argument {option}: {problem}"), lines[0]


def test_cli_accepts_durations_up_to_the_bound(tmp_path: Path) -> None:
    _write(tmp_path, {"good.py": "def f(task): pass\n", "flow.yaml": GOOD + "units:\n  a: [x]\n"})
    bound = f"{MAX_SECONDS:.0f}"
    proc = cli(
        "run", "flow.yaml", "--progress", "none", "--lifetime", bound, "--grace", bound,
        "--interval", "0", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "exit status 0: all work done" in proc.stdout


def test_api_durations_out_of_range_raise_value_error() -> None:
    """Issue 15, point 4: the same range in the library (``MAX_SECONDS``)."""
    coord = Coordinate()
    for kw in (
        {"lifetime": 1e12},
        {"lifetime": float("nan")},
        {"lifetime": timedelta(days=20000)},
        {"lifetime": 10**400},
        {"grace": float("inf")},
        {"grace": -1},
        {"renew_every": float("nan")},
        {"poll_interval": float("inf")},
    ):
        with pytest.raises(ValueError, match=f"{next(iter(kw))} must"):
            WorkerPool(coord, "t", **kw)
    assert WorkerPool(coord, "t", lifetime=MAX_SECONDS, grace=MAX_SECONDS).lifetime == MAX_SECONDS
    for delay in (float("inf"), float("nan"), -1.0, 2e9):
        with pytest.raises(ValueError, match="delay must"):
            Retry("later", delay=delay)
    assert Retry(delay=timedelta(seconds=MAX_SECONDS)).delay == MAX_SECONDS


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
        "paused": False,
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
        "python/python/coordinate/processes.py",
        "python/python/coordinate/admin.py",
        "examples/wordcount/demo.py",
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
