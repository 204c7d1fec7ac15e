//! Model-based property test: random operation sequences run on the memory
//! engine (the reference) and on SQLite (and on PostgreSQL, given a server:
//! see `pg/mod.rs`) side by side, with one mock clock and one seed; every
//! reply must be the same (store ids aside, which each store chooses
//! itself). Some steps are batches of finishes and fails (repeats and
//! stale attempts included), with a request after them or not, the shape
//! of `Worker::finish_and_request`: the SQL stores read such a batch's
//! attempts ahead in one go.

mod pg;

use std::sync::Arc;

use chrono::TimeDelta;
use coordinate::backend::{Op, Reply};
use coordinate::{
    AddWorkUnitItem, AttemptRequest, Coordinate, Map, MockClock, Value, WorkSpecMeta, WorkUnitMeta,
    WorkUnitQuery, WorkUnitStatus,
};
use coordinate_sql::SqliteBackend;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value as J;

/// A reply as JSON without the stores' ids.
fn shape(r: &Result<Reply, coordinate::Error>) -> J {
    fn strip(v: &mut J) {
        match v {
            J::Object(m) => {
                m.remove("id");
                m.values_mut().for_each(strip);
            }
            J::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(r.as_ref().map_err(|e| e.code())).expect("reply to JSON");
    strip(&mut v);
    v
}

/// One store's ids for the logical objects of a run.
#[derive(Default)]
struct Ids {
    ns: u64,
    specs: Vec<u64>,
    workers: Vec<u64>,
    attempts: Vec<u64>,
    units: Vec<(usize, String, coordinate::backend::UnitId)>,
}

/// Logical operations; each becomes one `Op` per store.
#[derive(Debug, Clone)]
enum Step {
    Add(usize, String, f64, i64),
    AddMany(usize, Vec<String>),
    Request(usize, i64, i64, Option<usize>),
    Finish(usize, bool),
    Fail(usize),
    Retry(usize, i64),
    Expire(usize),
    Renew(usize, i64),
    Advance(i64),
    Delete(usize, Vec<String>),
    Status(usize),
    Counts(usize),
    Meta(usize),
    Clear(usize),
    Priority(usize, f64),
    MakeAttempt(usize, usize, i64),
    Pause(usize, bool),
    Summarize,
    WorkerLists(usize),
    UnitAttempts(usize),
    Query(usize, Option<WorkUnitStatus>, i64),
    /// Several steps in one `Backend::batch`.
    Batch(Vec<Step>),
}

fn random_step(rng: &mut StdRng) -> Step {
    let spec = rng.random_range(0..3usize);
    let name = format!("u{}", rng.random_range(0..8));
    let a = rng.random_range(0..64usize);
    match rng.random_range(0..22) {
        0 | 1 => Step::Add(
            spec,
            name,
            [0.0, 1.0, -1.0][rng.random_range(0..3)],
            rng.random_range(-1..2),
        ),
        2 => Step::AddMany(
            spec,
            (0..rng.random_range(1..5))
                .map(|i| format!("m{i}"))
                .collect(),
        ),
        3..=5 => Step::Request(
            rng.random_range(0..2),
            rng.random_range(0..4),
            rng.random_range(0..3),
            rng.random_bool(0.3).then_some(spec),
        ),
        6 | 7 => Step::Finish(a, rng.random_bool(0.5)),
        8 => Step::Fail(a),
        9 => Step::Retry(a, rng.random_range(0..3)),
        10 => Step::Expire(a),
        11 => Step::Renew(a, rng.random_range(-1..3)),
        12 | 13 => Step::Advance(rng.random_range(0..40)),
        14 => Step::Delete(spec, vec![name]),
        15 => Step::Status(rng.random_range(0..64)),
        16 => Step::Counts(spec),
        17 => match rng.random_range(0..4) {
            0 => Step::Meta(spec),
            1 => Step::Pause(spec, rng.random_bool(0.5)),
            2 => Step::Summarize,
            _ => Step::Query(
                spec,
                [
                    None,
                    Some(WorkUnitStatus::Available),
                    Some(WorkUnitStatus::Pending),
                ][rng.random_range(0..3)],
                rng.random_range(0..3),
            ),
        },
        18 => match rng.random_range(0..3) {
            0 => Step::Clear(rng.random_range(0..64)),
            1 => Step::Priority(rng.random_range(0..64), rng.random_range(-2..3) as f64),
            _ => Step::UnitAttempts(rng.random_range(0..64)),
        },
        19 => Step::MakeAttempt(
            rng.random_range(0..2),
            rng.random_range(0..64),
            rng.random_range(-1..2),
        ),
        20 => {
            let mut steps: Vec<Step> = (0..rng.random_range(2..7))
                .map(|_| match rng.random_range(0..4) {
                    0 => Step::Fail(rng.random_range(0..64)),
                    _ => Step::Finish(rng.random_range(0..64), rng.random_bool(0.5)),
                })
                .collect();
            if rng.random_bool(0.5) {
                steps.push(Step::Request(
                    rng.random_range(0..2),
                    rng.random_range(1..4),
                    rng.random_range(0..3),
                    None,
                ));
            }
            Step::Batch(steps)
        }
        _ => Step::WorkerLists(rng.random_range(0..2)),
    }
}

fn minutes(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

fn op_for(step: &Step, ids: &Ids) -> Option<Op> {
    let unit_at = |i: usize| ids.units.get(i % ids.units.len().max(1)).map(|u| u.2);
    let att = |i: usize| (!ids.attempts.is_empty()).then(|| ids.attempts[i % ids.attempts.len()]);
    Some(match step.clone() {
        Step::Add(s, name, p, delay) => Op::AddWorkUnit {
            spec: ids.specs[s],
            name,
            data: [("k".to_owned(), Value::Int(1))].into(),
            meta: WorkUnitMeta {
                priority: p,
                not_before: None,
            },
        }
        .with_delay(delay),
        Step::AddMany(s, names) => Op::AddWorkUnits {
            spec: ids.specs[s],
            items: names.into_iter().map(AddWorkUnitItem::named).collect(),
        },
        Step::Request(w, n, life, only) => Op::RequestAttempts {
            worker: ids.workers[w],
            request: AttemptRequest {
                number_of_work_units: n,
                lifetime: minutes(life * 10),
                work_specs: only.map(|s| vec![format!("s{s}")]).unwrap_or_default(),
                ..Default::default()
            },
        },
        Step::Finish(a, out) => Op::Finish {
            attempt: att(a)?,
            data: out.then(|| {
                let output = Value::List(vec!["c1".into(), "c2".into()]);
                [("output".to_owned(), output)].into()
            }),
        },
        Step::Fail(a) => Op::Fail {
            attempt: att(a)?,
            data: Some(Map::new()),
        },
        Step::Retry(a, d) => Op::Retry {
            attempt: att(a)?,
            data: None,
            delay: minutes(d * 5),
        },
        Step::Expire(a) => Op::Expire {
            attempt: att(a)?,
            data: None,
        },
        Step::Renew(a, d) => Op::Renew {
            attempt: att(a)?,
            extend: minutes(d * 10),
            data: None,
        },
        Step::Advance(_) | Step::Batch(_) => return None,
        Step::Delete(s, names) => Op::DeleteWorkUnits {
            spec: ids.specs[s],
            query: WorkUnitQuery {
                names: Some(names),
                ..Default::default()
            },
        },
        Step::Status(u) => Op::UnitStatus { unit: unit_at(u)? },
        Step::Counts(s) => Op::CountWorkUnitStatus { spec: ids.specs[s] },
        Step::Meta(s) => Op::SpecMeta {
            spec: ids.specs[s],
            with_counts: true,
        },
        Step::Clear(u) => Op::ClearActiveAttempt { unit: unit_at(u)? },
        Step::Priority(u, p) => Op::SetUnitPriority {
            unit: unit_at(u)?,
            priority: p,
        },
        Step::MakeAttempt(w, u, life) => Op::MakeAttempt {
            worker: ids.workers[w],
            unit: unit_at(u)?,
            lifetime: minutes(life * 10),
        },
        Step::Pause(s, paused) => Op::SetSpecMeta {
            spec: ids.specs[s],
            meta: Box::new(WorkSpecMeta {
                paused,
                weight: 1 + s as i64,
                max_retries: 3,
                ..Default::default()
            }),
        },
        Step::Summarize => Op::Summarize,
        Step::WorkerLists(w) => Op::AllAttempts {
            worker: ids.workers[w],
        },
        Step::UnitAttempts(u) => Op::UnitAttempts { unit: unit_at(u)? },
        Step::Query(s, status, limit) => Op::WorkUnits {
            spec: ids.specs[s],
            query: WorkUnitQuery {
                statuses: status.map(|x| vec![x]),
                limit,
                ..Default::default()
            },
        },
    })
}

trait WithDelay {
    fn with_delay(self, delay: i64) -> Self;
}

impl WithDelay for Op {
    fn with_delay(mut self, delay: i64) -> Self {
        if let Op::AddWorkUnit { meta, .. } = &mut self {
            if delay != 0 {
                meta.not_before = Some(MockClock::default().now() + minutes(delay * 30));
            }
        }
        self
    }
}

/// Records the ids a reply gives (attempts and units, in order).
fn learn(ids: &mut Ids, r: &Result<Reply, coordinate::Error>) {
    match r {
        Ok(Reply::Attempts(list)) => {
            for a in list {
                if !ids.attempts.contains(&a.id) {
                    ids.attempts.push(a.id);
                }
                learn(ids, &Ok(Reply::Unit(a.unit.clone())));
            }
        }
        Ok(Reply::Attempt(Some(a))) if !ids.attempts.contains(&a.id) => ids.attempts.push(a.id),
        Ok(Reply::Unit(u)) => {
            let spec = ids.specs.iter().position(|&s| s == u.spec.id).unwrap_or(0);
            if !ids.units.iter().any(|x| x.2 == u.key()) {
                ids.units.push((spec, u.name.to_string(), u.key()));
            }
        }
        _ => {}
    }
}

fn setup(c: &Coordinate) -> Ids {
    let ns = match c
        .backend()
        .call(Op::Namespace { name: "p".into() })
        .unwrap()
    {
        Reply::Namespace(n) => n.id,
        r => panic!("{r:?}"),
    };
    let mut ids = Ids {
        ns,
        ..Default::default()
    };
    for (i, extra) in [
        vec![("then", Value::from("s1"))],
        vec![("max_retries", Value::Int(2))],
        vec![
            ("continuous", Value::Bool(true)),
            ("interval", Value::Int(600)),
        ],
    ]
    .into_iter()
    .enumerate()
    {
        let mut data: Map = [("name".to_owned(), Value::from(format!("s{i}")))].into();
        data.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
        match c
            .backend()
            .call(Op::SetWorkSpec { ns: ids.ns, data })
            .unwrap()
        {
            Reply::Spec(s) => ids.specs.push(s.id),
            r => panic!("{r:?}"),
        }
    }
    for w in ["w0", "w1"] {
        match c
            .backend()
            .call(Op::Worker {
                ns: ids.ns,
                name: w.into(),
            })
            .unwrap()
        {
            Reply::Worker(Some(x)) => ids.workers.push(x.id),
            r => panic!("{r:?}"),
        }
    }
    ids
}

/// Runs `seeds` random sequences on the memory engine and on the store
/// `open` gives for a seed (with the run's clock and seed).
fn answers_like_the_memory_engine(
    seeds: u64,
    open: impl Fn(u64, &coordinate::ConnectOptions) -> Coordinate,
) {
    for seed in 0..seeds {
        let clock = MockClock::default();
        let memory = Coordinate::with_options(Arc::new(clock.clone()), Some(seed));
        let options = coordinate::ConnectOptions {
            clock: Some(Arc::new(clock.clone())),
            seed: Some(seed),
            ..Default::default()
        };
        let store = open(seed, &options);
        let mut mem_ids = setup(&memory);
        let mut sql_ids = setup(&store);
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
        let mut history = Vec::new();
        for _ in 0..250 {
            let step = random_step(&mut rng);
            history.push(step.clone());
            let steps = match step {
                Step::Advance(m) => {
                    clock.advance(minutes(m));
                    continue;
                }
                Step::Batch(steps) => steps,
                one => vec![one],
            };
            let (mops, sops): (Vec<Op>, Vec<Op>) = steps
                .iter()
                .filter_map(|step| Some((op_for(step, &mem_ids)?, op_for(step, &sql_ids)?)))
                .unzip();
            let (m, s) = if let ([mop], [sop]) = (&mops[..], &sops[..]) {
                (
                    vec![memory.backend().call(mop.clone())],
                    vec![store.backend().call(sop.clone())],
                )
            } else if mops.is_empty() {
                continue;
            } else {
                (
                    memory.backend().batch(mops).expect("a memory batch runs"),
                    store.backend().batch(sops).expect("a store batch runs"),
                )
            };
            assert_eq!(
                m.iter().map(shape).collect::<Vec<_>>(),
                s.iter().map(shape).collect::<Vec<_>>(),
                "seed {seed}, after steps {history:#?}"
            );
            m.iter().for_each(|r| learn(&mut mem_ids, r));
            s.iter().for_each(|r| learn(&mut sql_ids, r));
        }
        // The whole state agrees at the end too.
        let m = memory.backend().call(Op::Summarize);
        let s = store.backend().call(Op::Summarize);
        assert_eq!(shape(&m), shape(&s), "seed {seed}: final summaries");
    }
}

fn seeds(default: u64) -> u64 {
    std::env::var("COORDINATE_SQL_PROP_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn sqlite_answers_like_the_memory_engine() {
    let dir = tempfile::tempdir().unwrap();
    answers_like_the_memory_engine(seeds(40), |seed, options| {
        let path = dir.path().join(format!("p{seed}.db"));
        Coordinate::from_backend(Arc::new(
            SqliteBackend::open(path.to_str().unwrap(), options).unwrap(),
        ))
    });
}

/// The same on PostgreSQL (a fresh schema per seed; fewer seeds: each
/// creates a schema on the server).
#[test]
fn postgres_answers_like_the_memory_engine() {
    let Some(server) = pg::server() else {
        return;
    };
    answers_like_the_memory_engine(seeds(12), |_, options| {
        Coordinate::from_backend(Arc::new(
            coordinate_sql::PgBackend::open(&pg::fresh(&server, "diff"), options)
                .expect("a fresh PostgreSQL schema opens"),
        ))
    });
}
