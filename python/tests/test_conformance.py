"""Replays the shared conformance corpus (tests/conformance/*.json) against
the Python package: one pytest case per scenario id.

The runner is a flat table from operation name to a call of the Python API
(OPS below) plus the canonical result encoding of tests/README.md; it has no
code for any particular scenario.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List

import pytest

import _corpus
from coordinate import _coordinate
from coordinate import (
    Attempt,
    AttemptRequest,
    AttemptStatus,
    Coordinate,
    CoordinateError,
    MockClock,
    Namespace,
    AddWorkUnitItem,
    SummaryRecord,
    Worker,
    WorkSpec,
    WorkSpecMeta,
    WorkUnit,
    WorkUnitMeta,
    WorkUnitQuery,
    WorkUnitStatus,
    extract_add_work_unit_item,
    extract_work_spec_meta,
    extract_work_unit_output,
    limit_metas_to_names,
    limit_metas_to_runtimes,
    simplified_scheduler,
)

SCENARIOS = _corpus.load_scenarios()

# --------------------------------------------------------------- arguments


def instant(text: str) -> datetime:
    """An RFC 3339 instant as an aware datetime."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def opt_instant(text: str | None) -> datetime | None:
    return None if text is None else instant(text)


def ms(n: int) -> timedelta:
    return timedelta(milliseconds=n)


def data(v: Any) -> Any:
    """A corpus data value: {"$bytes"} and {"$tuple"} tags decoded."""
    if isinstance(v, list):
        return [data(x) for x in v]
    if isinstance(v, dict):
        if set(v) == {"$bytes"}:
            return base64.b64decode(v["$bytes"])
        if set(v) == {"$tuple"}:
            return tuple(data(x) for x in v["$tuple"])
        return {k: data(x) for k, x in v.items()}
    return v


# Each record's fields and their kinds, from the core's table
# (coordinate::records): the corpus form is converted field by field.
RECORD_FIELDS: Dict[str, List[tuple[str, str]]] = {
    name: _coordinate._record_fields(name)
    for name in (
        "WorkSpecMeta", "WorkUnitMeta", "WorkUnitQuery", "AttemptRequest",
        "AddWorkUnitItem", "SummaryRecord",
    )
}
RECORD_CLASSES: Dict[type, str] = {
    WorkSpecMeta: "WorkSpecMeta",
    WorkUnitMeta: "WorkUnitMeta",
    WorkUnitQuery: "WorkUnitQuery",
    AttemptRequest: "AttemptRequest",
    AddWorkUnitItem: "AddWorkUnitItem",
    SummaryRecord: "SummaryRecord",
}


def field_in(kind: str, v: Any) -> Any:
    """A corpus field value as the Python argument, by the field's kind."""
    if kind == "duration":
        return ms(v)
    if kind == "instant":
        return opt_instant(v)
    if kind == "opt_statuses":
        return None if v is None else [WorkUnitStatus.from_text(s) for s in v]
    if kind == "unit_meta":
        return unit_meta(v)
    if kind == "data":
        return data(v)
    return v


def record_in(cls: Any, m: Dict[str, Any] | None) -> Any:
    if m is None:
        return None
    kinds = dict(RECORD_FIELDS[RECORD_CLASSES[cls]])
    unknown = set(m) - set(kinds)
    assert not unknown, f"{cls.__name__}: unknown fields {unknown}"
    return cls(**{k: field_in(kinds[k], v) for k, v in m.items()})


def spec_meta(m: Dict[str, Any]) -> WorkSpecMeta:
    meta: WorkSpecMeta = record_in(WorkSpecMeta, m)
    return meta


def unit_meta(m: Dict[str, Any] | None) -> WorkUnitMeta | None:
    meta: WorkUnitMeta | None = record_in(WorkUnitMeta, m)
    return meta


def query(q: Dict[str, Any] | None) -> WorkUnitQuery | None:
    out: WorkUnitQuery | None = record_in(WorkUnitQuery, q)
    return out


def request(r: Dict[str, Any] | None) -> AttemptRequest | None:
    out: AttemptRequest | None = record_in(AttemptRequest, r)
    return out


def metas(m: Dict[str, Any]) -> Dict[str, WorkSpecMeta]:
    return {k: spec_meta(v) for k, v in m.items()}


def add_item(item: Any) -> Any:
    if isinstance(item, str):
        return item
    name, *rest = item
    out: List[Any] = [name]
    if rest:
        out.append(data(rest[0]))
    if len(rest) > 1:
        out.append(unit_meta(rest[1]))
    return tuple(out)


def opt(a: Dict[str, Any], key: str, convert: Callable[[Any], Any] = data) -> Dict[str, Any]:
    """`{key: convert(a[key])}` if the argument is present, else `{}` (host default)."""
    return {key: convert(a[key])} if key in a else {}


def optd(a: Dict[str, Any], key: str, name: str, convert: Callable[[Any], Any]) -> Dict[str, Any]:
    return {name: convert(a[key])} if key in a else {}


# ------------------------------------------------------------------ results


def fmt_instant(t: datetime) -> str:
    t = t.astimezone(timezone.utc)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:"
        f"{t.second:02d}.{t.microsecond // 1000:03d}Z"
    )


def fmt_ms(d: timedelta) -> int:
    return d.days * 86_400_000 + d.seconds * 1000 + d.microseconds // 1000


def canon(x: Any) -> Any:
    """The canonical form of a result (tests/README.md)."""
    if x is None or isinstance(x, (bool, int, float, str)):
        if isinstance(x, (WorkUnitStatus, AttemptStatus)):
            return str(x)
        return x
    if isinstance(x, (WorkUnitStatus, AttemptStatus)):
        return str(x)
    if isinstance(x, bytes):
        return {"$bytes": base64.b64encode(x).decode("ascii")}
    if isinstance(x, datetime):
        return fmt_instant(x)
    if isinstance(x, timedelta):
        return fmt_ms(x)
    if isinstance(x, Namespace):
        return f"ns:{x.name}"
    if isinstance(x, WorkSpec):
        return f"spec:{x.name}"
    if isinstance(x, WorkUnit):
        return f"unit:{x.work_spec.name}/{x.name}"
    if isinstance(x, Worker):
        return f"worker:{x.name}"
    if isinstance(x, Attempt):
        u = x.work_unit
        return f"attempt:{u.work_spec.name}/{u.name}@{x.worker.name}"
    record = RECORD_CLASSES.get(type(x))
    if record is not None:
        return {f: canon(getattr(x, f)) for f, _ in RECORD_FIELDS[record]}
    if isinstance(x, (list, tuple)):
        return [canon(v) for v in x]
    if isinstance(x, dict):
        return {canon(k): canon(v) for k, v in x.items()}
    raise TypeError(f"no canonical form for {x!r}")


def summary(records: List[SummaryRecord]) -> List[SummaryRecord]:
    return sorted(records)


def status_json(cls: Any, code: int) -> str:
    return json.dumps(str(cls.from_code(code)))


# -------------------------------------------------------------- dispatch
# op -> call(target, args). Most ops are a method of the same name on the
# target; properties and argument conversions are spelled out.

Op = Callable[[Any, Dict[str, Any]], Any]

OPS: Dict[str, Op] = {
    # clock
    "now": lambda t, a: t.now(),
    "advance": lambda t, a: t.advance(ms(a["ms"])),
    "set": lambda t, a: t.set(instant(a["time"])),
    # coordinate
    "namespace": lambda t, a: t.namespace(a["name"]),
    "namespaces": lambda t, a: t.namespaces(),
    "summarize": lambda t, a: summary(t.summarize()),
    # namespace
    "name": lambda t, a: t.name,
    "destroy": lambda t, a: t.destroy(),
    "set_work_spec": lambda t, a: t.set_work_spec(data(a["data"])),
    "work_spec": lambda t, a: t.work_spec(a["name"]) if "name" in a else t.work_spec,
    "destroy_work_spec": lambda t, a: t.destroy_work_spec(a["name"]),
    "work_spec_names": lambda t, a: t.work_spec_names(),
    "worker": lambda t, a: t.worker(a["name"]) if "name" in a else t.worker,
    "workers": lambda t, a: t.workers(),
    # work spec
    "data": lambda t, a: t.data(),
    "set_data": lambda t, a: t.set_data(data(a["data"])),
    "meta": lambda t, a: t.meta(**opt(a, "with_counts")),
    "set_meta": lambda t, a: t.set_meta(
        spec_meta(a["meta"]) if isinstance(t, WorkSpec) else unit_meta(a["meta"])
    ),
    "add_work_unit": lambda t, a: t.add_work_unit(
        a["name"], **opt(a, "data"), **opt(a, "meta", unit_meta)
    ),
    "add_work_units": lambda t, a: t.add_work_units([add_item(i) for i in a["items"]]),
    "work_unit": lambda t, a: t.work_unit(a["name"]) if "name" in a else t.work_unit,
    "work_units": lambda t, a: t.work_units(**opt(a, "query", query)),
    "count_work_unit_status": lambda t, a: t.count_work_unit_status(),
    "set_work_unit_priorities": lambda t, a: t.set_work_unit_priorities(
        a["priority"], **opt(a, "query", query)
    ),
    "adjust_work_unit_priorities": lambda t, a: t.adjust_work_unit_priorities(
        a["adjustment"], **opt(a, "query", query)
    ),
    "delete_work_units": lambda t, a: t.delete_work_units(**opt(a, "query", query)),
    # work unit
    "status": lambda t, a: t.status(),
    "priority": lambda t, a: t.priority(),
    "set_priority": lambda t, a: t.set_priority(a["priority"]),
    "active_attempt": lambda t, a: t.active_attempt(),
    "clear_active_attempt": lambda t, a: t.clear_active_attempt(),
    "attempts": lambda t, a: t.attempts(),
    "num_attempts": lambda t, a: t.num_attempts(),
    # attempt
    "start_time": lambda t, a: t.start_time(),
    "end_time": lambda t, a: t.end_time(),
    "expiration_time": lambda t, a: t.expiration_time(),
    "renew": lambda t, a: t.renew(ms(a["duration_ms"]), **opt(a, "data")),
    "expire": lambda t, a: t.expire(**opt(a, "data")),
    "finish": lambda t, a: t.finish(**opt(a, "data")),
    "fail": lambda t, a: t.fail(**opt(a, "data")),
    "retry": lambda t, a: t.retry(**opt(a, "data"), **optd(a, "delay_ms", "delay", ms)),
    # worker
    "parent": lambda t, a: t.parent(),
    "set_parent": lambda t, a: t.set_parent(a["parent"]),
    "children": lambda t, a: t.children(),
    "active": lambda t, a: t.active(),
    "deactivate": lambda t, a: t.deactivate(),
    "mode": lambda t, a: t.mode(),
    "expiration": lambda t, a: t.expiration(),
    "last_update": lambda t, a: t.last_update(),
    "update": lambda t, a: t.update(
        data(a["data"]), instant(a["now"]), instant(a["expiration"]), a["mode"]
    ),
    "request_attempts": lambda t, a: t.request_attempts(**opt(a, "request", request)),
    "make_attempt": lambda t, a: t.make_attempt(
        a["work_unit"], **optd(a, "lifetime_ms", "lifetime", ms)
    ),
    "active_attempts": lambda t, a: t.active_attempts(),
    "all_attempts": lambda t, a: t.all_attempts(),
    "child_attempts": lambda t, a: t.child_attempts(),
    # any handle
    "equals": lambda t, a: t == a["other"],
    # free functions
    "extract_work_unit_output": lambda t, a: extract_work_unit_output(
        data(a["output"]), instant(a["now"])
    ),
    "extract_add_work_unit_item": lambda t, a: extract_add_work_unit_item(
        data(a["obj"]), instant(a["now"])
    ),
    "extract_work_spec_meta": lambda t, a: dict(
        zip(("name", "meta"), extract_work_spec_meta(data(a["data"])))
    ),
    "limit_metas_to_names": lambda t, a: sorted(
        limit_metas_to_names(metas(a["metas"]), a["names"])
    ),
    "limit_metas_to_runtimes": lambda t, a: sorted(
        limit_metas_to_runtimes(metas(a["metas"]), a["runtimes"])
    ),
    "simplified_scheduler": lambda t, a: simplified_scheduler(
        metas(a["metas"]), instant(a["now"]), a["available_gb"], **opt(a, "seed", int)
    ),
    "work_unit_status_to_text": lambda t, a: str(WorkUnitStatus.from_code(a["code"])),
    "work_unit_status_to_json": lambda t, a: status_json(WorkUnitStatus, a["code"]),
    "work_unit_status_from_text": lambda t, a: WorkUnitStatus.from_text(a["text"]).code,
    "work_unit_status_from_json": lambda t, a: WorkUnitStatus.from_text(
        json.loads(a["json"])
    ).code,
    "attempt_status_to_text": lambda t, a: str(AttemptStatus.from_code(a["code"])),
    "attempt_status_to_json": lambda t, a: status_json(AttemptStatus, a["code"]),
    "attempt_status_from_text": lambda t, a: AttemptStatus.from_text(a["text"]).code,
    "attempt_status_from_json": lambda t, a: AttemptStatus.from_text(
        json.loads(a["json"])
    ).code,
}

# --------------------------------------------------------------- the runner


def same(actual: Any, expected: Any) -> bool:
    """Exact equality of canonical forms, except that 2 == 2.0 (never True == 1)."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is bool and type(expected) is bool and actual == expected
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        return actual == expected
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same(actual[k], expected[k]) for k in expected)
        )
    return type(actual) is type(expected) and actual == expected


def resolve(v: Any, env: Dict[str, Any]) -> Any:
    """Replaces {"$ref": name} by the bound object, at any depth."""
    if isinstance(v, dict):
        if set(v) == {"$ref"}:
            return env[v["$ref"]]
        return {k: resolve(x, env) for k, x in v.items()}
    if isinstance(v, list):
        return [resolve(x, env) for x in v]
    return v


def error_code(e: BaseException) -> str:
    return e.code if isinstance(e, CoordinateError) else type(e).__name__


def run_step(env: Dict[str, Any], step: Dict[str, Any]) -> None:
    op = OPS[step["op"]]
    target = env[step["on"]] if "on" in step else None
    args = resolve(step.get("args", {}), env)

    if "trials" in step:
        trials = step["trials"]
        tally: Counter[str] = Counter()
        for i in range(trials["count"]):
            trial_args = dict(args, **{trials["seed_arg"]: trials["first_seed"] + i})
            try:
                result = canon(op(target, trial_args))
                tally[result if isinstance(result, str) else json.dumps(result)] += 1
            except CoordinateError as e:
                tally[e.code] += 1
        bounds = step["expect_tally"]
        for key, count in tally.items():
            assert key in bounds, f"unexpected result {key!r} ({count} times); tally {dict(tally)}"
            low, high = bounds[key]
            assert low <= count <= high, f"{key!r} seen {count} times, not in [{low}, {high}]"
        return

    if "error" in step:
        with pytest.raises(CoordinateError) as info:
            op(target, args)
        assert error_code(info.value) == step["error"], (
            f"expected error {step['error']}, got {error_code(info.value)}: {info.value}"
        )
        if "message" in step:
            assert str(info.value) == step["message"]
        return

    result = op(target, args)
    if "as" in step:
        env[step["as"]] = result
    if "as_each" in step:
        names = step["as_each"]
        assert len(result) == len(names), f"{len(result)} results for as_each {names}"
        env.update(zip(names, result))
    if "expect" in step:
        got = canon(result)
        assert same(got, step["expect"]), f"got {got!r}, expected {step['expect']!r}"
    if "expect_fields" in step:
        got = canon(result)
        for key, want in step["expect_fields"].items():
            assert key in got, f"no field {key!r} in {got!r}"
            assert same(got[key], want), f"{key}: got {got[key]!r}, expected {want!r}"
    if "expect_len" in step:
        assert len(result) == step["expect_len"], (
            f"length {len(result)}, expected {step['expect_len']}: {canon(result)!r}"
        )


def run_scenario(scenario: Dict[str, Any], store: str = "new") -> None:
    clock = MockClock(instant(scenario["clock"]))
    coord = _corpus.open_store(store, clock, scenario["seed"])
    env: Dict[str, Any] = {"coord": coord, "clock": clock}
    with coord:
        for i, step in enumerate(scenario["steps"]):
            try:
                run_step(env, step)
            except Exception as e:
                raise AssertionError(
                    f"step {i} ({step.get('on', '')}.{step['op']}): {type(e).__name__}: {e}\n"
                    f"  step: {json.dumps(step)[:400]}"
                ) from e


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "scenario" in metafunc.fixturenames:
        cases = [(url, s) for url in _corpus.store_urls() for s in SCENARIOS]
        metafunc.parametrize(
            ("store", "scenario"),
            cases,
            ids=[f"{_corpus.store_label(url)}-{s['id']}" for url, s in cases],
        )


def test_scenario(store: str, scenario: Dict[str, Any]) -> None:
    reason = _corpus.skip_reason(scenario)
    if reason is not None:
        pytest.skip(reason)
    run_scenario(scenario, store)


def test_ids_are_unique() -> None:
    ids = Counter(s["id"] for s in SCENARIOS)
    assert not [i for i, n in ids.items() if n > 1]


def test_every_op_has_a_call() -> None:
    ops = {step["op"] for s in SCENARIOS for step in s["steps"]}
    assert not sorted(ops - set(OPS))


def test_catalogue_coverage() -> None:
    covered, total, missing, skipped = _corpus.coverage()
    print(f"conformance: {covered}/{total} catalogue entries covered, {len(skipped)} skipped")
    assert not missing, f"catalogue entries with no scenario: {missing}"


def test_runner_rejects_a_wrong_expectation() -> None:
    """The runner itself must fail on a wrong result, error or tally."""
    base = {"id": "t", "covers": [], "clock": "2026-01-01T00:00:00Z", "seed": 1}
    wrong_expect = dict(base, steps=[{"on": "clock", "op": "now", "expect": "2026-01-01T00:00:00.001Z"}])
    wrong_error = dict(base, steps=[
        {"on": "coord", "op": "namespace", "args": {"name": "n"}, "as": "ns"},
        {"on": "ns", "op": "work_spec", "args": {"name": "x"}, "error": "Gone"},
    ])
    wrong_type = dict(base, steps=[
        {"on": "coord", "op": "namespace", "args": {"name": "n"}, "as": "ns"},
        {"on": "ns", "op": "set_work_spec", "args": {"data": {"name": "s", "priority": 1}}, "as": "S"},
        {"on": "S", "op": "data", "expect": {"name": "s", "priority": True}},
    ])
    for scenario in (wrong_expect, wrong_error, wrong_type):
        with pytest.raises(AssertionError):
            run_scenario(scenario)
