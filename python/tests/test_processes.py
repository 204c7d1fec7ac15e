"""Worker processes (WorkerPool(processes=...), `coordinate worker`): draining
through each shared store, a worker process killed mid-task, task timeouts,
SIGTERM to the parent. Every process is started here and bounded in time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from _stores import KINDS, popen_cli, store_url, unique_namespace, wait_for
from coordinate import AttemptStatus, Namespace, WorkerPool, WorkUnitStatus, connect

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

# Bounds: no run below may take longer than this.
RUN_TIMEOUT = 60.0


def spec_of(ns: Namespace, name: str, function: str, **data: Any) -> None:
    ns.set_work_spec({"name": name, "module": "_proc_tasks", "run_function": function, **data})


def statuses(ns: Namespace, spec: str) -> Dict[str, int]:
    return {str(k): v for k, v in ns.work_spec(spec).count_work_unit_status().items() if v}


@pytest.mark.parametrize("kind", KINDS)
def test_processes_drain_through_each_store(kind: str, tmp_path: Path) -> None:
    url = store_url(kind, tmp_path)
    ns_name = unique_namespace()
    coord = connect(url)
    ns = coord.namespace(ns_name)
    spec_of(ns, "s", "record", config={"seconds": 0.05})
    ns.work_spec("s").add_work_units([f"u{i:02d}" for i in range(24)])
    pool = WorkerPool(url, ns_name, processes=3, workers=2, lifetime=20)
    t0 = time.monotonic()
    result = pool.run(handle_signals=False, tick=0.05)
    assert time.monotonic() - t0 < RUN_TIMEOUT
    assert result.reason == "drained" and result.exit_code == 0
    assert statuses(ns, "s") == {"finished": 24}
    # The summary is read from the store.
    [s] = [c for c in result.specs if c.name == "s"]
    assert s.finished == 24 and result.stats.finished == 24
    units = ns.work_spec("s").work_units(limit=0)
    pids = {u.data()["pid"] for u in units.values()}
    assert os.getpid() not in pids and len(pids) >= 2  # ran in the worker processes
    # parent -> 3 process workers -> 2 thread workers each, in the store.
    procs = pool.parent.children()
    assert sorted(w.name for w in procs) == [f"{pool.name}/p{i}" for i in range(3)]
    assert all(len(w.children()) == 2 for w in procs)
    ran_by = {u.data()["worker"].rsplit("/", 1)[0] for u in units.values()}
    assert ran_by <= {w.name for w in procs}
    assert not pool.parent.active()


def test_memory_store_is_refused_for_processes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot share a memory: store"):
        WorkerPool("memory:", processes=2)
    with pytest.raises(ValueError, match="processes must be a positive integer"):
        WorkerPool("memory:", processes=0)
    with pytest.raises(ValueError, match="task_timeout needs processes="):
        WorkerPool("memory:", task_timeout=5)
    with pytest.raises(ValueError, match="processes need the store's URL"):
        WorkerPool(connect("memory:"), processes=2)
    # A URL without processes: threads of this process on that store.
    url = store_url("sqlite", tmp_path)
    connect(url).namespace("n").set_work_spec({"name": "s", "run_function": "r"})
    connect(url).namespace("n").work_spec("s").add_work_unit("u")
    pool = WorkerPool(url, "n", functions={"r": lambda task: None})
    assert pool.run(handle_signals=False).exit_code == 0
    assert connect(url).namespace("n").work_spec("s").work_unit("u").status() == (
        WorkUnitStatus.FINISHED
    )


def test_registered_functions_reach_forked_processes(tmp_path: Path) -> None:
    url = store_url("sqlite", tmp_path)
    ns = connect(url).namespace("n")
    ns.set_work_spec({"name": "s", "run_function": "triple"})
    ns.work_spec("s").add_work_units([(f"u{i}", {"n": i}) for i in range(6)])

    def triple(task: Any) -> None:
        task.data["n"] *= 3

    pool = WorkerPool(url, "n", processes=2, functions={"triple": triple}, start_method="fork")
    assert pool.run(handle_signals=False).exit_code == 0
    units = ns.work_spec("s").work_units(limit=0)
    assert sorted(u.data()["n"] for u in units.values()) == [0, 3, 6, 9, 12, 15]


def _kill_the_slow_unit(kind: str, tmp_path: Path, max_retries: int) -> Dict[str, Any]:
    """Runs `coordinate worker` on spec `k` with a unit `slow` that sleeps
    on its first attempt, SIGKILLs the process running it, and returns what
    the store then says about `slow`."""
    url = store_url(kind, tmp_path)
    ns_name = unique_namespace()
    ns = connect(url).namespace(ns_name)
    spec_of(ns, "k", "slow_first", max_retries=max_retries,
            config={"slow": ["slow"], "seconds": 60})  # fmt: skip
    ns.work_spec("k").add_work_units(["slow", *(f"q{i}" for i in range(8))])
    proc = popen_cli("worker", "--connect", url, "--namespace", ns_name, "--processes", "2",
                     "--until-empty", "--path", str(HERE), "--progress", "none")  # fmt: skip
    try:
        unit = ns.work_spec("k").work_unit("slow")
        wait_for("the slow unit to run", lambda: unit.active_attempt() is not None)
        attempt = unit.active_attempt()
        assert attempt is not None
        pid = attempt.worker.data()["pid"]
        assert pid != proc.pid  # a worker process, not the parent
        os.kill(pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    attempts = unit.attempts()
    return {
        "code": proc.returncode,
        "err": err,
        "out": out,
        "pid": pid,
        "status": unit.status(),
        "attempts": [(a.status(), a.data()) for a in attempts],
        "others": statuses(ns, "k"),
    }


@pytest.mark.parametrize("kind", ["sqlite", "http"])
def test_killed_worker_process_is_noticed_and_its_unit_runs_again(
    kind: str, tmp_path: Path
) -> None:
    r = _kill_the_slow_unit(kind, tmp_path, max_retries=0)
    assert r["code"] == 0, r["err"]
    assert r["status"] == WorkUnitStatus.FINISHED
    (s1, d1), (s2, d2) = r["attempts"]
    assert s1 == AttemptStatus.EXPIRED
    assert "killed by SIGKILL" in d1["expired"] and str(r["pid"]) in d1["expired"]
    assert s2 == AttemptStatus.FINISHED and d2["attempt"] == 2 and d2["pid"] != r["pid"]
    assert r["others"] == {"finished": 9}
    assert "killed by SIGKILL; starting it again" in r["err"]


def test_the_killed_attempt_counts_against_max_retries(tmp_path: Path) -> None:
    r = _kill_the_slow_unit("sqlite", tmp_path, max_retries=1)
    assert r["status"] == WorkUnitStatus.FAILED  # its one attempt was used up
    assert [s for s, _ in r["attempts"]][0] == AttemptStatus.EXPIRED
    assert r["code"] == 1  # something failed
    assert r["others"] == {"finished": 8, "failed": 1}


@pytest.mark.parametrize("how", ["spec", "option"])
def test_task_timeout_replaces_the_process_and_fails_the_attempt(
    how: str, tmp_path: Path
) -> None:
    url = store_url("sqlite", tmp_path)
    ns = connect(url).namespace("n")
    extra: Dict[str, Any] = {"timeout": 1} if how == "spec" else {}
    spec_of(ns, "k", "slow_first", config={"slow": ["stuck"], "seconds": 60}, **extra)
    ns.work_spec("k").add_work_units(["stuck", *(f"q{i}" for i in range(6))])
    options: List[str] = [] if how == "spec" else ["--task-timeout", "1"]
    proc = popen_cli("worker", "--connect", url, "--namespace", "n", "--processes", "2",
                     "--until-empty", "--path", str(HERE), "--progress", "none", *options)  # fmt: skip
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, err  # a task failed
    unit = ns.work_spec("k").work_unit("stuck")
    assert unit.status() == WorkUnitStatus.FAILED
    [a] = unit.attempts()
    assert a.status() == AttemptStatus.FAILED
    data = a.data()
    assert data["exception_type"] == "TimeoutError"
    assert data["exception_message"].startswith("the task ran past its timeout of 1s")
    assert "its worker process (pid" in data["exception_message"]
    assert statuses(ns, "k") == {"finished": 6, "failed": 1}
    assert "past its timeout; killing worker process" in err


def _start_and_terminate(tmp_path: Path, seconds: float, grace: float) -> Dict[str, Any]:
    url = store_url("sqlite", tmp_path)
    ns = connect(url).namespace("n")
    spec_of(ns, "nap", "nap", config={"seconds": seconds})
    ns.work_spec("nap").add_work_units([f"u{i:02d}" for i in range(12)])
    proc = popen_cli("worker", "--connect", url, "--namespace", "n", "--processes", "2",
                     "--grace", str(grace), "--path", str(HERE), "--progress", "none")  # fmt: skip
    try:
        wait_for("two running tasks", lambda: statuses(ns, "nap").get("pending", 0) == 2)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    units = ns.work_spec("nap").work_units(limit=0).values()
    attempts = [a.status() for u in units for a in u.attempts()]
    return {"code": proc.returncode, "err": err, "out": out, "took": took,
            "counts": statuses(ns, "nap"), "attempts": attempts}  # fmt: skip


def test_sigterm_lets_running_tasks_finish_within_the_grace(tmp_path: Path) -> None:
    r = _start_and_terminate(tmp_path, seconds=1.0, grace=20)
    assert r["code"] == 3, r["err"]  # stopped with work left
    assert "stopping (SIGTERM)" in r["err"]
    counts = r["counts"]
    assert counts.get("pending", 0) == 0 and counts.get("failed", 0) == 0
    assert counts["finished"] >= 2 and counts["finished"] + counts.get("available", 0) == 12
    assert AttemptStatus.EXPIRED not in r["attempts"]  # the running ones finished


def test_sigterm_expires_tasks_that_outlive_the_grace(tmp_path: Path) -> None:
    r = _start_and_terminate(tmp_path, seconds=60, grace=0.5)
    assert r["code"] == 3, r["err"]
    assert r["took"] < 30  # not the tasks' 60 s
    assert r["counts"] == {"available": 12}
    assert r["attempts"].count(AttemptStatus.EXPIRED) == 2


def test_cli_worker_drains_a_flow_in_processes(tmp_path: Path) -> None:
    url = store_url("sqlite", tmp_path)
    flow = HERE.parents[1] / "examples" / "wordcount" / "flow.yaml"
    env = {"COORDINATE_URL": url}
    load = subprocess.run([sys.executable, "-m", "coordinate", "load", str(flow)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})  # fmt: skip
    assert load.returncode == 0, load.stderr
    proc = popen_cli("worker", "--processes", "3", "--until-empty", "--progress", "plain",
                     "--interval", "0.5", "--path", str(flow.parent), env=env)  # fmt: skip
    out, err = proc.communicate(timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, err
    assert out.splitlines()[0].startswith("coordinate: worker ")
    assert "3 processes x 1 thread, until no work is left" in out.splitlines()[0]
    assert "exit status 0: all work done, nothing failed" in out
    ns = connect(url).namespace("")
    assert statuses(ns, "count") == {"finished": 71}
    total = ns.work_spec("merge").work_unit("total").data()
    assert total["result"].splitlines()[2].split() == ["238", "license"]


def test_spawned_processes_import_run_functions_by_module(tmp_path: Path) -> None:
    url = store_url("sqlite", tmp_path)
    ns = connect(url).namespace("n")
    spec_of(ns, "s", "record")
    ns.work_spec("s").add_work_units([f"u{i}" for i in range(4)])
    pool = WorkerPool(url, "n", processes=2, start_method="spawn")
    result = pool.run(handle_signals=False)
    assert result.exit_code == 0 and statuses(ns, "s") == {"finished": 4}
    with pytest.raises(ValueError, match="start_method must be one of"):
        WorkerPool(url, "n", processes=1, start_method="telepathy")


class Recorder:
    def __init__(self) -> None:
        self.snapshots: List[Any] = []

    def start(self, snapshot: Any) -> None:
        self.snapshots.append(snapshot)

    def update(self, snapshot: Any) -> None:
        self.snapshots.append(snapshot)

    def close(self, snapshot: Any) -> None:
        self.snapshots.append(snapshot)


def test_progress_and_summary_come_from_the_store(tmp_path: Path) -> None:
    url = store_url("sqlite", tmp_path)
    ns = connect(url).namespace("n")
    spec_of(ns, "s", "record", config={"seconds": 0.1})
    ns.work_spec("s").add_work_units([f"u{i:02d}" for i in range(12)])
    progress = Recorder()
    result = WorkerPool(url, "n", processes=2, workers=2).run(
        handle_signals=False, progress=progress, tick=0.05
    )
    snaps = progress.snapshots
    assert snaps[0].stats.finished == 0 and snaps[-1].stats.finished == 12
    assert any(s.busy >= 2 for s in snaps)  # running tasks of other processes, seen in the store
    assert all(s.workers == 4 for s in snaps)
    per = result.stats.per_spec["s"]
    assert per.finished == 12 and per.seconds >= 12 * 0.1  # the processes' own reports
    assert result.processes == 2 and result.restarts == 0


@pytest.mark.parametrize("how", ["exit", "segfault"])
def test_a_process_that_exits_mid_task_is_replaced(how: str, tmp_path: Path) -> None:
    url = store_url("sqlite", tmp_path)
    ns = connect(url).namespace("n")
    spec_of(ns, "s", "exit_first", config={"exit": ["e1", "e2"], "how": how})
    ns.work_spec("s").add_work_units(["e1", "e2", "ok1", "ok2"])
    pool = WorkerPool(url, "n", processes=2)
    result = pool.run(handle_signals=False)
    assert result.exit_code == 0 and statuses(ns, "s") == {"finished": 4}
    assert result.restarts == 2
    for name in ("e1", "e2"):
        first, second = ns.work_spec("s").work_unit(name).attempts()
        assert first.status() == AttemptStatus.EXPIRED
        why = "exited with status 3" if how == "exit" else "killed by SIGSEGV"
        assert why in first.data()["expired"]
        assert second.data()["attempt"] == 2


def test_the_demo_kills_a_worker_process_and_still_finishes(tmp_path: Path) -> None:
    from _stores import COORDINATED

    demo = HERE.parents[1] / "examples" / "wordcount" / "demo.py"
    env = dict(os.environ, COORDINATE_DEMO_DIR=str(tmp_path), COORDINATED=str(COORDINATED))
    env.pop("COORDINATE_URL", None)
    p = subprocess.run([sys.executable, str(demo)], capture_output=True, text=True,
                       timeout=180, env=env)  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    assert "store: coordinated at http://127.0.0.1:" in p.stdout
    assert "demo: kill -9 " in p.stdout
    [killed] = [line for line in p.stdout.splitlines() if "\texpired\t" in line]
    assert killed.endswith("killed by SIGKILL")
    assert "killed by SIGKILL; starting it again" in p.stderr
    assert "exit status 0: all work done, nothing failed" in p.stdout
    assert "    238  license" in p.stdout
    assert (tmp_path / "wordcount.db").exists()
