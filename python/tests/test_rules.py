"""The rules written once in the core, as Python sees them: record tables,
the grammar of a unit to add, the duration and instant ranges, explicit
keywords over request/query objects, and the error classes."""

from __future__ import annotations

import inspect
import math
from datetime import datetime, timedelta, timezone

import pytest

import coordinate as c
from coordinate import _coordinate, _errors

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def env() -> tuple[c.MockClock, c.WorkSpec, c.Worker]:
    clock = c.MockClock(T0)
    ns = c.Coordinate(clock=clock, seed=1).namespace("rules")
    return clock, ns.set_work_spec({"name": "s"}), ns.worker("w")


# ------------------------------------------------------------ error classes


def test_error_classes_are_the_core_codes() -> None:
    codes = list(_coordinate.ERROR_CODES)
    assert codes[:3] == ["NoSuchWorkSpec", "NoSuchWorkUnit", "Gone"]
    classes = {
        name: obj
        for name, obj in vars(_errors).items()
        if isinstance(obj, type) and issubclass(obj, c.CoordinateError)
    }
    assert set(classes) == {f"{code}Error" for code in codes} | {"CoordinateError"}
    for code in codes:
        cls = classes[f"{code}Error"]
        assert cls.code == code
        assert getattr(c, f"{code}Error") is cls, f"coordinate.{code}Error not exported"
    assert issubclass(c.BadUrlError, ValueError)
    assert issubclass(c.OutOfRangeError, ValueError)


# ------------------------------------------------------------------ records


def test_record_attributes_come_from_the_core_table() -> None:
    fields = [name for name, _ in _coordinate._record_fields("WorkSpecMeta")]
    assert fields[0] == "priority" and "interval" in fields
    assert list(inspect.signature(c.WorkSpecMeta).parameters) == fields
    meta = c.WorkSpecMeta(priority=3, interval=1.5)
    for name in fields:
        assert isinstance(type(meta).__dict__[name], property), name
    assert meta.interval == timedelta(seconds=1.5)
    meta.weight = 7
    assert meta == c.WorkSpecMeta(priority=3, weight=7, interval=timedelta(seconds=1.5))
    assert repr(c.WorkUnitMeta(2.0)) == "WorkUnitMeta(priority=2.0, not_before=None)"
    with pytest.raises(TypeError, match='unexpected keyword argument "priorty"'):
        c.WorkSpecMeta(priorty=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="keyword arguments only"):
        c.WorkSpecMeta(1)  # type: ignore[misc]
    with pytest.raises(TypeError, match='missing required argument "count"'):
        c.SummaryRecord("ns", "s", "available")  # type: ignore[call-arg]
    record = c.SummaryRecord("ns", "s", "available", 2)
    assert record.status is c.WorkUnitStatus.AVAILABLE and record.count == 2
    with pytest.raises(AttributeError):
        record.count = 3  # type: ignore[misc]


# ------------------------------------------------------------------ grammar


def test_add_work_units_takes_every_form_of_the_grammar(
    env: tuple[c.MockClock, c.WorkSpec, c.Worker],
) -> None:
    _, spec, _ = env
    later = T0 + timedelta(hours=1, microseconds=7)
    n = spec.add_work_units(
        [
            "a",
            ("b",),
            ("c", {"k": 1}),
            ("d", None, c.WorkUnitMeta(priority=2.0, not_before=later)),
            ("e", {}, {"priority": 1, "delay": 30}, 9),
            {"name": "f", "data": {"x": 1}, "priority": 5, "delay": 60},
            {"key": "g", "meta": c.WorkUnitMeta(priority=-1.0)},
            c.AddWorkUnitItem("h", {"y": 2}),
        ]
    )
    assert n == 8
    meta = {name: u.meta() for name, u in spec.work_units().items()}
    assert meta["d"] == c.WorkUnitMeta(2.0, later)
    assert meta["e"] == c.WorkUnitMeta(9.0, T0 + timedelta(seconds=30))
    assert meta["f"] == c.WorkUnitMeta(5.0, T0 + timedelta(seconds=60))
    assert meta["g"].priority == -1.0
    assert spec.work_unit("c").data() == {"k": 1}
    assert spec.work_unit("h").data() == {"y": 2}


def test_grammar_errors_name_the_item(env: tuple[c.MockClock, c.WorkSpec, c.Worker]) -> None:
    _, spec, _ = env
    with pytest.raises(c.BadWorkUnitItemError, match=r"items\[1\]: unknown key \"colour\""):
        spec.add_work_units(["a", {"name": "b", "colour": "red"}])
    with pytest.raises(c.BadWorkUnitItemError, match=r"items\[0\]: element 1 \(data\) is not a map"):
        spec.add_work_units([("a", 5)])
    with pytest.raises(c.BadPriorityError):
        spec.add_work_units([{"name": "a", "priority": math.nan}])
    with pytest.raises(c.OutOfRangeError, match=r"items\[0\] delay"):
        spec.add_work_units([("a", {}, {"delay": 1e12})])
    with pytest.raises(TypeError, match=r"items\[0\]: meta must be a WorkUnitMeta"):
        spec.add_work_units([("a", {}, 5)])
    assert spec.work_units() == {}


def test_parse_add_work_unit_is_the_flow_grammar() -> None:
    item = _coordinate.parse_add_work_unit({"name": "u", "data": {"p": 1}, "priority": 2, "delay": 1.5}, T0)
    assert item == c.AddWorkUnitItem("u", {"p": 1}, c.WorkUnitMeta(2.0, T0 + timedelta(seconds=1.5)))
    with pytest.raises(c.BadWorkUnitItemError, match="no name"):
        _coordinate.parse_add_work_unit({"data": {}}, T0)


# ------------------------------------------------------ durations, instants


def test_durations_out_of_range_are_rejected_at_the_call(
    env: tuple[c.MockClock, c.WorkSpec, c.Worker],
) -> None:
    clock, spec, worker = env
    unit = spec.add_work_unit("u")
    for bad in (10**12, 1e10, math.inf, -math.inf, math.nan, timedelta(days=20_000)):
        with pytest.raises(c.OutOfRangeError, match="^lifetime: "):
            worker.make_attempt(unit, bad)
        with pytest.raises(c.OutOfRangeError, match="^duration: "):
            clock.advance(bad)
        with pytest.raises(c.OutOfRangeError, match="^lifetime: "):
            worker.request_attempts(lifetime=bad)
        with pytest.raises(c.OutOfRangeError, match="^interval: "):
            c.WorkSpecMeta(interval=bad)
        with pytest.raises(c.OutOfRangeError, match="^lifetime: "):
            c.AttemptRequest(lifetime=bad)
    assert clock.now() == T0
    attempt = worker.make_attempt(unit, 10**9)
    assert attempt.expiration_time() == T0 + timedelta(seconds=10**9)
    for bad in (math.inf, 10**10):
        with pytest.raises(c.OutOfRangeError, match="^extend_duration: "):
            attempt.renew(bad)
        with pytest.raises(c.OutOfRangeError, match="^delay: "):
            attempt.retry(delay=bad)
    meta = c.WorkSpecMeta()
    with pytest.raises(c.OutOfRangeError):
        meta.interval = 1e300
    assert meta.interval == timedelta(0)


def test_the_clock_stays_in_the_instant_range() -> None:
    clock = c.MockClock(datetime(9999, 12, 31, 23, 0, tzinfo=timezone.utc))
    with pytest.raises(c.OutOfRangeError, match="^duration: "):
        clock.advance(timedelta(hours=2))
    assert clock.now().year == 9999
    # Work leased near the end of time saturates at the last instant, which
    # Python can still read back.
    ns = c.Coordinate(clock=clock).namespace("n")
    unit = ns.set_work_spec({"name": "s"}).add_work_unit("u")
    attempt = ns.worker("w").make_attempt(unit, 10**9)
    assert attempt.expiration_time() == datetime.max.replace(tzinfo=timezone.utc)


def test_spec_interval_out_of_range_is_clamped(env: tuple[c.MockClock, c.WorkSpec, c.Worker]) -> None:
    _, spec, _ = env
    ns = spec.namespace
    for value, want in ((1e300, 10**9), (-math.inf, -(10**9)), (math.nan, 0), (2.5, 2.5)):
        meta = ns.set_work_spec({"name": "c", "continuous": True, "interval": value}).meta()
        assert meta.interval == timedelta(seconds=want), value


def test_nan_priorities_are_rejected_and_infinities_kept(
    env: tuple[c.MockClock, c.WorkSpec, c.Worker],
) -> None:
    _, spec, _ = env
    unit = spec.add_work_unit("u")
    with pytest.raises(c.BadPriorityError):
        c.WorkUnitMeta(priority=math.nan)
    with pytest.raises(c.BadPriorityError):
        unit.set_priority(math.nan)
    with pytest.raises(c.BadPriorityError):
        spec.set_work_unit_priorities(math.nan)
    with pytest.raises(c.BadPriorityError):
        spec.adjust_work_unit_priorities(math.nan)
    unit.set_priority(math.inf)
    assert unit.priority() == math.inf
    spec.add_work_unit("v", meta=c.WorkUnitMeta(-math.inf))
    assert spec.work_unit("v").priority() == -math.inf


# --------------------------------------------------- explicit keywords win


def test_explicit_keywords_override_the_request_object(
    env: tuple[c.MockClock, c.WorkSpec, c.Worker],
) -> None:
    _, spec, worker = env
    spec.add_work_units([f"u{i}" for i in range(6)])
    got = worker.request_attempts(c.AttemptRequest(number_of_work_units=5), number_of_work_units=1)
    assert len(got) == 1
    got = worker.request_attempts(c.AttemptRequest(number_of_work_units=2))
    assert len(got) == 2
    got = worker.request_attempts(
        c.AttemptRequest(number_of_work_units=5, work_specs=["s"]), work_specs=["other"]
    )
    assert got == []
    got = worker.request_attempts(
        c.AttemptRequest(lifetime=60), lifetime=120, number_of_work_units=1
    )
    assert got[0].expiration_time() == T0 + timedelta(seconds=120)


def test_explicit_keywords_override_the_query_object(
    env: tuple[c.MockClock, c.WorkSpec, c.Worker],
) -> None:
    _, spec, _ = env
    spec.add_work_units(["a", "b", "c"])
    q = c.WorkUnitQuery(names=["a"], limit=1)
    assert list(spec.work_units(q, names=["b", "c"], limit=0)) == ["b", "c"]
    assert list(spec.work_units(q, previous_name="")) == ["a"]
    spec.set_work_unit_priorities(5.0, q, names=["b"])
    spec.adjust_work_unit_priorities(1.0, q, names=["c"])
    assert [spec.work_unit(n).priority() for n in "abc"] == [0.0, 5.0, 1.0]
    assert spec.delete_work_units(q, names=["c"]) == 1
    assert list(spec.work_units()) == ["a", "b"]
