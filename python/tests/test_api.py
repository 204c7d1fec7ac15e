"""Idiomatic tests: the package used as a Python user would use it."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest

import _corpus

import coordinate as c
from coordinate import (
    AttemptStatus,
    Coordinate,
    MockClock,
    WorkUnitMeta,
    WorkUnitStatus,
)

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> MockClock:
    return MockClock(T0)


@pytest.fixture(params=_corpus.store_urls(), ids=_corpus.store_label)
def coord(request: pytest.FixtureRequest, clock: MockClock) -> Iterator[Coordinate]:
    """The API tests run on every store the corpus runs on."""
    with _corpus.open_store(request.param, clock, 1) as coord:
        yield coord


@pytest.fixture
def ns(coord: Coordinate) -> c.Namespace:
    return coord.namespace("test")


@pytest.fixture
def spec(ns: c.Namespace) -> c.WorkSpec:
    return ns.set_work_spec({"name": "spec"})


# ------------------------------------------------------------ data values

ROUND_TRIP = {
    "none": None,
    "true": True,
    "false": False,
    "int": 42,
    "negative": -7,
    "i64_max": 2**63 - 1,
    "i64_min": -(2**63),
    "float": 2.5,
    "float_integral": 2.0,
    "inf": math.inf,
    "str": "héllo ✓",
    "empty_str": "",
    "bytes": b"\x00\x01\xff",
    "empty_bytes": b"",
    "list": [1, "two", 3.0, None, [b"x"]],
    "empty_list": [],
    "map": {"a": {"b": {"c": [1, {}]}}},
    "empty_map": {},
}


def test_every_data_type_round_trips_with_its_type(spec: c.WorkSpec) -> None:
    unit = spec.add_work_unit("u", ROUND_TRIP)
    back = unit.data()
    assert back == ROUND_TRIP
    for key, value in ROUND_TRIP.items():
        assert type(back[key]) is type(value), key
    assert back["true"] is True and back["none"] is None
    # ints stay ints and floats floats, also inside lists
    assert type(back["list"][2]) is float and type(back["list"][0]) is int


def test_tuples_are_accepted_and_come_back_as_lists(spec: c.WorkSpec) -> None:
    unit = spec.add_work_unit("u", {"t": (1, (2, "x")), "l": [(), ("a",)]})
    assert unit.data() == {"t": [1, [2, "x"]], "l": [[], ["a"]]}


def test_nan_round_trips(spec: c.WorkSpec) -> None:
    value = spec.add_work_unit("u", {"nan": math.nan}).data()["nan"]
    assert isinstance(value, float) and math.isnan(value)


def test_bytearray_is_stored_as_bytes(spec: c.WorkSpec) -> None:
    assert spec.add_work_unit("u", {"b": bytearray(b"ab")}).data() == {"b": b"ab"}


def test_int_out_of_range_raises_overflow_naming_the_argument(spec: c.WorkSpec) -> None:
    with pytest.raises(OverflowError, match="data"):
        spec.add_work_unit("u", {"big": 2**63})
    with pytest.raises(OverflowError, match="data"):
        spec.add_work_unit("u", {"nested": [-(2**63) - 1]})


def test_non_string_map_keys_are_a_type_error(spec: c.WorkSpec) -> None:
    with pytest.raises(TypeError, match="data: map keys must be str, not int"):
        spec.add_work_unit("u", {1: "x"})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="map keys must be str"):
        spec.add_work_unit("u", {"ok": {b"k": 1}})
    with pytest.raises(KeyError):
        spec.work_unit("u")  # nothing was stored


def test_unsupported_values_are_a_type_error_naming_the_argument(spec: c.WorkSpec) -> None:
    with pytest.raises(TypeError, match="data: a set cannot be stored"):
        spec.add_work_unit("u", {"s": {1, 2}})
    with pytest.raises(TypeError, match="data: a object cannot be stored"):
        spec.add_work_unit("u", {"o": object()})


def test_wrong_argument_types_name_the_argument(
    ns: c.Namespace, spec: c.WorkSpec, clock: MockClock
) -> None:
    with pytest.raises(TypeError, match="data must be a dict, not list"):
        ns.set_work_spec([("name", "x")])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data must be a dict"):
        spec.add_work_unit("u", "not a dict")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="name"):
        spec.add_work_unit(5, {})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="meta must be a WorkUnitMeta"):
        spec.add_work_unit("u", {}, {"priority": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="names must be a list of str, not a single str"):
        spec.work_units(names="abc")
    with pytest.raises(TypeError, match="statuses"):
        spec.work_units(statuses=[1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="clock must be a MockClock"):
        Coordinate(clock="now")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="instant must be a datetime, not str"):
        clock.set("2026-01-01")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="items\\[1\\]"):
        spec.add_work_units(["a", 5])  # type: ignore[list-item]


def test_self_referential_data_raises_instead_of_crashing(spec: c.WorkSpec) -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="nested more than"):
        spec.add_work_unit("u", {"loop": loop})
    deep: object = "leaf"
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than"):
        spec.add_work_unit("u", {"deep": deep})


def test_none_data_means_empty_and_zero_meta(spec: c.WorkSpec, clock: MockClock) -> None:
    unit = spec.add_work_unit("u", None, None)
    assert unit.data() == {}
    assert unit.meta() == WorkUnitMeta()
    spec.add_work_unit("u", {"a": 1}, WorkUnitMeta(priority=5, not_before=T0 + timedelta(hours=1)))
    assert unit.status() == WorkUnitStatus.DELAYED
    spec.add_work_unit("u", {"a": 1})  # no meta: back to the zero meta
    assert unit.meta() == WorkUnitMeta(priority=0.0, not_before=None)
    assert unit.status() == WorkUnitStatus.AVAILABLE


# ------------------------------------------------------------- time


def test_naive_datetimes_are_taken_as_utc() -> None:
    clock = MockClock(datetime(2026, 3, 1, 12, 30))
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert now == datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc)
    clock.set(datetime(2027, 1, 1))
    assert clock.now() == datetime(2027, 1, 1, tzinfo=timezone.utc)


def test_aware_datetimes_are_converted_to_utc() -> None:
    plus2 = timezone(timedelta(hours=2))
    clock = MockClock(datetime(2026, 1, 1, 2, 0, tzinfo=plus2))
    assert clock.now() == T0
    assert clock.now().tzinfo == timezone.utc


def test_default_mock_clock_and_system_clock() -> None:
    assert MockClock().now() == T0
    before = datetime.now(timezone.utc)
    now = Coordinate().now()
    assert now.tzinfo is not None
    assert before - timedelta(seconds=5) <= now <= datetime.now(timezone.utc) + timedelta(seconds=5)


def test_sub_second_times_survive(coord: Coordinate, clock: MockClock, spec: c.WorkSpec) -> None:
    spec.add_work_unit("u")
    clock.advance(timedelta(milliseconds=500, microseconds=250))
    clock.advance(0.25)  # a float of seconds
    (attempt,) = coord.namespace("test").worker("w").request_attempts()
    assert attempt.start_time() == T0 + timedelta(microseconds=750_250)
    assert attempt.start_time().microsecond == 750_250
    attempt.finish()
    assert attempt.end_time() == attempt.start_time()


def test_no_time_is_none(ns: c.Namespace, spec: c.WorkSpec) -> None:
    unit = spec.add_work_unit("u")
    (attempt,) = ns.worker("w").request_attempts()
    assert attempt.end_time() is None
    assert unit.meta().not_before is None
    assert spec.meta().next_continuous is None
    assert spec.meta().interval == timedelta(0)
    assert c.WorkSpecMeta().interval == timedelta(0)


def test_durations_accept_timedelta_int_and_float(
    ns: c.Namespace, spec: c.WorkSpec, clock: MockClock
) -> None:
    spec.add_work_units(["a", "b", "c"])
    worker = ns.worker("w")
    a, b, c_ = worker.request_attempts(number_of_work_units=3)
    a.renew(60)
    assert a.expiration_time() == T0 + timedelta(seconds=60)
    b.renew(1.5)
    assert b.expiration_time() == T0 + timedelta(seconds=1.5)
    c_.renew(timedelta(minutes=2))
    assert c_.expiration_time() == T0 + timedelta(minutes=2)
    a.renew(-1)  # negative: expirable at the next sweep
    clock.advance(0.001)
    assert a.status() == AttemptStatus.EXPIRED
    b.retry(delay=timedelta(seconds=30))
    assert b.work_unit.meta().not_before == clock.now() + timedelta(seconds=30)
    meta = c.WorkSpecMeta(interval=90)
    assert meta.interval == timedelta(seconds=90)
    meta.interval = timedelta(milliseconds=1)
    assert meta.interval == timedelta(milliseconds=1)


def test_bad_durations(ns: c.Namespace, spec: c.WorkSpec, clock: MockClock) -> None:
    spec.add_work_unit("u")
    (attempt,) = ns.worker("w").request_attempts()
    # TimeDelta::seconds(10**17) would panic in Rust; it must raise instead.
    with pytest.raises(OverflowError, match="extend_duration"):
        attempt.renew(10**17)
    with pytest.raises(OverflowError, match="extend_duration"):
        attempt.renew(2**80)
    with pytest.raises(OverflowError, match="duration"):
        clock.advance(1e300)
    with pytest.raises(c.OutOfRangeError, match="extend_duration: duration is NaN"):
        attempt.renew(math.nan)
    with pytest.raises(TypeError, match="extend_duration must be a timedelta or a number"):
        attempt.renew("1m")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not bool"):
        attempt.renew(True)
    assert attempt.status() == AttemptStatus.PENDING  # nothing changed
    # Beyond 10**9 s is out of range (docs/semantics.md §2.3), at the call.
    with pytest.raises(c.OutOfRangeError, match="extend_duration"):
        attempt.renew(timedelta.max)
    attempt.renew(10**9)
    assert attempt.status() == AttemptStatus.PENDING


def test_far_future_instants_raise_python_errors_not_panics(clock: MockClock) -> None:
    clock.set(datetime.max)
    with pytest.raises(c.OutOfRangeError):
        clock.advance(timedelta.max)  # rejected at the call, not on a later read
    with pytest.raises(c.OutOfRangeError):
        clock.advance(1)  # past year 9999
    assert clock.now() == datetime.max.replace(tzinfo=timezone.utc)


# ------------------------------------------------------------- errors

ERROR_CLASSES = [
    (c.NoSuchWorkSpecError, "NoSuchWorkSpec"),
    (c.NoSuchWorkUnitError, "NoSuchWorkUnit"),
    (c.GoneError, "Gone"),
    (c.LostLeaseError, "LostLease"),
    (c.NotPendingError, "NotPending"),
    (c.NoWorkError, "NoWork"),
    (c.CannotBecomeContinuousError, "CannotBecomeContinuous"),
    (c.ChangedNameError, "ChangedName"),
    (c.NoWorkSpecNameError, "NoWorkSpecName"),
    (c.BadWorkSpecNameError, "BadWorkSpecName"),
    (c.WrongBackendError, "WrongBackend"),
    (c.WorkUnitNotListError, "WorkUnitNotList"),
    (c.WorkUnitTooShortError, "WorkUnitTooShort"),
    (c.BadPriorityError, "BadPriority"),
    (c.BadWorkUnitItemError, "BadWorkUnitItem"),
    (c.InvalidStatusError, "InvalidStatus"),
    (c.UnavailableError, "Unavailable"),
    (c.StorageError, "Storage"),
    (c.UnauthorizedError, "Unauthorized"),
    (c.BadUrlError, "BadUrl"),
    (c.OutOfRangeError, "OutOfRange"),
    (c.CapacityError, "Capacity"),
    (c.InvalidArgumentError, "InvalidArgument"),
]


def test_exception_hierarchy() -> None:
    for cls, code in ERROR_CLASSES:
        assert issubclass(cls, c.CoordinateError) and issubclass(cls, Exception)
        assert cls.code == code and cls.__name__ == code + "Error"
    assert issubclass(c.NoSuchWorkSpecError, KeyError)
    assert issubclass(c.NoSuchWorkUnitError, KeyError)
    assert issubclass(c.InvalidStatusError, ValueError)
    assert issubclass(c.InvalidArgumentError, ValueError)
    exported = {n for n in c.__all__ if n.endswith("Error") and n != "CoordinateError"}
    assert exported == {cls.__name__ for cls, _ in ERROR_CLASSES}


def raised(fn: object, *args: object, **kwargs: object) -> c.CoordinateError:
    with pytest.raises(c.CoordinateError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    return info.value


def test_each_error_with_its_message(coord: Coordinate, ns: c.Namespace, clock: MockClock) -> None:
    spec = ns.set_work_spec({"name": "spec"})
    worker = ns.worker("w")

    e = raised(ns.work_spec, "missing")
    assert isinstance(e, c.NoSuchWorkSpecError) and isinstance(e, KeyError)
    assert str(e) == "No such work spec missing" and e.name == "missing"
    e = raised(spec.work_unit, 'say "hi"')
    assert isinstance(e, c.NoSuchWorkUnitError)
    assert str(e) == 'No such work unit "say \\"hi\\""' and e.name == 'say "hi"'
    try:
        ns.work_spec("missing")
    except KeyError:  # usable where a dict lookup would be
        pass

    e = raised(ns.set_work_spec, {})
    assert isinstance(e, c.NoWorkSpecNameError) and str(e) == "No 'name' key in work spec"
    e = raised(ns.set_work_spec, {"name": 4})
    assert isinstance(e, c.BadWorkSpecNameError) and str(e) == "Work spec 'name' must be a string"
    e = raised(spec.set_data, {"name": "other"})
    assert isinstance(e, c.ChangedNameError) and str(e) == "Cannot change work spec 'name'"

    unit = spec.add_work_unit("u")
    (a1,) = worker.request_attempts()
    unit.clear_active_attempt()
    (a2,) = worker.request_attempts()
    e = raised(a1.renew, 60)
    assert isinstance(e, c.LostLeaseError) and str(e) == "No longer the active attempt"
    a2.finish()
    e = raised(a2.fail)
    assert isinstance(e, c.NotPendingError) and str(e) == "Attempt is not pending"

    e = raised(c.simplified_scheduler, {}, T0, 1.0)
    assert isinstance(e, c.NoWorkError) and str(e) == "No work to do"

    other = Coordinate(clock=clock).namespace("test").worker("w")
    e = raised(other.make_attempt, unit)
    assert isinstance(e, c.WrongBackendError)
    assert str(e) == "Cannot combine coordinate objects from different backends"
    e = raised(worker.set_parent, other)
    assert isinstance(e, c.WrongBackendError)

    e = raised(c.extract_add_work_unit_item, 5, T0)
    assert isinstance(e, c.WorkUnitNotListError) and str(e) == "work unit not a list"
    e = raised(c.extract_add_work_unit_item, ["a"], T0)
    assert isinstance(e, c.WorkUnitTooShortError) and str(e) == "too few parameters to work unit"
    e = raised(c.extract_add_work_unit_item, ["a", {}, {}, "high"], T0)
    assert isinstance(e, c.BadPriorityError) and str(e) == "priority must be a number"
    e = raised(c.extract_add_work_unit_item, [5, {}], T0)
    assert isinstance(e, c.BadWorkUnitItemError) and "element 0" in e.reason
    assert str(e).startswith("bad work unit item: ")

    e = raised(WorkUnitStatus.from_text, "seventeen")
    assert isinstance(e, c.InvalidStatusError) and isinstance(e, ValueError)
    assert str(e) == "invalid status (unmarshal, seventeen)"
    e = raised(AttemptStatus.from_code, 17)
    assert str(e) == "invalid status (marshal, 17)"

    ns.destroy()
    for call in (unit.status, spec.meta, worker.active, a2.status, unit.num_attempts):
        e = raised(call)
        assert isinstance(e, c.GoneError) and str(e) == "Object no longer exists"
    assert repr(e) == "GoneError('Object no longer exists')"
    # CannotBecomeContinuous exists for completeness but set_meta never raises it.
    assert c.CannotBecomeContinuousError("x").code == "CannotBecomeContinuous"


# ------------------------------------------------------------- statuses


def test_statuses_are_enum_members() -> None:
    import enum

    assert issubclass(WorkUnitStatus, enum.Enum) and issubclass(AttemptStatus, enum.Enum)
    assert [s.name for s in WorkUnitStatus] == [
        "ANY", "AVAILABLE", "PENDING", "FINISHED", "FAILED", "DELAYED"
    ]
    assert [s.name for s in AttemptStatus] == [
        "PENDING", "EXPIRED", "FINISHED", "FAILED", "RETRYABLE"
    ]
    assert str(WorkUnitStatus.PENDING) == "pending" and WorkUnitStatus.PENDING.value == "pending"
    assert WorkUnitStatus.from_text("delayed") is WorkUnitStatus.DELAYED
    assert WorkUnitStatus("available") is WorkUnitStatus.AVAILABLE
    assert AttemptStatus.from_code(4) is AttemptStatus.RETRYABLE
    assert (
        WorkUnitStatus.AVAILABLE < WorkUnitStatus.PENDING < WorkUnitStatus.FINISHED
        < WorkUnitStatus.FAILED < WorkUnitStatus.DELAYED
    )
    assert (
        AttemptStatus.PENDING < AttemptStatus.EXPIRED < AttemptStatus.FINISHED
        < AttemptStatus.FAILED < AttemptStatus.RETRYABLE
    )
    assert sorted([WorkUnitStatus.DELAYED, WorkUnitStatus.ANY]) == [
        WorkUnitStatus.ANY, WorkUnitStatus.DELAYED
    ]
    assert len({WorkUnitStatus.PENDING, WorkUnitStatus.PENDING, AttemptStatus.PENDING}) == 2
    assert WorkUnitStatus.PENDING != AttemptStatus.PENDING  # type: ignore[comparison-overlap]
    with pytest.raises(TypeError):
        _ = WorkUnitStatus.PENDING < AttemptStatus.FAILED
    with pytest.raises(ValueError):
        WorkUnitStatus.from_text("Available")  # case-sensitive
    with pytest.raises(ValueError):
        AttemptStatus.from_text("any")


def test_status_members_agree_with_the_core() -> None:
    from coordinate import _coordinate as native

    for s in WorkUnitStatus:
        assert native._work_unit_status_text(s.code) == s.value
        assert native._work_unit_status_code(s.value) == s.code
    for a in AttemptStatus:
        assert native._attempt_status_text(a.code) == a.value
    assert [s.code for s in WorkUnitStatus] == list(range(6))
    assert [s.code for s in AttemptStatus] == list(range(5))


# ----------------------------------------------------- repr, eq and hash


def test_repr_of_every_class(coord: Coordinate, ns: c.Namespace, spec: c.WorkSpec) -> None:
    unit = spec.add_work_unit("u'1")
    worker = ns.worker("w")
    (attempt,) = worker.request_attempts()
    assert repr(coord) == (
        "Coordinate(clock=MockClock(datetime.datetime(2026, 1, 1, 0, 0, "
        "tzinfo=datetime.timezone.utc)))"
    )
    assert repr(Coordinate()) == "Coordinate(clock=None)"
    assert repr(ns) == "Namespace('test')"
    assert repr(spec) == "WorkSpec('spec')"
    assert repr(unit) == 'WorkUnit(\'spec\', "u\'1")'
    assert repr(worker) == "Worker('w')"
    assert repr(attempt) == "Attempt(work_spec='spec', work_unit=\"u'1\", worker='w')"
    assert repr(WorkUnitMeta(priority=2)) == "WorkUnitMeta(priority=2.0, not_before=None)"
    assert repr(c.WorkUnitQuery(names=["a"], statuses=[WorkUnitStatus.PENDING])) == (
        "WorkUnitQuery(names=['a'], statuses=[<WorkUnitStatus.PENDING: 'pending'>], "
        "previous_name='', limit=0)"
    )
    assert repr(c.AttemptRequest()) == (
        "AttemptRequest(number_of_work_units=0, available_gb=0.0, "
        "lifetime=datetime.timedelta(0), work_specs=[], runtimes=[])"
    )
    assert repr(c.AddWorkUnitMeta(priority=1, delay=2)) == "AddWorkUnitMeta(priority=1.0, delay=2.0)"
    assert repr(c.AddWorkUnitItem("k", {"a": 1})) == (
        "AddWorkUnitItem(key='k', data={'a': 1}, meta=WorkUnitMeta(priority=0.0, not_before=None))"
    )
    assert repr(spec.summarize()[0]) == (
        "SummaryRecord(namespace='test', work_spec='spec', "
        "status=<WorkUnitStatus.PENDING: 'pending'>, count=1)"
    )
    assert repr(spec.meta()).startswith("WorkSpecMeta(priority=0, weight=20, paused=False,")
    assert repr(c.WorkSpecData(name="s")).startswith("WorkSpecData(name='s', disabled=False,")
    assert repr(WorkUnitStatus.ANY) == "<WorkUnitStatus.ANY: 'any'>"
    for obj in (coord, ns, spec, unit, worker, attempt):
        assert not repr(obj).startswith("<")


def test_handles_compare_and_hash_by_identity_of_the_object(
    coord: Coordinate, ns: c.Namespace, spec: c.WorkSpec
) -> None:
    unit = spec.add_work_unit("u")
    worker = ns.worker("w")
    (attempt,) = worker.request_attempts()
    pairs = [
        (ns, coord.namespace("test")),
        (spec, ns.work_spec("spec")),
        (unit, spec.work_unit("u")),
        (worker, ns.workers()["w"]),
        (attempt, unit.active_attempt()),
        (attempt.work_unit, unit),
        (attempt.worker, worker),
    ]
    for a, b in pairs:
        assert a == b and hash(a) == hash(b) and a is not b
        assert not (a != b)
    assert len({unit, spec.work_unit("u"), spec.add_work_unit("v")}) == 2
    assert {worker: 1}[ns.worker("w")] == 1
    assert unit != spec and unit != "u" and ns != coord.namespace("other")
    # A recreated object is a new identity.
    ns.destroy_work_spec("spec")
    again = ns.set_work_spec({"name": "spec"})
    assert again != spec and again.name == spec.name
    # Same ids in another Coordinate are different objects.
    other = Coordinate(clock=MockClock(T0), seed=1).namespace("test")
    assert other != coord.namespace("test")


def test_value_classes_compare_by_value_and_are_unhashable() -> None:
    values = [
        (WorkUnitMeta(priority=1.0), WorkUnitMeta(1.0), WorkUnitMeta(2.0)),
        (c.WorkSpecMeta(weight=3), c.WorkSpecMeta(weight=3), c.WorkSpecMeta(weight=4)),
        (c.WorkUnitQuery(limit=1), c.WorkUnitQuery(limit=1), c.WorkUnitQuery()),
        (c.AttemptRequest(lifetime=5), c.AttemptRequest(lifetime=timedelta(seconds=5)), c.AttemptRequest()),
        (c.AddWorkUnitMeta(delay=1), c.AddWorkUnitMeta(0, 1), c.AddWorkUnitMeta()),
        (c.AddWorkUnitItem("a"), c.AddWorkUnitItem("a", {}), c.AddWorkUnitItem("b")),
        (c.WorkSpecData(name="a"), c.WorkSpecData(name="a"), c.WorkSpecData(name="b")),
    ]
    for a, same, different in values:
        assert a == same and a != different and a != "x"
        with pytest.raises(TypeError):
            hash(a)


def test_summary_records_are_hashable_and_sort() -> None:
    r1 = c.SummaryRecord("a", "s", WorkUnitStatus.PENDING, 1)
    r2 = c.SummaryRecord("a", "s", WorkUnitStatus.AVAILABLE, 9)
    r3 = c.SummaryRecord("a", "r", "failed", 2)
    assert sorted([r1, r2, r3]) == [r3, r2, r1]
    assert r1 == c.SummaryRecord("a", "s", "pending", 1) and len({r1, r1, r2}) == 2
    assert r3.status is WorkUnitStatus.FAILED
    with pytest.raises(AttributeError):
        r1.count = 5  # type: ignore[misc]


def test_value_class_attributes_are_read_write() -> None:
    meta = c.WorkSpecMeta()
    assert meta.weight == 0  # keyword constructor: zero values
    meta.weight = 5
    meta.paused = True
    meta.next_continuous = datetime(2026, 1, 2)  # naive: UTC
    assert meta.next_continuous == datetime(2026, 1, 2, tzinfo=timezone.utc)
    meta.next_continuous = None
    assert meta == c.WorkSpecMeta(weight=5, paused=True)
    q = c.WorkUnitQuery()
    q.names = ("a", "b")
    q.statuses = ["available"]
    q.limit = 3
    assert q.names == ["a", "b"] and q.statuses == [WorkUnitStatus.AVAILABLE]
    item = c.AddWorkUnitItem()
    item.key, item.data, item.meta = "k", {"x": [1]}, WorkUnitMeta(3)
    assert (item.key, item.data, item.meta.priority) == ("k", {"x": [1]}, 3.0)
    req = c.AttemptRequest(work_specs=["s"])
    req.runtimes = ["go"]
    req.number_of_work_units = 10
    assert (req.work_specs, req.runtimes, req.number_of_work_units) == (["s"], ["go"], 10)


# ------------------------------------------------------- the whole API


def test_a_worker_pipeline(coord: Coordinate, clock: MockClock) -> None:
    ns = coord.namespace("pipeline")
    fetch = ns.set_work_spec({"name": "fetch", "then": "parse", "max_retries": 3, "priority": 1})
    parse = ns.set_work_spec({"name": "parse"})
    assert ns.work_spec_names() == ["fetch", "parse"]
    assert fetch.data()["then"] == "parse"
    assert fetch.add_work_units([
        "http://a",
        ("http://b", {"depth": 1}),
        ("http://c", {"depth": 2}, WorkUnitMeta(priority=10)),
        c.AddWorkUnitItem("http://d", {"depth": 3}),
    ]) == 4
    assert fetch.count_work_unit_status() == {WorkUnitStatus.AVAILABLE: 4}
    boss, worker = ns.worker("boss"), ns.worker("w1")
    worker.set_parent(boss)
    assert worker.parent() == boss and boss.children() == [worker]
    worker.update({"pid": 42}, clock.now(), clock.now() + timedelta(minutes=15), "run")
    assert (worker.data(), worker.mode(), worker.active()) == ({"pid": 42}, "run", True)

    attempts = worker.request_attempts(number_of_work_units=2, lifetime=timedelta(minutes=5))
    assert [a.work_unit.name for a in attempts] == ["http://c", "http://a"]
    assert all(a.status() is AttemptStatus.PENDING for a in attempts)
    assert attempts[0].expiration_time() == clock.now() + timedelta(minutes=5)
    assert boss.child_attempts() == attempts
    first, second = attempts
    first.finish({"output": ["page-c", ("page-c2", {"from": "c"})]})
    second.retry({"error": "timeout"}, delay=60)
    assert second.status() == AttemptStatus.RETRYABLE
    assert second.work_unit.status() == WorkUnitStatus.DELAYED
    assert sorted(parse.work_units()) == ["page-c", "page-c2"]
    assert parse.work_unit("page-c2").data() == {"from": "c"}

    clock.advance(timedelta(minutes=2))
    req = c.AttemptRequest(number_of_work_units=10, work_specs=["parse"])
    got = worker.request_attempts(req)
    assert {a.work_unit.name for a in got} == {"page-c", "page-c2"}
    for a in got:
        a.finish()
    assert parse.count_work_unit_status() == {WorkUnitStatus.FINISHED: 2}
    assert worker.request_attempts(work_specs=["parse"]) == []

    summary = sorted(coord.summarize())
    assert [(r.work_spec, str(r.status), r.count) for r in summary] == [
        ("fetch", "available", 3), ("fetch", "finished", 1), ("parse", "finished", 2)
    ]
    assert fetch.work_units(statuses=[WorkUnitStatus.AVAILABLE], limit=2).keys() == {
        "http://a", "http://b"
    }
    q = c.WorkUnitQuery(statuses=[WorkUnitStatus.ANY])
    assert len(fetch.work_units(q)) == 4 and len(fetch.work_units(q, limit=1)) == 1
    fetch.set_work_unit_priorities(5, names=["http://b"])
    fetch.adjust_work_unit_priorities(1.5, q, names=["http://b", "http://d"])
    assert fetch.work_unit("http://b").priority() == 6.5
    assert fetch.work_unit("http://d").priority() == 1.5
    assert fetch.delete_work_units(names=["http://d"]) == 1
    assert len(worker.all_attempts()) == 4 and worker.active_attempts() == []

    m = fetch.meta(with_counts=True)
    assert (m.priority, m.max_retries, m.next_work_spec_name) == (1, 3, "parse")
    assert m.available_count == 2 and fetch.meta().available_count == 0
    m.paused = True
    fetch.set_meta(m)
    assert fetch.meta().paused and worker.request_attempts(work_specs=["fetch"]) == []
    assert c.WorkSpecData.from_dict(fetch.data()).meta().next_work_spec_name == "parse"

    a = worker.make_attempt(fetch.work_unit("http://b"), lifetime=30)
    a.fail({"traceback": "boom"})
    assert fetch.work_unit("http://b").status() == WorkUnitStatus.FAILED
    assert fetch.work_unit("http://b").num_attempts() == 1
    assert fetch.work_unit("http://b").attempts() == [a]
    assert coord.namespaces()["pipeline"] == ns
    assert set(ns.workers()) == {"boss", "w1"}
    ns.destroy()
    assert "pipeline" not in coord.namespaces()
    ns.destroy()  # idempotent


def test_free_functions() -> None:
    items = c.extract_work_unit_output(
        ["a", ("b", {"k": 1}), ["c", {}, {"priority": 2, "delay": 30}], ["d"]], T0
    )
    assert sorted(items) == ["a", "b", "c"]
    assert items["b"].data == {"k": 1}
    assert items["c"].meta == WorkUnitMeta(2.0, T0 + timedelta(seconds=30))
    item = c.extract_add_work_unit_item(b"name", T0)
    assert item == c.AddWorkUnitItem("name", {}, WorkUnitMeta())
    name, meta = c.extract_work_spec_meta({"name": "s", "nice": 5, "continuous": True})
    assert name == "s" and meta.weight == 15 and meta.can_be_continuous
    assert c.AddWorkUnitMeta(priority=1, delay=10).to_meta(T0) == WorkUnitMeta(
        1.0, T0 + timedelta(seconds=10)
    )
    metas = {"one": c.WorkSpecMeta(weight=1, available_count=5),
             "two": c.WorkSpecMeta(weight=1, available_count=5, runtime="go")}
    assert list(c.limit_metas_to_names(metas, ["two", "zzz"])) == ["two"]
    assert list(c.limit_metas_to_runtimes(metas, ["go"])) == ["two"]
    assert c.limit_metas_to_names(metas, []) == metas
    picks = {c.simplified_scheduler(metas, T0, 1.0, seed=s) for s in range(50)}
    assert picks == {"one", "two"}
    assert c.simplified_scheduler(metas, T0, 1.0, seed=7) == c.simplified_scheduler(
        metas, T0, 1.0, seed=7
    )
    assert metas["one"].can_do_work(T0) and not metas["one"].can_start_continuous(T0)


def test_same_seed_same_choices() -> None:
    def run(seed: int) -> list[str]:
        coord = Coordinate(clock=MockClock(T0), seed=seed)
        ns = coord.namespace("")
        for name in ("a", "b", "c"):
            ns.set_work_spec({"name": name}).add_work_units([f"{name}{i}" for i in range(20)])
        w = ns.worker("w")
        return [a.work_unit.work_spec.name for a in w.request_attempts() for _ in [0]] + [
            a.work_unit.work_spec.name for _ in range(20) for a in w.request_attempts()
        ]

    assert run(3) == run(3)
    assert run(3) != run(4) or run(3) != run(5)


def test_worker_defaults(ns: c.Namespace, clock: MockClock) -> None:
    w = ns.worker("fresh")
    assert w.data() == {} and w.mode() == "" and w.active()
    assert w.last_update() == T0 and w.expiration() == T0 + timedelta(minutes=15)
    assert w.parent() is None and w.children() == []
    w.deactivate()
    assert not w.active()
    w.set_parent(None)


def test_package_docstring_example() -> None:
    import doctest

    result = doctest.testmod(c, verbose=False)
    assert result.attempted > 0 and result.failed == 0


# ---- connect: one API over every store ----


def test_connect_memory_is_a_fresh_store() -> None:
    clock = c.MockClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    coord = c.connect("memory:", clock=clock, seed=3)
    assert isinstance(coord, c.Coordinate)
    assert coord.clock is clock
    assert coord.now() == datetime(2026, 1, 1, tzinfo=timezone.utc)
    spec = coord.namespace("n").set_work_spec({"name": "s"})
    spec.add_work_unit("u")
    assert c.connect("memory:").namespaces() == {}
    [attempt] = coord.namespace("n").worker("w").request_attempts()
    attempt.finish()
    assert spec.work_unit("u").status() == c.WorkUnitStatus.FINISHED


def test_connect_rejects_unknown_schemes_and_bad_arguments() -> None:
    with pytest.raises(c.BadUrlError) as e:
        c.connect("gopher://example/")
    assert isinstance(e.value, ValueError)
    assert "gopher" in str(e.value)
    with pytest.raises(TypeError, match="clock"):
        c.connect("memory:", clock="2026-01-01")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        c.connect("memory:", timeout=-1)


def test_close_makes_every_handle_gone() -> None:
    with c.connect("memory:") as coord:
        ns = coord.namespace("n")
        spec = ns.set_work_spec({"name": "s"})
        unit = spec.add_work_unit("u")
    for call in (lambda: coord.namespace("n"), ns.work_spec_names, spec.data, unit.status):
        with pytest.raises(c.GoneError):
            call()


def test_finish_and_request_in_one_call() -> None:
    clock = c.MockClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    coord = c.connect("memory:", clock=clock, seed=1)
    ns = coord.namespace("n")
    spec = ns.set_work_spec({"name": "s"})
    spec.add_work_units(["a", "b", "c", "d"])
    worker = ns.worker("w")
    first = worker.request_attempts(number_of_work_units=2)
    stale = first[0]
    errors, more = worker.finish_and_request(
        [first[0], (first[1], {"out": 1})], c.AttemptRequest(number_of_work_units=2)
    )
    assert errors == [None, None]
    assert [a.work_unit.name for a in more] == ["c", "d"]
    assert spec.work_unit("b").data() == {"out": 1}
    # A finish that fails is reported in its place; the request still runs.
    errors, more = worker.finish_and_request([stale, more[0]])
    assert isinstance(errors[0], c.NotPendingError) and errors[1] is None
    assert more == []
    assert spec.count_work_unit_status() == {
        c.WorkUnitStatus.FINISHED: 3,
        c.WorkUnitStatus.PENDING: 1,
    }
    with pytest.raises(TypeError, match="finished"):
        worker.finish_and_request([42])  # type: ignore[list-item]
