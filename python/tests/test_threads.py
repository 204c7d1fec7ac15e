"""Threads: the host-level catalogue entries T-CONCURRENT-EXECUTION and
T-ADD-SAME-UNIT, and the issue's 8 threads x 100,000 units drain.

Every call releases the GIL while the core works, and every core call is
atomic, so no unit is ever handed to two workers at once.
"""

from __future__ import annotations

import random
import string
import threading
from collections import Counter
from typing import Callable, Dict, List

import coordinate as c

THREADS = 8


def run_threads(target: Callable[[int], None]) -> None:
    errors: List[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def body(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as e:  # reported below, in the main thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def drain(ns: c.Namespace, names: Dict[int, str], got: Dict[int, List[str]], batch: int) -> Callable[[int], None]:
    def work(i: int) -> None:
        worker = ns.worker(names[i])
        mine = got[i]
        while True:
            attempts = worker.request_attempts(number_of_work_units=batch)
            if not attempts:
                return
            for attempt in attempts:
                mine.append(attempt.work_unit.name)
                attempt.finish()

    return work


def test_eight_threads_drain_100k_units() -> None:
    n = 100_000
    coord = c.Coordinate(clock=c.MockClock(), seed=1)
    ns = coord.namespace("threads")
    spec = ns.set_work_spec({"name": "spec"})
    assert spec.add_work_units([f"u{i:06d}" for i in range(n)]) == n
    names = {i: f"worker-{i}" for i in range(THREADS)}
    got: Dict[int, List[str]] = {i: [] for i in range(THREADS)}
    run_threads(drain(ns, names, got, batch=1))

    handed_out = Counter(name for names_ in got.values() for name in names_)
    assert len(handed_out) == n, "every unit handed out"
    assert max(handed_out.values()) == 1, "no unit handed out twice"
    assert spec.count_work_unit_status() == {c.WorkUnitStatus.FINISHED: n}
    busy = [i for i in range(THREADS) if got[i]]
    assert len(busy) >= 2, "more than one thread got work"
    for i in range(THREADS):
        assert len(ns.worker(names[i]).all_attempts()) == len(got[i])


def test_concurrent_execution() -> None:
    """T-CONCURRENT-EXECUTION: 8 randomly named workers, units u0..u99."""
    coord = c.Coordinate(clock=c.MockClock(), seed=2)
    ns = coord.namespace("TestConcurrentExecution")
    spec = ns.set_work_spec({"name": "spec", "min_gb": 1})
    for i in range(100):
        spec.add_work_unit(f"u{i}", {})
    rng = random.Random(59)
    names = {i: "".join(rng.choice(string.ascii_uppercase) for _ in range(8)) for i in range(THREADS)}
    got: Dict[int, List[str]] = {i: [] for i in range(THREADS)}
    run_threads(drain(ns, names, got, batch=1))
    handed_out = Counter(name for names_ in got.values() for name in names_)
    assert set(handed_out) == {f"u{i}" for i in range(100)}
    assert max(handed_out.values()) == 1


def test_add_same_unit() -> None:
    """T-ADD-SAME-UNIT: 8 threads add unit000..unit999 to one spec at once."""
    coord = c.Coordinate(clock=c.MockClock(), seed=3)
    spec = coord.namespace("TestAddSameUnit").set_work_spec({"name": "spec", "min_gb": 1})

    def add(_: int) -> None:
        for i in range(1000):
            spec.add_work_unit(f"unit{i:03d}", {})

    run_threads(add)
    assert spec.count_work_unit_status() == {c.WorkUnitStatus.AVAILABLE: 1000}
    assert len(spec.work_units()) == 1000


def test_threads_drain_in_batches() -> None:
    n = 20_000
    coord = c.Coordinate(clock=c.MockClock(), seed=4)
    ns = coord.namespace("batches")
    spec = ns.set_work_spec({"name": "spec"})
    spec.add_work_units(f"u{i}" for i in range(n))
    names = {i: f"w{i}" for i in range(THREADS)}
    got: Dict[int, List[str]] = {i: [] for i in range(THREADS)}
    run_threads(drain(ns, names, got, batch=37))
    handed_out = Counter(name for names_ in got.values() for name in names_)
    assert len(handed_out) == n and max(handed_out.values()) == 1
    assert spec.count_work_unit_status() == {c.WorkUnitStatus.FINISHED: n}
