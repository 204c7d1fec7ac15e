//! Direct operation tests: `Backend::call` on a fresh SQLite file per test.

use std::sync::Arc;

use chrono::TimeDelta;
use coordinate::backend::{AttemptRef, Op, Reply, SpecRef, UnitId, UnitRef, WorkerRef};
use coordinate::{
    map, AttemptRequest, AttemptStatus, Backend, ConnectOptions, Error, Map, MockClock, Value,
    WorkSpecMeta, WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
};
use coordinate_sql::SqliteBackend;

struct T {
    b: SqliteBackend,
    clock: MockClock,
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

fn open_at(path: &std::path::Path, clock: &MockClock) -> SqliteBackend {
    let options = ConnectOptions {
        clock: Some(Arc::new(clock.clone())),
        seed: Some(1),
        ..Default::default()
    };
    SqliteBackend::open(path.to_str().unwrap(), &options).unwrap()
}

fn fresh() -> T {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let clock = MockClock::default();
    T {
        b: open_at(&path, &clock),
        clock,
        _dir: dir,
        path,
    }
}

fn spec_data(name: &str) -> Map {
    map([("name", name)])
}

impl T {
    fn call(&self, op: Op) -> Result<Reply, Error> {
        self.b.call(op)
    }
    fn ns(&self, name: &str) -> u64 {
        match self.call(Op::Namespace { name: name.into() }).unwrap() {
            Reply::Namespace(n) => n.id,
            r => panic!("{r:?}"),
        }
    }
    fn spec(&self, ns: u64, data: Map) -> SpecRef {
        match self.call(Op::SetWorkSpec { ns, data }).unwrap() {
            Reply::Spec(s) => s,
            r => panic!("{r:?}"),
        }
    }
    fn add(&self, spec: u64, name: &str, data: Map, meta: WorkUnitMeta) -> UnitRef {
        match self
            .call(Op::AddWorkUnit {
                spec,
                name: name.into(),
                data,
                meta,
            })
            .unwrap()
        {
            Reply::Unit(u) => u,
            r => panic!("{r:?}"),
        }
    }
    fn worker(&self, ns: u64, name: &str) -> WorkerRef {
        match self
            .call(Op::Worker {
                ns,
                name: name.into(),
            })
            .unwrap()
        {
            Reply::Worker(Some(w)) => w,
            r => panic!("{r:?}"),
        }
    }
    fn request(&self, worker: u64, n: i64) -> Vec<AttemptRef> {
        match self
            .call(Op::RequestAttempts {
                worker,
                request: AttemptRequest {
                    number_of_work_units: n,
                    ..Default::default()
                },
            })
            .unwrap()
        {
            Reply::Attempts(a) => a,
            r => panic!("{r:?}"),
        }
    }
    fn names(&self, worker: u64, n: i64) -> Vec<String> {
        self.request(worker, n)
            .iter()
            .map(|a| a.unit.name.to_string())
            .collect()
    }
    fn status(&self, unit: UnitId) -> WorkUnitStatus {
        match self.call(Op::UnitStatus { unit }).unwrap() {
            Reply::UnitStatus(s) => s,
            r => panic!("{r:?}"),
        }
    }
    fn att_status(&self, attempt: u64) -> AttemptStatus {
        match self.call(Op::AttemptStatus { attempt }).unwrap() {
            Reply::AttemptStatus(s) => s,
            r => panic!("{r:?}"),
        }
    }
    fn counts(&self, spec: u64) -> Vec<(WorkUnitStatus, i64)> {
        match self.call(Op::CountWorkUnitStatus { spec }).unwrap() {
            Reply::StatusCounts(c) => c.into_iter().collect(),
            r => panic!("{r:?}"),
        }
    }
    fn meta(&self, spec: u64) -> WorkSpecMeta {
        match self
            .call(Op::SpecMeta {
                spec,
                with_counts: true,
            })
            .unwrap()
        {
            Reply::SpecMeta(m) => *m,
            r => panic!("{r:?}"),
        }
    }
    fn unit_data(&self, unit: UnitId) -> Map {
        match self.call(Op::UnitData { unit }).unwrap() {
            Reply::Data(d) => d,
            r => panic!("{r:?}"),
        }
    }
    fn finish(&self, attempt: u64, data: Option<Map>) -> Result<Reply, Error> {
        self.call(Op::Finish { attempt, data })
    }
}

#[test]
fn request_finish_and_chain_in_one_call() {
    let t = fresh();
    let ns = t.ns("ns");
    let one = t.spec(ns, map([("name", "one"), ("then", "two")]));
    let two = t.spec(ns, spec_data("two"));
    let u = t.add(one.id, "a", map([("k", 1)]), WorkUnitMeta::default());
    let w = t.worker(ns, "w");
    let atts = t.request(w.id, 1);
    assert_eq!(atts.len(), 1);
    assert_eq!(&*atts[0].unit.name, "a");
    assert_eq!(atts[0].worker.id, w.id);
    assert_eq!(t.status(u.key()), WorkUnitStatus::Pending);
    assert_eq!(t.counts(one.id), vec![(WorkUnitStatus::Pending, 1)]);
    let output = Value::List(vec![
        "x".into(),
        Value::List(vec!["y".into(), Value::Map(map([("z", 2.5)]))]),
    ]);
    t.finish(atts[0].id, Some(map([("output", output)])))
        .unwrap();
    assert_eq!(t.status(u.key()), WorkUnitStatus::Finished);
    assert_eq!(t.counts(one.id), vec![(WorkUnitStatus::Finished, 1)]);
    assert_eq!(t.counts(two.id), vec![(WorkUnitStatus::Available, 2)]);
    match t
        .call(Op::WorkUnit {
            spec: two.id,
            name: "y".into(),
        })
        .unwrap()
    {
        Reply::Unit(y) => assert_eq!(t.unit_data(y.key()), map([("z", 2.5)])),
        r => panic!("{r:?}"),
    }
    // A finished attempt cannot finish again.
    assert_eq!(t.finish(atts[0].id, None), Err(Error::NotPending));
    // The next request serves the only spec with work, in name order.
    assert_eq!(t.names(w.id, 10), vec!["x", "y"]);
}

#[test]
fn units_come_out_by_priority_then_name() {
    let t = fresh();
    let ns = t.ns("");
    let s = t.spec(ns, spec_data("s"));
    for name in ["m", "a", "z", "b"] {
        t.add(s.id, name, Map::new(), WorkUnitMeta::default());
    }
    let z = t.add(
        s.id,
        "z",
        Map::new(),
        WorkUnitMeta {
            priority: 100.0,
            not_before: None,
        },
    );
    t.call(Op::SetUnitPriority {
        unit: z.key(),
        priority: 100.0,
    })
    .unwrap();
    match t
        .call(Op::WorkUnit {
            spec: s.id,
            name: "a".into(),
        })
        .unwrap()
    {
        Reply::Unit(a) => {
            t.call(Op::SetUnitPriority {
                unit: a.key(),
                priority: -1.0,
            })
            .unwrap();
        }
        r => panic!("{r:?}"),
    }
    let w = t.worker(ns, "w");
    assert_eq!(t.names(w.id, 10), vec!["z", "b", "m", "a"]);
    assert!(t.request(w.id, 10).is_empty());
}

#[test]
fn expiry_is_lazy_strict_and_counts_retries() {
    let t = fresh();
    let ns = t.ns("ns");
    let s = t.spec(
        ns,
        map([("name", Value::from("s")), ("max_retries", 1.into())]),
    );
    let u = t.add(s.id, "u", Map::new(), WorkUnitMeta::default());
    let w = t.worker(ns, "w");
    let a = t.request(w.id, 1).remove(0);
    t.clock.advance(TimeDelta::minutes(15));
    assert_eq!(t.att_status(a.id), AttemptStatus::Pending);
    t.clock.advance(TimeDelta::milliseconds(1));
    let observed = t.clock.now();
    t.clock.advance(TimeDelta::seconds(5));
    // Nothing swept during the advance: the expiry is observed now.
    assert_eq!(t.status(u.key()), WorkUnitStatus::Available);
    assert_eq!(t.att_status(a.id), AttemptStatus::Expired);
    match t.call(Op::AttemptEndTime { attempt: a.id }).unwrap() {
        Reply::MaybeTime(Some(end)) => assert_eq!(end, observed + TimeDelta::seconds(5)),
        r => panic!("{r:?}"),
    }
    // Second attempt exceeds max_retries: failed, nothing handed out.
    assert!(t.request(w.id, 1).is_empty());
    assert_eq!(t.status(u.key()), WorkUnitStatus::Failed);
    assert_eq!(
        t.unit_data(u.key()),
        map([("traceback", "too many retries")])
    );
    match t.call(Op::NumAttempts { unit: u.key() }).unwrap() {
        Reply::Count(n) => assert_eq!(n, 2),
        r => panic!("{r:?}"),
    }
}

#[test]
fn renew_of_a_displaced_attempt_expires_it_and_commits() {
    let t = fresh();
    let ns = t.ns("ns");
    let s = t.spec(ns, spec_data("s"));
    let u = t.add(s.id, "u", Map::new(), WorkUnitMeta::default());
    let w = t.worker(ns, "w");
    let a1 = t.request(w.id, 1).remove(0);
    t.call(Op::ClearActiveAttempt { unit: u.key() }).unwrap();
    let a2 = t.request(w.id, 1).remove(0);
    assert_ne!(a1.id, a2.id);
    let r = t.call(Op::Renew {
        attempt: a1.id,
        extend: TimeDelta::minutes(5),
        data: Some(map([("late", true)])),
    });
    assert_eq!(r, Err(Error::LostLease));
    assert_eq!(t.att_status(a1.id), AttemptStatus::Expired);
    match t.call(Op::AttemptData { attempt: a1.id }).unwrap() {
        Reply::Data(d) => assert_eq!(d, map([("late", true)])),
        r => panic!("{r:?}"),
    }
    assert_eq!(t.status(u.key()), WorkUnitStatus::Pending);
    match t.call(Op::ActiveAttempt { unit: u.key() }).unwrap() {
        Reply::Attempt(Some(a)) => assert_eq!(a.id, a2.id),
        r => panic!("{r:?}"),
    }
    match t.call(Op::ActiveAttempts { worker: w.id }).unwrap() {
        Reply::Attempts(list) => {
            assert_eq!(list.iter().map(|a| a.id).collect::<Vec<_>>(), vec![a2.id])
        }
        r => panic!("{r:?}"),
    }
    match t.call(Op::AllAttempts { worker: w.id }).unwrap() {
        Reply::Attempts(list) => {
            assert_eq!(
                list.iter().map(|a| a.id).collect::<Vec<_>>(),
                vec![a1.id, a2.id]
            )
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn deleted_objects_are_gone_and_names_get_new_ids() {
    let t = fresh();
    let ns = t.ns("ns");
    let s = t.spec(ns, spec_data("s"));
    let u = t.add(s.id, "u", Map::new(), WorkUnitMeta::default());
    let w = t.worker(ns, "w");
    let a = t.request(w.id, 1).remove(0);
    let q = WorkUnitQuery {
        names: Some(vec!["u".into()]),
        ..Default::default()
    };
    assert_eq!(
        t.call(Op::DeleteWorkUnits {
            spec: s.id,
            query: q
        })
        .unwrap(),
        Reply::Count(1)
    );
    assert_eq!(t.call(Op::UnitStatus { unit: u.key() }), Err(Error::Gone));
    assert_eq!(
        t.call(Op::AttemptStatus { attempt: a.id }),
        Err(Error::Gone)
    );
    match t.call(Op::AllAttempts { worker: w.id }).unwrap() {
        Reply::Attempts(list) => assert!(list.is_empty()),
        r => panic!("{r:?}"),
    }
    let u2 = t.add(s.id, "u", Map::new(), WorkUnitMeta::default());
    assert_ne!(u2.id, u.id);
    assert_eq!(t.call(Op::UnitStatus { unit: u.key() }), Err(Error::Gone));
    // A unit id under another spec id is not that unit.
    let other = t.spec(ns, spec_data("other"));
    let wrong = UnitId {
        spec: other.id,
        unit: u2.id,
    };
    assert_eq!(t.call(Op::UnitStatus { unit: wrong }), Err(Error::Gone));
    // Destroying the namespace kills everything under it; destroying again is fine.
    t.call(Op::DestroyNamespace { ns }).unwrap();
    t.call(Op::DestroyNamespace { ns }).unwrap();
    assert_eq!(
        t.call(Op::SpecMeta {
            spec: s.id,
            with_counts: false
        }),
        Err(Error::Gone)
    );
    assert_eq!(t.call(Op::WorkerActive { worker: w.id }), Err(Error::Gone));
    assert_eq!(t.call(Op::WorkSpecNames { ns }), Err(Error::Gone));
    let ns2 = t.ns("ns");
    assert_ne!(ns2, ns);
    assert_eq!(
        t.call(Op::WorkSpec {
            ns: ns2,
            name: "s".into()
        }),
        Err(Error::NoSuchWorkSpec { name: "s".into() })
    );
    assert_eq!(
        t.call(Op::UnitStatus {
            unit: UnitId {
                spec: u64::MAX,
                unit: u64::MAX
            }
        }),
        Err(Error::Gone)
    );
}

#[test]
fn re_adding_requeues_unless_pending() {
    let t = fresh();
    let ns = t.ns("ns");
    let s = t.spec(ns, spec_data("s"));
    let u = t.add(s.id, "u", map([("v", 1)]), WorkUnitMeta::default());
    let w = t.worker(ns, "w");
    let a = t.request(w.id, 1).remove(0);
    // Pending: data replaced, attempt keeps running and its data shows.
    t.add(s.id, "u", map([("v", 2)]), WorkUnitMeta::default());
    assert_eq!(t.status(u.key()), WorkUnitStatus::Pending);
    assert_eq!(t.unit_data(u.key()), map([("v", 1)]));
    t.finish(a.id, None).unwrap();
    assert_eq!(t.status(u.key()), WorkUnitStatus::Finished);
    // Finished: re-added it is available again, history kept.
    let later = t.clock.now() + TimeDelta::hours(1);
    t.add(
        s.id,
        "u",
        map([("v", 3)]),
        WorkUnitMeta {
            priority: 0.0,
            not_before: Some(later),
        },
    );
    assert_eq!(t.status(u.key()), WorkUnitStatus::Delayed);
    assert_eq!(t.unit_data(u.key()), map([("v", 3)]));
    assert_eq!(t.counts(s.id), vec![(WorkUnitStatus::Delayed, 1)]);
    assert!(t.request(w.id, 1).is_empty());
    t.clock.advance(TimeDelta::hours(1));
    assert_eq!(t.counts(s.id), vec![(WorkUnitStatus::Available, 1)]);
    // The clock going back delays it again.
    t.clock.advance(TimeDelta::seconds(-1));
    assert_eq!(t.counts(s.id), vec![(WorkUnitStatus::Delayed, 1)]);
    t.clock.advance(TimeDelta::seconds(1));
    let a2 = t.request(w.id, 1).remove(0);
    match t.call(Op::NumAttempts { unit: u.key() }).unwrap() {
        Reply::Count(n) => assert_eq!(n, 2),
        r => panic!("{r:?}"),
    }
    // Retry with a delay: delayed until then, then available.
    t.call(Op::Retry {
        attempt: a2.id,
        data: None,
        delay: TimeDelta::minutes(1),
    })
    .unwrap();
    assert_eq!(t.status(u.key()), WorkUnitStatus::Delayed);
    t.clock.advance(TimeDelta::minutes(1));
    assert_eq!(t.status(u.key()), WorkUnitStatus::Available);
}

#[test]
fn continuous_specs_generate_units() {
    let t = fresh();
    let ns = t.ns("ns");
    let s = t.spec(
        ns,
        map([
            ("name", Value::from("c")),
            ("continuous", true.into()),
            ("interval", 60.into()),
        ]),
    );
    let w = t.worker(ns, "w");
    let a = t.request(w.id, 1);
    assert_eq!(a.len(), 1);
    let now = t.clock.now();
    assert_eq!(
        &*a[0].unit.name,
        coordinate::rules::continuous_unit_name(now)
    );
    assert_eq!(
        t.meta(s.id).next_continuous,
        Some(now + TimeDelta::seconds(60))
    );
    t.finish(a[0].id, None).unwrap();
    assert!(t.request(w.id, 1).is_empty(), "interval not elapsed");
    t.clock.advance(TimeDelta::seconds(60));
    assert_eq!(t.request(w.id, 1).len(), 1);
}

#[test]
fn data_round_trips_exactly() {
    let t = fresh();
    let ns = t.ns("ns");
    let data = map([
        ("int", Value::Int(i64::MIN)),
        ("float", Value::Float(2.0)),
        ("nan", Value::Float(f64::NAN)),
        ("inf", Value::Float(f64::INFINITY)),
        ("bytes", Value::Bytes(vec![0, 1, 255])),
        ("text", Value::from("héllo")),
        ("null", Value::Null),
        ("list", Value::List(vec![])),
        ("map", Value::Map(Map::new())),
    ]);
    let mut spec = data.clone();
    spec.insert("name".into(), "s".into());
    let s = t.spec(ns, spec.clone());
    match t.call(Op::SpecData { spec: s.id }).unwrap() {
        Reply::Data(d) => assert_eq!(format!("{d:?}"), format!("{spec:?}")),
        r => panic!("{r:?}"),
    }
    let u = t.add(s.id, "u", data.clone(), WorkUnitMeta::default());
    let back = t.unit_data(u.key());
    assert_eq!(format!("{back:?}"), format!("{data:?}"));
    assert!(matches!(back["int"], Value::Int(i64::MIN)));
    assert!(matches!(back["float"], Value::Float(f) if f == 2.0));
}

#[test]
fn batch_runs_each_op_on_its_own() {
    let t = fresh();
    let ns = t.ns("ns");
    let s = t.spec(ns, spec_data("s"));
    t.add(s.id, "a", Map::new(), WorkUnitMeta::default());
    t.add(s.id, "b", Map::new(), WorkUnitMeta::default());
    let w = t.worker(ns, "w");
    let a = t.request(w.id, 1).remove(0);
    let results =
        t.b.batch(vec![
            Op::Finish {
                attempt: a.id,
                data: None,
            },
            Op::Finish {
                attempt: a.id,
                data: None,
            },
            Op::SetWorkSpec {
                ns,
                data: Map::new(),
            },
            Op::RequestAttempts {
                worker: w.id,
                request: AttemptRequest::default(),
            },
        ])
        .unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0], Ok(Reply::Done));
    assert_eq!(results[1], Err(Error::NotPending));
    assert_eq!(results[2], Err(Error::NoWorkSpecName));
    match &results[3] {
        Ok(Reply::Attempts(list)) => assert_eq!(&*list[0].unit.name, "b"),
        r => panic!("{r:?}"),
    }
    assert_eq!(
        t.counts(s.id),
        vec![(WorkUnitStatus::Pending, 1), (WorkUnitStatus::Finished, 1)]
    );
}

#[test]
fn state_survives_reopening() {
    let t = fresh();
    let ns = t.ns("ns");
    let s = t.spec(
        ns,
        map([("name", Value::from("s")), ("priority", 3.into())]),
    );
    let u = t.add(
        s.id,
        "u",
        map([("k", "v")]),
        WorkUnitMeta {
            priority: 2.5,
            not_before: None,
        },
    );
    let w = t.worker(ns, "w");
    let a = t.request(w.id, 1).remove(0);
    t.b.close().unwrap();
    assert_eq!(t.call(Op::Namespaces), Err(Error::Gone));
    let again = open_at(&t.path, &t.clock);
    assert_eq!(
        again.call(Op::AttemptStatus { attempt: a.id }).unwrap(),
        Reply::AttemptStatus(AttemptStatus::Pending)
    );
    assert_eq!(
        again.call(Op::UnitMeta { unit: u.key() }).unwrap(),
        Reply::UnitMeta(WorkUnitMeta {
            priority: 2.5,
            not_before: None
        })
    );
    match again
        .call(Op::SpecMeta {
            spec: s.id,
            with_counts: true,
        })
        .unwrap()
    {
        Reply::SpecMeta(m) => {
            assert_eq!(m.priority, 3);
            assert_eq!(m.pending_count, 1);
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn workers_parents_children_and_updates() {
    let t = fresh();
    let ns = t.ns("ns");
    let p = t.worker(ns, "parent");
    let c2 = t.worker(ns, "zchild");
    let c1 = t.worker(ns, "child");
    let created = t.clock.now();
    for c in [&c2, &c1] {
        t.call(Op::SetParent {
            worker: c.id,
            parent: Some(p.id),
        })
        .unwrap();
    }
    match t.call(Op::Children { worker: p.id }).unwrap() {
        Reply::Workers(list) => assert_eq!(
            list.iter().map(|w| w.name.to_string()).collect::<Vec<_>>(),
            vec!["child", "zchild"]
        ),
        r => panic!("{r:?}"),
    }
    match t.call(Op::WorkerParent { worker: c1.id }).unwrap() {
        Reply::Worker(Some(w)) => assert_eq!(w.id, p.id),
        r => panic!("{r:?}"),
    }
    t.call(Op::SetParent {
        worker: c2.id,
        parent: None,
    })
    .unwrap();
    assert_eq!(
        t.call(Op::WorkerParent { worker: c2.id }).unwrap(),
        Reply::Worker(None)
    );
    assert_eq!(
        t.call(Op::WorkerExpiration { worker: p.id }).unwrap(),
        Reply::Time(created + TimeDelta::minutes(15))
    );
    t.call(Op::Deactivate { worker: p.id }).unwrap();
    assert_eq!(
        t.call(Op::WorkerActive { worker: p.id }).unwrap(),
        Reply::Bool(false)
    );
    let when = created + TimeDelta::hours(1);
    t.call(Op::UpdateWorker {
        worker: p.id,
        data: map([("k", "v")]),
        now: when,
        expiration: when,
        mode: "run".into(),
    })
    .unwrap();
    assert_eq!(
        t.call(Op::WorkerActive { worker: p.id }).unwrap(),
        Reply::Bool(true)
    );
    assert_eq!(
        t.call(Op::WorkerMode { worker: p.id }).unwrap(),
        Reply::Text("run".into())
    );
    assert_eq!(
        t.call(Op::WorkerLastUpdate { worker: p.id }).unwrap(),
        Reply::Time(when)
    );
    // Child attempts: the children's pending attempts, child by child.
    let s = t.spec(ns, spec_data("s"));
    t.add(s.id, "u", Map::new(), WorkUnitMeta::default());
    let a = t.request(c1.id, 1).remove(0);
    match t.call(Op::ChildAttempts { worker: p.id }).unwrap() {
        Reply::Attempts(list) => {
            assert_eq!(list.iter().map(|x| x.id).collect::<Vec<_>>(), vec![a.id])
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn queries_page_and_filter_by_status() {
    let t = fresh();
    let ns = t.ns("ns");
    let s = t.spec(ns, spec_data("s"));
    for name in ["a", "b", "c", "d"] {
        t.add(s.id, name, Map::new(), WorkUnitMeta::default());
    }
    let w = t.worker(ns, "w");
    t.request(w.id, 1); // a is pending
    let names = |q: WorkUnitQuery| match t
        .call(Op::WorkUnits {
            spec: s.id,
            query: q,
        })
        .unwrap()
    {
        Reply::Units(list) => list.iter().map(|u| u.name.to_string()).collect::<Vec<_>>(),
        r => panic!("{r:?}"),
    };
    assert_eq!(names(WorkUnitQuery::default()), vec!["a", "b", "c", "d"]);
    assert_eq!(
        names(WorkUnitQuery {
            previous_name: "a".into(),
            limit: 2,
            ..Default::default()
        }),
        vec!["b", "c"]
    );
    assert_eq!(
        names(WorkUnitQuery {
            statuses: Some(vec![WorkUnitStatus::Available]),
            ..Default::default()
        }),
        vec!["b", "c", "d"]
    );
    assert_eq!(
        names(WorkUnitQuery {
            names: Some(vec![]),
            ..Default::default()
        }),
        Vec::<String>::new()
    );
    assert_eq!(
        names(WorkUnitQuery {
            names: Some(vec!["d".into(), "a".into(), "zz".into()]),
            statuses: Some(vec![WorkUnitStatus::Any]),
            ..Default::default()
        }),
        vec!["a", "d"]
    );
    t.call(Op::AdjustWorkUnitPriorities {
        spec: s.id,
        query: WorkUnitQuery {
            names: Some(vec!["d".into()]),
            ..Default::default()
        },
        adjustment: 5.0,
    })
    .unwrap();
    assert_eq!(t.names(w.id, 1), vec!["d"]);
}

#[test]
fn connect_opens_sqlite_urls_and_plain_paths_after_install() {
    coordinate_sql::install();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("via-connect.db");
    let url = format!("sqlite://{}?synchronous=full", path.display());
    let coord = coordinate::Coordinate::connect(&url, ConnectOptions::default()).unwrap();
    let ns = coord.namespace("n").unwrap();
    let spec = ns.set_work_spec(spec_data("s")).unwrap();
    spec.add_work_unit("u", Map::new(), WorkUnitMeta::default())
        .unwrap();
    coord.close().unwrap();
    // The same file by plain path sees the unit.
    let again =
        coordinate::Coordinate::connect(path.to_str().unwrap(), ConnectOptions::default()).unwrap();
    let spec = again.namespace("n").unwrap().work_spec("s").unwrap();
    assert_eq!(
        spec.work_unit("u").unwrap().status().unwrap(),
        WorkUnitStatus::Available
    );
    assert!(matches!(
        coordinate::Coordinate::connect("sqlite://host/x.db", ConnectOptions::default()),
        Err(Error::BadUrl { .. })
    ));
}

#[test]
fn a_batch_of_finishes_sees_what_its_own_chaining_changed() {
    // The store reads a batch's attempts ahead; a finish that chains into
    // a unit whose attempt the same batch finishes later must be seen.
    let t = fresh();
    let ns = t.ns("ns");
    let one = t.spec(ns, map([("name", "one"), ("then", "two")]));
    let two = t.spec(ns, spec_data("two"));
    let a = t.add(one.id, "a", Map::new(), WorkUnitMeta::default());
    let c = t.add(two.id, "c", Map::new(), WorkUnitMeta::default());
    let w = t.worker(ns, "w");
    let attempt_on = |unit: UnitId| match t
        .call(Op::MakeAttempt {
            worker: w.id,
            unit,
            lifetime: TimeDelta::minutes(5),
        })
        .unwrap()
    {
        Reply::Attempt(Some(x)) => x.id,
        r => panic!("{r:?}"),
    };
    let x = attempt_on(c.key());
    t.call(Op::Fail {
        attempt: x,
        data: None,
    })
    .unwrap();
    assert_eq!(t.counts(two.id), vec![(WorkUnitStatus::Failed, 1)]);
    let on_a = attempt_on(a.key());
    let output = Value::List(vec!["c".into()]);
    let replies =
        t.b.batch(vec![
            Op::Finish {
                attempt: on_a,
                data: Some(map([("output", output)])),
            },
            // Late, and no longer the unit's attempt: the chaining above
            // put "c" back in the queue.
            Op::Finish {
                attempt: x,
                data: None,
            },
        ])
        .unwrap();
    assert!(replies.iter().all(Result::is_ok), "{replies:?}");
    assert_eq!(t.att_status(x), AttemptStatus::Finished);
    assert_eq!(t.status(c.key()), WorkUnitStatus::Available);
    assert_eq!(t.counts(two.id), vec![(WorkUnitStatus::Available, 1)]);
    assert_eq!(t.counts(one.id), vec![(WorkUnitStatus::Finished, 1)]);
}
