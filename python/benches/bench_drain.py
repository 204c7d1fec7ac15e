"""Python benchmarks: add_work_units, and one worker draining N units with
request + finish at batch 1 and at batch 100, for N = 10k, 100k, 1M; beside
each, the same workflow in plain Python (heapq + dicts) and the ratio.

    python python/benches/bench_drain.py [--sizes 10000,100000,1000000] [--repeat 1]
                                         [--clock wall|cpu]

`--clock cpu` times with process CPU time instead of wall time, which is
steadier on a machine shared with other jobs.

Targets (issue 4): <= 3 us per request+finish at batch 1, <= 1 us per unit
at batch 100, at every N. The Coordinate runs on a MockClock (fixed time).
"""

from __future__ import annotations

import argparse
import gc
import heapq
import os
import platform
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

import coordinate as c

LEASE = timedelta(minutes=15)


# ------------------------------------------------------------ plain Python


class PlainQueue:
    """The obvious in-process alternative: units in a dict, the available
    ones in a heap by (-priority, name), attempts as dicts."""

    def __init__(self) -> None:
        self.units: Dict[str, Dict[str, Any]] = {}
        self.heap: List[Tuple[float, str]] = []
        self.now = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def add_work_units(self, names: List[str]) -> int:
        for name in names:
            self.units[name] = {"data": {}, "priority": 0.0, "active": None, "attempts": []}
        self.heap.extend((-0.0, name) for name in names)
        heapq.heapify(self.heap)
        return len(names)

    def request_attempts(self, worker: str, n: int) -> List[Dict[str, Any]]:
        out = []
        heap, units, now = self.heap, self.units, self.now
        while heap and len(out) < n:
            _, name = heapq.heappop(heap)
            unit = units[name]
            attempt = {
                "unit": name,
                "worker": worker,
                "status": "pending",
                "data": dict(unit["data"]),
                "start": now,
                "end": None,
                "expiration": now + LEASE,
            }
            unit["active"] = attempt
            unit["attempts"].append(attempt)
            out.append(attempt)
        return out

    def finish(self, attempt: Dict[str, Any]) -> None:
        if attempt["status"] != "pending":
            raise ValueError("not pending")
        attempt["status"] = "finished"
        attempt["end"] = self.now


# ------------------------------------------------------------ measurements


CLOCK: Callable[[], float] = time.perf_counter


def timed(fn: Callable[[], int]) -> Tuple[float, int]:
    gc.collect()
    gc.disable()
    try:
        t0 = CLOCK()
        n = fn()
        return CLOCK() - t0, n
    finally:
        gc.enable()


def names_for(n: int) -> List[str]:
    return [f"unit-{i:07d}" for i in range(n)]


def coordinate_setup(n: int) -> Tuple[c.WorkSpec, c.Worker, float]:
    coord = c.Coordinate(clock=c.MockClock(), seed=1)
    ns = coord.namespace("bench")
    spec = ns.set_work_spec({"name": "spec"})
    names = names_for(n)
    secs, added = timed(lambda: spec.add_work_units(names))
    assert added == n
    return spec, ns.worker("worker"), secs


def coordinate_drain(worker: c.Worker, batch: int) -> int:
    done = 0
    request = worker.request_attempts
    if batch == 1:
        while True:
            attempts = request()
            if not attempts:
                return done
            attempts[0].finish()
            done += 1
    while True:
        attempts = request(number_of_work_units=batch)
        if not attempts:
            return done
        for attempt in attempts:
            attempt.finish()
        done += len(attempts)


def plain_setup(n: int) -> Tuple[PlainQueue, float]:
    q = PlainQueue()
    names = names_for(n)
    secs, added = timed(lambda: q.add_work_units(names))
    assert added == n
    return q, secs


def plain_drain(q: PlainQueue, batch: int) -> int:
    done = 0
    while True:
        attempts = q.request_attempts("worker", batch)
        if not attempts:
            return done
        for attempt in attempts:
            q.finish(attempt)
        done += len(attempts)


def best(runs: List[float]) -> float:
    return min(runs)


def measure(n: int, repeat: int) -> Dict[str, float]:
    """Microseconds per unit (best of `repeat`) for each measurement."""
    out: Dict[str, List[float]] = {}

    def add(key: str, secs: float, units: int) -> None:
        out.setdefault(key, []).append(secs * 1e6 / units)

    for _ in range(repeat):
        for batch in (1, 100):
            spec, worker, add_secs = coordinate_setup(n)
            add("coord_add", add_secs, n)
            secs, done = timed(lambda: coordinate_drain(worker, batch))
            assert done == n, (done, n)
            assert spec.count_work_unit_status() == {c.WorkUnitStatus.FINISHED: n}
            add(f"coord_b{batch}", secs, n)
            del spec, worker
            q, padd = plain_setup(n)
            add("plain_add", padd, n)
            secs, done = timed(lambda: plain_drain(q, batch))
            assert done == n
            add(f"plain_b{batch}", secs, n)
            del q
    return {k: best(v) for k, v in out.items()}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args(argv)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    sizes = [int(s) for s in args.sizes.split(",")]

    print(f"# coordinate Python benchmark: python {platform.python_version()}, "
          f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpus, {cpu_model()}")
    print(f"# us per unit, {args.clock} time, best of {args.repeat}; "
          "ratio = coordinate / plain Python")
    header = ("N", "add_work_units", "plain add", "batch 1 req+fin", "plain b1", "ratio b1",
              "batch 100 /unit", "plain b100", "ratio b100", "targets")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    failed = False
    for n in sizes:
        t0 = time.perf_counter()
        r = measure(n, args.repeat)
        ok = r["coord_b1"] <= 3.0 and r["coord_b100"] <= 1.0
        failed |= not ok
        row = (
            f"{n:,}",
            f"{r['coord_add']:.3f}",
            f"{r['plain_add']:.3f}",
            f"{r['coord_b1']:.3f}",
            f"{r['plain_b1']:.3f}",
            f"{r['coord_b1'] / r['plain_b1']:.2f}x",
            f"{r['coord_b100']:.3f}",
            f"{r['plain_b100']:.3f}",
            f"{r['coord_b100'] / r['plain_b100']:.2f}x",
            "met" if ok else "MISSED",
        )
        print("| " + " | ".join(row) + " |", flush=True)
        print(f"#   N={n:,} took {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return 1 if failed and os.environ.get("BENCH_STRICT") else 0


if __name__ == "__main__":
    sys.exit(main())
