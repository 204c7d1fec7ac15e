//! What the multi-process tests (`processes.rs` on SQLite, `pg_processes.rs`
//! on PostgreSQL) share: a store opened by URL, a populated spec, the
//! `coordinate-sql-drill` children and their output, and the checks made
//! after the drills. Each test file keeps only its store's setup (the URL)
//! and the drills' store-specific numbers.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;

use chrono::{TimeDelta, Utc};
use coordinate::backend::{AttemptRef, Op, Reply};
use coordinate::{
    AddWorkUnitItem, AttemptRequest, AttemptStatus, Backend, ConnectOptions, Map, MockClock, Value,
    WorkUnitStatus,
};

pub const DRILL: &str = env!("CARGO_BIN_EXE_coordinate-sql-drill");

/// Opens the store at `url`: PostgreSQL for `postgresql:`/`postgres:`,
/// else SQLite.
pub fn open_with(url: &str, options: &ConnectOptions) -> Arc<dyn Backend> {
    match coordinate::scheme_of(url) {
        "postgresql" | "postgres" => coordinate_sql::open_postgres(url, options),
        _ => coordinate_sql::open(url, options),
    }
    .expect("the store opens")
}

pub fn open(url: &str) -> Arc<dyn Backend> {
    open_with(url, &Default::default())
}

/// Creates namespace "drill", spec `spec` (with `extra` data) and `n` units
/// named `u000000`... in it; returns the spec id.
pub fn populate(url: &str, spec: &str, extra: &[(&str, Value)], n: usize) -> u64 {
    let b = open(url);
    let ns = match b
        .call(Op::Namespace {
            name: "drill".into(),
        })
        .unwrap()
    {
        Reply::Namespace(n) => n.id,
        r => panic!("{r:?}"),
    };
    let mut data: Map = [("name".to_owned(), Value::from(spec))].into();
    for (k, v) in extra {
        data.insert((*k).to_owned(), v.clone());
    }
    let spec_id = match b.call(Op::SetWorkSpec { ns, data }).unwrap() {
        Reply::Spec(s) => s.id,
        r => panic!("{r:?}"),
    };
    let names: Vec<String> = (0..n).map(|i| format!("u{i:06}")).collect();
    for chunk in names.chunks(10_000) {
        let items = chunk.iter().map(AddWorkUnitItem::named).collect();
        b.call(Op::AddWorkUnits {
            spec: spec_id,
            items,
        })
        .unwrap();
    }
    b.close().unwrap();
    spec_id
}

pub fn spawn(args: &[&str]) -> Child {
    Command::new(DRILL)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the drill child")
}

/// Reads a child's stdout lines until it closes (also after a kill).
pub fn lines_of(child: &mut Child) -> JoinHandle<Vec<String>> {
    let out = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    })
}

pub fn stderr_of(child: &mut Child) -> String {
    let mut s = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut s);
    }
    s
}

pub fn counts(b: &dyn Backend, spec: u64) -> BTreeMap<WorkUnitStatus, i64> {
    match b.call(Op::CountWorkUnitStatus { spec }).unwrap() {
        Reply::StatusCounts(c) => c,
        r => panic!("{r:?}"),
    }
}

pub fn unit_status(b: &dyn Backend, spec: u64, name: &str) -> WorkUnitStatus {
    let unit = match b
        .call(Op::WorkUnit {
            spec,
            name: name.into(),
        })
        .unwrap()
    {
        Reply::Unit(u) => u.key(),
        r => panic!("{r:?}"),
    };
    match b.call(Op::UnitStatus { unit }).unwrap() {
        Reply::UnitStatus(s) => s,
        r => panic!("{r:?}"),
    }
}

/// The `finished NAME` lines of `drain` children: the names.
pub fn finishes(lines: &[String]) -> impl Iterator<Item = String> + '_ {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("finished ").map(str::to_owned))
}

/// Starts `procs` `work` children with `args` (after `work`), waits for them
/// all (each must succeed), then checks their `attempt ID NAME` lines (and a
/// last `done`): no attempt and no unit twice. Returns the units seen.
pub fn work_children(procs: usize, args: &[&str]) -> BTreeMap<String, u64> {
    let args: Vec<&str> = ["work"].into_iter().chain(args.iter().copied()).collect();
    let mut children: Vec<(Child, JoinHandle<Vec<String>>)> = (0..procs)
        .map(|_| {
            let mut c = spawn(&args);
            let r = lines_of(&mut c);
            (c, r)
        })
        .collect();
    for (child, _) in children.iter_mut() {
        let status = child.wait().unwrap();
        let err = stderr_of(child);
        assert!(status.success(), "a child failed: {err}");
    }
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let mut attempts = BTreeSet::new();
    for (_, reader) in children.drain(..) {
        let lines = reader.join().unwrap();
        assert_eq!(lines.last().map(String::as_str), Some("done"));
        for line in &lines[..lines.len() - 1] {
            let mut parts = line.split(' ');
            assert_eq!(parts.next(), Some("attempt"), "{line}");
            let id: u64 = parts
                .next()
                .and_then(|p| p.parse().ok())
                .expect("attempt id");
            let name = parts.next().expect("unit name").to_owned();
            assert!(attempts.insert(id), "attempt {id} logged twice");
            if let Some(prev) = seen.insert(name.clone(), id) {
                panic!("unit {name} handed out twice (attempts {prev} and {id})");
            }
        }
    }
    seen
}

/// After the kill rounds: restarts `drain URL s LEASE_MS` children one at a
/// time until one drains the spec, recording their finishes.
pub fn drain_to_the_end(url: &str, lease_ms: &str, recorded: &mut Vec<String>) {
    let mut drained = false;
    while !drained {
        let mut child = spawn(&["drain", url, "s", lease_ms]);
        let reader = lines_of(&mut child);
        let status = child.wait().unwrap();
        let err = stderr_of(&mut child);
        assert!(status.success(), "the last child failed: {err}");
        let lines = reader.join().unwrap();
        recorded.extend(finishes(&lines));
        drained = lines.last().map(String::as_str) == Some("done");
    }
}

/// After kill -9 drills: every finish a child saw return is committed, and
/// no unit is lost (all `n` exist and are finished).
pub fn check_no_finish_lost(url: &str, spec: u64, n: usize, kills: usize, recorded: &[String]) {
    println!("{kills} kills, {} finishes recorded", recorded.len());
    assert!(kills > 0, "no child was killed before it drained the spec");
    let b = open(url);
    let distinct: BTreeSet<&String> = recorded.iter().collect();
    for name in &distinct {
        assert_eq!(
            unit_status(&*b, spec, name),
            WorkUnitStatus::Finished,
            "{name}"
        );
    }
    assert_eq!(
        counts(&*b, spec),
        [(WorkUnitStatus::Finished, n as i64)].into_iter().collect()
    );
    match b
        .call(Op::WorkUnits {
            spec,
            query: Default::default(),
        })
        .unwrap()
    {
        Reply::Units(list) => assert_eq!(list.len(), n),
        r => panic!("{r:?}"),
    }
}

/// What a `hold` drill leaves to check.
pub struct Held {
    pub store: Arc<dyn Backend>,
    pub spec: u64,
    pub worker: u64,
    pub request: AttemptRequest,
    pub again: Vec<AttemptRef>,
}

/// A process takes all `n` units of a spec with `max_retries` 2 and dies
/// (kill -9) holding their leases. An hour later (a mock clock, so nothing
/// waits) the units are available again, the dead worker's attempts are
/// expired, and a survivor worker gets all `n` back (returned in `again`).
pub fn hold_and_die(url: &str, n: usize) -> Held {
    let spec = populate(url, "s", &[("max_retries", Value::Int(2))], n);
    let mut child = spawn(&["hold", url, "s", "10", "60000"]);
    let out = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(out).read_line(&mut first).unwrap();
    assert_eq!(first.trim(), "held 10", "{}", stderr_of(&mut child));
    child.kill().unwrap();
    child.wait().unwrap();
    let clock = MockClock::new(Utc::now() + TimeDelta::hours(1));
    let options = ConnectOptions {
        clock: Some(Arc::new(clock.clone())),
        seed: Some(3),
        ..Default::default()
    };
    let b = open_with(url, &options);
    assert_eq!(
        counts(&*b, spec),
        [(WorkUnitStatus::Available, n as i64)]
            .into_iter()
            .collect()
    );
    let ns = match b
        .call(Op::Namespace {
            name: "drill".into(),
        })
        .unwrap()
    {
        Reply::Namespace(x) => x.id,
        r => panic!("{r:?}"),
    };
    let dead = match b.call(Op::Workers { ns }).unwrap() {
        Reply::Workers(w) => w[0].id,
        r => panic!("{r:?}"),
    };
    match b.call(Op::AllAttempts { worker: dead }).unwrap() {
        Reply::Attempts(list) => {
            assert_eq!(list.len(), n);
            for a in list {
                assert_eq!(
                    b.call(Op::AttemptStatus { attempt: a.id }).unwrap(),
                    Reply::AttemptStatus(AttemptStatus::Expired)
                );
            }
        }
        r => panic!("{r:?}"),
    }
    let worker = match b
        .call(Op::Worker {
            ns,
            name: "survivor".into(),
        })
        .unwrap()
    {
        Reply::Worker(Some(w)) => w.id,
        r => panic!("{r:?}"),
    };
    let request = AttemptRequest {
        number_of_work_units: 100,
        ..Default::default()
    };
    let again = match b
        .call(Op::RequestAttempts {
            worker,
            request: request.clone(),
        })
        .unwrap()
    {
        Reply::Attempts(a) => a,
        r => panic!("{r:?}"),
    };
    assert_eq!(again.len(), n);
    Held {
        store: b,
        spec,
        worker,
        request,
        again,
    }
}
