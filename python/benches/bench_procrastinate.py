# Tested with procrastinate==3.10.0 and psycopg[binary]==3.3.9 (the pins in
# the Makefile's bench-postgres target).
"""The peer measurement for the PostgreSQL store: procrastinate draining N
no-op jobs on a PostgreSQL server, with one worker process at concurrency 1,
one at concurrency 4, and 4 worker processes at concurrency 1 each.

    COORDINATE_TEST_POSTGRES=postgresql://... \\
        python python/benches/bench_procrastinate.py [--jobs 20000]
        [--setups 1x1,1x4,4x1] [--timeout 3600]

`--setups` lists PROCESSESxCONCURRENCY pairs. Prints one line per setup:

    procrastinate 3.10.0: drain 20000 no-op jobs, 1 worker, concurrency 1: 571 jobs/s (35.0 s)

Each setup gets a fresh database on the server of $COORDINATE_TEST_POSTGRES
(created here, procrastinate's schema applied with its schema manager,
dropped at the end, also on failure), so runs never see each other's jobs.
The user of the URL must be allowed to create databases.

Not timed: the N jobs are deferred first with procrastinate's own
`Task.batch_defer_async` (1,000 jobs a call, so the rows are the ones
procrastinate writes), then each worker process is started (spawn), imports
procrastinate, builds its App and opens its connection pool, and waits at a
barrier. The timer starts when every process is at the barrier and stops
when every process has returned from `App.run_worker_async(wait=False)`,
which returns once the worker finds no job left to fetch and its running
jobs are finished. So the timer covers, per process, procrastinate's worker
start (pruning stalled workers, registering the worker, its side tasks), the
fetch / run / finish of the jobs, and its shutdown (unregistering); not the
interpreter start, imports or connecting. After the timer, a SQL count on
procrastinate_jobs must show all N jobs `succeeded` (and no other row), or
the script fails.

The task is `async def noop(): pass` (an async task, so concurrency 4 runs
on the event loop as procrastinate's docs recommend, not in threads). The
workers run with `listen_notify=False`: with wait=False a worker never
waits for a notification, so LISTEN would only hold one more connection.
Other worker options are procrastinate's defaults (delete_jobs "never",
heartbeat every 10 s). Each process's pool has concurrency + 2 connections
(at least psycopg_pool's default 4). Times are wall clock; the machine is
whatever runs this.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import logging
import multiprocessing as mp
import os
import queue
import sys
import time
import traceback
from typing import Any, List, Tuple

import psycopg
from psycopg import sql

TASK_NAME = "noop"
DEFER_BATCH = 1_000


async def noop() -> None:
    return None


def make_app(conninfo: str, pool_size: int = 4) -> Any:
    import procrastinate

    # procrastinate warns when an App is built in __main__ (default task names
    # would then be "__main__.x"); the task here has an explicit name.
    logging.getLogger("procrastinate.blueprints").setLevel(logging.ERROR)

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=conninfo, min_size=pool_size, max_size=pool_size
        )
    )
    app.task(name=TASK_NAME)(noop)
    return app


# ---------------------------------------------------------------- database


def server_conninfo() -> str:
    url = os.environ.get("COORDINATE_TEST_POSTGRES")
    if not url:
        raise SystemExit(
            "bench_procrastinate: set COORDINATE_TEST_POSTGRES to a PostgreSQL URL "
            "(make bench-postgres starts a throwaway server and sets it)"
        )
    return url


def create_database(base: str, name: str) -> str:
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return psycopg.conninfo.make_conninfo(base, dbname=name)


def drop_database(base: str, name: str) -> None:
    with psycopg.connect(base, autocommit=True) as conn:
        force = " WITH (FORCE)" if conn.info.server_version >= 130000 else ""
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {}" + force).format(sql.Identifier(name))
        )


def job_counts(conninfo: str) -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status"
        ).fetchall()
    return {status: count for status, count in rows}


async def prepare(conninfo: str, n: int) -> None:
    """procrastinate's schema, then n deferred no-op jobs (not timed)."""
    app = make_app(conninfo)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        task = app.tasks[TASK_NAME]
        for lo in range(0, n, DEFER_BATCH):
            await task.batch_defer_async(*({} for _ in range(min(DEFER_BATCH, n - lo))))


# ----------------------------------------------------------------- workers


async def worker_async(
    conninfo: str, concurrency: int, name: str, barrier: Any, done: Any
) -> None:
    app = make_app(conninfo, pool_size=max(4, concurrency + 2))
    async with app.open_async():  # opens the pool and waits for its connections
        await asyncio.to_thread(barrier.wait)
        await app.run_worker_async(
            wait=False, concurrency=concurrency, listen_notify=False, name=name
        )
        done.put((name, None))  # before closing the pool: the timer stops here


def worker_main(conninfo: str, concurrency: int, name: str, barrier: Any, done: Any) -> None:
    try:
        asyncio.run(worker_async(conninfo, concurrency, name, barrier, done))
    except BaseException:
        barrier.abort()  # a process that fails before the barrier must not hang the others
        done.put((name, traceback.format_exc()))
        raise


def collect(done: Any, workers: List[Any], deadline: float) -> List[Tuple[str, Any]]:
    """The (name, error or None) of each worker process as it ends, until all
    have reported, `deadline` seconds pass, or one dies without reporting."""
    results: List[Tuple[str, Any]] = []
    end = time.perf_counter() + deadline
    while len(results) < len(workers) and time.perf_counter() < end:
        try:
            results.append(done.get(timeout=0.05))
            continue
        except queue.Empty:
            pass
        if any(w.exitcode not in (None, 0) for w in workers):
            # Died: take what the queue still has, then give up.
            time.sleep(0.5)
            while not done.empty():
                results.append(done.get())
            dead = [w for w in workers if w.exitcode not in (None, 0)]
            results += [(w.name, f"exit code {w.exitcode}") for w in dead]
            break
    return results


def fail(what: str, results: List[Tuple[str, Any]]) -> None:
    errors = "\n".join(f"{name}: {err}" for name, err in results if err)
    raise SystemExit(f"bench_procrastinate: {what}" + (f"\n{errors}" if errors else ""))


def drain(conninfo: str, procs: int, concurrency: int, timeout: float) -> float:
    """Seconds for `procs` worker processes to drain the queue (see the docstring)."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(procs + 1)
    done = ctx.Queue()
    workers = [
        ctx.Process(
            target=worker_main, args=(conninfo, concurrency, f"bench-{i}", barrier, done)
        )
        for i in range(procs)
    ]
    for w in workers:
        w.start()
    try:
        try:
            barrier.wait(timeout=120)
        except Exception as e:
            fail(f"the workers did not start ({e!r})", collect(done, workers, deadline=5))
        start = time.perf_counter()
        results = collect(done, workers, deadline=timeout)
        elapsed = time.perf_counter() - start
        if len(results) < procs or any(err for _, err in results):
            fail(f"the drain did not finish within {timeout} s or failed", results)
        for w in workers:
            w.join()
        return elapsed
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
                w.join()


# -------------------------------------------------------------------- main


def parse_setups(text: str) -> List[Tuple[int, int]]:
    setups = []
    for part in text.split(","):
        procs, _, conc = part.strip().partition("x")
        setups.append((int(procs), int(conc or 1)))
    return setups


def describe(procs: int, concurrency: int) -> str:
    if procs == 1:
        return f"1 worker, concurrency {concurrency}"
    return f"{procs} worker processes, concurrency {concurrency} each"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=20_000, help="N, the jobs per drain")
    ap.add_argument(
        "--setups", default="1x1,1x4,4x1", help="PROCESSESxCONCURRENCY, comma-separated"
    )
    ap.add_argument("--timeout", type=float, default=3600, help="seconds a drain may take")
    args = ap.parse_args()
    n = args.jobs
    if n < 1:
        raise SystemExit("bench_procrastinate: --jobs must be at least 1")
    base = server_conninfo()
    version = importlib.metadata.version("procrastinate")
    for i, (procs, concurrency) in enumerate(parse_setups(args.setups)):
        name = f"procrastinate_bench_{os.getpid()}_{i}"
        conninfo = create_database(base, name)
        try:
            asyncio.run(prepare(conninfo, n))
            before = job_counts(conninfo)
            if before != {"todo": n}:
                raise SystemExit(f"bench_procrastinate: deferred {before}, expected {n} todo")
            seconds = drain(conninfo, procs, concurrency, args.timeout)
            after = job_counts(conninfo)
            if after != {"succeeded": n}:
                raise SystemExit(
                    f"bench_procrastinate: after the drain the jobs are {after}, "
                    f"expected {n} succeeded"
                )
        finally:
            drop_database(base, name)
        print(
            f"procrastinate {version}: drain {n} no-op jobs, {describe(procs, concurrency)}: "
            f"{n / seconds:,.0f} jobs/s ({seconds:.1f} s)",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
