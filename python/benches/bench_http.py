"""coordinated over HTTP through the Python client, beside BullMQ on Redis, in
one run: drain N no-op units with 1 and 4 worker processes
(`coordinate.connect("http://...")`), at batch 1 and batch 100, each both
as request then finish each attempt and as the batch form
(`Worker.finish_and_request`: finish the held attempts and request the next
ones in one round trip), to a `coordinated` on memory: and on a SQLite file;
then BullMQ (npm `bullmq`, server/benches/bullmq) on a `redis-server` started
here on a free loopback port without persistence (`--save '' --appendonly no`).

    python python/benches/bench_http.py [--sizes 20000,200000] [--procs 1,4]
        [--stores memory,sqlite] [--batches 1,100]
        [--modes request-finish,finish-request] [--peers/--no-peers]

Each coordinate row is a fresh daemon and store. The drain is timed from the
moment every worker process is connected (a barrier) until the last one is
done, so process start-up is not timed; the same holds for BullMQ's
workers. Beside units/s: the p50/p99 of one round trip as a worker sees it
(one `request_attempts`, `finish` or `finish_and_request` call), and the CPU
time per unit of the daemon (from /proc) and of the workers (their own
`process_time`), which says where the time goes. Loopback only; the daemon
and Redis are stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import coordinate as c

from bench_stores import run_processes

REPO = Path(__file__).resolve().parents[2]
SPEC = {"name": "bench"}
NS = "bench"
LATENCY_SAMPLES = 20_000


# ----------------------------------------------------------------- daemon


class Daemon:
    """A `coordinated` on a free loopback port, stopped with SIGTERM."""

    def __init__(self, binary: Path, store: str, extra: List[str]) -> None:
        self.proc = subprocess.Popen(
            [str(binary), "--listen", "127.0.0.1:0", "--store", store,
             "--log-level", "warn", *extra],
            stdout=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise SystemExit(f"coordinated did not start: {line!r}")
        self.url = f"http://{line[len('listening on '):]}/"

    def cpu_seconds(self) -> float:
        """User + system CPU time the daemon has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ----------------------------------------------------------------- workers


def drain_worker(
    url: str, name: str, batch: int, mode: str, barrier: Any, done: "mp.Queue[int]",
    stats: "mp.Queue[Tuple[float, float, List[float]]]",
) -> None:
    """Drains with `mode` at `batch`; puts its count on `done` and (end time,
    CPU seconds, sampled round-trip seconds) on `stats`."""
    count = 0
    lat: List[float] = []
    clock = time.perf_counter
    with c.connect(url) as coord:
        worker = coord.namespace(NS).worker(name)
        request = c.AttemptRequest(number_of_work_units=batch)
        barrier.wait(timeout=120)
        cpu0 = time.process_time()
        if mode == "finish-request":
            held: List[c.Attempt] = []
            while True:
                t = clock()
                errors, held = worker.finish_and_request(held, request)
                lat.append(clock() - t)
                if any(e is not None for e in errors):
                    raise SystemExit(f"a finish failed: {errors}")
                count += len(errors)
                if not held:
                    break
        else:
            while True:
                t = clock()
                attempts = worker.request_attempts(number_of_work_units=batch)
                lat.append(clock() - t)
                if not attempts:
                    break
                for attempt in attempts:
                    t = clock()
                    attempt.finish()
                    lat.append(clock() - t)
                count += len(attempts)
        end = clock()
        cpu = time.process_time() - cpu0
    step = max(1, len(lat) // LATENCY_SAMPLES)
    stats.put((end, cpu, lat[::step]))
    done.put(count)


def load(url: str, n: int) -> float:
    """Adds n units in calls of 10,000; seconds."""
    with c.connect(url) as coord:
        spec = coord.namespace(NS).set_work_spec(SPEC)
        start = time.perf_counter()
        for lo in range(0, n, 10_000):
            spec.add_work_units([f"u{i:08d}" for i in range(lo, min(n, lo + 10_000))])
        return time.perf_counter() - start


def pct(values: List[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def coordinate_row(
    binary: Path, store: str, n: int, procs: int, batch: int, mode: str,
) -> Dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="coordinate-bench-http-")
    url_store = "memory:" if store == "memory" else f"sqlite:{tmp}/bench.db"
    daemon = Daemon(binary, url_store, [])
    try:
        load(daemon.url, n)
        ctx = mp.get_context("spawn")
        barrier = ctx.Barrier(procs + 1)
        stats: "mp.Queue[Tuple[float, float, List[float]]]" = ctx.Queue()
        starts: List[float] = []
        cpu_before: List[float] = []

        def make(i: int, done: "mp.Queue[int]") -> Any:
            return ctx.Process(
                target=drain_worker,
                args=(daemon.url, f"w{i}", batch, mode, barrier, done, stats),
            )

        # The barrier releases the workers once all are connected; the
        # parent's side of it runs on a thread while run_processes waits,
        # and reads the workers' stats as they come (a worker exits only
        # once its queue is read).
        results: List[Tuple[float, float, List[float]]] = []

        def release() -> None:
            barrier.wait(timeout=120)
            starts.append(time.perf_counter())
            cpu_before.append(daemon.cpu_seconds())
            for _ in range(procs):
                results.append(stats.get())

        t = threading.Thread(target=release)
        t.start()
        run_processes("coordinate", n, procs, ctx, make)
        t.join()
        daemon_cpu = daemon.cpu_seconds() - cpu_before[0]
        elapsed = max(r[0] for r in results) - starts[0]
        lat = [x for r in results for x in r[2]]
        with c.connect(daemon.url) as coord:
            counts = coord.namespace(NS).work_spec("bench").count_work_unit_status()
        if counts != {c.WorkUnitStatus.FINISHED: n}:
            raise SystemExit(f"after the drain: {counts}, expected {n} finished")
        return {
            "rate": n / elapsed,
            "p50": pct(lat, 0.5) * 1e6,
            "p99": pct(lat, 0.99) * 1e6,
            "daemon_cpu": daemon_cpu / n * 1e6,
            "client_cpu": sum(r[1] for r in results) / n * 1e6,
        }
    finally:
        daemon.stop()
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------ BullMQ


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Redis:
    """A redis-server on a free loopback port, without persistence."""

    def __init__(self, binary: str) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="coordinate-bench-redis-")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def bullmq_row(redis: Redis, n: int, procs: int, concurrency: int) -> Dict[str, Any]:
    script = REPO / "server" / "benches" / "bullmq" / "drain.mjs"
    out = subprocess.run(
        ["node", str(script), "--port", str(redis.port), "--units", str(n),
         "--workers", str(procs), "--concurrency", str(concurrency)],
        check=True, capture_output=True, text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {"rate": n / result["drain_s"]}


# -------------------------------------------------------------------- main


def fmt(v: Optional[float], digits: int = 0) -> str:
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="20000,200000")
    ap.add_argument("--procs", default="1,4")
    ap.add_argument("--stores", default="memory,sqlite")
    ap.add_argument("--batches", default="1,100")
    ap.add_argument("--modes", default="request-finish,finish-request")
    ap.add_argument("--daemon", default=str(REPO / "target" / "release" / "coordinated"))
    ap.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    ap.add_argument("--peers", action=argparse.BooleanOptionalAction, default=True)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    procs_list = [int(p) for p in args.procs.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    modes = args.modes.split(",")
    stores = args.stores.split(",")
    binary = Path(args.daemon)
    print(f"cpus {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}; python {sys.version.split()[0]}")
    print("| N | system | store | processes | batch | mode | units/s | p50 µs | p99 µs "
          "| daemon CPU µs/unit | worker CPU µs/unit |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    redis = Redis(args.redis_server) if args.peers else None
    try:
        for n in sizes:
            for store in stores:
                for batch in batches:
                    for mode in modes:
                        for procs in procs_list:
                            r = coordinate_row(binary, store, n, procs, batch, mode)
                            label = ("finish_and_request" if mode == "finish-request"
                                     else "request, finish each")
                            print(
                                f"| {n:,} | coordinated (Python client) | {store} | {procs} "
                                f"| {batch} | {label} | {fmt(r['rate'])} | {fmt(r['p50'])} "
                                f"| {fmt(r['p99'])} | {fmt(r['daemon_cpu'], 1)} "
                                f"| {fmt(r['client_cpu'], 1)} |",
                                flush=True,
                            )
            if redis is not None:
                for procs, conc in [(p, 1) for p in procs_list] + [(1, 4)]:
                    r = bullmq_row(redis, n, procs, conc)
                    print(
                        f"| {n:,} | BullMQ (concurrency {conc}) | Redis | {procs} | 1 | "
                        f"job by job | {fmt(r['rate'])} | – | – | – | – |",
                        flush=True,
                    )
    finally:
        if redis is not None:
            redis.stop()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
