"""Worker processes: one parent worker supervising N worker processes.

``WorkerPool(url, processes=N, workers=T)`` (and ``coordinate worker
--processes N --threads T``) runs this. The parent registers a worker in the
store and reports it through ``Worker.update``; each worker process opens its
own connection to the store (``connect(url)`` again in the child: handles
inherited over ``fork`` refuse calls) and runs a thread pool of T workers
under a process worker whose parent is the parent worker, so the store shows
``parent -> process -> threads``.

The parent notices a process that dies (killed, a segfault, ``os._exit``):
the attempts of its workers are expired at once, so their units are
available again (each attempt counts against the spec's ``max_retries``, as
the core counts attempts), and the process is started again. If the parent
dies too, the attempts are left to their leases. A task that runs past its
timeout (``timeout`` in the spec data, else ``task_timeout``) has its process
killed and replaced, and its attempt failed with a message saying so; other
tasks of that process are expired.

SIGTERM or SIGINT to the parent is graceful: it asks every process to stop
(SIGTERM), each gives its running tasks ``grace`` seconds and expires what is
left; a process still alive after that is killed and its attempts expired.
Progress and the summary come from the store (unit counts per spec), not
from counters in the processes.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import TYPE_CHECKING, Any, Deque, Dict, List, Optional, Set, Tuple

from ._coordinate import Attempt, Coordinate, connect
from ._errors import CoordinateError

if TYPE_CHECKING:
    from .worker import Progress, RunResult, SpecCounts, WorkerPool

log = logging.getLogger("coordinate.worker")

#: Seconds a stopping parent waits beyond ``grace`` before it kills a worker
#: process that has not exited.
KILL_MARGIN = 5.0


def start_methods() -> Tuple[str, ...]:
    """The ways worker processes can start here: ``"fork"`` (the child
    inherits registered functions and ``sys.path``) where the system has it,
    and ``"spawn"`` (a fresh interpreter; run functions must be importable,
    by a spec's ``module``)."""
    return tuple(m for m in ("fork", "spawn") if m in multiprocessing.get_all_start_methods())


def describe_exit(code: Optional[int]) -> str:
    """How a process ended, from its exit code (negative: a signal)."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


@dataclass
class _ChildConfig:
    """What a worker process needs: picklable, for ``spawn``."""

    url: str
    token: Optional[str]
    namespace: str
    name: str
    parent: str
    index: int
    threads: int
    runtimes: Tuple[str, ...]
    work_specs: Tuple[str, ...]
    lifetime: float
    renew_every: float
    grace: float
    poll_interval: float
    until_idle: bool
    sys_path: List[str]
    log_level: int


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class _ChildLogHandler(logging.Handler):
    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = "" if record.levelno <= logging.INFO else f"{record.levelname.lower()}: "
            print(
                f"coordinate: process {self.index}: {level}{record.getMessage()}",
                file=sys.stderr,
                flush=True,
            )
        except Exception:
            self.handleError(record)


def _child_main(cfg: _ChildConfig, functions: Optional[Dict[str, Any]] = None) -> None:
    """The body of one worker process."""
    # SIGINT from a terminal reaches the whole process group: the parent
    # decides, and tells this process with SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for p in reversed(cfg.sys_path):
        if p not in sys.path:
            sys.path.insert(0, p)
    root = logging.getLogger("coordinate")
    root.handlers = [_ChildLogHandler(cfg.index)]
    root.setLevel(cfg.log_level)
    root.propagate = False

    from .worker import WorkerPool  # here: the module imports this one

    coord = connect(cfg.url, token=cfg.token)
    pool = WorkerPool(
        coord,
        cfg.namespace,
        workers=cfg.threads,
        name=cfg.name,
        parent=cfg.parent,
        runtimes=cfg.runtimes,
        work_specs=cfg.work_specs or None,
        lifetime=cfg.lifetime,
        renew_every=cfg.renew_every,
        grace=cfg.grace,
        poll_interval=cfg.poll_interval,
        functions=functions,
    )

    def on_term(signum: int, frame: Optional[FrameType]) -> None:
        pool.stop(now=pool._stop_request is not None)  # a second SIGTERM: at once

    signal.signal(signal.SIGTERM, on_term)
    parent_pid = os.getppid()

    def watch_parent() -> None:
        # A parent that dies without stopping this process (SIGKILL): finish
        # the running tasks within the grace period and leave.
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        log.warning("the parent worker process is gone; stopping")
        pool.stop()

    threading.Thread(target=watch_parent, name="coordinate-parent-watch", daemon=True).start()
    pool.run(until_idle=cfg.until_idle, handle_signals=False)
    # Exit 0 whatever the tasks did: a nonzero status means the process broke.


@dataclass
class _Slot:
    """One worker process place: the process in it now and its history."""

    index: int
    generation: int = 0
    process: Optional[BaseProcess] = None
    name: str = ""
    started: float = 0.0
    done: bool = False  # exited normally; not to be started again
    restart_at: float = 0.0
    quick_deaths: int = 0
    timed_out: List[Tuple[Attempt, str]] = field(default_factory=list)


class ProcessSupervisor:
    """Runs a :class:`~coordinate.worker.WorkerPool` configured with
    ``processes``: see the module documentation."""

    def __init__(
        self,
        pool: WorkerPool,
        url: str,
        *,
        processes: int,
        token: Optional[str],
        task_timeout: Optional[float],
        start_method: Optional[str],
    ) -> None:
        methods = start_methods()
        if start_method is None:
            start_method = methods[0]
        elif start_method not in methods:
            raise ValueError(
                f"start_method must be one of {', '.join(methods)}, not {start_method!r}"
            )
        self.pool = pool
        self.url = url
        self.token = token
        self.processes = processes
        self.task_timeout = task_timeout
        self.start_method = start_method
        self._ctx: Any = multiprocessing.get_context(start_method)
        self.slots = [_Slot(i) for i in range(processes)]
        self.restarts = 0
        self.expired = 0
        self.timeouts = 0
        self._stop_request: Optional[str] = None
        self._force = False
        self._signal_name: Optional[str] = None
        self._spec_timeouts: Dict[str, Tuple[float, Optional[float]]] = {}
        self._names: Set[str] = set()  # the process workers of this run

    # ---------------------------------------------------------- control

    def stop(self, *, now: bool = False) -> None:
        if now:
            self._force = True
        if self._stop_request is None:
            self._stop_request = "stopped"

    def _on_signal(self, signum: int, frame: Optional[FrameType]) -> None:
        if self._stop_request is not None:
            self._force = True
        else:
            self._signal_name = signal.Signals(signum).name
            self._stop_request = "signal"

    def pids(self) -> List[int]:
        """The process ids of the worker processes running now."""
        return [
            s.process.pid
            for s in self.slots
            if s.process is not None and s.process.pid is not None and s.process.is_alive()
        ]

    # ---------------------------------------------------------- children

    def _start(self, slot: _Slot) -> None:
        pool = self.pool
        base = f"{pool.name}/p{slot.index}"
        slot.name = base if slot.generation == 0 else f"{base}.{slot.generation}"
        self._names.add(slot.name)
        cfg = _ChildConfig(
            url=self.url,
            token=self.token,
            namespace=pool.namespace.name,
            name=slot.name,
            parent=pool.name,
            index=slot.index,
            threads=pool.threads,
            runtimes=pool.runtimes,
            work_specs=pool.work_specs,
            lifetime=pool.lifetime,
            renew_every=pool.renew_every,
            grace=pool.grace,
            poll_interval=pool.poll_interval,
            until_idle=self._until_idle,
            sys_path=list(sys.path),
            log_level=logging.getLogger("coordinate").getEffectiveLevel(),
        )
        functions = pool.functions if self.start_method == "fork" else None
        proc = self._ctx.Process(
            target=_child_main,
            args=(cfg, functions),
            name=f"coordinate-worker-{slot.index}",
            daemon=False,
        )
        proc.start()
        slot.process = proc
        slot.started = time.monotonic()
        slot.timed_out = []
        log.debug("worker process %d started (pid %s, worker %s)", slot.index, proc.pid, slot.name)

    def _attempts_of(self, slot: _Slot) -> List[Attempt]:
        """The pending attempts of the workers of the slot's process."""
        if not slot.name:
            return []
        try:
            w = self.pool.namespace.worker(slot.name)
            return list(w.child_attempts()) + list(w.active_attempts())
        except CoordinateError:
            return []

    def _reap(self, slot: _Slot) -> None:
        """Deals with the slot's process, which has exited."""
        proc = slot.process
        assert proc is not None
        proc.join(0)
        code = proc.exitcode
        slot.process = None
        timed_out = {(a.work_unit.work_spec.name, a.work_unit.name): m for a, m in slot.timed_out}
        for attempt in self._attempts_of(slot):
            key = (attempt.work_unit.work_spec.name, attempt.work_unit.name)
            if key in timed_out:
                self._fail_timed_out(attempt, timed_out[key])
            else:
                self._expire(attempt, f"worker process {slot.index} (pid {proc.pid}) "
                             f"{describe_exit(code)}")
        try:
            self.pool.namespace.worker(slot.name).deactivate()
        except CoordinateError:
            pass
        if code == 0 and not timed_out:
            if self._until_idle and not self._stopping and self._work_left():
                slot.generation += 1
                slot.restart_at = time.monotonic()  # drained early: look again
            else:
                slot.done = True
            return
        if self._stopping:
            slot.done = True
            return
        log.warning(
            "worker process %d (pid %s) %s; starting it again",
            slot.index,
            proc.pid,
            "was stopped: a task timed out" if timed_out else describe_exit(code),
        )
        lived = time.monotonic() - slot.started
        slot.quick_deaths = slot.quick_deaths + 1 if lived < 2.0 and not timed_out else 0
        slot.generation += 1
        slot.restart_at = time.monotonic() + min(5.0, 0.25 * (2**slot.quick_deaths - 1))
        self.restarts += 1

    def _expire(self, attempt: Attempt, why: str) -> None:
        try:
            data = attempt.data()
            data["expired"] = why
            attempt.expire(data)
        except CoordinateError:
            return  # finished meanwhile
        self.expired += 1
        log.warning(
            "%s/%s: %s; its attempt was expired, the unit can run again",
            attempt.work_unit.work_spec.name,
            attempt.work_unit.name,
            why,
        )

    def _fail_timed_out(self, attempt: Attempt, message: str) -> None:
        try:
            data = attempt.data()
            data.pop("output", None)
            data["exception_type"] = "TimeoutError"
            data["exception_message"] = message
            attempt.fail(data)
        except CoordinateError:
            return
        self.timeouts += 1
        log.warning(
            "%s/%s: %s; its attempt was failed",
            attempt.work_unit.work_spec.name,
            attempt.work_unit.name,
            message,
        )

    # ---------------------------------------------------------- timeouts

    def _timeout_of(self, spec_name: str) -> Optional[float]:
        """The task timeout of a spec: its data's ``timeout`` (seconds), else
        the pool's ``task_timeout``. Spec data is read again every 10 s."""
        now = time.monotonic()
        cached = self._spec_timeouts.get(spec_name)
        if cached is not None and now - cached[0] < 10.0:
            return cached[1]
        value: Optional[float] = self.task_timeout
        try:
            raw = self.pool.namespace.work_spec(spec_name).data().get("timeout")
        except CoordinateError:
            raw = None
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw > 0:
            value = float(raw)
        self._spec_timeouts[spec_name] = (now, value)
        return value

    def _check_timeouts(self, now: datetime) -> None:
        for slot in self.slots:
            proc = slot.process
            if proc is None or slot.timed_out or not proc.is_alive():
                continue
            over: List[Tuple[Attempt, str]] = []
            for attempt in self._attempts_of(slot):
                try:
                    spec_name = attempt.work_unit.work_spec.name
                    limit = self._timeout_of(spec_name)
                    if limit is None:
                        continue
                    ran = (now - attempt.start_time()).total_seconds()
                except CoordinateError:
                    continue
                if ran > limit:
                    over.append(
                        (
                            attempt,
                            f"the task ran past its timeout of {limit:g}s; its worker "
                            f"process (pid {proc.pid}) was stopped",
                        )
                    )
            if over:
                slot.timed_out = over
                log.warning(
                    "%s: past its timeout; killing worker process %d (pid %s)",
                    ", ".join(f"{a.work_unit.work_spec.name}/{a.work_unit.name}" for a, _ in over),
                    slot.index,
                    proc.pid,
                )
                proc.kill()

    # ---------------------------------------------------------- store view

    def _work_left(self) -> bool:
        return any(
            s.open if s.served and not s.paused else s.pending for s in self.pool._counts()
        )

    def _report_parent(self, mode: str) -> None:
        pool = self.pool
        data: Dict[str, Any] = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "runtime": "python",
            "processes": self.processes,
            "threads": pool.threads,
            "pids": self.pids(),
            "restarts": self.restarts,
            "runtimes": list(pool.runtimes),
            "lifetime": pool.lifetime,
        }
        now = pool.coordinate.now()
        try:
            pool.parent.update(
                data=data,
                now=now,
                expiration=now + timedelta(seconds=pool.lifetime),
                mode=mode,
            )
        except CoordinateError:
            pass

    # ---------------------------------------------------------- run

    def run(
        self,
        *,
        until_idle: bool,
        handle_signals: bool,
        progress: Optional[Progress],
        tick: float,
    ) -> RunResult:
        from .worker import RunResult, RunStats, Snapshot, SpecStats

        pool = self.pool
        self._names = set()
        for slot in self.slots:  # a second run: fresh process workers
            slot.done = False
            if slot.name:
                slot.generation += 1
        self._until_idle = until_idle
        self._stopping = False
        self._stop_request = None
        self._force = False
        self._signal_name = None
        started = time.monotonic()
        initial = pool._counts()
        base = {s.name: s for s in initial}
        failed_before = sum(s.failed for s in initial if s.served)

        old_handlers: Dict[int, Any] = {}
        if handle_signals and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                old_handlers[signum] = signal.signal(signum, self._on_signal)

        rates: Deque[Tuple[float, int]] = deque()

        def stats_from(counts: Tuple[SpecCounts, ...], reports: bool) -> RunStats:
            """Finished and failed: the store's unit counts against the start.
            With ``reports``, retries, renewals, lost results and task seconds
            as the processes reported them in their worker data (a killed
            process's last report), plus the parent's own expiries."""
            st = RunStats(expired=self.expired)
            for s in counts:
                b = base.get(s.name)
                fin = max(0, s.finished - (b.finished if b else 0))
                fail = max(0, s.failed - (b.failed if b else 0))
                if fin or fail:
                    st.per_spec[s.name] = SpecStats(finished=fin, failed=fail)
                st.finished += fin
                st.failed += fail
            if reports:
                for data in self._process_reports():
                    st.retried += _int(data.get("retried"))
                    st.expired += _int(data.get("expired"))
                    st.lost += _int(data.get("lost"))
                    st.renewed += _int(data.get("renewed"))
                    per = data.get("per_spec")
                    for name, row in (per if isinstance(per, dict) else {}).items():
                        if not isinstance(row, list) or len(row) != 4:
                            continue
                        spec = st.per_spec.setdefault(str(name), SpecStats())
                        spec.retried += _int(row[2])
                        spec.seconds += float(row[3]) if isinstance(row[3], (int, float)) else 0.0
                        if spec.finished + spec.failed == 0:  # a spec counted by reports only
                            spec.finished, spec.failed = _int(row[0]), _int(row[1])
            return st

        def snapshot(deadline: Optional[float], stopping: bool) -> Snapshot:
            now = time.monotonic()
            counts = pool._counts()
            stats = stats_from(counts, stopping)
            rates.append((now, stats.tasks))
            while len(rates) > 2 and now - rates[0][0] > 3.0:
                rates.popleft()
            t0, n0 = rates[0]
            busy = 0
            try:
                for w in pool.parent.children():
                    busy += len(w.child_attempts())
            except CoordinateError:
                pass
            return Snapshot(
                elapsed=now - started,
                specs=counts,
                stats=stats,
                workers=self.processes * pool.threads,
                busy=busy,
                rate=(stats.tasks - n0) / (now - t0) if now - t0 > 0.2 else 0.0,
                stopping=stopping,
                stop_reason=(self._signal_name or self._stop_request or "") if stopping else "",
                grace_left=None if deadline is None else max(0.0, deadline - now),
            )

        reason = "drained"
        deadline: Optional[float] = None
        self._report_parent("run")
        report_every = min(max(pool.lifetime / 3, 0.5), 30.0)
        next_report = time.monotonic() + report_every
        next_timeout_check = 0.0
        snap = snapshot(None, False)
        if progress is not None:
            progress.start(snap)
        next_progress = time.monotonic() + tick
        try:
            for slot in self.slots:
                self._start(slot)
            while True:
                now = time.monotonic()
                if self._stop_request is not None and not self._stopping:
                    reason = self._stop_request
                    self._stopping = True
                    deadline = now + pool.grace
                    self._report_parent("stop")
                    log.info(
                        "stopping (%s): asking %d worker processes to finish within %gs",
                        self._signal_name or reason,
                        len(self.pids()),
                        pool.grace,
                    )
                    self._signal_children(signal.SIGTERM)
                if self._force and self._stopping and deadline is not None:
                    self._signal_children(signal.SIGTERM)  # the second: stop at once
                    deadline = min(deadline, now)
                    self._force = False
                for slot in self.slots:
                    if slot.process is not None and not slot.process.is_alive():
                        self._reap(slot)
                if self._stopping and deadline is not None and now > deadline + KILL_MARGIN:
                    for slot in self.slots:
                        if slot.process is not None and slot.process.is_alive():
                            log.warning(
                                "worker process %d (pid %s) did not stop; killing it",
                                slot.index,
                                slot.process.pid,
                            )
                            slot.process.kill()
                            slot.process.join(5)
                            self._reap(slot)
                if not self._stopping:
                    for slot in self.slots:
                        if slot.process is None and not slot.done and now >= slot.restart_at:
                            self._start(slot)
                if all(s.process is None and (s.done or self._stopping) for s in self.slots):
                    break
                if now >= next_timeout_check:
                    next_timeout_check = now + 0.25
                    self._check_timeouts(pool.coordinate.now())
                if now >= next_report:
                    next_report = now + report_every
                    self._report_parent("stop" if self._stopping else "run")
                if progress is not None and now >= next_progress:
                    next_progress = now + tick
                    progress.update(snapshot(deadline, self._stopping))
                sentinels = [s.process.sentinel for s in self.slots if s.process is not None]
                if sentinels:
                    multiprocessing.connection.wait(sentinels, timeout=min(tick, 0.25))
                else:
                    time.sleep(min(tick, 0.05))
        finally:
            for slot in self.slots:
                if slot.process is not None:
                    if slot.process.is_alive():
                        slot.process.kill()
                    slot.process.join(5)
                    self._reap(slot)
            self._report_parent("stop")
            try:
                pool.parent.deactivate()
            except CoordinateError:
                pass
            for number, handler in old_handlers.items():
                signal.signal(number, handler)
            final = snapshot(None, True)
            if progress is not None:
                progress.close(final)

        failed_after = sum(s.failed for s in final.specs if s.served)
        return RunResult(
            reason=reason,
            signal=self._signal_name if reason == "signal" else None,
            elapsed=final.elapsed,
            stats=final.stats,
            specs=final.specs,
            workers=self.processes * pool.threads,
            failed_units=max(0, failed_after - failed_before),
            results=(),
            processes=self.processes,
            restarts=self.restarts,
        )

    def _process_reports(self) -> List[Dict[str, Any]]:
        """The ``stats`` each of this run's worker processes last reported."""
        out = []
        try:
            for w in self.pool.parent.children():
                if w.name not in self._names:
                    continue
                stats = w.data().get("stats")
                if isinstance(stats, dict):
                    out.append(stats)
        except CoordinateError:
            pass
        return out

    def _signal_children(self, signum: int) -> None:
        for slot in self.slots:
            proc = slot.process
            if proc is not None and proc.pid is not None and proc.is_alive():
                try:
                    os.kill(proc.pid, signum)
                except ProcessLookupError:
                    pass


def open_for_processes(target: Any, url: Optional[str], token: Optional[str]) -> Tuple[Coordinate, str]:
    """The parent's Coordinate and the URL worker processes connect to."""
    if isinstance(target, str):
        url = target
        coord = connect(url, token=token)
    else:
        coord = target
        if url is None:
            raise ValueError(
                "processes need the store's URL: pass it as the first argument or as url="
            )
    if url.split(":", 1)[0] == "memory":
        raise ValueError(
            "worker processes cannot share a memory: store (each process would have "
            "its own); use a sqlite: file, an http:// daemon or postgresql://"
        )
    return coord, url


__all__ = ["ProcessSupervisor", "describe_exit", "open_for_processes", "start_methods"]
