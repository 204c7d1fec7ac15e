"""The ``coordinate`` command (also ``python -m coordinate``).

``coordinate run FLOW.yaml`` loads the work specs of a flow file, adds its
work units (and those of ``--units`` files), runs a pool of Python workers
until no work is left, and prints a summary. Exit status: 0 when all work
finished, 1 when some failed, 2 for bad input (one line on stderr), 3 when
work was left undone: stopped (SIGINT or SIGTERM) before the work was done,
or units left in paused work specs (the summary names them).

``coordinate worker --connect URL --processes N --threads T`` runs worker
processes against a shared store (see :mod:`coordinate.processes`), with
the same exit statuses. The operator's commands (``serve``, ``load``,
``add``, ``status``, ``units``, ``show``, ``pause``, ``resume``, ``retry``,
``delete``, ``workers``) are in :mod:`coordinate.admin`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any, Dict, List, NoReturn, Optional, Sequence

from ._coordinate import Coordinate
from ._errors import CoordinateError
from .flow import FlowError, UnitItem, check_functions, install, load_flow, load_units
from .progress import make_progress, print_summary
from .admin import AdminError, open_store, run_admin, store_url
from .processes import start_methods
from .worker import DEFAULT_RUNTIMES, RunResult, WorkerPool, duration_problem

__all__ = ["main", "build_parser"]

EXIT_BAD_INPUT = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**64-1: {text!r}")
    return value


def _seconds(text: str, positive: bool = False) -> float:
    """A duration option: seconds between 0 (exclusive when ``positive``)
    and :data:`~coordinate.worker.MAX_SECONDS`."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    problem = duration_problem(value, positive=positive)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return value


def _positive_seconds(text: str) -> float:
    return _seconds(text, positive=True)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr, like every
    other bad input, and exit with status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"coordinate: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``coordinate`` command."""
    parser = _Parser(
        prog="coordinate",
        description="Coordinate: a job queue for repetitive work over many inputs.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    run = sub.add_parser(
        "run",
        help="run a flow file's work with a pool of Python workers",
        description=(
            "Load the work specs of FLOW (YAML or JSON: a 'flows' mapping of work spec "
            "name to spec data, and optionally 'units'), add the work units, run them "
            "with a pool of worker threads until no work is left, and print a summary. "
            "Exit status: 0 all done, 1 something failed, 2 bad input, 3 work left "
            "undone (stopped early, or units left in paused work specs)."
        ),
    )
    run.add_argument("flow", metavar="FLOW", help="the flow file (YAML, or JSON by suffix)")
    run.add_argument(
        "--units",
        metavar="FILE",
        nargs="+",
        action="extend",
        default=[],
        help="more work units: files mapping work spec name to units",
    )
    run.add_argument(
        "--workers", "-w", type=_positive_int, default=4, metavar="N", help="worker threads (4)"
    )
    run.add_argument("--seed", type=_seed, metavar="S", help="seed of the scheduler's choices")
    run.add_argument("--namespace", default="", metavar="NAME", help="namespace name ('')")
    _add_runtime_option(run)
    _add_lease_options(run)
    _add_progress_options(run)
    run.add_argument(
        "--summary-json", metavar="FILE", help="also write the summary as JSON to FILE"
    )
    _add_worker_parser(sub)
    _add_admin_parsers(sub)
    return parser


def _add_runtime_option(parser: argparse.ArgumentParser) -> None:
    """The --runtime options `run` and `worker` share."""
    parser.add_argument(
        "--runtime",
        dest="runtimes",
        action="append",
        metavar="R",
        help="serve specs of this runtime (repeatable; default: '' and 'python')",
    )


def _add_lease_options(parser: argparse.ArgumentParser) -> None:
    """The --lifetime and --grace options `run` and `worker` share."""
    parser.add_argument(
        "--lifetime",
        type=_positive_seconds,
        default=60.0,
        metavar="SECONDS",
        help="lease of each attempt, renewed at a third of it while a task runs (60)",
    )
    parser.add_argument(
        "--grace",
        type=_seconds,
        default=10.0,
        metavar="SECONDS",
        help="on SIGINT/SIGTERM, how long running tasks may finish (10)",
    )


def _add_progress_options(parser: argparse.ArgumentParser) -> None:
    """The --progress and --interval options `run` and `worker` share."""
    parser.add_argument(
        "--progress",
        choices=("auto", "live", "plain", "none"),
        default="auto",
        help="live table on a terminal, plain lines otherwise (auto)",
    )
    parser.add_argument(
        "--interval",
        type=_seconds,
        default=2.0,
        metavar="SECONDS",
        help="seconds between plain progress lines (2)",
    )


def _store_options() -> argparse.ArgumentParser:
    """--connect, --namespace and --token, shared by the store commands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--connect",
        "-c",
        metavar="URL",
        default=None,
        help="the store: sqlite:PATH, http://HOST:PORT, postgresql://... "
        "(default: $COORDINATE_URL)",
    )
    common.add_argument("--namespace", default="", metavar="NAME", help="namespace name ('')")
    common.add_argument(
        "--token", metavar="TOKEN", default=None, help="bearer token (default: $COORDINATE_TOKEN)"
    )
    return common


def _add_worker_parser(sub: Any) -> None:
    w = sub.add_parser(
        "worker",
        parents=[_store_options()],
        help="run worker processes against a store until stopped",
        description=(
            "Run a parent worker supervising N worker processes of T threads each, "
            "against the store --connect names. A process that dies has its attempts "
            "expired and is started again; a task past its timeout has its process "
            "replaced and its attempt failed. SIGINT/SIGTERM stop it gracefully. "
            "Exit status as for 'run'."
        ),
    )
    w.add_argument(
        "--processes",
        "-p",
        type=_positive_int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="worker processes (default: the number of CPUs)",
    )
    w.add_argument(
        "--threads", "-t", type=_positive_int, default=1, metavar="T", help="threads per process (1)"
    )
    _add_runtime_option(w)
    w.add_argument(
        "--work-spec",
        dest="work_specs",
        action="append",
        metavar="SPEC",
        help="serve only this work spec (repeatable; default: all)",
    )
    w.add_argument(
        "--until-empty",
        action="store_true",
        help="stop when no served work spec has work left (default: run until stopped)",
    )
    w.add_argument(
        "--task-timeout",
        type=_positive_seconds,
        default=None,
        metavar="SECONDS",
        help="stop a task running longer (a spec's data 'timeout' wins); default: none",
    )
    w.add_argument(
        "--path",
        dest="paths",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder to import run functions' modules from (repeatable)",
    )
    _add_lease_options(w)
    w.add_argument(
        "--start-method",
        choices=start_methods(),
        default=None,
        help=f"how worker processes start ({start_methods()[0]})",
    )
    w.add_argument("--name", metavar="NAME", help="the parent worker's name (host:pid:poolN)")
    _add_progress_options(w)


def _add_admin_parsers(sub: Any) -> None:
    common = _store_options()
    serve = sub.add_parser(
        "serve",
        help="run the coordinated daemon (installed separately)",
        description=(
            "Run the coordinated HTTP daemon ($COORDINATED, else coordinated on PATH) "
            "serving a store; extra daemon options go after '--'."
        ),
    )
    serve.add_argument("--listen", default="127.0.0.1:5980", metavar="ADDR",
                       help="address to listen on (127.0.0.1:5980; port 0: any free port)")
    serve.add_argument("--store", default="sqlite:coordinate.db", metavar="URL",
                       help="the store the daemon serves (sqlite:coordinate.db)")
    serve.add_argument("daemon_args", nargs=argparse.REMAINDER, metavar="-- ARGS",
                       help="more coordinated options")

    load = sub.add_parser("load", parents=[common], help="create or update a flow file's work specs",
                          description="Set the work specs of FLOW in the store and add its units.")
    load.add_argument("flow", metavar="FLOW", help="the flow file (YAML, or JSON by suffix)")
    load.add_argument("--units", metavar="FILE", nargs="+", action="extend", default=[],
                      help="more work units: files mapping work spec name to units")
    load.add_argument("--no-units", action="store_true", help="set the specs only")

    add = sub.add_parser("add", parents=[common], help="add work units to a work spec",
                         description="Add units (a YAML/JSON list of names or {name, data, "
                         "priority, delay}, or a mapping of name to data) to SPEC.")
    add.add_argument("spec", metavar="SPEC")
    add.add_argument("--units", metavar="FILE", required=True, help="the units file, or - for stdin")

    status = sub.add_parser("status", parents=[common], help="units per work spec and status")
    status.add_argument("--json", action="store_true", help="print JSON")

    units = sub.add_parser("units", parents=[common], help="list a work spec's units")
    units.add_argument("spec", metavar="SPEC")
    units.add_argument("--status", action="append", default=[], metavar="STATUS",
                       help="only units of this status (repeatable)")
    units.add_argument("--limit", type=_non_negative_int, default=100, metavar="N",
                       help="at most N units (100; 0: all)")
    units.add_argument("--json", action="store_true", help="print JSON")

    show = sub.add_parser("show", parents=[common], help="a unit's data and attempt history")
    show.add_argument("spec", metavar="SPEC")
    show.add_argument("unit", metavar="UNIT")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.add_argument("--no-data", action="store_true", help="leave out the unit's data")

    for name, what in (("pause", "pause a work spec (no new attempts)"),
                       ("resume", "resume a paused work spec")):
        p = sub.add_parser(name, parents=[common], help=what)
        p.add_argument("spec", metavar="SPEC")

    retry = sub.add_parser("retry", parents=[common], help="make failed units available again")
    retry.add_argument("spec", metavar="SPEC")
    retry.add_argument("--failed", action="store_true", help="the failed units (required)")
    retry.add_argument("--limit", type=_non_negative_int, default=0, metavar="N",
                       help="at most N units (0: all)")

    delete = sub.add_parser("delete", parents=[common], help="delete units of a work spec")
    delete.add_argument("spec", metavar="SPEC")
    delete.add_argument("--status", action="append", default=[], metavar="STATUS",
                        help="delete units of this status (repeatable)")
    delete.add_argument("--all", action="store_true", help="delete every unit")

    workers = sub.add_parser("workers", parents=[common], help="list workers")
    workers.add_argument("--all", action="store_true", help="inactive workers too")
    workers.add_argument("--json", action="store_true", help="print JSON")


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


class _StderrHandler(logging.Handler):
    """Writes log lines to whatever ``sys.stderr`` is at the time, so that a
    live display that redirects it can print them above itself."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = "" if record.levelno <= logging.INFO else f"{record.levelname.lower()}: "
            print(f"coordinate: {level}{record.getMessage()}", file=sys.stderr, flush=True)
        except Exception:
            self.handleError(record)


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _summary_json(result: RunResult) -> Dict[str, Any]:
    st = result.stats
    return {
        "reason": result.reason,
        "signal": result.signal,
        "exit_code": result.exit_code,
        "elapsed": result.elapsed,
        "workers": result.workers,
        "tasks": {
            "finished": st.finished,
            "failed": st.failed,
            "retried": st.retried,
            "expired": st.expired,
            "lost": st.lost,
            "renewed": st.renewed,
        },
        "specs": {
            s.name: {
                "available": s.available,
                "pending": s.pending,
                "delayed": s.delayed,
                "finished": s.finished,
                "failed": s.failed,
                "served": s.served,
                "paused": s.paused,
            }
            for s in result.specs
        },
        "paused_left": dict(result.paused_left),
        "results": [{"work_spec": s, "work_unit": u, "result": r} for s, u, r in result.results],
    }


def _print_results(result: RunResult) -> None:
    for spec, unit, value in sorted(result.results, key=lambda r: (r[0], r[1])):
        print(f"\n{spec}/{unit}:")
        if isinstance(value, str):
            print(value.rstrip("\n"))
        else:
            print(json.dumps(value, indent=2, default=str))


def _run(args: argparse.Namespace) -> int:
    runtimes: List[str] = args.runtimes if args.runtimes is not None else list(DEFAULT_RUNTIMES)
    try:
        flow = load_flow(args.flow)
        extra: List[Dict[str, List[UnitItem]]] = [load_units(f, flow.specs) for f in args.units]
        warnings = check_functions(flow, runtimes)
        coord = Coordinate(seed=args.seed)
        ns = coord.namespace(args.namespace)
        added = install(flow, ns, coord.now(), extra)
    except FlowError as e:
        print(f"coordinate: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for w in warnings:
        logging.getLogger("coordinate").warning("%s", w)
    try:
        pool = WorkerPool(
            coord,
            ns,
            workers=args.workers,
            runtimes=runtimes,
            lifetime=args.lifetime,
            grace=args.grace,
        )
    except ValueError as e:
        print(f"coordinate: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    order = list(flow.specs)
    print(
        f"coordinate: running {args.flow}: {_count(len(flow.specs), 'work spec')}, "
        f"{_count(added, 'unit')}, {_count(args.workers, 'worker')}",
        flush=True,
    )
    progress = make_progress(args.progress, sys.stdout, interval=args.interval, order=order)
    result = pool.run(progress=progress)
    print_summary(result, sys.stdout, fancy=args.progress == "live" or None, order=order)
    _print_results(result)
    if args.summary_json:
        try:
            with open(args.summary_json, "w", encoding="utf-8") as f:
                json.dump(_summary_json(result), f, indent=2, default=str)
        except OSError as e:
            print(
                f"coordinate: error: cannot write {args.summary_json}: {e.strerror}",
                file=sys.stderr,
            )
    return result.exit_code


def _worker(args: argparse.Namespace) -> int:
    runtimes: List[str] = args.runtimes if args.runtimes is not None else list(DEFAULT_RUNTIMES)
    for p in reversed(args.paths):
        folder = os.path.abspath(p)
        if not os.path.isdir(folder):
            print(f"coordinate: error: --path {p}: not a folder", file=sys.stderr)
            return EXIT_BAD_INPUT
        if folder not in sys.path:
            sys.path.insert(0, folder)
    try:
        url = store_url(args)
        coord = open_store(args)
        pool = WorkerPool(
            coord,
            args.namespace,
            url=url,
            token=args.token or os.environ.get("COORDINATE_TOKEN") or None,
            processes=args.processes,
            workers=args.threads,
            runtimes=runtimes,
            work_specs=args.work_specs,
            lifetime=args.lifetime,
            grace=args.grace,
            task_timeout=args.task_timeout,
            start_method=args.start_method,
            name=args.name,
        )
    except AdminError as e:
        print(f"coordinate: error: {e}", file=sys.stderr)
        return e.code
    except ValueError as e:
        print(f"coordinate: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CoordinateError as e:
        print(f"coordinate: error: {url}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(
        f"coordinate: worker {pool.name} on {url}: "
        f"{args.processes} process{'es' if args.processes != 1 else ''} x "
        f"{_count(args.threads, 'thread')}"
        + (", until no work is left" if args.until_empty else ", until stopped"),
        flush=True,
    )
    progress = make_progress(args.progress, sys.stdout, interval=args.interval)
    result = pool.run(progress=progress, until_idle=args.until_empty)
    print_summary(result, sys.stdout, fancy=args.progress == "live" or None)
    return result.exit_code


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    root = logging.getLogger("coordinate")
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        root.addHandler(_StderrHandler())
    root.setLevel(logging.INFO)
    root.propagate = False
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "worker":
            return _worker(args)
        return run_admin(args)
    except KeyboardInterrupt:
        print("coordinate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (`coordinate run ... | head`).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return EXIT_BAD_INPUT  # pragma: no cover - argparse requires a command
