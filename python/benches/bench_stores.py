"""Store benchmarks through the Python package: add units, then drain them
with request + finish at batch 1 and batch 100, in 1 and in 4 worker
processes, on a SQLite file (and on any other `connect` URL); beside them,
in the same run, the SQLite-backed queues users would pick instead (Huey's
SqliteHuey and litequeue, no-op jobs, same N).

    python python/benches/bench_stores.py [--sizes 10000,100000,1000000]
        [--procs 1,4] [--url URL] [--peers/--no-peers]

`--url` takes a `connect` URL in which `{tmp}` becomes a fresh temporary
folder per measurement (default `sqlite:///{tmp}/bench.db`). Each row is one
fresh store. Times are wall clock; the machine is whatever runs this.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from typing import Any, Callable, Dict, Tuple

import coordinate as c

SPEC = {"name": "bench"}


def fresh(url_template: str) -> Tuple[str, str]:
    tmp = tempfile.mkdtemp(prefix="coordinate-bench-")
    return url_template.replace("{tmp}", tmp), tmp


def add_units(url: str, n: int) -> float:
    """Seconds to add n units in batches of 10,000 (one call each)."""
    with c.connect(url) as coord:
        spec = coord.namespace("bench").set_work_spec(SPEC)
        start = time.perf_counter()
        for lo in range(0, n, 10_000):
            spec.add_work_units([f"u{i:08d}" for i in range(lo, min(n, lo + 10_000))])
        return time.perf_counter() - start


def drain_worker(url: str, batch: int, name: str, done: "mp.Queue[int]") -> None:
    with c.connect(url) as coord:
        worker = coord.namespace("bench").worker(name)
        count = 0
        while True:
            attempts = worker.request_attempts(number_of_work_units=batch)
            if not attempts:
                break
            for attempt in attempts:
                attempt.finish()
            count += len(attempts)
    done.put(count)


def run_processes(
    what: str, n: int, procs: int, ctx: Any, make: Callable[[int, "mp.Queue[int]"], Any]
) -> float:
    """Seconds for `procs` processes of `ctx` (`make(i, done)` builds process
    i, which puts how many units it handled on `done`) to handle `n` units."""
    done: "mp.Queue[int]" = ctx.Queue()
    workers = [make(i, done) for i in range(procs)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    total = sum(done.get() for _ in workers)
    elapsed = time.perf_counter() - start
    for w in workers:
        w.join()
    if total != n:
        raise SystemExit(f"{what} drained {total} units, expected {n}")
    return elapsed


def drain(url: str, n: int, batch: int, procs: int) -> float:
    """Seconds for `procs` processes to drain the store together."""
    ctx = mp.get_context("spawn")
    return run_processes(
        "coordinate", n, procs, ctx,
        lambda i, done: ctx.Process(target=drain_worker, args=(url, batch, f"w{i}", done)),
    )


# ------------------------------------------------------------------ peers


def huey_run(path: str, n: int, procs: int) -> Tuple[float, float]:
    from huey import SqliteHuey

    huey = SqliteHuey(filename=path)

    @huey.task(name="noop")
    def noop() -> None:
        return None

    start = time.perf_counter()
    for _ in range(n):
        noop()
    added = time.perf_counter() - start
    ctx = mp.get_context("fork")  # the consumers are closures

    def consume(done: "mp.Queue[int]") -> None:
        # A fresh instance (and connection) per process, with the same task.
        h = SqliteHuey(filename=path)
        h.task(name="noop")(lambda: None)
        count = 0
        while True:
            task = h.dequeue()
            if task is None:
                break
            h.execute(task)
            count += 1
        done.put(count)

    drained = run_processes(
        "huey", n, procs, ctx, lambda i, done: ctx.Process(target=consume, args=(done,))
    )
    return added, drained


def litequeue_consume(path: str, done: "mp.Queue[int]") -> None:
    from litequeue import LiteQueue

    q = LiteQueue(path, timeout=30)  # sqlite3 busy timeout, so 4 consumers can share the file
    count = 0
    while True:
        msg = q.pop()
        if msg is None:
            break
        q.done(msg.message_id)
        count += 1
    done.put(count)


def litequeue_run(path: str, n: int, procs: int) -> Tuple[float, float]:
    from litequeue import LiteQueue

    q = LiteQueue(path, timeout=30)  # sqlite3 busy timeout, so 4 consumers can share the file
    start = time.perf_counter()
    for i in range(n):
        q.put(f"u{i}")
    added = time.perf_counter() - start
    ctx = mp.get_context("spawn")
    drained = run_processes(
        "litequeue", n, procs, ctx,
        lambda i, done: ctx.Process(target=litequeue_consume, args=(path, done)),
    )
    return added, drained


# ------------------------------------------------------------------- main


def us(seconds: float, n: int) -> str:
    return f"{seconds / n * 1e6:,.1f}"


def rate(seconds: float, n: int) -> str:
    return f"{n / seconds:,.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--procs", default="1,4")
    ap.add_argument("--batches", default="1,100")
    ap.add_argument("--url", default="sqlite:///{tmp}/bench.db")
    ap.add_argument("--peers", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--peer-max", type=int, default=100_000, help="largest N for the peers")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    procs_list = [int(p) for p in args.procs.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    print(f"store {args.url}; cpus {os.cpu_count()}")
    print("| N | what | processes | add µs/unit | drain µs/unit | drain units/s |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        for batch in batches:
            for procs in procs_list:
                url, tmp = fresh(args.url)
                try:
                    added = add_units(url, n)
                    drained = drain(url, n, batch, procs)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
                print(
                    f"| {n:,} | coordinate, batch {batch} | {procs} | {us(added, n)} | "
                    f"{us(drained, n)} | {rate(drained, n)} |",
                    flush=True,
                )
        if not args.peers or n > args.peer_max:
            continue
        peers: Dict[str, Callable[[str, int, int], Tuple[float, float]]] = {
            "SqliteHuey": huey_run,
            "litequeue": litequeue_run,
        }
        for name, run in peers.items():
            for procs in procs_list:
                tmp = tempfile.mkdtemp(prefix="coordinate-bench-peer-")
                try:
                    added, drained = run(os.path.join(tmp, "peer.db"), n, procs)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
                print(
                    f"| {n:,} | {name} | {procs} | {us(added, n)} | {us(drained, n)} | "
                    f"{rate(drained, n)} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
