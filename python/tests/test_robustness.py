"""Bad input never crashes the host: random operations with extreme values
(NaN and infinite priorities, i64 limits, huge and negative durations, the
ends of the datetime range) raise Python exceptions or succeed; none is a
RuntimeError from a caught Rust panic, and the interpreter survives."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Any, List

import coordinate as c

FLOATS: List[Any] = [0.0, -0.0, 1.0, -1.0, math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324]
INTS: List[Any] = [0, 1, -1, 2**63 - 1, -(2**63), 10**15]
DURATIONS: List[Any] = [
    timedelta(0), timedelta.max, timedelta.min, timedelta(microseconds=1),
    -timedelta(microseconds=1), 0, -1, 10**9, 1e12, -1e12,
]
TIMES: List[Any] = [datetime(1, 1, 1), datetime.max, datetime(2026, 1, 1), datetime(1970, 1, 1)]


def test_random_operations_with_extreme_values_never_panic() -> None:
    rng = random.Random(1)
    for seed in range(60):
        clock = c.MockClock(rng.choice(TIMES))
        coord = c.Coordinate(clock=clock, seed=seed)
        ns = coord.namespace(rng.choice(["", "x"]))
        specs: List[c.WorkSpec] = []
        units: List[c.WorkUnit] = []
        attempts: List[c.Attempt] = []
        workers = [ns.worker("w"), ns.worker("v")]
        for _ in range(150):
            op = rng.randrange(16)
            try:
                if op == 0:
                    data: dict[str, Any] = {"name": rng.choice("abc")}
                    for key in ("priority", "weight", "nice", "max_running", "max_getwork",
                                "max_retries", "interval", "min_gb"):
                        if rng.random() < 0.3:
                            data[key] = rng.choice(FLOATS + INTS)
                    for key in ("continuous", "disabled"):
                        if rng.random() < 0.3:
                            data[key] = rng.random() < 0.5
                    if rng.random() < 0.3:
                        data["then"] = rng.choice("abcz")
                    specs.append(ns.set_work_spec(data))
                elif op == 1 and specs:
                    output = rng.choice([
                        ["q", ["r", {}, {"delay": rng.choice(FLOATS)}, rng.choice(FLOATS)]],
                        {"s": None},
                        5,
                    ])
                    meta = c.WorkUnitMeta(rng.choice(FLOATS), rng.choice(TIMES + [None]))
                    units.append(rng.choice(specs).add_work_unit(rng.choice("pqrst"), {"output": output}, meta))
                elif op == 2:
                    attempts.extend(rng.choice(workers).request_attempts(
                        number_of_work_units=rng.choice(INTS), lifetime=rng.choice(DURATIONS)))
                elif op == 3 and attempts:
                    rng.choice(attempts).finish(rng.choice([None, {"output": ["p", "q"]}]))
                elif op == 4 and attempts:
                    rng.choice(attempts).renew(rng.choice(DURATIONS))
                elif op == 5 and attempts:
                    rng.choice(attempts).retry(None, rng.choice(DURATIONS))
                elif op == 6 and attempts:
                    rng.choice(attempts).expire()
                elif op == 7 and attempts:
                    rng.choice(attempts).fail()
                elif op == 8:
                    clock.advance(rng.choice(DURATIONS))
                elif op == 9:
                    clock.set(rng.choice(TIMES))
                elif op == 10 and specs:
                    spec = rng.choice(specs)
                    m = spec.meta(True)
                    m.interval = rng.choice(DURATIONS)
                    m.next_continuous = rng.choice(TIMES + [None])
                    m.weight, m.max_running = rng.choice(INTS), rng.choice(INTS)
                    m.priority, m.continuous = rng.choice(INTS), True
                    spec.set_meta(m)
                elif op == 11 and specs:
                    spec = rng.choice(specs)
                    spec.set_work_unit_priorities(rng.choice(FLOATS), limit=rng.choice(INTS))
                    spec.adjust_work_unit_priorities(rng.choice(FLOATS))
                    spec.work_units(limit=rng.choice(INTS), previous_name=rng.choice(["", "q"]))
                elif op == 12 and units:
                    workers[0].make_attempt(rng.choice(units), rng.choice(DURATIONS))
                elif op == 13 and specs:
                    rng.choice(specs).delete_work_units(limit=rng.choice(INTS))
                elif op == 14:
                    coord.summarize()
                    for u in units[-5:]:
                        u.status()
                    for a in attempts[-5:]:
                        a.end_time()
                elif op == 15 and rng.random() < 0.1:
                    ns.destroy_work_spec(rng.choice("abc"))
            except (c.CoordinateError, OverflowError, ValueError):
                pass  # a Python error for a bad value is the expected outcome
