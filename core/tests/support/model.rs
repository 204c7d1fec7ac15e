//! Model-based property test: random sequences of operations run against the
//! engine and against a deliberately naive reference model written here from
//! docs/semantics.md (plain maps, full scans on every call, no indexes), asserting
//! identical observable results after every step.
//!
//! What the model covers: add and re-add (single and bulk, including big
//! batches of repeated names), RequestAttempts with counts, spec filters,
//! runtimes and lifetimes, the scheduler's weighted draw (the model owns a
//! `StdRng` with the engine's seed and makes the same `random_range(0..sum)`
//! draws), Finish/Fail/Retry/Expire/Renew on current and stale attempts,
//! MakeAttempt, ClearActiveAttempt, queries (list, delete, set and adjust
//! priorities), counts, summaries, spec meta and data changes, destroyed
//! specs and dead handles, chaining, continuous specs, max_retries, and
//! clock advances of 0, 1 ns, sub-second and to/just past lease deadlines.
//!
//! Environment:
//! - `COORDINATE_PROPTEST_CASES=N` runs N cases instead of the default 10,000;
//! - `COORDINATE_PROPTEST_OPS=N` caps the operations per case (default 60);
//! - `COORDINATE_MODEL_STATS=1` prints coverage counters at the end.
//!
//! Failures are not persisted to files; the minimal failing input is printed.
//!
//! The engine under test comes from a store factory, so every store runs the
//! same model: `core/tests/model.rs` on memory, the SQL crate on its stores
//! (`#[path = ".../support/model.rs"] mod model;`).

// Included by several test crates, each using part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use coordinate::{
    AddWorkUnitItem, Attempt, AttemptRequest, AttemptStatus, Coordinate, Error, Map, MockClock,
    Namespace, SummaryRecord, Value, WorkSpec, WorkSpecMeta, WorkUnit, WorkUnitMeta, WorkUnitQuery,
    WorkUnitStatus, Worker,
};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config, TestRunner};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

type Time = DateTime<Utc>;

/// Coverage counters, printed with `COORDINATE_MODEL_STATS=1`.
mod stats {
    use std::sync::atomic::{AtomicU64, Ordering};
    pub const NAMES: [&str; 19] = [
        "steps",
        "requests",
        "requests with work",
        "scheduler draws",
        "attempts handed out",
        "max_retries failures",
        "continuous units",
        "sweep expiries",
        "chained units",
        "attempt calls ok",
        "attempt NotPending",
        "attempt LostLease",
        "Gone results",
        "delayed statuses seen",
        "re-adds of finished/failed",
        "grace-window finishes",
        "continuous unit reused",
        "max_retries redraws",
        "re-adds of pending units",
    ];
    pub static COUNTS: [AtomicU64; 19] = [const { AtomicU64::new(0) }; 19];
    pub fn bump(i: usize) {
        COUNTS[i].fetch_add(1, Ordering::Relaxed);
    }
    pub fn print() {
        for (n, c) in NAMES.iter().zip(&COUNTS) {
            eprintln!("{n:>28}: {}", c.load(Ordering::Relaxed));
        }
    }
}
use stats::bump;

const SPECS: [&str; 3] = ["s0", "s1", "s2"];
/// Unit names: few, so that re-adds and chained collisions are frequent.
/// "" is a legal unit name (§3.3.6 D11).
const UNITS: [&str; 6] = ["a", "b", "c", "d", "e", ""];
const WORKERS: [&str; 2] = ["w0", "w1"];
const DEFAULT_LEASE: TimeDelta = TimeDelta::minutes(15);

fn ms(v: i64) -> TimeDelta {
    TimeDelta::milliseconds(v)
}

fn secs_f(s: f64) -> TimeDelta {
    TimeDelta::milliseconds((s * 1000.0).round() as i64)
}

fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

// ---------------------------------------------------------------------------
// Generated inputs
// ---------------------------------------------------------------------------

/// Unit or attempt data.
#[derive(Clone, Debug)]
enum DataGen {
    Empty,
    Int(i64),
    /// Every kind of value, including empty nested containers.
    Rich,
    Output(OutputGen),
}

/// The `output` value of finish data (or of a unit's own data).
#[derive(Clone, Debug)]
enum OutputGen {
    Names(Vec<usize>),
    /// name -> data map (or null data)
    MapForm(Vec<(usize, bool)>),
    /// a map with a non-map value: yields nothing
    BadMap,
    Items(Vec<ItemGen>),
    /// a bare string: yields nothing
    Scalar,
}

#[derive(Clone, Debug)]
enum ItemGen {
    Name(usize),
    Bytes(usize),
    BadBytes,
    Full {
        name: usize,
        null_data: bool,
        meta: Option<(Option<f64>, Option<f64>)>,
        over: Option<f64>,
    },
    Short(usize),
    NotList,
    BadPriority(usize),
}

#[derive(Clone, Debug)]
enum NameGen {
    Own,
    Missing,
    Empty,
    Null,
    Number,
    Other,
}

#[derive(Clone, Debug)]
struct SpecDataGen {
    name: NameGen,
    keys: Vec<(usize, usize)>,
}

#[derive(Clone, Debug)]
struct UnitGen {
    name: usize,
    data: DataGen,
    priority: f64,
    /// not_before as an offset from now, in ms
    not_before: Option<i64>,
}

#[derive(Clone, Debug)]
enum MetaChange {
    Paused(bool),
    MaxRunning(i64),
    MaxGetwork(i64),
    MaxRetries(i64),
    Weight(i64),
    Priority(i64),
    Continuous(bool),
    Interval(i64),
    NextContinuous(Option<i64>),
    /// Every field, including the ones SetMeta must ignore.
    Full {
        priority: i64,
        weight: i64,
        paused: bool,
        continuous: bool,
        max_running: i64,
        max_retries: i64,
    },
}

#[derive(Clone, Debug)]
struct QueryGen {
    names: Option<Vec<usize>>,
    statuses: Option<Vec<WorkUnitStatus>>,
    previous: Option<usize>,
    limit: i64,
}

#[derive(Clone, Debug)]
enum QueryKind {
    List,
    Delete,
    SetPriority(f64),
    Adjust(f64),
}

#[derive(Clone, Debug)]
struct ReqGen {
    n: i64,
    specs: Vec<usize>,
    runtimes: Vec<&'static str>,
    lifetime_ms: i64,
}

#[derive(Clone, Debug)]
enum AttKind {
    Status,
    Data,
    StartTime,
    EndTime,
    ExpirationTime,
    Renew(i64, Option<DataGen>),
    Expire(Option<DataGen>),
    Finish(Option<DataGen>),
    Fail(Option<DataGen>),
    Retry(Option<DataGen>, i64),
}

#[derive(Clone, Debug)]
enum UnitKind {
    Status,
    Data,
    Meta,
    NumAttempts,
    ActiveAttempt,
    Attempts,
    SetPriority(f64),
    SetMeta(f64, Option<i64>),
    ClearActive,
}

/// Which attempt an attempt operation acts on: one of the last few
/// registered (recent) or any registered one, stale ones included.
#[derive(Clone, Debug)]
struct AttRef {
    recent: bool,
    idx: Index,
}

#[derive(Clone, Debug)]
enum Advance {
    By(i64),
    Nanos(i64),
    /// To an attempt's expiration time plus `extra` nanoseconds.
    ToExpiry(AttRef, i64),
}

#[derive(Clone, Debug)]
enum Op {
    SetWorkSpec(usize, SpecDataGen),
    SetSpecData(usize, SpecDataGen),
    DestroySpec(usize),
    LookupSpec(usize),
    SpecMeta(usize, bool),
    SetSpecMeta(usize, MetaChange),
    AddUnit(usize, UnitGen),
    AddUnits(usize, Vec<UnitGen>),
    LookupUnit(usize, usize),
    Request(usize, ReqGen),
    MakeAttempt(usize, usize, usize, i64),
    Attempt(AttRef, AttKind),
    Unit(usize, usize, UnitKind),
    Query(usize, QueryGen, QueryKind),
    CountStatus(usize),
    Summarize,
    WorkerAttempts(usize),
    Advance(Advance),
}

#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    start_ms: i64,
    specs: Vec<SpecDataGen>,
    /// (operation, run the full sweeping check after it)
    ops: Vec<(Op, bool)>,
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn unit_idx() -> impl Strategy<Value = usize> {
    prop_oneof![10 => 0..5usize, 1 => Just(5usize)]
}

fn item_gen() -> impl Strategy<Value = ItemGen> {
    let prio = prop_oneof![Just(0.0), Just(10.0), Just(-1.0)];
    let delay = prop_oneof![Just(0.0), Just(0.5), Just(90.0), Just(-5.0)];
    prop_oneof![
        4 => unit_idx().prop_map(ItemGen::Name),
        1 => unit_idx().prop_map(ItemGen::Bytes),
        1 => Just(ItemGen::BadBytes),
        4 => (
            unit_idx(),
            any::<bool>(),
            proptest::option::of((proptest::option::of(prio.clone()), proptest::option::of(delay))),
            proptest::option::weighted(0.3, prio),
        )
            .prop_map(|(name, null_data, meta, over)| ItemGen::Full { name, null_data, meta, over }),
        1 => unit_idx().prop_map(ItemGen::Short),
        1 => Just(ItemGen::NotList),
        1 => unit_idx().prop_map(ItemGen::BadPriority),
    ]
}

fn output_gen() -> impl Strategy<Value = OutputGen> {
    prop_oneof![
        4 => proptest::collection::vec(unit_idx(), 0..3).prop_map(OutputGen::Names),
        2 => proptest::collection::vec((unit_idx(), any::<bool>()), 0..3).prop_map(OutputGen::MapForm),
        1 => Just(OutputGen::BadMap),
        4 => proptest::collection::vec(item_gen(), 0..4).prop_map(OutputGen::Items),
        1 => Just(OutputGen::Scalar),
    ]
}

fn data_gen() -> impl Strategy<Value = DataGen> {
    prop_oneof![
        4 => Just(DataGen::Empty),
        3 => (0..4i64).prop_map(DataGen::Int),
        1 => Just(DataGen::Rich),
        5 => output_gen().prop_map(DataGen::Output),
    ]
}

fn opt_data() -> impl Strategy<Value = Option<DataGen>> {
    proptest::option::weighted(0.6, data_gen())
}

fn spec_data_gen() -> impl Strategy<Value = SpecDataGen> {
    let name = prop_oneof![
        30 => Just(NameGen::Own),
        1 => Just(NameGen::Missing),
        1 => Just(NameGen::Empty),
        1 => Just(NameGen::Null),
        1 => Just(NameGen::Number),
        1 => Just(NameGen::Other),
    ];
    (
        name,
        proptest::collection::vec((spec_key_idx(), 0..16usize), 0..6),
    )
        .prop_map(|(name, keys)| SpecDataGen { name, keys })
}

/// Which key of spec data to set; `then` and `max_retries` often, so that
/// chaining and retry limits come up in many cases.
fn spec_key_idx() -> impl Strategy<Value = usize> {
    prop_oneof![
        2 => Just(0usize),
        2 => Just(1usize),
        1 => Just(2usize),
        1 => Just(3usize),
        2 => Just(4usize),
        1 => Just(5usize),
        2 => Just(6usize),
        1 => Just(7usize),
        3 => Just(8usize),
        8 => Just(9usize),
        1 => Just(10usize),
        1 => Just(11usize),
        1 => Just(12usize),
        2 => Just(13usize),
        1 => Just(14usize),
    ]
}

fn unit_gen() -> impl Strategy<Value = UnitGen> {
    (
        unit_idx(),
        data_gen(),
        select(vec![0.0, 0.0, 0.0, 1.0, 5.0, -1.0, 0.5, -0.0, 100.0]),
        proptest::option::weighted(0.3, select(vec![-1000i64, 0, 1, 500, 10_000, 3_600_000])),
    )
        .prop_map(|(name, data, priority, not_before)| UnitGen {
            name,
            data,
            priority,
            not_before,
        })
}

fn meta_change() -> impl Strategy<Value = MetaChange> {
    prop_oneof![
        3 => any::<bool>().prop_map(MetaChange::Paused),
        2 => (0..4i64).prop_map(MetaChange::MaxRunning),
        2 => (0..4i64).prop_map(MetaChange::MaxGetwork),
        2 => (0..4i64).prop_map(MetaChange::MaxRetries),
        2 => (-1..6i64).prop_map(MetaChange::Weight),
        2 => (-1..3i64).prop_map(MetaChange::Priority),
        2 => any::<bool>().prop_map(MetaChange::Continuous),
        1 => select(vec![0i64, 500, 1000, 60_000]).prop_map(MetaChange::Interval),
        1 => proptest::option::of(select(vec![-1000i64, 0, 500, 60_000])).prop_map(MetaChange::NextContinuous),
        1 => (-1..3i64, 0..4i64, any::<bool>(), any::<bool>(), 0..3i64, 0..3i64).prop_map(
            |(priority, weight, paused, continuous, max_running, max_retries)| MetaChange::Full {
                priority, weight, paused, continuous, max_running, max_retries,
            }
        ),
    ]
}

fn query_gen() -> impl Strategy<Value = QueryGen> {
    let status = select(vec![
        WorkUnitStatus::Any,
        WorkUnitStatus::Available,
        WorkUnitStatus::Pending,
        WorkUnitStatus::Finished,
        WorkUnitStatus::Failed,
        WorkUnitStatus::Delayed,
    ]);
    (
        proptest::option::weighted(0.3, proptest::collection::vec(0..7usize, 0..4)),
        proptest::option::weighted(0.3, proptest::collection::vec(status, 0..3)),
        proptest::option::weighted(0.2, 0..7usize),
        prop_oneof![6 => Just(0i64), 1 => Just(-1i64), 3 => 1..4i64],
    )
        .prop_map(|(names, statuses, previous, limit)| QueryGen {
            names,
            statuses,
            previous,
            limit,
        })
}

fn req_gen() -> impl Strategy<Value = ReqGen> {
    (
        prop_oneof![6 => Just(0i64), 1 => Just(-1i64), 4 => 1..5i64],
        prop_oneof![6 => Just(vec![]), 2 => proptest::collection::vec(0..4usize, 0..3)],
        select(vec![
            vec![],
            vec![],
            vec![],
            vec![""],
            vec!["go"],
            vec!["go", "python"],
        ]),
        select(vec![0i64, 0, 0, -1000, 1000, 60_000, 900_000]),
    )
        .prop_map(|(n, specs, runtimes, lifetime_ms)| ReqGen {
            n,
            specs,
            runtimes,
            lifetime_ms,
        })
}

fn att_ref() -> impl Strategy<Value = AttRef> {
    (proptest::bool::weighted(0.7), any::<Index>()).prop_map(|(recent, idx)| AttRef { recent, idx })
}

fn att_kind() -> impl Strategy<Value = AttKind> {
    let dur = select(vec![-1000i64, 0, 1, 1000, 600_000, 1_200_000]);
    let delay = select(vec![0i64, 0, 500, 10_000, 3_600_000]);
    prop_oneof![
        2 => Just(AttKind::Status),
        1 => Just(AttKind::Data),
        1 => Just(AttKind::StartTime),
        1 => Just(AttKind::EndTime),
        1 => Just(AttKind::ExpirationTime),
        3 => (dur, opt_data()).prop_map(|(d, x)| AttKind::Renew(d, x)),
        2 => opt_data().prop_map(AttKind::Expire),
        8 => opt_data().prop_map(AttKind::Finish),
        3 => opt_data().prop_map(AttKind::Fail),
        3 => (opt_data(), delay).prop_map(|(x, d)| AttKind::Retry(x, d)),
    ]
}

fn unit_kind() -> impl Strategy<Value = UnitKind> {
    let prio = select(vec![0.0, 1.0, -1.0, 10.0, -0.0]);
    prop_oneof![
        2 => Just(UnitKind::Status),
        1 => Just(UnitKind::Data),
        1 => Just(UnitKind::Meta),
        1 => Just(UnitKind::NumAttempts),
        1 => Just(UnitKind::ActiveAttempt),
        1 => Just(UnitKind::Attempts),
        1 => prio.clone().prop_map(UnitKind::SetPriority),
        1 => (prio, proptest::option::of(select(vec![-1000i64, 0, 500, 60_000]))).prop_map(|(p, nb)| UnitKind::SetMeta(p, nb)),
        2 => Just(UnitKind::ClearActive),
    ]
}

fn advance() -> impl Strategy<Value = Advance> {
    prop_oneof![
        6 => select(vec![0i64, 1, 500, 1000, 5000, 60_000, 900_000, 3_600_000]).prop_map(Advance::By),
        1 => (1..3i64).prop_map(Advance::Nanos),
        3 => (att_ref(), select(vec![0i64, 1, 1_000_000])).prop_map(|(a, e)| Advance::ToExpiry(a, e)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let spec = || 0..3usize;
    prop_oneof![
        2 => (spec(), spec_data_gen()).prop_map(|(s, d)| Op::SetWorkSpec(s, d)),
        1 => (spec(), spec_data_gen()).prop_map(|(s, d)| Op::SetSpecData(s, d)),
        1 => spec().prop_map(Op::DestroySpec),
        1 => spec().prop_map(Op::LookupSpec),
        1 => (spec(), any::<bool>()).prop_map(|(s, c)| Op::SpecMeta(s, c)),
        4 => (spec(), meta_change()).prop_map(|(s, c)| Op::SetSpecMeta(s, c)),
        14 => (spec(), unit_gen()).prop_map(|(s, u)| Op::AddUnit(s, u)),
        3 => (spec(), proptest::collection::vec(unit_gen(), 0..5)).prop_map(|(s, u)| Op::AddUnits(s, u)),
        // big batches: many repeats of few names, in one call
        1 => (spec(), proptest::collection::vec(unit_gen(), 60..80)).prop_map(|(s, u)| Op::AddUnits(s, u)),
        1 => (spec(), unit_idx()).prop_map(|(s, u)| Op::LookupUnit(s, u)),
        14 => (0..2usize, req_gen()).prop_map(|(w, r)| Op::Request(w, r)),
        2 => (0..2usize, spec(), unit_idx(), select(vec![0i64, -1000, 1000, 600_000])).prop_map(|(w, s, u, l)| Op::MakeAttempt(w, s, u, l)),
        20 => (att_ref(), att_kind()).prop_map(|(a, k)| Op::Attempt(a, k)),
        6 => (spec(), unit_idx(), unit_kind()).prop_map(|(s, u, k)| Op::Unit(s, u, k)),
        1 => (spec(), query_gen()).prop_map(|(s, q)| Op::Query(s, q, QueryKind::List)),
        2 => (spec(), query_gen()).prop_map(|(s, q)| Op::Query(s, q, QueryKind::Delete)),
        1 => (spec(), query_gen(), select(vec![0.0, 2.0, -3.0])).prop_map(|(s, q, p)| Op::Query(s, q, QueryKind::SetPriority(p))),
        1 => (spec(), query_gen(), select(vec![1.0, -1.0, 0.5])).prop_map(|(s, q, p)| Op::Query(s, q, QueryKind::Adjust(p))),
        1 => spec().prop_map(Op::CountStatus),
        1 => Just(Op::Summarize),
        1 => (0..2usize).prop_map(Op::WorkerAttempts),
        10 => advance().prop_map(Op::Advance),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        0..2000i64,
        proptest::collection::vec(spec_data_gen(), 3),
        proptest::collection::vec((op(), proptest::bool::weighted(0.8)), 1..max_ops()),
    )
        .prop_map(|(seed, start_ms, specs, ops)| Case {
            seed,
            start_ms,
            specs,
            ops,
        })
}

fn max_ops() -> usize {
    std::env::var("COORDINATE_PROPTEST_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

// ---------------------------------------------------------------------------
// Building values from generated inputs (shared by engine and model)
// ---------------------------------------------------------------------------

/// One key of work spec data with a candidate value; some ill-typed.
fn spec_key(key: usize, v: usize) -> (&'static str, Value) {
    let pick = |vals: Vec<Value>| vals[v % vals.len()].clone();
    match key {
        0 => (
            "priority",
            pick(vec![
                Value::Int(0),
                Value::Int(1),
                Value::Int(2),
                Value::Int(-1),
                Value::Float(1.7),
                text("high"),
                Value::Null,
            ]),
        ),
        1 => (
            "weight",
            pick(vec![
                Value::Int(1),
                Value::Int(2),
                Value::Int(5),
                Value::Int(0),
                Value::Int(-3),
                Value::Float(2.5),
                text("heavy"),
            ]),
        ),
        2 => (
            "nice",
            pick(vec![
                Value::Int(5),
                Value::Int(25),
                Value::Int(-10),
                Value::Null,
            ]),
        ),
        3 => (
            "disabled",
            pick(vec![Value::Bool(true), Value::Bool(false), Value::Int(1)]),
        ),
        4 => (
            "continuous",
            pick(vec![
                Value::Bool(true),
                Value::Bool(true),
                Value::Bool(false),
                text("yes"),
            ]),
        ),
        5 => (
            "interval",
            pick(vec![
                Value::Int(0),
                Value::Float(0.5),
                Value::Int(1),
                Value::Int(60),
                text("soon"),
            ]),
        ),
        6 => (
            "max_running",
            pick(vec![
                Value::Int(1),
                Value::Int(2),
                Value::Int(0),
                Value::Float(1.9),
            ]),
        ),
        7 => (
            "max_getwork",
            pick(vec![Value::Int(1), Value::Int(2), Value::Int(0)]),
        ),
        8 => (
            "max_retries",
            pick(vec![
                Value::Int(1),
                Value::Int(2),
                Value::Int(3),
                Value::Int(0),
            ]),
        ),
        9 => (
            "then",
            pick(vec![
                text("s0"),
                text("s1"),
                text("s2"),
                text("missing"),
                Value::Int(3),
            ]),
        ),
        10 => ("runtime", pick(vec![text("go"), text(""), Value::Int(1)])),
        11 => (
            "min_gb",
            pick(vec![Value::Int(1), Value::Float(0.1), text("lots")]),
        ),
        12 => ("Weight", Value::Int(7)),
        13 => (
            "keep_attempts",
            pick(vec![
                Value::Int(1),
                Value::Int(2),
                Value::Int(0),
                Value::Int(-1),
                Value::Float(1.5),
                text("x"),
            ]),
        ),
        _ => (
            "config",
            Value::Map([("empty_list".to_owned(), Value::List(vec![]))].into()),
        ),
    }
}

fn spec_data(own: &str, g: &SpecDataGen) -> Map {
    let mut m = Map::new();
    for &(k, v) in &g.keys {
        let (key, value) = spec_key(k, v);
        m.insert(key.to_owned(), value);
    }
    match g.name {
        NameGen::Own => {
            m.insert("name".into(), text(own));
        }
        NameGen::Missing => {}
        NameGen::Empty => {
            m.insert("name".into(), text(""));
        }
        NameGen::Null => {
            m.insert("name".into(), Value::Null);
        }
        NameGen::Number => {
            m.insert("name".into(), Value::Int(4));
        }
        NameGen::Other => {
            m.insert("name".into(), text("s9"));
        }
    }
    m
}

fn data(g: &DataGen) -> Map {
    match g {
        DataGen::Empty => Map::new(),
        DataGen::Int(i) => [("k".to_owned(), Value::Int(*i))].into(),
        DataGen::Rich => [
            ("f".to_owned(), Value::Float(1.5)),
            ("b".to_owned(), Value::Bytes(vec![1, 2])),
            ("l".to_owned(), Value::List(vec![])),
            ("m".to_owned(), Value::Map(Map::new())),
            ("n".to_owned(), Value::Null),
            ("s".to_owned(), text("x")),
        ]
        .into(),
        DataGen::Output(o) => [("output".to_owned(), output(o))].into(),
    }
}

fn opt(g: &Option<DataGen>) -> Option<Map> {
    g.as_ref().map(data)
}

fn output(g: &OutputGen) -> Value {
    match g {
        OutputGen::Names(ns) => Value::List(ns.iter().map(|&n| text(UNITS[n])).collect()),
        OutputGen::MapForm(es) => Value::Map(
            es.iter()
                .map(|&(n, null)| {
                    let d = if null {
                        Value::Null
                    } else {
                        Value::Map([("from".to_owned(), text("map"))].into())
                    };
                    (UNITS[n].to_owned(), d)
                })
                .collect(),
        ),
        OutputGen::BadMap => Value::Map(
            [
                ("a".to_owned(), Value::Map(Map::new())),
                ("b".to_owned(), Value::Int(1)),
            ]
            .into(),
        ),
        OutputGen::Items(items) => Value::List(items.iter().map(item).collect()),
        OutputGen::Scalar => text("a"),
    }
}

fn item(g: &ItemGen) -> Value {
    match g {
        ItemGen::Name(n) => text(UNITS[*n]),
        ItemGen::Bytes(n) => Value::Bytes(UNITS[*n].as_bytes().to_vec()),
        ItemGen::BadBytes => Value::Bytes(vec![0xff, 0xfe]),
        ItemGen::Full {
            name,
            null_data,
            meta,
            over,
        } => {
            let mut l = vec![
                text(UNITS[*name]),
                if *null_data {
                    Value::Null
                } else {
                    Value::Map([("from".to_owned(), text("item"))].into())
                },
            ];
            if meta.is_some() || over.is_some() {
                l.push(match meta {
                    None => Value::Null,
                    Some((p, d)) => {
                        let mut m = Map::new();
                        if let Some(p) = p {
                            m.insert("priority".into(), Value::Float(*p));
                        }
                        if let Some(d) = d {
                            m.insert("delay".into(), Value::Float(*d));
                        }
                        m.insert("ignored".into(), text("x"));
                        Value::Map(m)
                    }
                });
            }
            if let Some(o) = over {
                // an integer priority is accepted too (D23)
                l.push(if o.fract() == 0.0 {
                    Value::Int(*o as i64)
                } else {
                    Value::Float(*o)
                });
            }
            Value::List(l)
        }
        ItemGen::Short(n) => Value::List(vec![text(UNITS[*n])]),
        ItemGen::NotList => Value::Int(7),
        ItemGen::BadPriority(n) => Value::List(vec![
            text(UNITS[*n]),
            Value::Map(Map::new()),
            Value::Null,
            text("high"),
        ]),
    }
}

fn query(g: &QueryGen) -> WorkUnitQuery {
    // index 6 names a unit that never exists
    let name = |i: usize| UNITS.get(i).copied().unwrap_or("zz").to_owned();
    WorkUnitQuery {
        names: g
            .names
            .as_ref()
            .map(|ns| ns.iter().map(|&i| name(i)).collect()),
        statuses: g.statuses.clone(),
        previous_name: g.previous.map(name).unwrap_or_default(),
        limit: g.limit,
    }
}

fn request(g: &ReqGen) -> AttemptRequest {
    AttemptRequest {
        available_gb: 1.0,
        lifetime: ms(g.lifetime_ms),
        number_of_work_units: g.n,
        work_specs: g
            .specs
            .iter()
            .map(|&i| SPECS.get(i).copied().unwrap_or("missing").to_owned())
            .collect(),
        runtimes: g.runtimes.iter().map(|s| s.to_string()).collect(),
    }
}

// ---------------------------------------------------------------------------
// The reference model: written from docs/semantics.md, full scans everywhere
// ---------------------------------------------------------------------------

struct MAtt {
    spec: String,
    unit: String,
    worker: usize,
    status: AttemptStatus,
    data: Map,
    start: Time,
    end: Option<Time>,
    expiration: Time,
    /// false once its unit (or spec) was deleted
    alive: bool,
}

struct MUnit {
    gen: u64,
    data: Map,
    priority: f64,
    not_before: Option<Time>,
    active: Option<usize>,
    /// the attempts kept (§3.18), oldest first
    attempts: Vec<usize>,
    /// every attempt ever made: NumAttempts
    made: usize,
}

struct MSpec {
    gen: u64,
    data: Map,
    meta: WorkSpecMeta,
    units: BTreeMap<String, MUnit>,
}

/// Handle identity in the model: the generation of the object it points at.
#[derive(Clone, Copy, Debug)]
struct SpecRef(u64);
#[derive(Clone, Copy, Debug)]
struct UnitRef(u64, u64);

struct Model {
    now: Time,
    rng: StdRng,
    next_gen: u64,
    specs: BTreeMap<String, MSpec>,
    /// every attempt ever made, in creation order
    atts: Vec<MAtt>,
}

/// §3.2.2, read naively key by key.
fn derive_meta(d: &Map) -> Result<(String, WorkSpecMeta), Error> {
    let name = match d.get("name") {
        None | Some(Value::Null) => return Err(Error::NoWorkSpecName),
        Some(Value::String(s)) if s.is_empty() => return Err(Error::NoWorkSpecName),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(Error::BadWorkSpecName),
    };
    // §3.18: keep_attempts is a whole number in u32 range, or absent/null.
    match d.get("keep_attempts") {
        None | Some(Value::Null) => {}
        Some(Value::Int(i)) if (0..=i64::from(u32::MAX)).contains(i) => {}
        Some(Value::Float(f)) if f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(f) => {}
        Some(v) => {
            let got = match v {
                Value::Int(i) => i.to_string(),
                Value::Float(f) => f.to_string(),
                Value::String(s) => format!("{s:?}"),
                other => format!("{other:?}"),
            };
            return Err(Error::InvalidArgument {
                what: "keep_attempts".into(),
                reason: format!(
                    "must be a whole number from 0 to 4294967295 (0 keeps every attempt); got {got}"
                ),
            });
        }
    }
    let num = |k: &str| match d.get(k) {
        Some(Value::Int(i)) => Some(*i as f64),
        Some(Value::Float(f)) => Some(*f),
        _ => None,
    };
    let int = |k: &str| match d.get(k) {
        Some(Value::Int(i)) => *i,
        Some(Value::Float(f)) => f.trunc() as i64,
        _ => 0,
    };
    let flag = |k: &str| d.get(k) == Some(&Value::Bool(true));
    let string = |k: &str| match d.get(k) {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let mut weight = int("weight");
    if weight == 0 {
        weight = 20 - int("nice");
    }
    if weight <= 0 {
        weight = 1;
    }
    Ok((
        name,
        WorkSpecMeta {
            priority: int("priority"),
            weight,
            paused: flag("disabled"),
            continuous: flag("continuous"),
            can_be_continuous: flag("continuous"),
            min_memory_gb: num("min_gb").unwrap_or(0.0),
            interval: secs_f(num("interval").unwrap_or(0.0)),
            next_continuous: None,
            max_running: int("max_running"),
            max_attempts_returned: int("max_getwork"),
            max_retries: int("max_retries"),
            next_work_spec_name: string("then"),
            available_count: 0,
            pending_count: 0,
            runtime: string("runtime"),
        },
    ))
}

/// §3.14 ExtractAddWorkUnitItem, naively: (name, data, priority, not_before).
fn extract_item(obj: &Value, now: Time) -> Option<(String, Map, f64, Option<Time>)> {
    let name_of = |v: &Value| match v {
        Value::String(s) => Some(Some(s.clone())),
        Value::Bytes(b) => Some(String::from_utf8(b.clone()).ok()),
        _ => None,
    };
    if let Some(name) = name_of(obj) {
        return name.map(|n| (n, Map::new(), 0.0, None));
    }
    let Value::List(parts) = obj else { return None };
    if parts.len() < 2 {
        return None;
    }
    let name = name_of(&parts[0]).flatten()?;
    let data = match &parts[1] {
        Value::Null => Map::new(),
        Value::Map(m) => m.clone(),
        _ => return None,
    };
    let number = |v: &Value| match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    };
    let (mut priority, mut delay) = (0.0, 0.0);
    match parts.get(2) {
        None | Some(Value::Null) => {}
        Some(Value::Map(m)) => {
            if let Some(p) = m.get("priority") {
                priority = number(p)?;
            }
            if let Some(d) = m.get("delay") {
                delay = number(d)?;
            }
        }
        Some(_) => return None,
    }
    let not_before = (delay > 0.0).then(|| now + secs_f(delay));
    match parts.get(3) {
        None | Some(Value::Null) => {}
        Some(v) => priority = number(v)?,
    }
    Some((name, data, priority, not_before))
}

/// §3.14 ExtractWorkUnitOutput.
fn extract_output(output: &Value, now: Time) -> BTreeMap<String, (Map, f64, Option<Time>)> {
    let mut out = BTreeMap::new();
    match output {
        Value::Map(m) => {
            for (k, v) in m {
                let d = match v {
                    Value::Null => Map::new(),
                    Value::Map(d) => d.clone(),
                    _ => return BTreeMap::new(),
                };
                out.insert(k.clone(), (d, 0.0, None));
            }
        }
        Value::List(l) => {
            for obj in l {
                if let Some((n, d, p, nb)) = extract_item(obj, now) {
                    out.insert(n, (d, p, nb));
                }
            }
        }
        _ => {}
    }
    out
}

/// §3.8 CanStartContinuous.
fn can_start_continuous(m: &WorkSpecMeta, now: Time) -> bool {
    m.continuous
        && m.available_count == 0
        && m.pending_count == 0
        && m.next_continuous.is_none_or(|t| t <= now)
}

/// §3.8 CanDoWork.
fn can_do_work(m: &WorkSpecMeta, now: Time) -> bool {
    !m.paused
        && m.weight > 0
        && !(m.max_running > 0 && m.pending_count >= m.max_running)
        && (m.available_count > 0 || can_start_continuous(m, now))
}

fn traceback() -> Map {
    [("traceback".to_owned(), text("too many retries"))].into()
}

impl Model {
    fn new(now: Time, seed: u64) -> Self {
        Model {
            now,
            rng: StdRng::seed_from_u64(seed),
            next_gen: 0,
            specs: BTreeMap::new(),
            atts: Vec::new(),
        }
    }

    fn fresh(&mut self) -> u64 {
        self.next_gen += 1;
        self.next_gen
    }

    fn spec_live(&self, name: &str, r: SpecRef) -> Result<(), Error> {
        match self.specs.get(name) {
            Some(s) if s.gen == r.0 => Ok(()),
            _ => Err(Error::Gone),
        }
    }

    fn unit_live(&self, spec: &str, unit: &str, r: UnitRef) -> Result<(), Error> {
        self.spec_live(spec, SpecRef(r.0))?;
        match self.specs[spec].units.get(unit) {
            Some(u) if u.gen == r.1 => Ok(()),
            _ => Err(Error::Gone),
        }
    }

    fn att_live(&self, a: usize) -> Result<&MAtt, Error> {
        let att = &self.atts[a];
        if att.alive {
            Ok(att)
        } else {
            Err(Error::Gone)
        }
    }

    fn unit_mut(&mut self, spec: &str, unit: &str) -> &mut MUnit {
        self.specs
            .get_mut(spec)
            .and_then(|s| s.units.get_mut(unit))
            .expect("model: unit exists")
    }

    /// §3.3.3, without the sweep.
    fn status(&self, u: &MUnit) -> WorkUnitStatus {
        match u.active.map(|a| self.atts[a].status) {
            Some(AttemptStatus::Pending) => WorkUnitStatus::Pending,
            Some(AttemptStatus::Finished) => WorkUnitStatus::Finished,
            Some(AttemptStatus::Failed) => WorkUnitStatus::Failed,
            _ => {
                if u.not_before.is_some_and(|nb| self.now < nb) {
                    WorkUnitStatus::Delayed
                } else {
                    WorkUnitStatus::Available
                }
            }
        }
    }

    /// §3.3.2
    fn unit_data(&self, u: &MUnit) -> Map {
        match u.active {
            Some(a) => self.atts[a].data.clone(),
            None => u.data.clone(),
        }
    }

    /// §3.5: expire every active Pending attempt past its deadline.
    fn sweep(&mut self, spec: &str) {
        let Some(s) = self.specs.get(spec) else {
            return;
        };
        let expired: Vec<usize> = s
            .units
            .values()
            .filter_map(|u| u.active)
            .filter(|&a| {
                self.atts[a].status == AttemptStatus::Pending && self.atts[a].expiration < self.now
            })
            .collect();
        for a in expired {
            bump(7);
            self.complete(a, AttemptStatus::Expired, None);
        }
    }

    fn sweep_all(&mut self) {
        let names: Vec<String> = self.specs.keys().cloned().collect();
        for n in names {
            self.sweep(&n);
        }
    }

    /// §3.4.3 Complete(S, data). Leaving the worker's active list is implied:
    /// a worker's active attempts are its live Pending ones.
    fn complete(&mut self, a: usize, status: AttemptStatus, data: Option<Map>) {
        let now = self.now;
        let att = &mut self.atts[a];
        att.status = status;
        att.end = Some(now);
        if let Some(d) = data {
            att.data = d;
        }
        if matches!(status, AttemptStatus::Expired | AttemptStatus::Retryable) {
            let (s, u) = (att.spec.clone(), att.unit.clone());
            let unit = self.unit_mut(&s, &u);
            if unit.active == Some(a) {
                unit.active = None;
            }
        }
    }

    fn is_active(&self, a: usize) -> bool {
        let att = &self.atts[a];
        self.specs[&att.spec].units[&att.unit].active == Some(a)
    }

    /// §3.3.1 AddWorkUnit (also used by chaining and continuous creation).
    fn put_unit(
        &mut self,
        spec: &str,
        name: &str,
        data: Map,
        priority: f64,
        not_before: Option<Time>,
    ) -> u64 {
        if self.specs[spec].units.contains_key(name) {
            let unit = self.unit_mut(spec, name);
            unit.data = data;
            unit.priority = priority;
            unit.not_before = not_before;
            let active_status = unit.active.map(|a| self.atts[a].status);
            let unit = self.unit_mut(spec, name);
            if matches!(
                active_status,
                Some(AttemptStatus::Finished | AttemptStatus::Failed)
            ) {
                bump(14);
                unit.active = None;
            } else if active_status == Some(AttemptStatus::Pending) {
                bump(18);
            }
            return unit.gen;
        }
        let gen = self.fresh();
        self.specs.get_mut(spec).expect("spec").units.insert(
            name.to_owned(),
            MUnit {
                gen,
                data,
                priority,
                not_before,
                active: None,
                attempts: Vec::new(),
                made: 0,
            },
        );
        gen
    }

    /// §3.4.1
    fn start_attempt(&mut self, spec: &str, name: &str, worker: usize, life: TimeDelta) -> usize {
        let id = self.atts.len();
        let now = self.now;
        let keep = match self.specs[spec].data.get("keep_attempts") {
            Some(Value::Int(i)) => *i as usize,
            Some(Value::Float(f)) => *f as usize,
            _ => 0,
        };
        let unit = self.unit_mut(spec, name);
        unit.active = Some(id);
        unit.attempts.push(id);
        unit.made += 1;
        let mut dropped = Vec::new();
        if keep > 0 && unit.attempts.len() > keep {
            let n = unit.attempts.len() - keep;
            dropped = unit.attempts.drain(..n).collect();
        }
        let data = unit.data.clone();
        for a in dropped {
            self.atts[a].alive = false;
        }
        self.atts.push(MAtt {
            spec: spec.to_owned(),
            unit: name.to_owned(),
            worker,
            status: AttemptStatus::Pending,
            data,
            start: now,
            end: None,
            expiration: now + life,
            alive: true,
        });
        id
    }

    fn remove_unit(&mut self, spec: &str, name: &str) {
        let unit = self
            .specs
            .get_mut(spec)
            .and_then(|s| s.units.remove(name))
            .expect("unit");
        for a in unit.attempts {
            self.atts[a].alive = false;
        }
    }

    /// Meta with counts (§3.2.3), after the caller swept.
    fn meta_counts(&self, spec: &str) -> WorkSpecMeta {
        let s = &self.specs[spec];
        let mut m = s.meta.clone();
        m.available_count = s
            .units
            .values()
            .filter(|u| self.status(u) == WorkUnitStatus::Available)
            .count() as i64;
        m.pending_count = s
            .units
            .values()
            .filter(|u| self.status(u) == WorkUnitStatus::Pending)
            .count() as i64;
        m
    }

    /// §3.3.7, after the caller swept.
    fn counts(&self, spec: &str) -> BTreeMap<WorkUnitStatus, i64> {
        let mut out = BTreeMap::new();
        for u in self.specs[spec].units.values() {
            *out.entry(self.status(u)).or_insert(0) += 1;
        }
        out
    }

    /// §3.3.6: sweeps, then selects names ascending.
    fn select(&mut self, spec: &str, q: &WorkUnitQuery) -> Vec<String> {
        self.sweep(spec);
        let mut out: Vec<String> = self.specs[spec]
            .units
            .iter()
            .filter(|(n, u)| {
                q.names.as_ref().is_none_or(|ns| ns.contains(n))
                    && q.statuses.as_ref().is_none_or(|ss| {
                        ss.contains(&WorkUnitStatus::Any) || ss.contains(&self.status(u))
                    })
                    && (q.previous_name.is_empty() || n.as_str() > q.previous_name.as_str())
            })
            .map(|(n, _)| n.clone())
            .collect();
        out.sort();
        if q.limit > 0 {
            out.truncate(q.limit as usize);
        }
        out
    }

    /// §3.8, with the engine's draw: one `random_range(0..sum)` only when
    /// two or more candidates have a positive score.
    fn schedule(&mut self, metas: &BTreeMap<String, WorkSpecMeta>) -> Option<String> {
        let now = self.now;
        let eligible: Vec<(&String, &WorkSpecMeta)> =
            metas.iter().filter(|(_, m)| can_do_work(m, now)).collect();
        let top = eligible.iter().map(|(_, m)| m.priority).max()?;
        let cands: Vec<(&String, &WorkSpecMeta)> = eligible
            .into_iter()
            .filter(|(_, m)| m.priority == top)
            .collect();
        let w: i128 = cands.iter().map(|(_, m)| m.weight as i128).sum();
        let p: i128 = cands.iter().map(|(_, m)| m.pending_count as i128).sum();
        let scored: Vec<(&String, i128)> = cands
            .iter()
            .map(|(n, m)| (*n, m.weight as i128 * (p + 1) - w * m.pending_count as i128))
            .filter(|(_, s)| *s > 0)
            .collect();
        assert!(!scored.is_empty(), "model: scores sum to W > 0");
        if scored.len() == 1 {
            return Some(scored[0].0.clone());
        }
        let sum: i128 = scored.iter().map(|(_, s)| s).sum();
        bump(3);
        let mut r = self.rng.random_range(0..sum as u128) as i128;
        for (n, s) in &scored {
            if r < *s {
                return Some((*n).clone());
            }
            r -= s;
        }
        unreachable!("model: draw below the sum")
    }

    /// The best available unit: highest priority, then smallest name (full scan).
    fn best_available(&self, spec: &str) -> Option<String> {
        let mut best: Option<(&String, f64)> = None;
        for (n, u) in &self.specs[spec].units {
            if self.status(u) == WorkUnitStatus::Available
                && best.is_none_or(|(_, p)| u.priority > p)
            {
                best = Some((n, u.priority));
            }
        }
        best.map(|(n, _)| n.clone())
    }

    /// §3.7 RequestAttempts.
    fn request(&mut self, worker: usize, req: &AttemptRequest) -> Vec<usize> {
        let now = self.now;
        let n = req.number_of_work_units.max(1);
        self.sweep_all();
        let mut metas: BTreeMap<String, WorkSpecMeta> = self
            .specs
            .keys()
            .map(|s| (s.clone(), self.meta_counts(s)))
            .collect();
        if !req.work_specs.is_empty() {
            metas.retain(|k, _| req.work_specs.contains(k));
        }
        if !req.runtimes.is_empty() {
            metas.retain(|_, m| req.runtimes.contains(&m.runtime));
        }
        let Some(chosen) = self.schedule(&metas) else {
            return Vec::new();
        };
        let m = metas[&chosen].clone();
        let mut count = n;
        if m.max_attempts_returned > 0 {
            count = count.min(m.max_attempts_returned);
        }
        if m.max_running > 0 {
            count = count.min(m.max_running - m.pending_count);
        }
        assert!(count >= 1, "model: the scheduler guarantees room");
        let life = if req.lifetime > TimeDelta::zero() {
            req.lifetime
        } else {
            DEFAULT_LEASE
        };
        let mut taken = 0i64;
        let mut survivors = Vec::new();
        loop {
            let mut batch = Vec::new();
            while (batch.len() as i64) < count {
                let name = if let Some(name) = self.best_available(&chosen) {
                    name
                } else if m.available_count == 0
                    && m.pending_count + taken == 0
                    && can_start_continuous(&m, now)
                {
                    // §3.9
                    bump(6);
                    let name = format!("{}.{:03}", now.timestamp(), now.timestamp_subsec_millis());
                    if !self.specs[&chosen].units.contains_key(&name) {
                        self.put_unit(&chosen, &name, Map::new(), 0.0, None);
                    } else {
                        bump(16);
                    }
                    let spec = self.specs.get_mut(&chosen).expect("spec");
                    spec.meta.next_continuous = Some(now + spec.meta.interval);
                    name
                } else {
                    break;
                };
                batch.push(self.start_attempt(&chosen, &name, worker, life));
                taken += 1;
            }
            if batch.is_empty() {
                break;
            }
            // §3.6
            for a in batch {
                let att = &self.atts[a];
                let tries = self.specs[&att.spec].units[&att.unit].made as i64;
                if m.max_retries > 0 && tries > m.max_retries {
                    bump(5);
                    self.complete(a, AttemptStatus::Failed, Some(traceback()));
                } else {
                    survivors.push(a);
                }
            }
            if !survivors.is_empty() || m.max_retries <= 0 {
                break;
            }
            bump(17);
        }
        survivors
    }

    /// §3.10
    fn chain(&mut self, a: usize) {
        if !self.is_active(a) {
            return;
        }
        let att = &self.atts[a];
        let Some(out) = att.data.get("output") else {
            return;
        };
        let items = extract_output(out, self.now);
        let next = self.specs[&att.spec].meta.next_work_spec_name.clone();
        if next.is_empty() || !self.specs.contains_key(&next) {
            return;
        }
        for (name, (d, p, nb)) in items {
            bump(8);
            self.put_unit(&next, &name, d, p, nb);
        }
    }

    // --- attempt calls (§3.4.3) ---

    fn renew(&mut self, a: usize, d: TimeDelta, data: Option<Map>) -> Result<(), Error> {
        let status = self.att_live(a)?.status;
        match status {
            AttemptStatus::Pending if self.is_active(a) => {
                let now = self.now;
                let att = &mut self.atts[a];
                att.expiration = now + d;
                if let Some(x) = data {
                    att.data = x;
                }
                Ok(())
            }
            AttemptStatus::Pending | AttemptStatus::Expired => {
                self.complete(a, AttemptStatus::Expired, data);
                Err(Error::LostLease)
            }
            _ => Err(Error::NotPending),
        }
    }

    fn expire(&mut self, a: usize, data: Option<Map>) -> Result<(), Error> {
        match self.att_live(a)?.status {
            AttemptStatus::Pending => {
                self.complete(a, AttemptStatus::Expired, data);
                Ok(())
            }
            AttemptStatus::Expired => Ok(()),
            _ => Err(Error::NotPending),
        }
    }

    fn finish(&mut self, a: usize, data: Option<Map>) -> Result<(), Error> {
        match self.att_live(a)?.status {
            AttemptStatus::Pending | AttemptStatus::Failed => {
                let att = &self.atts[a];
                if att.status == AttemptStatus::Pending && att.expiration < self.now {
                    bump(15);
                }
                self.complete(a, AttemptStatus::Finished, data);
                self.chain(a);
                Ok(())
            }
            _ => Err(Error::NotPending),
        }
    }

    fn fail(&mut self, a: usize, data: Option<Map>) -> Result<(), Error> {
        match self.att_live(a)?.status {
            AttemptStatus::Pending => {
                self.complete(a, AttemptStatus::Failed, data);
                Ok(())
            }
            _ => Err(Error::NotPending),
        }
    }

    fn retry(&mut self, a: usize, data: Option<Map>, delay: TimeDelta) -> Result<(), Error> {
        match self.att_live(a)?.status {
            AttemptStatus::Pending => {
                if self.is_active(a) {
                    let (s, u, now) = (
                        self.atts[a].spec.clone(),
                        self.atts[a].unit.clone(),
                        self.now,
                    );
                    self.unit_mut(&s, &u).not_before = Some(now + delay);
                }
                self.complete(a, AttemptStatus::Retryable, data);
                Ok(())
            }
            _ => Err(Error::NotPending),
        }
    }

    /// Worker lists (§3.12): active = live and not yet completed.
    fn worker_attempts(&self, w: usize, active_only: bool) -> Vec<usize> {
        (0..self.atts.len())
            .filter(|&a| {
                let att = &self.atts[a];
                att.alive
                    && att.worker == w
                    && (!active_only || att.status == AttemptStatus::Pending)
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------
// The harness: one engine, one model, handles on both sides
// ---------------------------------------------------------------------------

struct Harness {
    clock: MockClock,
    ns: Namespace,
    workers: Vec<Worker>,
    model: Model,
    specs: BTreeMap<String, (WorkSpec, SpecRef)>,
    units: BTreeMap<(String, String), (WorkUnit, UnitRef)>,
    /// registered attempts: (engine handle, model id), in registration order
    atts: Vec<(Attempt, usize)>,
    by_engine: HashMap<Attempt, usize>,
    by_model: HashMap<usize, usize>,
}

fn same<T: PartialEq + Debug>(what: &str, engine: T, model: T) {
    assert_eq!(engine, model, "{what}: engine (left) != model (right)");
    if stats_on() {
        let text = format!("{model:?}");
        if text.contains("Gone") {
            bump(12);
        }
        if what.starts_with("attempt.")
            && !what.contains("time")
            && !what.contains("data")
            && what != "attempt.status"
        {
            if text == "Ok(())" {
                bump(9);
            } else if text.contains("NotPending") {
                bump(10);
            } else if text.contains("LostLease") {
                bump(11);
            }
        }
        if text.contains("Delayed") {
            bump(13);
        }
    }
}

fn stats_on() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("COORDINATE_MODEL_STATS").is_some())
}

/// Makes the Coordinate a case runs on, from its clock and seed.
pub type StoreFactory = Arc<dyn Fn(&MockClock, u64) -> Coordinate + Send + Sync>;

thread_local! {
    static STORE: std::cell::RefCell<Option<StoreFactory>> = const { std::cell::RefCell::new(None) };
}

fn open_store(clock: &MockClock, seed: u64) -> Coordinate {
    let store = STORE.with(|s| s.borrow().clone());
    match store {
        Some(store) => store(clock, seed),
        None => Coordinate::with_options(Arc::new(clock.clone()), Some(seed)),
    }
}

impl Harness {
    fn new(c: &Case) -> Self {
        let start = MockClock::default().now() + ms(c.start_ms);
        let clock = MockClock::new(start);
        let coord = open_store(&clock, c.seed);
        let ns = coord.namespace("ns").unwrap();
        let workers = WORKERS
            .iter()
            .map(|w| ns.worker(w).expect("worker"))
            .collect();
        let mut h = Harness {
            clock,
            ns,
            workers,
            model: Model::new(start, c.seed),
            specs: BTreeMap::new(),
            units: BTreeMap::new(),
            atts: Vec::new(),
            by_engine: HashMap::new(),
            by_model: HashMap::new(),
        };
        for (i, g) in c.specs.iter().enumerate() {
            // The initial specs must exist: no invalid keep_attempts (key 13,
            // values 3 and up) here; later set_work_spec/set_data ops try them.
            let g = SpecDataGen {
                name: NameGen::Own,
                keys: g
                    .keys
                    .iter()
                    .filter(|&&(k, v)| !(k == 13 && v % 6 >= 3))
                    .cloned()
                    .collect(),
            };
            h.set_work_spec(i, &g);
        }
        h
    }

    fn spec_ref(&self, name: &str) -> SpecRef {
        SpecRef(self.model.specs[name].gen)
    }

    fn unit_ref(&self, spec: &str, unit: &str) -> UnitRef {
        let s = &self.model.specs[spec];
        UnitRef(s.gen, s.units[unit].gen)
    }

    fn reg_unit(&mut self, spec: &str, unit: WorkUnit) {
        let r = self.unit_ref(spec, unit.name());
        self.units
            .insert((spec.to_owned(), unit.name().to_owned()), (unit, r));
    }

    /// Matches an engine attempt to a model attempt, registering it if new
    /// (attempts failed by max_retries are never returned by a request).
    fn match_att(&mut self, e: &Attempt, m: usize) {
        if let Some(&known) = self.by_engine.get(e) {
            assert_eq!(
                known, m,
                "attempt identity: engine {e:?} is model #{known}, expected #{m}"
            );
            return;
        }
        assert!(
            !self.by_model.contains_key(&m),
            "model attempt #{m} already has another engine handle; got {e:?}"
        );
        let att = &self.model.atts[m];
        same(
            "attempt descriptor",
            (
                e.work_unit().work_spec().name(),
                e.work_unit().name(),
                e.worker().name(),
            ),
            (att.spec.as_str(), att.unit.as_str(), WORKERS[att.worker]),
        );
        self.by_model.insert(m, self.atts.len());
        self.by_engine.insert(e.clone(), m);
        self.atts.push((e.clone(), m));
    }

    fn match_atts(&mut self, what: &str, e: Vec<Attempt>, m: Vec<usize>) {
        assert_eq!(e.len(), m.len(), "{what}: engine {e:?} vs model {m:?}");
        for (e, m) in e.iter().zip(m) {
            self.match_att(e, m);
        }
    }

    fn pick_att(&self, r: &AttRef) -> Option<usize> {
        if self.atts.is_empty() {
            return None;
        }
        Some(if r.recent {
            let k = self.atts.len().min(3);
            self.atts.len() - k + r.idx.index(k)
        } else {
            r.idx.index(self.atts.len())
        })
    }

    fn unit_handle(&mut self, spec: usize, unit: usize) -> Option<(WorkUnit, UnitRef)> {
        let key = (SPECS[spec].to_owned(), UNITS[unit].to_owned());
        if !self.units.contains_key(&key) {
            self.lookup_unit(spec, unit);
        }
        self.units.get(&key).cloned()
    }

    // --- operations ---

    fn set_work_spec(&mut self, spec: usize, g: &SpecDataGen) {
        let d = spec_data(SPECS[spec], g);
        let e = self.ns.set_work_spec(d.clone());
        let m = derive_meta(&d).map(|(name, meta)| {
            let gen = match self.model.specs.get_mut(&name) {
                Some(s) => {
                    s.data = d;
                    s.meta = meta;
                    s.gen
                }
                None => {
                    let gen = self.model.fresh();
                    self.model.specs.insert(
                        name.clone(),
                        MSpec {
                            gen,
                            data: d,
                            meta,
                            units: BTreeMap::new(),
                        },
                    );
                    gen
                }
            };
            (name, gen)
        });
        same(
            "set_work_spec",
            e.as_ref()
                .map(|s| s.name().to_owned())
                .map_err(Clone::clone),
            m.clone().map(|(n, _)| n),
        );
        if let (Ok(h), Ok((name, gen))) = (e, m) {
            self.specs.insert(name, (h, SpecRef(gen)));
        }
    }

    fn set_spec_data(&mut self, spec: usize, g: &SpecDataGen) {
        let name = SPECS[spec];
        let d = spec_data(name, g);
        let (h, r) = self.specs[name].clone();
        let e = h.set_data(d.clone());
        // §1.4: a dead spec answers Gone, whatever the argument.
        let m = self.model.spec_live(name, r).and_then(|()| {
            let (n, meta) = derive_meta(&d)?;
            if n != name {
                return Err(Error::ChangedName);
            }
            let s = self.model.specs.get_mut(name).expect("spec");
            s.data = d;
            s.meta = meta;
            Ok(())
        });
        same("set_data", e, m);
    }

    fn destroy_spec(&mut self, spec: usize) {
        let name = SPECS[spec];
        let e = self.ns.destroy_work_spec(name);
        let m = match self.model.specs.remove(name) {
            Some(s) => {
                for u in s.units.values() {
                    for &a in &u.attempts {
                        self.model.atts[a].alive = false;
                    }
                }
                Ok(())
            }
            None => Err(Error::NoSuchWorkSpec { name: name.into() }),
        };
        same("destroy_work_spec", e, m);
    }

    fn lookup_spec(&mut self, spec: usize) {
        let name = SPECS[spec];
        let e = self.ns.work_spec(name);
        let m = match self.model.specs.get(name) {
            Some(_) => Ok(name.to_owned()),
            None => Err(Error::NoSuchWorkSpec { name: name.into() }),
        };
        same(
            "work_spec",
            e.as_ref()
                .map(|s| s.name().to_owned())
                .map_err(Clone::clone),
            m,
        );
        if let Ok(h) = e {
            let r = self.spec_ref(name);
            self.specs.insert(name.to_owned(), (h, r));
        }
    }

    fn spec_meta(&mut self, spec: usize, with_counts: bool) {
        let name = SPECS[spec];
        let (h, r) = self.specs[name].clone();
        let e = h.meta(with_counts);
        let m = self.model.spec_live(name, r).map(|()| {
            if with_counts {
                self.model.sweep(name);
                self.model.meta_counts(name)
            } else {
                self.model.specs[name].meta.clone()
            }
        });
        same("meta", e, m);
    }

    fn set_spec_meta(&mut self, spec: usize, c: &MetaChange) {
        let name = SPECS[spec];
        let (h, r) = self.specs[name].clone();
        let now = self.model.now;
        let change = |m: &mut WorkSpecMeta| match *c {
            MetaChange::Paused(v) => m.paused = v,
            MetaChange::MaxRunning(v) => m.max_running = v,
            MetaChange::MaxGetwork(v) => m.max_attempts_returned = v,
            MetaChange::MaxRetries(v) => m.max_retries = v,
            MetaChange::Weight(v) => m.weight = v,
            MetaChange::Priority(v) => m.priority = v,
            MetaChange::Continuous(v) => m.continuous = v,
            MetaChange::Interval(v) => m.interval = ms(v),
            MetaChange::NextContinuous(v) => m.next_continuous = v.map(|d| now + ms(d)),
            MetaChange::Full {
                priority,
                weight,
                paused,
                continuous,
                max_running,
                max_retries,
            } => {
                *m = WorkSpecMeta {
                    priority,
                    weight,
                    paused,
                    continuous,
                    can_be_continuous: true,
                    min_memory_gb: 2.5,
                    interval: ms(1500),
                    next_continuous: None,
                    max_running,
                    max_attempts_returned: 1,
                    max_retries,
                    next_work_spec_name: "junk".into(),
                    available_count: 99,
                    pending_count: 99,
                    runtime: "junk".into(),
                }
            }
        };
        let e = h.meta(false).and_then(|mut m| {
            change(&mut m);
            h.set_meta(&m)
        });
        let m = self.model.spec_live(name, r).map(|()| {
            let mut arg = self.model.specs[name].meta.clone();
            change(&mut arg);
            // §3.2.4
            let cur = &mut self.model.specs.get_mut(name).expect("spec").meta;
            cur.priority = arg.priority;
            cur.weight = arg.weight;
            cur.paused = arg.paused;
            cur.interval = arg.interval;
            cur.next_continuous = arg.next_continuous;
            cur.max_running = arg.max_running;
            cur.max_attempts_returned = arg.max_attempts_returned;
            cur.max_retries = arg.max_retries;
            cur.min_memory_gb = arg.min_memory_gb;
            cur.continuous = arg.continuous && cur.can_be_continuous;
        });
        same("set_meta", e, m);
    }

    fn unit_meta(&self, g: &UnitGen) -> WorkUnitMeta {
        WorkUnitMeta {
            priority: g.priority,
            not_before: g.not_before.map(|d| self.model.now + ms(d)),
        }
    }

    fn add_unit(&mut self, spec: usize, g: &UnitGen) {
        let name = SPECS[spec];
        let (h, r) = self.specs[name].clone();
        let (uname, d, meta) = (UNITS[g.name], data(&g.data), self.unit_meta(g));
        let e = h.add_work_unit(uname, d.clone(), meta);
        let m = self.model.spec_live(name, r).map(|()| {
            self.model
                .put_unit(name, uname, d, meta.priority, meta.not_before)
        });
        same(
            "add_work_unit",
            e.as_ref()
                .map(|u| u.name().to_owned())
                .map_err(Clone::clone),
            m.map(|_| uname.to_owned()),
        );
        if let Ok(u) = e {
            self.reg_unit(name, u);
        }
    }

    fn add_units(&mut self, spec: usize, gs: &[UnitGen]) {
        let name = SPECS[spec];
        let (h, r) = self.specs[name].clone();
        let items: Vec<AddWorkUnitItem> = gs
            .iter()
            .map(|g| AddWorkUnitItem {
                key: UNITS[g.name].to_owned(),
                data: data(&g.data),
                meta: self.unit_meta(g),
            })
            .collect();
        let e = h.add_work_units(items.clone());
        let m = self.model.spec_live(name, r).map(|()| {
            for it in &items {
                self.model.put_unit(
                    name,
                    &it.key,
                    it.data.clone(),
                    it.meta.priority,
                    it.meta.not_before,
                );
            }
            // The count is of distinct names.
            items
                .iter()
                .map(|it| it.key.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        });
        same("add_work_units", e, m);
    }

    fn lookup_unit(&mut self, spec: usize, unit: usize) {
        let (name, uname) = (SPECS[spec], UNITS[unit]);
        let (h, r) = self.specs[name].clone();
        let e = h.work_unit(uname);
        let m = self.model.spec_live(name, r).and_then(|()| {
            if self.model.specs[name].units.contains_key(uname) {
                Ok(uname.to_owned())
            } else {
                Err(Error::NoSuchWorkUnit { name: uname.into() })
            }
        });
        same(
            "work_unit",
            e.as_ref()
                .map(|u| u.name().to_owned())
                .map_err(Clone::clone),
            m,
        );
        if let Ok(u) = e {
            self.reg_unit(name, u);
        }
    }

    fn request(&mut self, w: usize, g: &ReqGen) {
        let req = request(g);
        let e = self.workers[w]
            .request_attempts(&req)
            .expect("request_attempts");
        let m = self.model.request(w, &req);
        bump(1);
        if !m.is_empty() {
            bump(2);
        }
        for _ in &m {
            bump(4);
        }
        self.match_atts("request_attempts", e, m);
    }

    fn make_attempt(&mut self, w: usize, spec: usize, unit: usize, life_ms: i64) {
        let Some((u, r)) = self.unit_handle(spec, unit) else {
            return;
        };
        let (name, uname) = (SPECS[spec], UNITS[unit]);
        let e = self.workers[w].make_attempt(&u, ms(life_ms));
        let m = self.model.unit_live(name, uname, r).map(|()| {
            // One rule with request_attempts: zero or negative means the default.
            let life = if life_ms <= 0 {
                DEFAULT_LEASE
            } else {
                ms(life_ms)
            };
            self.model.start_attempt(name, uname, w, life)
        });
        same(
            "make_attempt",
            e.as_ref().map(|_| ()).map_err(Clone::clone),
            m.as_ref().map(|_| ()).map_err(Clone::clone),
        );
        if let (Ok(e), Ok(m)) = (e, m) {
            self.match_att(&e, m);
        }
    }

    fn attempt(&mut self, r: &AttRef, k: &AttKind) {
        let Some(i) = self.pick_att(r) else { return };
        let (h, a) = self.atts[i].clone();
        fn sweep(m: &mut Model, a: usize) -> Result<&MAtt, Error> {
            let spec = m.att_live(a)?.spec.clone();
            m.sweep(&spec);
            Ok(&m.atts[a])
        }
        let m = &mut self.model;
        match k {
            AttKind::Status => same("attempt.status", h.status(), sweep(m, a).map(|a| a.status)),
            AttKind::Data => same(
                "attempt.data",
                h.data(),
                m.att_live(a).map(|a| a.data.clone()),
            ),
            AttKind::StartTime => same(
                "attempt.start_time",
                h.start_time(),
                m.att_live(a).map(|a| a.start),
            ),
            AttKind::EndTime => same("attempt.end_time", h.end_time(), sweep(m, a).map(|a| a.end)),
            AttKind::ExpirationTime => same(
                "attempt.expiration_time",
                h.expiration_time(),
                sweep(m, a).map(|a| a.expiration),
            ),
            AttKind::Renew(d, x) => same(
                "attempt.renew",
                h.renew(ms(*d), opt(x)),
                m.renew(a, ms(*d), opt(x)),
            ),
            AttKind::Expire(x) => same("attempt.expire", h.expire(opt(x)), m.expire(a, opt(x))),
            AttKind::Finish(x) => same("attempt.finish", h.finish(opt(x)), m.finish(a, opt(x))),
            AttKind::Fail(x) => same("attempt.fail", h.fail(opt(x)), m.fail(a, opt(x))),
            AttKind::Retry(x, d) => same(
                "attempt.retry",
                h.retry(opt(x), ms(*d)),
                m.retry(a, opt(x), ms(*d)),
            ),
        }
    }

    fn unit(&mut self, spec: usize, unit: usize, k: &UnitKind) {
        let Some((u, r)) = self.unit_handle(spec, unit) else {
            return;
        };
        let (name, uname) = (SPECS[spec], UNITS[unit]);
        let live = self.model.unit_live(name, uname, r);
        let now = self.model.now;
        match k {
            UnitKind::Status => {
                let m = live.map(|()| {
                    self.model.sweep(name);
                    self.model.status(&self.model.specs[name].units[uname])
                });
                same("unit.status", u.status(), m);
            }
            UnitKind::Data => {
                let m = live.map(|()| self.model.unit_data(&self.model.specs[name].units[uname]));
                same("unit.data", u.data(), m);
            }
            UnitKind::Meta => {
                let m = live.map(|()| {
                    let mu = &self.model.specs[name].units[uname];
                    WorkUnitMeta {
                        priority: mu.priority,
                        not_before: mu.not_before,
                    }
                });
                same("unit.meta", u.meta(), m);
            }
            UnitKind::NumAttempts => {
                let m = live.map(|()| self.model.specs[name].units[uname].made);
                same("unit.num_attempts", u.num_attempts(), m);
            }
            UnitKind::ActiveAttempt => {
                let e = u.active_attempt();
                let m = live.map(|()| {
                    self.model.sweep(name);
                    self.model.specs[name].units[uname].active
                });
                same(
                    "unit.active_attempt",
                    e.as_ref().map(|a| a.is_some()).map_err(Clone::clone),
                    m.clone().map(|a| a.is_some()),
                );
                if let (Ok(Some(e)), Ok(Some(m))) = (e, m) {
                    self.match_att(&e, m);
                }
            }
            UnitKind::Attempts => {
                let e = u.attempts();
                let m = live.map(|()| self.model.specs[name].units[uname].attempts.clone());
                same(
                    "unit.attempts",
                    e.as_ref().map(Vec::len).map_err(Clone::clone),
                    m.as_ref().map(Vec::len).map_err(Clone::clone),
                );
                if let (Ok(e), Ok(m)) = (e, m) {
                    self.match_atts("unit.attempts", e, m);
                }
            }
            UnitKind::SetPriority(p) => {
                let m = live.map(|()| self.model.unit_mut(name, uname).priority = *p);
                same("unit.set_priority", u.set_priority(*p), m);
            }
            UnitKind::SetMeta(p, nb) => {
                let meta = WorkUnitMeta {
                    priority: *p,
                    not_before: nb.map(|d| now + ms(d)),
                };
                let m = live.map(|()| {
                    let mu = self.model.unit_mut(name, uname);
                    mu.priority = meta.priority;
                    mu.not_before = meta.not_before;
                });
                same("unit.set_meta", u.set_meta(meta), m);
            }
            UnitKind::ClearActive => {
                let m = live.map(|()| self.model.unit_mut(name, uname).active = None);
                same("unit.clear_active_attempt", u.clear_active_attempt(), m);
            }
        }
    }

    fn query(&mut self, spec: usize, g: &QueryGen, k: &QueryKind) {
        let name = SPECS[spec];
        let (h, r) = self.specs[name].clone();
        let q = query(g);
        let live = self.model.spec_live(name, r);
        match k {
            QueryKind::List => {
                let e = h.work_units(&q);
                let m = live.map(|()| self.model.select(name, &q));
                same(
                    "work_units",
                    e.as_ref()
                        .map(|us| us.keys().cloned().collect::<Vec<_>>())
                        .map_err(Clone::clone),
                    m,
                );
                if let Ok(us) = e {
                    for u in us.into_values() {
                        self.reg_unit(name, u);
                    }
                }
            }
            QueryKind::Delete => {
                let e = h.delete_work_units(&q);
                let m = live.map(|()| {
                    let sel = self.model.select(name, &q);
                    for n in &sel {
                        self.model.remove_unit(name, n);
                    }
                    sel.len()
                });
                same("delete_work_units", e, m);
            }
            QueryKind::SetPriority(p) => {
                let e = h.set_work_unit_priorities(&q, *p);
                let m = live.map(|()| {
                    for n in self.model.select(name, &q) {
                        self.model.unit_mut(name, &n).priority = *p;
                    }
                });
                same("set_work_unit_priorities", e, m);
            }
            QueryKind::Adjust(d) => {
                let e = h.adjust_work_unit_priorities(&q, *d);
                let m = live.map(|()| {
                    for n in self.model.select(name, &q) {
                        self.model.unit_mut(name, &n).priority += *d;
                    }
                });
                same("adjust_work_unit_priorities", e, m);
            }
        }
    }

    fn count_status(&mut self, spec: usize) {
        let name = SPECS[spec];
        let (h, r) = self.specs[name].clone();
        let e = h.count_work_unit_status();
        let m = self.model.spec_live(name, r).map(|()| {
            self.model.sweep(name);
            self.model.counts(name)
        });
        same("count_work_unit_status", e, m);
    }

    fn summarize(&mut self) {
        let mut e = self.ns.summarize().expect("summarize");
        e.sort();
        self.model.sweep_all();
        let mut m: Vec<SummaryRecord> = Vec::new();
        for s in self.model.specs.keys() {
            for (status, count) in self.model.counts(s) {
                m.push(SummaryRecord {
                    namespace: "ns".into(),
                    work_spec: s.clone(),
                    status,
                    count,
                });
            }
        }
        m.sort();
        same("summarize", e, m);
    }

    fn worker_attempts(&mut self, w: usize) {
        let e = self.workers[w].active_attempts().expect("active_attempts");
        let m = self.model.worker_attempts(w, true);
        self.match_atts("worker.active_attempts", e, m);
        let e = self.workers[w].all_attempts().expect("all_attempts");
        let m = self.model.worker_attempts(w, false);
        self.match_atts("worker.all_attempts", e, m);
    }

    fn advance(&mut self, a: &Advance) {
        let d = match a {
            Advance::By(v) => ms(*v),
            Advance::Nanos(v) => TimeDelta::nanoseconds(*v),
            Advance::ToExpiry(r, extra) => {
                let Some(i) = self.pick_att(r) else { return };
                let exp = self.model.atts[self.atts[i].1].expiration;
                let d = exp - self.model.now + TimeDelta::nanoseconds(*extra);
                if d < TimeDelta::zero() {
                    return;
                }
                d
            }
        };
        self.clock.advance(d);
        self.model.now += d;
    }

    fn run(&mut self, op: &Op) {
        match op {
            Op::SetWorkSpec(s, g) => self.set_work_spec(*s, g),
            Op::SetSpecData(s, g) => self.set_spec_data(*s, g),
            Op::DestroySpec(s) => self.destroy_spec(*s),
            Op::LookupSpec(s) => self.lookup_spec(*s),
            Op::SpecMeta(s, c) => self.spec_meta(*s, *c),
            Op::SetSpecMeta(s, c) => self.set_spec_meta(*s, c),
            Op::AddUnit(s, g) => self.add_unit(*s, g),
            Op::AddUnits(s, gs) => self.add_units(*s, gs),
            Op::LookupUnit(s, u) => self.lookup_unit(*s, *u),
            Op::Request(w, g) => self.request(*w, g),
            Op::MakeAttempt(w, s, u, l) => self.make_attempt(*w, *s, *u, *l),
            Op::Attempt(r, k) => self.attempt(r, k),
            Op::Unit(s, u, k) => self.unit(*s, *u, k),
            Op::Query(s, g, k) => self.query(*s, g, k),
            Op::CountStatus(s) => self.count_status(*s),
            Op::Summarize => self.summarize(),
            Op::WorkerAttempts(w) => self.worker_attempts(*w),
            Op::Advance(a) => self.advance(a),
        }
    }

    /// Compares the whole observable state. Reads that run a sweep (§3.5)
    /// only when `sweeping`, so that the step after a clock advance can
    /// still meet an unswept, past-deadline attempt (the grace window).
    fn check(&mut self, sweeping: bool) {
        same("clock", self.clock.now(), self.model.now);
        let names: Vec<String> = self.model.specs.keys().cloned().collect();
        same(
            "work_spec_names",
            self.ns.work_spec_names().expect("names"),
            names.clone(),
        );
        for name in &names {
            let h = self.ns.work_spec(name).expect("spec");
            same(
                &format!("{name}.data"),
                h.data().expect("data"),
                self.model.specs[name].data.clone(),
            );
            same(
                &format!("{name}.meta(false)"),
                h.meta(false).expect("meta"),
                self.model.specs[name].meta.clone(),
            );
            if sweeping {
                self.model.sweep(name);
                same(
                    &format!("{name}.count_work_unit_status"),
                    h.count_work_unit_status().expect("counts"),
                    self.model.counts(name),
                );
                same(
                    &format!("{name}.work_units"),
                    h.work_units(&WorkUnitQuery::default())
                        .expect("units")
                        .into_keys()
                        .collect::<Vec<_>>(),
                    self.model.specs[name].units.keys().cloned().collect(),
                );
                same(
                    &format!("{name}.meta(true)"),
                    h.meta(true).expect("meta"),
                    self.model.meta_counts(name),
                );
            }
            let units: Vec<String> = self.model.specs[name].units.keys().cloned().collect();
            for uname in units {
                let u = h.work_unit(&uname).expect("unit");
                let mu = &self.model.specs[name].units[&uname];
                let what = |x: &str| format!("{name}/{uname:?}.{x}");
                same(
                    &what("data"),
                    u.data().expect("data"),
                    self.model.unit_data(mu),
                );
                same(
                    &what("meta"),
                    u.meta().expect("meta"),
                    WorkUnitMeta {
                        priority: mu.priority,
                        not_before: mu.not_before,
                    },
                );
                same(&what("num_attempts"), u.num_attempts().expect("n"), mu.made);
                if sweeping {
                    same(
                        &what("status"),
                        u.status().expect("status"),
                        self.model.status(mu),
                    );
                    let active = mu.active;
                    match (u.active_attempt().expect("active"), active) {
                        (None, None) => {}
                        (Some(e), Some(m)) => self.match_att(&e, m),
                        (e, m) => panic!("{}: engine {e:?} vs model {m:?}", what("active_attempt")),
                    }
                }
            }
        }
        for i in 0..self.atts.len() {
            let (h, a) = self.atts[i].clone();
            let what = |x: &str| format!("attempt #{a} {h:?}.{x}");
            let m = self.model.att_live(a).map(|x| (x.data.clone(), x.start));
            same(
                &what("data/start"),
                h.data().and_then(|d| Ok((d, h.start_time()?))),
                m,
            );
            if sweeping {
                let m = self
                    .model
                    .att_live(a)
                    .map(|x| (x.status, x.end, x.expiration));
                let e = h
                    .status()
                    .and_then(|s| Ok((s, h.end_time()?, h.expiration_time()?)));
                same(&what("status/end/expiration"), e, m);
            }
        }
        for w in 0..WORKERS.len() {
            self.worker_attempts(w);
        }
    }
}

// ---------------------------------------------------------------------------
// Reproductions of discrepancies the model found
// ---------------------------------------------------------------------------

/// §1.4: any fallible call on a dead handle returns Gone. `WorkSpec::set_data`
/// validated its argument first, so a destroyed spec answered NoWorkSpecName
/// (or BadWorkSpecName) instead of Gone.
pub fn set_data_on_destroyed_spec_is_gone_whatever_the_data() {
    let coord = open_store(&MockClock::default(), 1);
    let ns = coord.namespace("ns").unwrap();
    let spec = ns
        .set_work_spec(coordinate::map([("name", "s")]))
        .expect("spec");
    ns.destroy_work_spec("s").expect("destroy");
    assert_eq!(spec.set_data(Map::new()), Err(Error::Gone));
    assert_eq!(
        spec.set_data(coordinate::map([("name", 4)])),
        Err(Error::Gone)
    );
    assert_eq!(
        spec.set_data(coordinate::map([("name", "s")])),
        Err(Error::Gone)
    );
}

/// The same for `Namespace::set_work_spec` on a destroyed namespace (§1.4,
/// §3.1): Gone, not a validation error, and nothing is created.
pub fn set_work_spec_on_destroyed_namespace_is_gone_whatever_the_data() {
    let coord = open_store(&MockClock::default(), 1);
    let ns = coord.namespace("ns").unwrap();
    ns.destroy().expect("destroy");
    assert_eq!(ns.set_work_spec(Map::new()).map(|_| ()), Err(Error::Gone));
    assert_eq!(
        ns.set_work_spec(coordinate::map([("name", 4)])).map(|_| ()),
        Err(Error::Gone)
    );
    assert!(coord.namespaces().unwrap().is_empty());
}

fn run_case(c: &Case) {
    let mut h = Harness::new(c);
    h.check(true);
    for (op, check) in &c.ops {
        bump(0);
        h.run(op);
        h.check(*check && !matches!(op, Op::Advance(_)));
    }
    h.check(true);
}

/// Uses `store` for every case run on this thread from now on.
pub fn use_store(store: StoreFactory) {
    STORE.with(|s| *s.borrow_mut() = Some(store));
}

/// Runs `default_cases` random cases (or `COORDINATE_PROPTEST_CASES`) on the
/// store set by `use_store` (memory by default).
pub fn engine_matches_model(default_cases: u32) {
    let cases = std::env::var("COORDINATE_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_cases);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    // Shrinking re-runs failing cases; keep their panic messages quiet on
    // this thread and report only the minimal one.
    thread_local!(static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !QUIET.with(|q| q.get()) {
            hook(info);
        }
    }));
    QUIET.with(|q| q.set(true));
    let result = runner.run(&case(), |c| {
        run_case(&c);
        Ok(())
    });
    QUIET.with(|q| q.set(false));
    if stats_on() {
        stats::print();
    }
    if let Err(e) = result {
        panic!("engine and model disagree: {e}");
    }
}
