"""Run functions of the word count pipeline (flow.yaml, beside this file).

``split`` (split_file): one unit per text file. Splits the file into chunks of
    ``chunk_lines`` lines and outputs one ``count`` unit per chunk, with the
    file's priority, so the chunks of big files are counted first.
``count`` (count_words): counts the words of one chunk, keeps the counts in
    its own data (the queue is the result store) and outputs the ``merge``
    unit ``total``. Every ``flaky_every``-th chunk fails its first attempt
    with ``Retry``: a stand-in for a transient error, such as a file share
    that is briefly away.
``merge`` (merge_counts): a fan-in. While ``split`` or ``count`` still have
    open units it asks to be retried a little later; then it adds up the
    counts of every finished ``count`` unit and sets the ``result`` text.

Run it with ``make demo``, or ``coordinate run examples/wordcount/flow.yaml``.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List

from coordinate import Retry, Task, WorkUnitStatus

HERE = Path(__file__).resolve().parent
WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
OPEN = (WorkUnitStatus.AVAILABLE, WorkUnitStatus.PENDING, WorkUnitStatus.DELAYED)
STOP_WORDS = frozenset(
    """
    a about above after all also an and any are as at be been before being both but by
    can cannot could did do does doing done each either else etc for from further had has
    have having he her here hers him his how however i if in into is it its itself just
    may me might more most must my no nor not of off on once one only or other otherwise
    our ours out over own same shall she should so some such than that the their theirs
    them then there these they this those through thus to too under unless until up upon
    us very was we were what whatever when where whether which while who whom why will
    with within without would you your yours
    """.split()
)


def _path(name: str) -> Path:
    """A unit's ``path``: absolute, or relative to this folder."""
    path = Path(name)
    return path if path.is_absolute() else HERE / path


def split_file(task: Task) -> None:
    """Splits one text file into ``count`` units of ``chunk_lines`` lines."""
    lines = _path(task.data["path"]).read_text(encoding="utf-8").splitlines()
    size = int(task.config.get("chunk_lines", 50))
    chunks = max(1, -(-len(lines) // size))
    priority = task.work_unit.priority()
    for i in range(chunks):
        chunk = {
            "file": task.name,
            "path": task.data["path"],
            "start": i * size,
            "stop": min(len(lines), (i + 1) * size),
            "chunk": i,
            "chunks": chunks,
        }
        task.add_output(f"{task.name}#{i:03d}", chunk, priority=priority)
    task.data["lines"] = len(lines)
    task.data["chunks"] = chunks


def count_words(task: Task) -> None:
    """Counts the words of one chunk (stop words left out of the counts)."""
    data, config = task.data, task.config
    every = int(config.get("flaky_every", 0))
    if every and data["chunk"] % every == every - 1 and task.attempt_number == 1:
        raise Retry(
            f"transient error reading chunk {data['chunk']} (first attempt)",
            delay=float(config.get("retry_delay", 0.2)),
        )
    time.sleep(float(config.get("simulate_seconds", 0)))  # stands in for slow I/O
    text = _path(data["path"]).read_text(encoding="utf-8").splitlines()
    words = [w for line in text[data["start"] : data["stop"]] for w in WORD.findall(line.lower())]
    data["words"] = len(words)
    data["counts"] = dict(Counter(w for w in words if w not in STOP_WORDS and len(w) > 1))
    task.add_output("total")


def merge_counts(task: Task) -> None:
    """Adds up the counts of all finished chunks, once nothing is left to count."""
    config = task.config
    ns = task.namespace
    waiting = []
    for spec in config.get("wait_for", ["split", "count"]):
        n = sum(ns.work_spec(spec).count_work_unit_status().get(s, 0) for s in OPEN)
        if n:
            waiting.append(f"{n} {spec}")
    if waiting:
        raise Retry(
            f"waiting for {', '.join(waiting)} units",
            delay=float(config.get("wait_seconds", 0.25)),
        )
    totals: Counter[str] = Counter()
    per_file: Dict[str, int] = {}
    source = ns.work_spec(config.get("counts_from", "count"))
    for unit in source.work_units(statuses=[WorkUnitStatus.FINISHED]).values():
        data = unit.data()
        totals.update(data["counts"])
        per_file[data["file"]] = per_file.get(data["file"], 0) + int(data["words"])
    top = totals.most_common(int(config.get("top", 10)))
    task.data["words"] = sum(per_file.values())
    task.data["per_file"] = per_file
    task.data["top"] = [[w, n] for w, n in top]
    lines: List[str] = [
        f"{sum(per_file.values())} words in {len(per_file)} files: "
        + ", ".join(f"{f} {n}" for f, n in sorted(per_file.items(), key=lambda kv: -kv[1])),
        f"top {len(top)} words (stop words left out):",
    ]
    lines += [f"  {n:5d}  {w}" for w, n in top]
    task.data["result"] = "\n".join(lines)
