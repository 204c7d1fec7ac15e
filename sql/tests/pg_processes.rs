//! Several processes on one PostgreSQL store: 8 worker processes with 2
//! connections each draining one spec (no unit handed out twice, all
//! finished), kill -9 of worker processes mid-drain (every returned finish
//! recorded, no unit lost), a process that dies holding leases, and
//! several processes creating the schema at once. The children are the
//! crate's `coordinate-sql-drill` binary.

mod pg;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use coordinate::backend::{Op, Reply};
use coordinate::{
    AddWorkUnitItem, AttemptRequest, AttemptStatus, Backend, ConnectOptions, Map, MockClock, Value,
    WorkUnitStatus,
};
use coordinate_sql::PgBackend;
use rand::{RngExt, SeedableRng};

const DRILL: &str = env!("CARGO_BIN_EXE_coordinate-sql-drill");

fn open(url: &str) -> PgBackend {
    PgBackend::open(url, &Default::default()).expect("the test server answers")
}

/// Creates namespace "drill", spec `spec` (with `extra` data) and `n` units
/// named `u000000`... in it; returns the spec id.
fn populate(url: &str, spec: &str, extra: &[(&str, Value)], n: usize) -> u64 {
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

fn spawn(args: &[&str]) -> Child {
    Command::new(DRILL)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the drill child")
}

/// Reads a child's stdout lines until it closes (also after a kill).
fn lines_of(child: &mut Child) -> JoinHandle<Vec<String>> {
    let out = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    })
}

fn stderr_of(child: &mut Child) -> String {
    let mut s = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut s);
    }
    s
}

fn counts(b: &dyn Backend, spec: u64) -> BTreeMap<WorkUnitStatus, i64> {
    match b.call(Op::CountWorkUnitStatus { spec }).unwrap() {
        Reply::StatusCounts(c) => c,
        r => panic!("{r:?}"),
    }
}

fn unit_status(b: &dyn Backend, spec: u64, name: &str) -> WorkUnitStatus {
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

/// Checks the `attempt ID NAME` lines of worker processes: no attempt and
/// no unit twice; returns the units seen.
fn handouts(lines: &[String], seen: &mut BTreeMap<String, u64>, attempts: &mut BTreeSet<u64>) {
    for line in lines {
        if line == "done" {
            continue;
        }
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

#[test]
fn eight_processes_with_two_connections_each_drain_without_double_handouts() {
    let Some(server) = pg::server() else {
        return;
    };
    let per: usize = std::env::var("COORDINATE_PG_UNITS_PER_PROCESS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_500);
    let procs = 8;
    let total = per * procs;
    let u = pg::fresh(&server, "eight");
    let spec = populate(&u, "s", &[], total);
    let start = Instant::now();
    let mut children: Vec<(Child, JoinHandle<Vec<String>>)> = (0..procs)
        .map(|_| {
            let mut c = spawn(&["work", &u, "s", "1", "2"]);
            let r = lines_of(&mut c);
            (c, r)
        })
        .collect();
    for (child, _) in children.iter_mut() {
        let status = child.wait().unwrap();
        let err = stderr_of(child);
        assert!(status.success(), "a child failed: {err}");
    }
    let mut seen = BTreeMap::new();
    let mut attempts = BTreeSet::new();
    for (_, reader) in children.drain(..) {
        let lines = reader.join().unwrap();
        assert_eq!(lines.last().map(String::as_str), Some("done"));
        handouts(&lines, &mut seen, &mut attempts);
    }
    let elapsed = start.elapsed();
    println!(
        "{procs} processes x 2 connections drained {total} units in {:.2?}: {:.0} units/s",
        elapsed,
        total as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(seen.len(), total, "units lost");
    let b = open(&u);
    assert_eq!(
        counts(&b, spec),
        [(WorkUnitStatus::Finished, total as i64)]
            .into_iter()
            .collect()
    );
}

#[test]
fn kill_9_of_workers_loses_no_returned_finish() {
    let Some(server) = pg::server() else {
        return;
    };
    let u = pg::fresh(&server, "kill");
    let n = 3_000;
    let spec = populate(&u, "s", &[], n);
    let mut recorded: Vec<String> = Vec::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let mut kills = 0;
    let mut drained = false;
    for _ in 0..12 {
        // Two workers at once; one of them is killed.
        let mut a = spawn(&["drain", &u, "s", "300"]);
        let mut b = spawn(&["drain", &u, "s", "300"]);
        let (ra, rb) = (lines_of(&mut a), lines_of(&mut b));
        std::thread::sleep(Duration::from_millis(rng.random_range(100..400)));
        a.kill().expect("SIGKILL the child");
        let sa = a.wait().unwrap();
        b.kill().expect("SIGKILL the child");
        let sb = b.wait().unwrap();
        for (status, reader) in [(sa, ra), (sb, rb)] {
            let lines = reader.join().unwrap();
            if status.success() {
                drained = true;
            } else {
                kills += 1;
            }
            recorded.extend(
                lines
                    .iter()
                    .filter_map(|l| l.strip_prefix("finished ").map(str::to_owned)),
            );
        }
        if drained {
            break;
        }
    }
    while !drained {
        let mut child = spawn(&["drain", &u, "s", "300"]);
        let reader = lines_of(&mut child);
        let status = child.wait().unwrap();
        let err = stderr_of(&mut child);
        assert!(status.success(), "the last child failed: {err}");
        let lines = reader.join().unwrap();
        recorded.extend(
            lines
                .iter()
                .filter_map(|l| l.strip_prefix("finished ").map(str::to_owned)),
        );
        drained = lines.last().map(String::as_str) == Some("done");
    }
    println!("{kills} kills, {} finishes recorded", recorded.len());
    assert!(kills > 0, "no child was killed before it drained the spec");
    let b = open(&u);
    let distinct: BTreeSet<&String> = recorded.iter().collect();
    for name in &distinct {
        assert_eq!(
            unit_status(&b, spec, name),
            WorkUnitStatus::Finished,
            "{name}"
        );
    }
    assert_eq!(
        counts(&b, spec),
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

#[test]
fn a_process_that_dies_holding_leases_loses_nothing() {
    let Some(server) = pg::server() else {
        return;
    };
    let u = pg::fresh(&server, "hold");
    let n = 10;
    let spec = populate(&u, "s", &[("max_retries", Value::Int(2))], n);
    let mut child = spawn(&["hold", &u, "s", "10", "60000"]);
    let out = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(out).read_line(&mut first).unwrap();
    assert_eq!(first.trim(), "held 10", "{}", stderr_of(&mut child));
    child.kill().unwrap();
    child.wait().unwrap();
    // An hour later (a mock clock, so nothing waits): the leases are over.
    let clock = MockClock::new(Utc::now() + TimeDelta::hours(1));
    let options = ConnectOptions {
        clock: Some(Arc::new(clock.clone())),
        seed: Some(3),
        ..Default::default()
    };
    let b = PgBackend::open(&u, &options).unwrap();
    assert_eq!(
        counts(&b, spec),
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
    let req = AttemptRequest {
        number_of_work_units: 100,
        ..Default::default()
    };
    match b.call(Op::RequestAttempts {
        worker,
        request: req,
    }) {
        Ok(Reply::Attempts(a)) => assert_eq!(a.len(), n),
        r => panic!("{r:?}"),
    }
}

#[test]
fn processes_creating_the_schema_at_once_all_open_it() {
    let Some(server) = pg::server() else {
        return;
    };
    let u = pg::fresh(&server, "race");
    let mut children: Vec<Child> = (0..6).map(|_| spawn(&["open", &u])).collect();
    for child in &mut children {
        let out = child.wait_with_output_ref();
        assert_eq!(out.trim(), "ok");
    }
    // And the schema is there once: a store opened after them works.
    let b = open(&u);
    assert!(matches!(
        b.call(Op::Namespaces).unwrap(),
        Reply::Namespaces(list) if list.is_empty()
    ));
}

/// `wait` and read stdout (the children print one line).
trait WaitOut {
    fn wait_with_output_ref(&mut self) -> String;
}

impl WaitOut for Child {
    fn wait_with_output_ref(&mut self) -> String {
        let mut s = String::new();
        if let Some(mut out) = self.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut out, &mut s);
        }
        let status = self.wait().unwrap();
        assert!(status.success(), "{}", stderr_of(self));
        s
    }
}
