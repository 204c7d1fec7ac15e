"""The operator's commands of ``coordinate``: look at and change a store.

Every command works against ``--connect URL`` (default: the environment
variable ``COORDINATE_URL``) through the public API only: ``load``, ``add``,
``status``, ``units``, ``show``, ``pause``, ``resume``, ``retry``,
``delete``, ``workers`` and ``serve``. Tables are rich on a terminal and
plain tab-separated text (a header line, then one line per row) when piped.
Bad input is one line on stderr naming what was wrong, with exit status 2;
a store that fails otherwise (unreachable, refusing) exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ._coordinate import Coordinate, Namespace, WorkSpec, WorkUnit, connect
from ._errors import (
    BadUrlError,
    CoordinateError,
    NoSuchWorkSpecError,
    NoSuchWorkUnitError,
)
from ._status import WorkUnitStatus
from .flow import FlowError, install, load_flow, load_units, parse_units, _yaml_load

__all__ = ["AdminError", "COMMANDS", "UNIT_STATUSES", "find_daemon", "run_admin"]

#: The unit statuses, in the order tables show them.
UNIT_STATUSES: Tuple[str, ...] = ("available", "pending", "delayed", "finished", "failed")

EXIT_BAD_INPUT = 2
EXIT_STORE = 1


class AdminError(Exception):
    """A command that cannot be carried out; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


# ------------------------------------------------------------------ output


def _terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def print_table(
    columns: Sequence[str], rows: Sequence[Sequence[object]], *, title: str = ""
) -> None:
    """A rich table on a terminal; tab-separated lines (header first) when
    stdout is not one."""
    if _terminal(sys.stdout):
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title or None, title_justify="left")
        for i, c in enumerate(columns):
            numeric = bool(rows) and all(isinstance(r[i], int) for r in rows)
            table.add_column(c, justify="right" if numeric else "left")
        for r in rows:
            table.add_row(*(str(x) for x in r))
        Console().print(table)
        return
    print("\t".join(columns))
    for r in rows:
        print("\t".join(str(x).replace("\t", " ").replace("\n", " ") for x in r))


def _json_out(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True, default=str))


def _when(t: Optional[datetime]) -> str:
    return "" if t is None else t.isoformat(timespec="milliseconds")


# ------------------------------------------------------------------ store


def store_url(args: argparse.Namespace) -> str:
    url = args.connect or os.environ.get("COORDINATE_URL", "")
    if not url:
        raise AdminError("no store: pass --connect URL or set COORDINATE_URL")
    return url


def open_store(args: argparse.Namespace) -> Coordinate:
    url = store_url(args)
    try:
        return connect(url, token=args.token or os.environ.get("COORDINATE_TOKEN") or None)
    except BadUrlError as e:
        raise AdminError(f"bad --connect URL {url!r}: {e}") from None
    except CoordinateError as e:
        raise AdminError(f"cannot open {url}: {e}", EXIT_STORE) from None


def _spec(ns: Namespace, name: str) -> WorkSpec:
    try:
        return ns.work_spec(name)
    except NoSuchWorkSpecError:
        where = f" in namespace {ns.name!r}" if ns.name else ""
        raise AdminError(f"no work spec {name!r}{where}") from None


def _status(text: str) -> WorkUnitStatus:
    if text not in UNIT_STATUSES:
        raise AdminError(f"unknown status {text!r}: use one of {', '.join(UNIT_STATUSES)}")
    return WorkUnitStatus(text)


# ------------------------------------------------------------------ commands


def cmd_load(args: argparse.Namespace, ns: Namespace, coord: Coordinate) -> int:
    try:
        flow = load_flow(args.flow)
        extra = [load_units(f, flow.specs) for f in args.units]
        if args.no_units:
            flow.units = {}
        added = install(flow, ns, coord.now(), extra)
    except FlowError as e:
        raise AdminError(str(e)) from None
    names = ", ".join(flow.specs)
    print(f"loaded {len(flow.specs)} work specs ({names}) from {args.flow}; added {added} units")
    return 0


def cmd_add(args: argparse.Namespace, ns: Namespace, coord: Coordinate) -> int:
    spec = _spec(ns, args.spec)
    if args.units == "-":
        source, text = "<stdin>", sys.stdin.read()
    else:
        source = args.units
        try:
            text = Path(args.units).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise AdminError(f"units file not found: {source}") from None
        except IsADirectoryError:
            raise AdminError(f"units file is a directory: {source}") from None
        except UnicodeDecodeError:
            raise AdminError(f"{source}: not UTF-8 text") from None
        except OSError as e:
            raise AdminError(f"cannot read units file {source}: {e.strerror or e}") from None
    try:
        doc = _yaml_load(text, source)  # YAML, and so JSON too
        if doc is None:
            raise FlowError(f"{source}: no units")
        items = parse_units({spec.name: doc}, source, [spec.name])[spec.name]
    except FlowError as e:
        raise AdminError(str(e)) from None
    install_items(spec, items, coord)
    print(f"added {len(items)} units to {spec.name}")
    return 0


def install_items(spec: WorkSpec, items: Sequence[Any], coord: Coordinate) -> None:
    from datetime import timedelta

    from ._coordinate import WorkUnitMeta

    now = coord.now()
    batch = []
    for u in items:
        nb = now + timedelta(seconds=u.delay) if u.delay > 0 else None
        batch.append((u.name, u.data, WorkUnitMeta(u.priority, nb)))
    try:
        spec.add_work_units(batch)
    except (TypeError, ValueError, OverflowError) as e:
        raise AdminError(f"units of {spec.name!r}: {e}") from None


def _counts(ns: Namespace) -> Dict[str, Dict[str, int]]:
    out: Dict[str, Dict[str, int]] = {n: {s: 0 for s in UNIT_STATUSES} for n in ns.work_spec_names()}
    for r in ns.summarize():
        out.setdefault(r.work_spec, {s: 0 for s in UNIT_STATUSES})[str(r.status)] = r.count
    return out


def cmd_status(args: argparse.Namespace, ns: Namespace, coord: Coordinate) -> int:
    counts = _counts(ns)
    paused = {n: ns.work_spec(n).meta().paused for n in counts}
    if args.json:
        _json_out(
            {
                "namespace": ns.name,
                "work_specs": {
                    n: {**c, "total": sum(c.values()), "paused": paused[n]}
                    for n, c in sorted(counts.items())
                },
            }
        )
        return 0
    if not counts:
        print("no work specs" + (f" in namespace {ns.name!r}" if ns.name else ""))
        return 0
    rows = [
        [n, *(c[s] for s in UNIT_STATUSES), sum(c.values()), "yes" if paused[n] else ""]
        for n, c in sorted(counts.items())
    ]
    print_table(["work spec", *UNIT_STATUSES, "total", "paused"], rows, title="Status")
    return 0


def _units(spec: WorkSpec, statuses: List[WorkUnitStatus], limit: int) -> List[Tuple[str, str, WorkUnit]]:
    """(name, status, unit), sorted by name, at most ``limit`` (0: all)."""
    found: List[Tuple[str, str, WorkUnit]] = []
    for st in statuses or [WorkUnitStatus(s) for s in UNIT_STATUSES]:
        for name, unit in spec.work_units(statuses=[st], limit=limit).items():
            found.append((name, str(st), unit))
    found.sort(key=lambda t: t[0])
    return found[:limit] if limit else found


def cmd_units(args: argparse.Namespace, ns: Namespace, coord: Coordinate) -> int:
    spec = _spec(ns, args.spec)
    statuses = [_status(s) for s in args.status]
    units = _units(spec, statuses, args.limit)
    if args.json:
        _json_out([{"name": n, "status": s, "priority": u.priority()} for n, s, u in units])
        return 0
    rows = [[n, s, f"{u.priority():g}", u.num_attempts()] for n, s, u in units]
    print_table(["unit", "status", "priority", "attempts"], rows, title=f"Units of {spec.name}")
    return 0


def _attempt_note(data: Dict[str, Any]) -> str:
    for key in ("expired", "exception_message", "retry_reason"):
        if key in data:
            return f"{key}: {data[key]}"
    return ""


def cmd_show(args: argparse.Namespace, ns: Namespace, coord: Coordinate) -> int:
    spec = _spec(ns, args.spec)
    try:
        unit = spec.work_unit(args.unit)
        status = unit.status()
    except NoSuchWorkUnitError:
        raise AdminError(f"no work unit {args.unit!r} in work spec {spec.name!r}") from None
    attempts = unit.attempts()
    history = []
    for a in attempts:
        history.append(
            {
                "worker": a.worker.name,
                "status": str(a.status()),
                "start": _when(a.start_time()),
                "end": _when(a.end_time()),
                "note": _attempt_note(a.data()),
            }
        )
    data = unit.data()
    if args.json:
        _json_out(
            {
                "work_spec": spec.name,
                "name": unit.name,
                "status": str(status),
                "priority": unit.priority(),
                "data": data,
                "attempts": history,
            }
        )
        return 0
    print(f"{spec.name}/{unit.name}: {status}, priority {unit.priority():g}")
    if not args.no_data:
        print("data: " + json.dumps(data, sort_keys=True, default=str, indent=2))
    if history:
        rows = [[i + 1, h["worker"], h["status"], h["start"], h["end"], h["note"]]
                for i, h in enumerate(history)]
        print_table(["#", "worker", "status", "start", "end", "note"], rows, title="Attempts")
    else:
        print("no attempts")
    return 0


def _set_paused(ns: Namespace, name: str, paused: bool) -> int:
    spec = _spec(ns, name)
    meta = spec.meta()
    meta.paused = paused
    spec.set_meta(meta)
    print(f"{spec.name}: {'paused' if paused else 'resumed'}")
    return 0


def cmd_pause(args: argparse.Namespace, ns: Namespace, coord: Coordinate) -> int:
    return _set_paused(ns, args.spec, True)


def cmd_resume(args: argparse.Namespace, ns: Namespace, coord: Coordinate) -> int:
    return _set_paused(ns, args.spec, False)


def cmd_retry(args: argparse.Namespace, ns: Namespace, coord: Coordinate) -> int:
    spec = _spec(ns, args.spec)
    if not args.failed:
        raise AdminError("retry needs --failed (it makes the failed units available again)")
    n = 0
    for unit in spec.work_units(statuses=[WorkUnitStatus.FAILED], limit=args.limit).values():
        try:
            unit.clear_active_attempt()
        except CoordinateError:
            continue  # deleted meanwhile
        n += 1
    print(f"{spec.name}: {n} failed units made available again")
    return 0


def cmd_delete(args: argparse.Namespace, ns: Namespace, coord: Coordinate) -> int:
    spec = _spec(ns, args.spec)
    if not args.status and not args.all:
        raise AdminError("delete needs --status STATUS (repeatable) or --all")
    if args.status and args.all:
        raise AdminError("delete takes --status or --all, not both")
    statuses = [_status(s) for s in args.status]
    n = spec.delete_work_units(statuses=statuses or None)
    what = " or ".join(args.status) if args.status else "all"
    print(f"{spec.name}: deleted {n} units ({what})")
    return 0


def cmd_workers(args: argparse.Namespace, ns: Namespace, coord: Coordinate) -> int:
    rows = []
    out = []
    for name, w in sorted(ns.workers().items()):
        active = w.active()
        if not active and not args.all:
            continue
        data = w.data()
        parent = w.parent()
        entry = {
            "name": name,
            "parent": parent.name if parent else "",
            "active": active,
            "mode": w.mode(),
            "last_update": _when(w.last_update()),
            "pid": data.get("pid", ""),
            "state": data.get("state", ""),
            "work_unit": (
                f"{data.get('work_spec')}/{data.get('work_unit')}" if data.get("work_unit") else ""
            ),
            "attempts": len(w.active_attempts()),
        }
        out.append(entry)
        rows.append([entry[k] if not isinstance(entry[k], bool) else ("yes" if entry[k] else "no")
                     for k in ("name", "parent", "active", "mode", "pid", "state", "work_unit",
                               "attempts", "last_update")])
    if args.json:
        _json_out(out)
        return 0
    if not rows:
        print("no active workers" if not args.all else "no workers")
        return 0
    print_table(
        ["worker", "parent", "active", "mode", "pid", "state", "running", "attempts", "updated"],
        rows,
        title="Workers",
    )
    return 0


def find_daemon() -> Optional[str]:
    """The ``coordinated`` to run: ``$COORDINATED``, else one on ``PATH``."""
    env = os.environ.get("COORDINATED")
    if env:
        return env
    return shutil.which("coordinated")


def cmd_serve(args: argparse.Namespace) -> int:
    daemon = find_daemon()
    if daemon is None or not os.access(daemon, os.X_OK):
        where = f" ($COORDINATED is {daemon!r}, not an executable)" if daemon else ""
        raise AdminError(
            "coordinated is not installed" + where + ": put it on PATH or set COORDINATED "
            "(`make dist` puts it in dist/; `make coordinated` builds target/release/coordinated)"
        )
    extra = list(args.daemon_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    argv = [daemon, "--listen", args.listen, "--store", args.store, *extra]
    sys.stdout.flush()
    os.execv(daemon, argv)
    return 0  # pragma: no cover - execv does not return


COMMANDS = {
    "load": cmd_load,
    "add": cmd_add,
    "status": cmd_status,
    "units": cmd_units,
    "show": cmd_show,
    "pause": cmd_pause,
    "resume": cmd_resume,
    "retry": cmd_retry,
    "delete": cmd_delete,
    "workers": cmd_workers,
}


def run_admin(args: argparse.Namespace) -> int:
    """Runs one admin command; returns the exit status (errors: one line)."""
    try:
        if args.command == "serve":
            return cmd_serve(args)
        coord = open_store(args)
        try:
            ns = coord.namespace(args.namespace)
            return COMMANDS[args.command](args, ns, coord)
        finally:
            try:
                coord.close()
            except CoordinateError:
                pass
    except AdminError as e:
        print(f"coordinate: error: {e}", file=sys.stderr)
        return e.code
    except (NoSuchWorkSpecError, NoSuchWorkUnitError) as e:
        print(f"coordinate: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CoordinateError as e:
        print(f"coordinate: error: {store_url(args)}: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_STORE
