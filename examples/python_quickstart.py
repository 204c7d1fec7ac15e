"""Quickstart: a producer fills a work spec, a worker drains it.

Run with `python examples/python_quickstart.py` after `make test-python`
(or `pip install .`); it type-checks under `mypy --strict`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import coordinate
from coordinate import Coordinate, MockClock, WorkUnitMeta, WorkUnitStatus


def main() -> None:
    clock = MockClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    coord = Coordinate(clock=clock, seed=42)
    ns = coord.namespace("quickstart")

    # A work spec is a kind of job; `then` chains finished output into another spec.
    fetch = ns.set_work_spec({"name": "fetch", "then": "parse", "max_retries": 3})
    parse = ns.set_work_spec({"name": "parse"})

    # One call adds many units: names, (name, data) or (name, data, meta).
    added = fetch.add_work_units(
        [
            "https://example.com/a",
            ("https://example.com/b", {"depth": 1}),
            ("https://example.com/urgent", {"depth": 0}, WorkUnitMeta(priority=10.0)),
        ]
    )
    print(f"added {added} units to {fetch.name}")

    worker = ns.worker("worker-1")
    while attempts := worker.request_attempts(number_of_work_units=2, lifetime=timedelta(minutes=5)):
        for attempt in attempts:
            unit = attempt.work_unit
            if unit.work_spec == fetch:
                # Finishing with an "output" list creates units of the `then` spec.
                attempt.finish({"output": [f"page:{unit.name}"]})
            else:
                attempt.finish({"words": len(unit.name)})
        clock.advance(timedelta(seconds=1))

    counts: dict[WorkUnitStatus, int] = parse.count_work_unit_status()
    print("parse:", {str(status): n for status, n in counts.items()})
    for record in sorted(coord.summarize()):
        print(f"{record.namespace}/{record.work_spec}: {record.status} x{record.count}")

    try:
        ns.work_spec("missing")
    except coordinate.NoSuchWorkSpecError as err:
        print(f"{type(err).__name__}: {err} (name={err.name!r})")


if __name__ == "__main__":
    main()
