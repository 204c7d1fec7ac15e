"""Issue 15, points 1, 12 and 13 from Python: the memory store's capacity
bound (``memory:?max_units=N&max_bytes=N``) and ``CapacityError``, parent
links (``InvalidArgumentError``), the count of ``add_work_units``, and
``keep_attempts`` retention."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

import coordinate as c

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def spec_on(url: str) -> tuple[c.WorkSpec, c.Worker]:
    ns = c.connect(url, clock=c.MockClock(T0), seed=1).namespace("cap")
    ns.set_work_spec({"name": "t"})
    return ns.set_work_spec({"name": "s", "then": "t"}), ns.worker("w")


def test_capacity_error_is_a_coordinate_error() -> None:
    assert issubclass(c.CapacityError, c.CoordinateError)
    assert c.CapacityError.code == "Capacity"
    assert issubclass(c.InvalidArgumentError, ValueError)


def test_unit_bound_refuses_adds_and_changes_nothing() -> None:
    spec, _ = spec_on("memory:?max_units=2")
    assert spec.add_work_units(["a", "b"]) == 2
    with pytest.raises(c.CapacityError, match="max_units=2"):
        spec.add_work_unit("c")
    with pytest.raises(c.CapacityError):
        spec.add_work_units([("a", {"v": 1}), "c"])
    assert sorted(spec.work_units()) == ["a", "b"]
    assert spec.work_unit("a").data() == {}
    # The store still works: updates fit, deleting frees room.
    spec.add_work_unit("a", {"v": 2})
    spec.delete_work_units(names=["b"])
    spec.add_work_unit("c")
    assert sorted(spec.work_units()) == ["a", "c"]


def test_byte_bound_covers_attempts_and_chaining() -> None:
    spec, worker = spec_on("memory:?max_bytes=17000")
    spec.add_work_unit("a", {"blob": "x" * 5000})
    spec.add_work_unit("b", {"blob": "x" * 5000})
    with pytest.raises(c.CapacityError, match="max_bytes=17000"):
        spec.add_work_unit("c", {"blob": "x" * 7000})
    got = worker.request_attempts(number_of_work_units=2)
    assert len(got) == 1  # the second attempt's copy of the data did not fit
    with pytest.raises(c.CapacityError):
        worker.request_attempts()
    att = got[0]
    with pytest.raises(c.CapacityError):
        att.finish({"output": [f"t{i}" for i in range(2)], "pad": "y" * 9000})
    assert att.status() == c.AttemptStatus.PENDING
    assert spec.namespace.work_spec("t").work_units() == {}
    att.finish({"output": ["t1"]})
    assert sorted(spec.namespace.work_spec("t").work_units()) == ["t1"]


@pytest.mark.parametrize(
    "url", ["memory:?max_units=x", "memory:?max_bytes=-1", "memory:?colour=3"]
)
def test_bad_bounds_are_bad_urls(url: str) -> None:
    with pytest.raises(c.BadUrlError, match="memory"):
        c.connect(url)


def test_set_parent_refuses_cycles() -> None:
    ns = c.Coordinate().namespace("p")
    a, b = ns.worker("a"), ns.worker("b")
    b.set_parent(a)
    with pytest.raises(c.InvalidArgumentError, match="own parent"):
        a.set_parent(a)
    with pytest.raises(c.InvalidArgumentError, match="cycle"):
        a.set_parent(b)
    assert a.parent() is None


def test_keep_attempts() -> None:
    ns = c.Coordinate().namespace("k")
    spec = ns.set_work_spec({"name": "s", "keep_attempts": 2})
    unit = spec.add_work_unit("u")
    w = ns.worker("w")
    made = []
    for _ in range(4):
        a = w.make_attempt(unit)
        a.expire()
        made.append(a)
    assert len(unit.attempts()) == 2
    assert unit.num_attempts() == 4
    with pytest.raises(c.GoneError):
        made[0].status()
    with pytest.raises(c.InvalidArgumentError, match="keep_attempts"):
        ns.set_work_spec({"name": "x", "keep_attempts": -2})
