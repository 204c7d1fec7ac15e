"""Progress displays for :meth:`coordinate.worker.WorkerPool.run`.

On a terminal, :class:`LiveProgress` redraws a table of units per status per
work spec, with the task rate, using ``rich``. Elsewhere (a pipe, a log file,
CI), :class:`PlainProgress` prints one line every few seconds. At the end,
:func:`print_summary` prints the summary table (a ``rich`` table on a
terminal, aligned plain text otherwise). ``rich`` is imported only when a
terminal display is used.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any, List, Optional, Sequence, Tuple

from .worker import Progress, RunResult, Snapshot, SpecCounts

__all__ = [
    "LiveProgress",
    "NullProgress",
    "PlainProgress",
    "format_line",
    "format_summary",
    "headline",
    "make_progress",
    "print_summary",
]

_MODES = ("auto", "live", "plain", "none")


def _label(s: SpecCounts) -> str:
    return (
        f"{s.name} (not served)" if not s.served else f"{s.name} (paused)" if s.paused else s.name
    )


def _ordered(specs: Sequence[SpecCounts], order: Sequence[str]) -> List[SpecCounts]:
    rank = {name: i for i, name in enumerate(order)}
    return sorted(specs, key=lambda s: (rank.get(s.name, len(rank)), s.name))


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def make_progress(
    mode: str = "auto",
    stream: Optional[IO[str]] = None,
    *,
    interval: float = 2.0,
    order: Sequence[str] = (),
) -> Progress:
    """A display for ``mode``: ``"live"`` (rich), ``"plain"`` (a line every
    ``interval`` seconds), ``"none"``, or ``"auto"``: live on a terminal,
    plain otherwise. ``order`` lists work specs to show first."""
    if mode not in _MODES:
        raise ValueError(f"progress mode must be one of {', '.join(_MODES)}")
    out = sys.stdout if stream is None else stream
    if mode == "auto":
        mode = "live" if _is_terminal(out) else "plain"
    if mode == "live":
        return LiveProgress(out, order=order)
    if mode == "plain":
        return PlainProgress(out, interval=interval, order=order)
    return NullProgress()


class NullProgress:
    """Shows nothing."""

    def start(self, snapshot: Snapshot) -> None:
        pass

    def update(self, snapshot: Snapshot) -> None:
        pass

    def close(self, snapshot: Snapshot) -> None:
        pass


def _spec_part(s: SpecCounts) -> str:
    done = s.finished + s.failed
    extra = [
        f"{n} {what}"
        for n, what in (
            (s.pending, "pending"),
            (s.available, "available"),
            (s.delayed, "delayed"),
            (s.failed, "failed"),
        )
        if n
    ]
    text = f"{s.name} {done}/{s.total}"
    if extra:
        text += f" ({', '.join(extra)})"
    if not s.served:
        text += " [not served]"
    elif s.paused:
        text += " [paused]"
    return text


def format_line(snapshot: Snapshot, order: Sequence[str] = ()) -> str:
    """One progress line: per spec done/total and what is still open."""
    parts = [f"[{snapshot.elapsed:7.1f}s]"]
    specs = _ordered(snapshot.specs, order)
    parts.append(" | ".join(_spec_part(s) for s in specs) if specs else "no work specs")
    parts.append(f"| {snapshot.rate:.1f} tasks/s, {snapshot.busy}/{snapshot.workers} workers busy")
    if snapshot.stopping and snapshot.grace_left is not None:
        parts.append(
            f"| stopping ({snapshot.stop_reason}): {snapshot.busy} running, "
            f"{snapshot.grace_left:.1f}s of grace left"
        )
    return " ".join(parts)


class PlainProgress:
    """Prints :func:`format_line` every ``interval`` seconds (and once when a
    stop begins), for output that is not a terminal."""

    def __init__(self, stream: IO[str], *, interval: float = 2.0, order: Sequence[str] = ()):
        self.stream = stream
        self.interval = interval
        self.order = tuple(order)
        self._last = 0.0
        self._stopping = False

    def _emit(self, snapshot: Snapshot) -> None:
        self._last = time.monotonic()
        print(format_line(snapshot, self.order), file=self.stream, flush=True)

    def start(self, snapshot: Snapshot) -> None:
        self._emit(snapshot)

    def update(self, snapshot: Snapshot) -> None:
        began_stopping = snapshot.grace_left is not None and not self._stopping
        if began_stopping:
            self._stopping = True
        if began_stopping or time.monotonic() - self._last >= self.interval:
            self._emit(snapshot)

    def close(self, snapshot: Snapshot) -> None:
        self._emit(snapshot)


class LiveProgress:
    """A live ``rich`` table on a terminal, redrawn as the run goes."""

    def __init__(self, stream: IO[str], *, order: Sequence[str] = ()) -> None:
        from rich.console import Console
        from rich.live import Live

        self.order = tuple(order)
        self.console = Console(file=stream)
        self._live = Live(
            console=self.console,
            refresh_per_second=8,
            transient=True,
            redirect_stdout=True,
            redirect_stderr=True,
        )

    def render(self, snapshot: Snapshot) -> Any:
        """The renderable for one snapshot (a rich Table)."""
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        table = Table(title="coordinate: work units by status", title_justify="left", box=None)
        table.add_column("work spec", style="bold")
        table.add_column("", width=20)
        for name, style in (
            ("done", None),
            ("available", "cyan"),
            ("delayed", "magenta"),
            ("pending", "yellow"),
            ("finished", "green"),
            ("failed", "red"),
            ("retries", None),
        ):
            table.add_column(name, justify="right", style=style)
        stats = snapshot.stats.per_spec
        for s in _ordered(snapshot.specs, self.order):
            done = s.finished + s.failed
            per = stats.get(s.name)
            table.add_row(
                _label(s),
                ProgressBar(total=max(s.total, 1), completed=done, width=20),
                f"{done}/{s.total}",
                str(s.available),
                str(s.delayed),
                str(s.pending),
                str(s.finished),
                str(s.failed),
                str(per.retried if per else 0),
            )
        st = snapshot.stats
        caption = (
            f"{snapshot.elapsed:.1f}s · {snapshot.busy}/{snapshot.workers} workers busy · "
            f"{snapshot.rate:.1f} tasks/s · {st.finished} finished, {st.failed} failed, "
            f"{st.retried} retried, {st.renewed} leases renewed"
        )
        if snapshot.stopping and snapshot.grace_left is not None:
            caption += (
                f"\nstopping ({snapshot.stop_reason}): waiting {snapshot.grace_left:.1f}s more "
                f"for {snapshot.busy} running task(s); press Ctrl-C again to stop now"
            )
        table.caption = caption
        table.caption_justify = "left"
        return table

    def start(self, snapshot: Snapshot) -> None:
        self._live.update(self.render(snapshot))
        self._live.start()

    def update(self, snapshot: Snapshot) -> None:
        self._live.update(self.render(snapshot))

    def close(self, snapshot: Snapshot) -> None:
        self._live.update(self.render(snapshot))
        self._live.stop()


# ------------------------------------------------------------------ summary

_COLUMNS = (
    "work spec",
    "units",
    "finished",
    "failed",
    "available",
    "delayed",
    "pending",
    "tasks",
    "retries",
    "avg s",
)


def _summary_rows(result: RunResult, order: Sequence[str]) -> List[Tuple[str, ...]]:
    rows: List[Tuple[str, ...]] = []
    for s in _ordered(result.specs, order):
        per = result.stats.per_spec.get(s.name)
        tasks = per.tasks if per else 0
        avg = f"{per.seconds / tasks:.3f}" if per and tasks else "-"
        rows.append(
            (
                _label(s),
                str(s.total),
                str(s.finished),
                str(s.failed),
                str(s.available),
                str(s.delayed),
                str(s.pending),
                str(tasks),
                str(per.retried if per else 0),
                avg,
            )
        )
    return rows


def headline(result: RunResult) -> str:
    """One sentence on how the run ended."""
    st = result.stats
    rate = st.tasks / result.elapsed if result.elapsed > 0 else 0.0
    if result.reason == "drained":
        how = f"Done in {result.elapsed:.2f}s"
    elif result.reason == "signal":
        how = f"Stopped by {result.signal} after {result.elapsed:.2f}s"
    else:
        how = f"Stopped after {result.elapsed:.2f}s"
    text = (
        f"{how} with {result.workers} worker{'s' if result.workers != 1 else ''}: "
        f"{st.tasks} tasks ({st.finished} finished, {st.failed} failed, {st.retried} retried), "
        f"{rate:.1f} tasks/s; {st.renewed} leases renewed, {st.expired} expired "
        + ("(at shutdown, or their worker process died)" if result.processes else "at shutdown")
    )
    if result.processes:
        text += (
            f"; {result.processes} worker process{'es' if result.processes != 1 else ''}, "
            f"restarted {result.restarts} time{'s' if result.restarts != 1 else ''}"
        )
    if st.lost:
        text += f", {st.lost} results dropped (lease lost)"
    left = sum(s.open for s in result.specs if s.served and not s.paused)
    if left:
        text += f"; {left} units left to do"
    paused = result.paused_left
    if paused:
        text += f"; {sum(n for _, n in paused)} units left in paused work specs: " + _paused(paused)
    return text + "."


def _paused(paused: Sequence[Tuple[str, int]]) -> str:
    return ", ".join(f"{name} ({n} unit{'' if n == 1 else 's'})" for name, n in paused)


def _exit_text(result: RunResult) -> str:
    code = result.exit_code
    if code == 3 and not result.work_left:
        meaning = "work left in paused work specs: " + _paused(result.paused_left)
    else:
        meaning = {
            0: "all work done, nothing failed",
            1: "some work failed",
            3: "stopped before the work was done",
        }[code]
    return f"exit status {code}: {meaning}"


def format_summary(result: RunResult, order: Sequence[str] = ()) -> str:
    """The summary as aligned plain text: one row per work spec, then the
    headline and the exit status."""
    rows: List[Tuple[str, ...]] = [_COLUMNS, *_summary_rows(result, order)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    lines = []
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    lines.append(headline(result))
    lines.append(_exit_text(result))
    return "\n".join(lines)


def print_summary(
    result: RunResult,
    stream: Optional[IO[str]] = None,
    *,
    fancy: Optional[bool] = None,
    order: Sequence[str] = (),
) -> None:
    """Prints the summary: a rich table when ``fancy`` (default: when the
    stream is a terminal), else :func:`format_summary`."""
    out = sys.stdout if stream is None else stream
    if fancy is None:
        fancy = _is_terminal(out)
    if not fancy:
        print(format_summary(result, order), file=out, flush=True)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Summary", title_justify="left")
    for i, name in enumerate(_COLUMNS):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in _summary_rows(result, order):
        table.add_row(*row)
    console = Console(file=out)
    console.print(table)
    style = "green" if result.exit_code == 0 else "red" if result.exit_code == 1 else "yellow"
    console.print(headline(result), highlight=False)
    console.print(_exit_text(result), style=style, highlight=False)
