"""The README's main job (``make demo``): the word count pipeline on worker
processes that share one store, one of them killed with SIGKILL mid-task.

1. starts ``coordinated`` (through ``coordinate serve``) on a SQLite file in
   a fresh folder, or, if no daemon is installed, uses the SQLite file
   directly;
2. ``coordinate load flow.yaml``: the work specs and the seven text files;
3. ``coordinate worker --processes 3 --until-empty``;
4. once counting is under way, sends SIGKILL to the worker process that is
   running a ``count`` task (its pid comes from the store's worker list);
   the parent worker notices, expires that attempt and starts a new process,
   and the unit runs again;
5. prints the killed unit's attempt history, the summary, the top words and
   where the state lives.

Every count task sleeps ``simulate_seconds`` (0.3 here, set on the spec
before the workers start) so that the kill lands inside a task.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import List, Optional, Tuple

from coordinate import WorkUnitStatus, connect
from coordinate.admin import find_daemon

HERE = Path(__file__).resolve().parent
PROCESSES = 3
TASK_SECONDS = 0.3
TIMEOUT = 120.0  # the whole demo; it takes about 15 s


def say(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


def coordinate(*args: str, env: dict) -> None:  # type: ignore[type-arg]
    print("$ coordinate " + " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "coordinate", *args], env=env, check=True, timeout=60)


def start_store(folder: Path) -> Tuple[str, Optional["subprocess.Popen[str]"], str]:
    """(URL, daemon process or None, description)."""
    db = folder / "wordcount.db"
    if find_daemon() is None:
        url = f"sqlite://{db}"
        return url, None, f"the SQLite file {db} (no coordinated installed)"
    args = ["serve", "--listen", "127.0.0.1:0", "--store", f"sqlite://{db}",
            "--", "--log-level", "warn"]  # fmt: skip
    print("$ coordinate " + " ".join(args) + " &", flush=True)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "coordinate", *args], stdout=subprocess.PIPE, text=True
    )
    assert daemon.stdout is not None
    line = daemon.stdout.readline().strip()
    if not line.startswith("listening on "):
        daemon.kill()
        raise SystemExit(f"demo: coordinated did not start: {line!r}")
    url = "http://" + line.removeprefix("listening on ")
    return url, daemon, f"coordinated at {url}, serving the SQLite file {db}"


def pick_victim(url: str) -> Optional[Tuple[int, str, str]]:
    """(pid, worker, unit) of a worker process that has just started a count task."""
    ns = connect(url).namespace("")
    try:
        count = ns.work_spec("count")
    except Exception:
        return None
    if count.count_work_unit_status().get(WorkUnitStatus.FINISHED, 0) < 8:
        return None  # let the pipeline get going first
    now = connect(url).now()
    for name, unit in count.work_units(statuses=[WorkUnitStatus.PENDING]).items():
        attempt = unit.active_attempt()
        if attempt is None or now - attempt.start_time() > timedelta(seconds=TASK_SECONDS / 3):
            continue
        pid = attempt.worker.data().get("pid")
        if isinstance(pid, int):
            return pid, attempt.worker.name, name
    return None


def main() -> int:
    t0 = time.monotonic()
    folder = Path(os.environ.get("COORDINATE_DEMO_DIR") or tempfile.mkdtemp(prefix="coordinate-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    say("1. a store that worker processes can share")
    url, daemon, where = start_store(folder)
    print(f"store: {where}")
    env = dict(os.environ, COORDINATE_URL=url, PYTHONUNBUFFERED="1")
    try:
        say("2. load the word count flow (work specs and the seven text files)")
        coordinate("load", str(HERE / "flow.yaml"), env=env)
        spec = connect(url).namespace("").work_spec("count")
        data = spec.data()
        data["config"]["simulate_seconds"] = TASK_SECONDS
        spec.set_data(data)
        print(f"(each count task now takes {TASK_SECONDS}s, so the kill lands mid-task)")

        say(f"3. {PROCESSES} worker processes until no work is left")
        args = ["worker", "--processes", str(PROCESSES), "--until-empty", "--path", str(HERE),
                "--progress", "plain", "--interval", "1"]  # fmt: skip
        print("$ coordinate " + " ".join(args) + " &", flush=True)
        worker = subprocess.Popen([sys.executable, "-m", "coordinate", *args], env=env)
        killed: List[Tuple[int, str, str]] = []
        try:
            while worker.poll() is None and time.monotonic() - t0 < TIMEOUT:
                if not killed:
                    victim = pick_victim(url)
                    if victim is not None and victim[0] != worker.pid:
                        pid, wname, unit = victim
                        print(
                            f"\ndemo: kill -9 {pid}: that worker process ({wname}) is running "
                            f"count/{unit}",
                            flush=True,
                        )
                        os.kill(pid, signal.SIGKILL)
                        killed.append(victim)
                time.sleep(0.05)
            code = worker.wait(timeout=max(1.0, TIMEOUT - (time.monotonic() - t0)))
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)

        if killed:
            say("4. the killed task: expired at once by the parent, then run again")
            coordinate("show", "count", killed[0][2], "--no-data", env=env)
        else:
            print("demo: the run ended before a task could be killed")
        say("5. status per work spec")
        coordinate("status", env=env)
        say("6. the result")
        total = connect(url).namespace("").work_spec("merge").work_unit("total").data()
        print(total.get("result", "(no result)"))
        say("where the state lives")
        print(f"{folder / 'wordcount.db'} (SQLite). Look again with:")
        print(f"  coordinate status --connect sqlite://{folder / 'wordcount.db'}")
        print(f"demo took {time.monotonic() - t0:.1f}s; worker exit status {code}")
        return 0 if code == 0 and killed else 1
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
