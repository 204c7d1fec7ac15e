"""The Python worker runtime: runs work units by calling Python functions.

A work spec names the function that runs its units, by the original
Coordinate convention of two keys in its data::

    {"name": "count", "module": "wordcount", "run_function": "count_words"}

or by ``run_function`` alone, naming a function registered with
:func:`register`. The function receives a :class:`Task` (the work unit's
name, its data, its spec's data) and may change ``task.data``; if it returns
a mapping, that is merged over ``task.data`` (its keys win; other returned
values are ignored, with a warning). When it returns, the attempt is
finished with that data, so an ``output`` key chains new units into the
spec's ``then`` spec; output items the core rejects are logged with the
reason. Raising :class:`Retry` gives the unit back to run again after a
delay; raising anything else fails the attempt with the traceback, exception
type and message in its data. If the runtime itself fails while handling a
task (say, an exception whose ``str()`` raises), the attempt is failed with
a message saying so, and the worker thread goes on.

:class:`WorkerPool` runs N worker threads as children of one parent worker;
with ``processes=`` it runs worker processes of N threads each, sharing a
store by its URL (see :mod:`coordinate.processes`).
A heartbeat thread renews the leases of tasks that run long and reports the
workers' state through ``Worker.update``. Every decision about what runs
next, leases, retries and chaining is the core's: this module only calls the
public API.

>>> import coordinate
>>> from coordinate.worker import WorkerPool, register
>>> @register("double")
... def double(task):
...     task.data["n"] *= 2
>>> coord = coordinate.Coordinate()
>>> spec = coord.namespace().set_work_spec({"name": "d", "run_function": "double"})
>>> _ = spec.add_work_unit("u", {"n": 21})
>>> result = WorkerPool(coord, workers=2).run(handle_signals=False)
>>> result.exit_code, spec.work_unit("u").data()["n"]
(0, 42)
"""

from __future__ import annotations

import importlib
import itertools
import logging
import math
import os
import signal
import socket
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import FrameType
from typing import (
    Any,
    Callable,
    Deque,
    Dict,
    List,
    Mapping,
    Optional,
    Protocol,
    Sequence,
    Set,
    Tuple,
    TypeVar,
    Union,
    overload,
)

from ._coordinate import (
    Attempt,
    Coordinate,
    Namespace,
    Worker,
    WorkSpec,
    WorkUnit,
    extract_add_work_unit_item,
    extract_work_unit_output,
    connect,
)
from ._errors import CoordinateError, GoneError, LostLeaseError, NotPendingError
from ._status import WorkUnitStatus
from .processes import ProcessSupervisor, open_for_processes

__all__ = [
    "DEFAULT_RUNTIMES",
    "MAX_SECONDS",
    "Progress",
    "Retry",
    "RunResult",
    "RunStats",
    "Snapshot",
    "SpecCounts",
    "SpecStats",
    "Task",
    "TaskFunction",
    "TaskLoadError",
    "WorkerPool",
    "duration_problem",
    "register",
    "registered_functions",
    "resolve_function",
]

log = logging.getLogger("coordinate.worker")

#: The runtimes a pool serves unless told otherwise: work specs whose
#: ``runtime`` is empty or ``"python"``.
DEFAULT_RUNTIMES: Tuple[str, ...] = ("", "python")

#: A function that runs one work unit.
TaskFunction = Callable[["Task"], object]
_F = TypeVar("_F", bound=Callable[["Task"], object])

_Seconds = Union[float, timedelta]

#: The longest duration the runtime accepts, in seconds: 10**9 s, about 31
#: years. Every duration it takes (a lease, a grace period, a retry or unit
#: delay, the command line's options, a flow file's ``delay``) must be a
#: finite number of seconds between 0 and this.
MAX_SECONDS = 1_000_000_000.0


def duration_problem(value: float, *, positive: bool = False) -> Optional[str]:
    """What is wrong with ``value`` as a duration in seconds, or ``None``:
    NaN, an infinity, a negative number (or zero, when ``positive``), or more
    than :data:`MAX_SECONDS`. The text completes "<what> ...", as in
    ``"must not be negative, not -1.0"``."""
    if math.isnan(value):
        return "must be a number of seconds, not NaN"
    if positive and not value > 0:
        return f"must be positive, not {value:g}"
    if value < 0:
        return f"must not be negative, not {value:g}"
    if value > MAX_SECONDS:
        return f"must be at most {MAX_SECONDS:.0f} seconds (about 31 years), not {value:g}"
    return None


def _seconds(value: _Seconds, what: str, *, positive: bool = False) -> float:
    """``value`` (seconds or a timedelta) as float seconds; raises
    ``TypeError`` for other types and ``ValueError`` when it is out of range
    (see :func:`duration_problem`)."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of seconds or a timedelta")
    else:
        try:
            seconds = float(value)
        except OverflowError:  # an int too large for a float
            seconds = math.inf
    problem = duration_problem(seconds, positive=positive)
    if problem is not None:
        raise ValueError(f"{what} {problem}")
    return seconds


def _safe_str(obj: object) -> str:
    """``str(obj)``, or a placeholder when that raises (``__str__`` fails or
    returns a non-string): the runtime's own messages must not fail on a
    task's odd objects."""
    try:
        return str(obj)
    except BaseException as e:  # whatever __str__ raises
        return f"<{type(obj).__name__} object; its str() raised {type(e).__name__}>"


# --------------------------------------------------------------------- tasks


class Retry(Exception):
    """Raise from a run function to give the unit back for another try.

    The attempt becomes ``retryable`` (``Attempt.retry``) and the unit is
    available again after ``delay`` (seconds or a timedelta, between 0 and
    :data:`MAX_SECONDS`; anything else raises ``ValueError``). The message,
    if any, is kept in the attempt's data under ``retry_reason``. The work
    spec's ``max_retries`` still applies.
    """

    def __init__(self, message: str = "", delay: _Seconds = 0.0) -> None:
        super().__init__(message)
        self.message = message
        self.delay = _seconds(delay, "delay")


class TaskLoadError(Exception):
    """A work spec's run function cannot be found or imported."""


class Task:
    """One work unit being run: what a run function receives.

    ``data`` is a copy of the attempt's data; change it in place (or assign
    a new dict, or return a mapping to merge over it) and the attempt is
    finished with it. Put an ``output`` key in it (or call
    :meth:`add_output`) to create units in the spec's ``then`` spec. A
    ``result`` key is shown by the command line at the end.
    """

    def __init__(self, attempt: Attempt, data: Dict[str, Any], spec: Dict[str, Any]) -> None:
        self.attempt = attempt
        self.data = data
        self.spec = spec
        self._attempt_number: Optional[int] = None

    @property
    def name(self) -> str:
        """The work unit's name."""
        return self.attempt.work_unit.name

    @property
    def key(self) -> str:
        """The work unit's name (the original Coordinate's word for it)."""
        return self.name

    @property
    def spec_name(self) -> str:
        """The work spec's name."""
        return self.attempt.work_unit.work_spec.name

    @property
    def config(self) -> Dict[str, Any]:
        """The work spec's ``config`` map, or ``{}``."""
        config = self.spec.get("config")
        return config if isinstance(config, dict) else {}

    @property
    def work_unit(self) -> WorkUnit:
        return self.attempt.work_unit

    @property
    def work_spec(self) -> WorkSpec:
        return self.attempt.work_unit.work_spec

    @property
    def namespace(self) -> Namespace:
        return self.attempt.work_unit.work_spec.namespace

    @property
    def worker(self) -> Worker:
        """The (child) worker running this task."""
        return self.attempt.worker

    @property
    def attempt_number(self) -> int:
        """1 on the unit's first attempt, 2 on its second, ..."""
        if self._attempt_number is None:
            self._attempt_number = self.attempt.work_unit.num_attempts()
        return self._attempt_number

    def add_output(
        self,
        name: str,
        data: Optional[Mapping[str, Any]] = None,
        *,
        priority: Optional[float] = None,
        delay: Optional[float] = None,
    ) -> None:
        """Adds a unit for the ``then`` spec to ``data["output"]``.

        The output is kept in the list form of the original API:
        ``[name, data]`` or ``[name, data, {"priority": p, "delay": s}]``.
        ``priority`` must be finite and ``delay`` between 0 and
        :data:`MAX_SECONDS`; otherwise it raises ``ValueError``.
        """
        output = self.data.get("output")
        if output is None:
            items: List[Any] = []
        elif isinstance(output, dict):
            items = [[k, v if v is not None else {}] for k, v in output.items()]
        elif isinstance(output, (list, tuple)):
            items = list(output)
        else:
            raise TypeError("data['output'] is neither a list nor a map")
        item: List[Any] = [name, dict(data) if data is not None else {}]
        meta: Dict[str, float] = {}
        if priority is not None:
            meta["priority"] = float(priority)
            if not math.isfinite(meta["priority"]):
                raise ValueError(f"priority must be a finite number, not {priority!r}")
        if delay is not None:
            meta["delay"] = _seconds(delay, "delay")
        if meta:
            item.append(meta)
        items.append(item)
        self.data["output"] = items

    def __repr__(self) -> str:
        return f"Task(spec={self.spec_name!r}, name={self.name!r})"


# ------------------------------------------------------------ run functions

_registry: Dict[str, TaskFunction] = {}
_registry_lock = threading.Lock()


@overload
def register(name: str, function: None = None) -> Callable[[_F], _F]: ...
@overload
def register(name: str, function: _F) -> _F: ...
def register(name: str, function: Optional[_F] = None) -> Any:
    """Registers a run function under ``name``, for work specs whose
    ``run_function`` is that name and that have no ``module``.

    Use as ``register("name", fn)`` or as a decorator ``@register("name")``.
    """

    def add(fn: _F) -> _F:
        if not callable(fn):
            raise TypeError("a run function must be callable")
        with _registry_lock:
            _registry[name] = fn
        return fn

    return add if function is None else add(function)


def registered_functions() -> Dict[str, TaskFunction]:
    """A copy of the registry of run functions, name -> function."""
    with _registry_lock:
        return dict(_registry)


def resolve_function(
    spec_data: Mapping[str, Any], functions: Optional[Mapping[str, TaskFunction]] = None
) -> TaskFunction:
    """The function that runs units of a work spec with this data.

    With a ``module`` key: that module's attribute ``run_function`` (dots
    allowed, as in ``Class.method``). Without one: ``run_function`` looked up
    in ``functions``, then in the registry. Raises :class:`TaskLoadError`
    with a one-line reason.
    """
    run_function = spec_data.get("run_function")
    if run_function is None or run_function == "":
        raise TaskLoadError("has no run_function")
    if not isinstance(run_function, str):
        raise TaskLoadError("has a run_function that is not a string")
    module_name = spec_data.get("module")
    if module_name is None or module_name == "":
        fn = (functions or {}).get(run_function) or registered_functions().get(run_function)
        if fn is None:
            raise TaskLoadError(
                f"has no module, and run_function {run_function!r} is not a registered function"
            )
        return fn
    if not isinstance(module_name, str):
        raise TaskLoadError("has a module that is not a string")
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        raise TaskLoadError(f"cannot import module {module_name!r} ({e})") from e
    except BaseException as e:  # a broken module: SyntaxError, ImportError, ...
        raise TaskLoadError(
            f"cannot import module {module_name!r} ({type(e).__name__}: {e})"
        ) from e
    for part in run_function.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TaskLoadError(
                f"module {module_name!r} has no function {run_function!r}"
            ) from None
    if not callable(obj):
        raise TaskLoadError(f"{module_name}.{run_function} is not callable")
    fn_obj: TaskFunction = obj
    return fn_obj


# ------------------------------------------------------------ bookkeeping


@dataclass
class SpecStats:
    """What one pool did for one work spec."""

    finished: int = 0
    failed: int = 0
    retried: int = 0
    seconds: float = 0.0

    @property
    def tasks(self) -> int:
        return self.finished + self.failed + self.retried


@dataclass
class RunStats:
    """What one pool did: attempts it completed, by outcome.

    ``lost`` counts tasks whose result could not be stored because their
    attempt was no longer pending (it had expired); ``expired`` counts
    attempts the pool expired itself at shutdown.
    """

    finished: int = 0
    failed: int = 0
    retried: int = 0
    expired: int = 0
    lost: int = 0
    renewed: int = 0
    per_spec: Dict[str, SpecStats] = field(default_factory=dict)

    @property
    def tasks(self) -> int:
        return self.finished + self.failed + self.retried

    def copy(self) -> RunStats:
        return replace(self, per_spec={k: replace(v) for k, v in self.per_spec.items()})


@dataclass(frozen=True)
class SpecCounts:
    """Units of one work spec per status, at one moment."""

    name: str
    available: int = 0
    pending: int = 0
    delayed: int = 0
    finished: int = 0
    failed: int = 0
    served: bool = True
    paused: bool = False

    @property
    def total(self) -> int:
        return self.available + self.pending + self.delayed + self.finished + self.failed

    @property
    def open(self) -> int:
        """Units still to do: available, pending or delayed."""
        return self.available + self.pending + self.delayed


@dataclass(frozen=True)
class Snapshot:
    """The state of a run, for progress displays."""

    elapsed: float
    specs: Tuple[SpecCounts, ...]
    stats: RunStats
    workers: int
    busy: int
    rate: float
    stopping: bool = False
    stop_reason: str = ""
    grace_left: Optional[float] = None

    @property
    def work_left(self) -> bool:
        """Whether a spec this pool serves (and that is not paused) has
        available, pending or delayed units; pending units count in any spec,
        since they may chain into a served one."""
        return any(s.open if s.served and not s.paused else s.pending for s in self.specs)


@dataclass(frozen=True)
class RunResult:
    """How a :meth:`WorkerPool.run` ended.

    ``reason`` is ``"drained"`` (no work left), ``"signal"`` (SIGINT or
    SIGTERM; ``signal`` names it) or ``"stopped"`` (:meth:`WorkerPool.stop`).
    """

    reason: str
    signal: Optional[str]
    elapsed: float
    stats: RunStats
    specs: Tuple[SpecCounts, ...]
    workers: int
    failed_units: int
    results: Tuple[Tuple[str, str, Any], ...] = ()
    #: With worker processes: how many, and how many times one was started
    #: again after it died or was stopped for a timeout.
    processes: int = 0
    restarts: int = 0

    @property
    def work_left(self) -> bool:
        """Whether a served, unpaused spec still has open units."""
        return any(s.open for s in self.specs if s.served and not s.paused)

    @property
    def paused_left(self) -> Tuple[Tuple[str, int], ...]:
        """(name, open units) of each served work spec that is paused and
        still has units to do: a run does not wait for a paused spec, so
        these units did not run."""
        return tuple((s.name, s.open) for s in self.specs if s.served and s.paused and s.open)

    @property
    def exit_code(self) -> int:
        """0: all done, nothing failed; 1: a task or unit failed; 3: work was
        left undone (and nothing failed): stopped before the work was done,
        or units are left in paused work specs (:attr:`paused_left`)."""
        if self.stats.failed or self.failed_units:
            return 1
        if self.work_left or self.paused_left:
            return 3
        return 0


class Progress(Protocol):
    """Receives snapshots while a pool runs (see ``coordinate.progress``)."""

    def start(self, snapshot: Snapshot) -> None: ...
    def update(self, snapshot: Snapshot) -> None: ...
    def close(self, snapshot: Snapshot) -> None: ...


# ------------------------------------------------------------------- pool


class _Child:
    """A child worker and the state it reports through Worker.update."""

    def __init__(self, worker: Worker, index: int) -> None:
        self.worker = worker
        self.index = index
        self.lock = threading.Lock()
        self.state = "idle"
        self.work_spec = ""
        self.work_unit = ""
        self.tasks = 0
        self.thread: Optional[threading.Thread] = None


_pool_ids = itertools.count(1)


class WorkerPool:
    """N worker threads, children of one parent worker, running work units.

    ``coordinate`` and ``namespace`` (a name or a Namespace of it) say where
    the work is. ``runtimes`` are the spec runtimes served (default: empty
    and ``"python"``); ``work_specs`` limits the specs (default: all).
    ``lifetime`` is the lease of each attempt, renewed by the heartbeat every
    ``renew_every`` seconds (default a third of it) while its task runs.
    ``grace`` is how long a stop waits for running tasks before expiring
    their attempts. Durations are seconds or timedeltas between 0 and
    :data:`MAX_SECONDS` (``lifetime`` and ``renew_every`` above 0); others
    raise ``ValueError``. ``functions`` maps run_function names to functions, on
    top of :func:`register`'s registry. ``coordinate`` may also be a store
    URL (opened with :func:`coordinate.connect`, with ``token``).

    With ``processes=N`` the pool runs N worker processes of ``workers``
    threads each (see :mod:`coordinate.processes`): ``coordinate`` is then the
    store's URL (or pass ``url=`` beside a Coordinate), which every process
    opens itself; ``memory:`` cannot be shared and raises ``ValueError``.
    A process that dies has its attempts expired and is started again; a
    task running past ``task_timeout`` seconds (or its spec data's
    ``timeout``) has its process replaced and its attempt failed.
    ``start_method`` is ``"fork"`` (default where available: registered
    functions carry over) or ``"spawn"``. Progress and the summary then come
    from the store's unit counts. ``parent`` names a worker to register this
    pool's parent worker under.
    """

    def __init__(
        self,
        coordinate: Union[Coordinate, str],
        namespace: Union[str, Namespace] = "",
        *,
        workers: int = 1,
        processes: Optional[int] = None,
        url: Optional[str] = None,
        token: Optional[str] = None,
        task_timeout: Optional[_Seconds] = None,
        start_method: Optional[str] = None,
        parent: Optional[str] = None,
        name: Optional[str] = None,
        runtimes: Sequence[str] = DEFAULT_RUNTIMES,
        work_specs: Optional[Sequence[str]] = None,
        lifetime: _Seconds = 60.0,
        renew_every: Optional[_Seconds] = None,
        grace: _Seconds = 10.0,
        poll_interval: _Seconds = 0.05,
        functions: Optional[Mapping[str, TaskFunction]] = None,
    ) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError("workers must be a positive integer")
        if processes is not None and (
            isinstance(processes, bool) or not isinstance(processes, int) or processes < 1
        ):
            raise ValueError("processes must be a positive integer")
        self._supervisor: Optional[ProcessSupervisor] = None
        if processes is not None:
            coordinate, url = open_for_processes(coordinate, url, token)
        elif isinstance(coordinate, str):
            coordinate = connect(coordinate, token=token)
        self.coordinate = coordinate
        self.threads = workers
        if task_timeout is not None and processes is None:
            raise ValueError("task_timeout needs processes= (a thread cannot be stopped)")
        self.task_timeout = (
            None if task_timeout is None else _seconds(task_timeout, "task_timeout", positive=True)
        )
        self.namespace = (
            coordinate.namespace(namespace) if isinstance(namespace, str) else namespace
        )
        self.runtimes: Tuple[str, ...] = tuple(runtimes)
        self.work_specs: Tuple[str, ...] = tuple(work_specs or ())
        self.lifetime = _seconds(lifetime, "lifetime", positive=True)
        self.renew_every = (
            self.lifetime / 3
            if renew_every is None
            else _seconds(renew_every, "renew_every", positive=True)
        )
        if not self.renew_every < self.lifetime:
            raise ValueError("renew_every must be shorter than lifetime")
        self.grace = _seconds(grace, "grace")
        self.poll_interval = max(0.001, _seconds(poll_interval, "poll_interval"))
        self.functions: Dict[str, TaskFunction] = dict(functions or {})

        host = socket.gethostname()
        self.name = name or f"{host}:{os.getpid()}:pool{next(_pool_ids)}"
        self._identity = {"host": host, "pid": os.getpid(), "runtime": "python"}
        self.parent: Worker = self.namespace.worker(self.name)
        if parent is not None:
            self.parent.set_parent(self.namespace.worker(parent))
        self._children: List[_Child] = []
        if processes is not None:
            assert url is not None
            self._supervisor = ProcessSupervisor(
                self,
                url,
                processes=processes,
                token=token,
                task_timeout=self.task_timeout,
                start_method=start_method,
            )
        for i in range(0 if processes is not None else workers):
            child = self.namespace.worker(f"{self.name}/{i}")
            child.set_parent(self.parent)
            self._children.append(_Child(child, i))

        self._lock = threading.Lock()
        self._stats = RunStats()
        self._results: Dict[Tuple[str, str], Any] = {}
        self._functions_cache: Dict[Tuple[str, str], TaskFunction] = {}
        self._warned: Set[Tuple[str, str]] = set()  # warnings given once per pool
        self._stopping = threading.Event()
        self._closed = False  # past the grace period: expire, don't run
        self._heartbeat_stop = threading.Event()
        self._stop_request: Optional[str] = None  # set by stop() or a signal handler
        self._force = False
        self._signal_name: Optional[str] = None
        self._started = 0.0
        self._mode = "run"

    # ----------------------------------------------------------- public

    @property
    def children(self) -> List[Worker]:
        """The child workers, one per thread (with ``processes``: the
        workers of the processes, as the store lists them)."""
        if self._supervisor is not None:
            return self.parent.children()
        return [c.worker for c in self._children]

    @property
    def stats(self) -> RunStats:
        """A copy of the counters so far."""
        with self._lock:
            return self._stats.copy()

    def stop(self, *, now: bool = False) -> None:
        """Asks a running :meth:`run` to stop: no new requests; running tasks
        get ``grace`` seconds (none with ``now=True``). Safe from any thread
        and from signal handlers."""
        if self._supervisor is not None:
            self._supervisor.stop(now=now)
            return
        if now:
            self._force = True
        if self._stop_request is None:
            self._stop_request = "stopped"

    def run(
        self,
        *,
        until_idle: bool = True,
        handle_signals: bool = True,
        progress: Optional[Progress] = None,
        tick: float = 0.1,
    ) -> RunResult:
        """Runs the pool and returns how it ended.

        With ``until_idle`` (default) it stops when no served spec has
        available, pending or delayed units; otherwise it runs until
        :meth:`stop` or a signal. With ``handle_signals`` (and on the main
        thread) SIGINT and SIGTERM stop it gracefully; a second one stops it
        at once.
        """
        if self._supervisor is not None:
            return self._supervisor.run(
                until_idle=until_idle, handle_signals=handle_signals, progress=progress, tick=tick
            )
        self._stopping.clear()
        self._closed = False
        self._heartbeat_stop.clear()
        self._stop_request = None
        self._force = False
        self._signal_name = None
        self._mode = "run"
        self._started = time.monotonic()
        initial = self._counts()
        failed_before = sum(s.failed for s in initial if s.served)

        old_handlers: Dict[int, Any] = {}
        if handle_signals and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                old_handlers[signum] = signal.signal(signum, self._on_signal)

        rates: Deque[Tuple[float, int]] = deque()
        reason = "drained"
        deadline: Optional[float] = None
        self._report_parent()
        threads = [self._start_child(c) for c in self._children]
        heartbeat = threading.Thread(
            target=self._heartbeat_loop, name="coordinate-heartbeat", daemon=True
        )
        heartbeat.start()
        snap = self._snapshot(rates, initial)
        if progress is not None:
            progress.start(snap)
        try:
            while True:
                if self._stop_request is not None and not self._stopping.is_set():
                    reason = self._stop_request
                    deadline = time.monotonic() + self.grace
                    self._begin_stop()
                    busy = len(self.parent.child_attempts())
                    if busy:
                        log.info(
                            "stopping (%s): waiting up to %gs for %d running task%s",
                            self._signal_name or reason,
                            self.grace,
                            busy,
                            "" if busy == 1 else "s",
                        )
                snap = self._snapshot(rates, deadline=deadline if reason != "drained" else None)
                if progress is not None:
                    progress.update(snap)
                if not self._stopping.is_set() and until_idle and not snap.work_left:
                    # Only tasks whose lease was lost can still be running now.
                    reason = "drained"
                    deadline = time.monotonic() + self.grace
                    self._begin_stop()
                if self._stopping.is_set():
                    if not any(t.is_alive() for t in threads):
                        break
                    if self._force or (deadline is not None and time.monotonic() >= deadline):
                        break
                time.sleep(tick)
        finally:
            self._begin_stop()
            self._closed = True
            self._expire_leftovers()
            self._heartbeat_stop.set()
            heartbeat.join(timeout=5)
            for c in self._children:
                self._deactivate(c)
            try:
                self._report_parent()
                self.parent.deactivate()
            except CoordinateError:
                pass
            for number, handler in old_handlers.items():
                signal.signal(number, handler)
            final = self._snapshot(rates, stopping=True)
            if progress is not None:
                progress.close(final)

        failed_after = sum(s.failed for s in final.specs if s.served)
        with self._lock:
            results = tuple((s, u, r) for (s, u), r in self._results.items())
        return RunResult(
            reason=reason,
            signal=self._signal_name if reason == "signal" else None,
            elapsed=final.elapsed,
            stats=final.stats,
            specs=final.specs,
            workers=len(self._children),
            failed_units=max(0, failed_after - failed_before),
            results=results,
        )

    # ------------------------------------------------------- supervisor

    def _on_signal(self, signum: int, frame: Optional[FrameType]) -> None:
        # Only plain assignments here: the main loop does the rest.
        if self._stop_request is not None:
            self._force = True
        else:
            self._signal_name = signal.Signals(signum).name
            self._stop_request = "signal"

    def _begin_stop(self) -> None:
        if not self._stopping.is_set():
            self._mode = "stop"
            self._stopping.set()
            self._report_parent()

    def _expire_leftovers(self) -> None:
        """Expires the attempts that children still hold (tasks that did not
        finish within the grace period)."""
        try:
            leftovers = self.parent.child_attempts()
        except CoordinateError:
            return
        for attempt in leftovers:
            self._expire(attempt, "still running at shutdown")

    def _expire(self, attempt: Attempt, why: str) -> None:
        try:
            data = attempt.data()
            data["expired"] = "worker stopped before the task finished"
            attempt.expire(data)
        except CoordinateError:
            return  # finished meanwhile
        with self._lock:
            self._stats.expired += 1
        log.warning(
            "%s/%s: %s; its attempt was expired",
            attempt.work_unit.work_spec.name,
            attempt.work_unit.name,
            why,
        )

    def _served(self, spec_name: str) -> Tuple[bool, bool]:
        """(whether this pool serves the spec, whether it is paused)."""
        try:
            meta = self.namespace.work_spec(spec_name).meta()
        except CoordinateError:
            return False, False
        served = (not self.work_specs or spec_name in self.work_specs) and (
            not self.runtimes or meta.runtime in self.runtimes
        )
        return served, meta.paused

    def _counts(self) -> Tuple[SpecCounts, ...]:
        try:
            names = self.namespace.work_spec_names()
            records = self.namespace.summarize()
        except CoordinateError:
            return ()
        by_spec: Dict[str, Dict[WorkUnitStatus, int]] = {n: {} for n in names}
        for r in records:
            by_spec.setdefault(r.work_spec, {})[r.status] = r.count
        out = []
        for n in sorted(by_spec):
            c = by_spec[n]
            served, paused = self._served(n)
            out.append(
                SpecCounts(
                    name=n,
                    available=c.get(WorkUnitStatus.AVAILABLE, 0),
                    pending=c.get(WorkUnitStatus.PENDING, 0),
                    delayed=c.get(WorkUnitStatus.DELAYED, 0),
                    finished=c.get(WorkUnitStatus.FINISHED, 0),
                    failed=c.get(WorkUnitStatus.FAILED, 0),
                    served=served,
                    paused=paused,
                )
            )
        return tuple(out)

    def _snapshot(
        self,
        rates: Deque[Tuple[float, int]],
        counts: Optional[Tuple[SpecCounts, ...]] = None,
        *,
        deadline: Optional[float] = None,
        stopping: Optional[bool] = None,
    ) -> Snapshot:
        now = time.monotonic()
        stats = self.stats
        rates.append((now, stats.tasks))
        while len(rates) > 2 and now - rates[0][0] > 3.0:
            rates.popleft()
        t0, n0 = rates[0]
        rate = (stats.tasks - n0) / (now - t0) if now - t0 > 0.2 else 0.0
        try:
            busy = len(self.parent.child_attempts())
        except CoordinateError:
            busy = 0
        is_stopping = self._stopping.is_set() if stopping is None else stopping
        return Snapshot(
            elapsed=now - self._started,
            specs=self._counts() if counts is None else counts,
            stats=stats,
            workers=len(self._children),
            busy=busy,
            rate=rate,
            stopping=is_stopping,
            stop_reason=(self._signal_name or self._stop_request or "") if is_stopping else "",
            grace_left=None if deadline is None else max(0.0, deadline - now),
        )

    # -------------------------------------------------------- heartbeat

    def _heartbeat_loop(self) -> None:
        tick = min(max(self.renew_every / 2, 0.02), 5.0)
        report_every = min(max(self.lifetime / 3, 0.5), 30.0)
        next_report = time.monotonic() + report_every
        while not self._heartbeat_stop.wait(tick):
            try:
                self._renew_due()
                if time.monotonic() >= next_report:
                    next_report = time.monotonic() + report_every
                    self._report_parent()
                    for c in self._children:
                        self._report(c)
            except GoneError:
                return
            except Exception:  # never let the heartbeat die silently
                log.exception("heartbeat failed")

    def _renew_due(self) -> None:
        """Renews each running attempt once ``renew_every`` has passed since
        it started or was last renewed."""
        threshold = timedelta(seconds=self.lifetime - self.renew_every)
        now = self.coordinate.now()
        for attempt in self.parent.child_attempts():
            try:
                if attempt.expiration_time() - now > threshold:
                    continue
                attempt.renew(self.lifetime)
            except LostLeaseError:
                log.warning(
                    "%s/%s: lease lost before it could be renewed",
                    attempt.work_unit.work_spec.name,
                    attempt.work_unit.name,
                )
                continue
            except (NotPendingError, GoneError):
                continue  # finished meanwhile, or deleted
            with self._lock:
                self._stats.renewed += 1

    def _report_parent(self) -> None:
        data: Dict[str, Any] = dict(self._identity)
        st = self.stats
        data.update(
            workers=len(self._children),
            runtimes=list(self.runtimes),
            lifetime=self.lifetime,
            # What this pool did so far: a parent of worker processes adds
            # these up from the store (see coordinate.processes).
            stats={
                "finished": st.finished,
                "failed": st.failed,
                "retried": st.retried,
                "expired": st.expired,
                "lost": st.lost,
                "renewed": st.renewed,
                "per_spec": {
                    name: [p.finished, p.failed, p.retried, p.seconds]
                    for name, p in st.per_spec.items()
                },
            },
        )
        self._update(self.parent, data)

    def _report(self, child: _Child) -> None:
        with child.lock:
            data: Dict[str, Any] = dict(self._identity)
            data.update(
                thread=child.thread.name if child.thread else "",
                state=child.state,
                work_spec=child.work_spec,
                work_unit=child.work_unit,
                tasks=child.tasks,
            )
            self._update(child.worker, data)

    def _update(self, worker: Worker, data: Dict[str, Any]) -> None:
        """Reports `data` for `worker`, valid for one lease; a worker whose
        namespace is gone has nothing left to report to."""
        now = self.coordinate.now()
        try:
            worker.update(
                data=data,
                now=now,
                expiration=now + timedelta(seconds=self.lifetime),
                mode=self._mode,
            )
        except CoordinateError:
            pass

    def _deactivate(self, child: _Child) -> None:
        with child.lock:
            child.state, child.work_spec, child.work_unit = "stopped", "", ""
        self._report(child)
        try:
            child.worker.deactivate()
        except CoordinateError:
            pass

    # ----------------------------------------------------------- children

    def _start_child(self, child: _Child) -> threading.Thread:
        t = threading.Thread(
            target=self._child_loop,
            args=(child,),
            name=f"coordinate-worker-{child.index}",
            daemon=True,
        )
        child.thread = t
        t.start()
        return t

    def _child_loop(self, child: _Child) -> None:
        self._report(child)
        wait = self.poll_interval
        idle = True
        while not self._stopping.is_set():
            try:
                attempts = child.worker.request_attempts(
                    number_of_work_units=1,
                    lifetime=self.lifetime,
                    runtimes=list(self.runtimes),
                    work_specs=list(self.work_specs),
                )
            except GoneError:
                return  # the namespace was destroyed
            except Exception as e:  # a worker thread outlives a failed request
                log.error("request for work failed: %s: %s", type(e).__name__, _safe_str(e))
                attempts = []
            if not attempts:
                if not idle:
                    idle = True
                    with child.lock:
                        child.state, child.work_spec, child.work_unit = "idle", "", ""
                    self._report(child)
                self._stopping.wait(wait)
                wait = min(wait * 2, max(self.poll_interval, 0.25))
                continue
            idle = False
            wait = self.poll_interval
            for attempt in attempts:
                if self._closed:  # drawn while the pool was shutting down
                    self._expire(attempt, "drawn at shutdown")
                else:
                    self._run_guarded(child, attempt)

    def _function_for(self, spec_data: Mapping[str, Any]) -> TaskFunction:
        key = (str(spec_data.get("module") or ""), str(spec_data.get("run_function") or ""))
        fn = self._functions_cache.get(key)
        if fn is None:
            fn = resolve_function(spec_data, self.functions)
            self._functions_cache[key] = fn
        return fn

    def _run_guarded(self, child: _Child, attempt: Attempt) -> None:
        """Runs one attempt. If the runtime's own bookkeeping fails (a bug, or
        a task's object that defeats it), the attempt is failed with a message
        saying so, and the worker thread lives on to run the next one."""
        try:
            self._run_attempt(child, attempt)
        except BaseException as e:  # nothing may kill the worker thread
            self._internal_failure(attempt, e)

    def _internal_failure(self, attempt: Attempt, exc: BaseException) -> None:
        try:
            where = f"{attempt.work_unit.work_spec.name}/{attempt.work_unit.name}"
        except BaseException:
            where = "a work unit"
        message = (
            "the worker runtime failed while handling this task: "
            f"{type(exc).__name__}: {_safe_str(exc)}"
        )
        log.error("%s: %s; its attempt is failed", where, message)
        try:
            attempt.fail(_error_data({}, exc, message))
        except CoordinateError:
            return  # already finished, failed or expired: nothing to undo
        except BaseException as e:
            log.error("%s: its attempt could not be failed either: %s", where, _safe_str(e))
            return
        with self._lock:
            self._stats.failed += 1

    def _warn_once(self, key: Tuple[str, str], message: str, *args: object) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        log.warning(message, *args)

    def _run_attempt(self, child: _Child, attempt: Attempt) -> None:
        unit = attempt.work_unit
        spec_name = unit.work_spec.name
        with child.lock:
            child.state, child.work_spec, child.work_unit = "busy", spec_name, unit.name
        self._report(child)
        started = time.monotonic()
        try:
            task = Task(attempt, attempt.data(), unit.work_spec.data())
        except CoordinateError as e:  # deleted under us
            log.warning("%s/%s: %s", spec_name, unit.name, e)
            return
        try:
            fn = self._function_for(task.spec)
            returned = fn(task)
            if returned is not None:
                self._take_returned(task, returned)
        except Retry as r:
            data = dict(task.data) if isinstance(task.data, dict) else {}
            data.pop("output", None)
            if r.message:
                data["retry_reason"] = r.message
            outcome = self._store(attempt, "retry", data, r.delay)
        except TaskLoadError as e:
            log.error("%s/%s: work spec %r %s", spec_name, unit.name, spec_name, e)
            msg = f"work spec {spec_name!r} {e}"
            outcome = self._store(attempt, "fail", _error_data(task.data, e, msg))
        except BaseException as e:  # the task's failure, whatever it was
            log.warning(
                "%s/%s failed: %s: %s", spec_name, unit.name, type(e).__name__, _safe_str(e)
            )
            outcome = self._store(attempt, "fail", _error_data(task.data, e))
        else:
            if isinstance(task.data, dict):
                if "output" in task.data:
                    self._check_output(task, task.data["output"])
                outcome = self._store(attempt, "finish", task.data)
            else:
                err = TypeError(f"task.data must be a dict, not {type(task.data).__name__}")
                outcome = self._store(attempt, "fail", _error_data({}, err))
        elapsed = time.monotonic() - started
        with self._lock:
            per = self._stats.per_spec.setdefault(spec_name, SpecStats())
            per.seconds += elapsed
            if outcome == "finished":
                self._stats.finished += 1
                per.finished += 1
                if isinstance(task.data, dict) and "result" in task.data:
                    self._results[(spec_name, unit.name)] = task.data["result"]
            elif outcome == "failed":
                self._stats.failed += 1
                per.failed += 1
            elif outcome == "retried":
                self._stats.retried += 1
                per.retried += 1
            else:
                self._stats.lost += 1
        with child.lock:
            child.tasks += 1

    def _take_returned(self, task: Task, returned: object) -> None:
        """A run function's return value: a mapping is merged over
        ``task.data`` (its keys replace those there); anything else is
        ignored, with a warning once per work spec."""
        if isinstance(returned, Mapping):
            if isinstance(task.data, dict):
                task.data.update(returned)
            return
        self._warn_once(
            ("returned", task.spec_name),
            "%s: a run function returned a %s, which is ignored; return a mapping "
            "(merged into task.data) or None",
            task.spec_name,
            type(returned).__name__,
        )

    def _chains(self, task: Task) -> bool:
        """Whether the task's work spec chains to another (its meta's
        ``next_work_spec_name``, normally from the spec data's ``then``)."""
        try:
            return bool(task.work_spec.meta().next_work_spec_name)
        except CoordinateError:
            return False

    def _check_output(self, task: Task, output: object) -> None:
        """Logs what of a finishing task's ``output`` will not become units of
        the ``then`` spec, and why. The core decides what an item is: each
        item is put to :func:`coordinate.extract_add_work_unit_item`."""
        where = f"{task.spec_name}/{task.name}"
        if output is None:
            return
        if not task.spec.get("then") and not self._chains(task):
            if output:
                self._warn_once(
                    ("no-then", task.spec_name),
                    "%s: work spec %r has no 'then', so the output of its units is dropped",
                    where,
                    task.spec_name,
                )
            return
        if isinstance(output, dict):
            if not all(isinstance(name, str) for name in output):
                return  # not storable: finishing fails the attempt and says why
            pairs = [[name, data] for name, data in output.items()]
        elif isinstance(output, (list, tuple)):
            pairs = list(output)
        else:
            log.warning(
                "%s: output dropped: it is a %s, not a list of units or a map of name "
                "to data; nothing is chained",
                where,
                type(output).__name__,
            )
            return
        now = self.coordinate.now()
        try:
            if len(extract_work_unit_output(output, now)) == len(pairs):
                return  # every item makes its own unit
        except CoordinateError:
            pass
        except (TypeError, ValueError, OverflowError):
            pass  # data the core cannot hold (finishing will say so), or a far delay
        for i, item in enumerate(pairs):
            try:
                extract_add_work_unit_item(item, now)
            except CoordinateError as e:
                if isinstance(output, dict):
                    log.warning(
                        "%s: output dropped: the value of %r is not a map of data (%s); "
                        "one bad value drops the whole output map",
                        where,
                        item[0],
                        _safe_str(e),
                    )
                    return
                log.warning("%s: output item %d dropped: %s", where, i + 1, _safe_str(e))
            except (TypeError, ValueError, OverflowError):
                pass  # not a drop: finishing fails on unstorable data

    def _store(self, attempt: Attempt, how: str, data: Dict[str, Any], delay: float = 0.0) -> str:
        """Finishes, fails or retries the attempt; returns what happened:
        ``"finished"``, ``"retried"``, ``"failed"`` (also when the data could
        not be stored) or ``"lost"`` (the attempt was no longer pending)."""
        spec_name, unit_name = attempt.work_unit.work_spec.name, attempt.work_unit.name
        try:
            try:
                if how == "finish":
                    attempt.finish(data)
                    return "finished"
                if how == "retry":
                    attempt.retry(data, delay)
                    return "retried"
                attempt.fail(data)
                return "failed"
            except CoordinateError:
                raise
            except Exception as e:
                # The task left data the core cannot hold (a set, an object, ...).
                text = _safe_str(e)
                log.warning("%s/%s: its data cannot be stored: %s", spec_name, unit_name, text)
                attempt.fail(_error_data({}, e, f"the task's data cannot be stored: {text}"))
                return "failed"
        except CoordinateError as e:  # NotPending, LostLease, Gone
            log.warning(
                "%s/%s: result dropped, the attempt is no longer pending (%s)",
                spec_name,
                unit_name,
                e,
            )
            return "lost"


def _error_data(
    data: Mapping[str, Any], exc: BaseException, message: Optional[str] = None
) -> Dict[str, Any]:
    """The attempt data of a failed task: its data, without ``output``, plus
    ``traceback``, ``exception_type`` and ``exception_message``."""
    out = {k: v for k, v in data.items() if k != "output"} if isinstance(data, dict) else {}
    t = type(exc)
    try:
        out["traceback"] = "".join(traceback.format_exception(t, exc, exc.__traceback__))
    except BaseException as e:  # an exception that defeats the formatter
        out["traceback"] = f"(the traceback cannot be formatted: {type(e).__name__})"
    out["exception_type"] = (
        t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
    )
    out["exception_message"] = message if message is not None else _safe_str(exc)
    return out
