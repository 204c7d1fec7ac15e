//! Several processes on one file: kill -9 durability, concurrent draining,
//! and a process that dies holding leases. The children are the crate's
//! `coordinate-sql-drill` binary.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
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
use coordinate_sql::SqliteBackend;
use rand::{RngExt, SeedableRng};

const DRILL: &str = env!("CARGO_BIN_EXE_coordinate-sql-drill");

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// Creates namespace "drill", spec `spec` (with `extra` data) and `n` units
/// named `u000000`... in it; returns the spec id.
fn populate(path: &Path, spec: &str, extra: &[(&str, Value)], n: usize) -> u64 {
    let b = SqliteBackend::open(&url(path), &Default::default()).unwrap();
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

fn counts(b: &SqliteBackend, spec: u64) -> BTreeMap<WorkUnitStatus, i64> {
    match b.call(Op::CountWorkUnitStatus { spec }).unwrap() {
        Reply::StatusCounts(c) => c,
        r => panic!("{r:?}"),
    }
}

fn unit_status(b: &SqliteBackend, spec: u64, name: &str) -> WorkUnitStatus {
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

#[test]
fn kill_9_loses_no_returned_call() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let n = 30_000;
    let spec = populate(&path, "s", &[], n);
    let u = url(&path);
    let mut recorded: Vec<String> = Vec::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(10);
    let mut kills = 0;
    let mut drained = false;
    for _ in 0..20 {
        let mut child = spawn(&["drain", &u, "s", "100"]);
        let reader = lines_of(&mut child);
        std::thread::sleep(Duration::from_millis(rng.random_range(10..120)));
        child.kill().expect("SIGKILL the child");
        let status = child.wait().unwrap();
        let lines = reader.join().unwrap();
        if status.success() {
            assert_eq!(lines.last().map(String::as_str), Some("done"));
            drained = true;
        } else {
            kills += 1;
        }
        recorded.extend(
            lines
                .iter()
                .filter_map(|l| l.strip_prefix("finished ").map(str::to_owned)),
        );
        if drained {
            break;
        }
    }
    // Restart children until the spec is drained.
    while !drained {
        let mut child = spawn(&["drain", &u, "s", "100"]);
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
    let b = SqliteBackend::open(&u, &Default::default()).unwrap();
    // Every finish a child saw return is committed.
    let distinct: BTreeSet<&String> = recorded.iter().collect();
    for name in &distinct {
        assert_eq!(
            unit_status(&b, spec, name),
            WorkUnitStatus::Finished,
            "{name}"
        );
    }
    // No unit lost: all n exist and are finished.
    let c = counts(&b, spec);
    assert_eq!(
        c,
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
fn four_processes_drain_one_file_without_double_handouts() {
    let per: usize = std::env::var("COORDINATE_SQL_UNITS_PER_PROCESS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25_000);
    let procs = 4;
    let total = per * procs;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let spec = populate(&path, "s", &[], total);
    let u = url(&path);
    let start = Instant::now();
    let mut children: Vec<(Child, JoinHandle<Vec<String>>)> = (0..procs)
        .map(|_| {
            let mut c = spawn(&["work", &u, "s", "1"]);
            let r = lines_of(&mut c);
            (c, r)
        })
        .collect();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let mut attempts = BTreeSet::new();
    for (child, reader) in children.iter_mut().map(|(c, r)| (c, r)) {
        let status = child.wait().unwrap();
        let err = stderr_of(child);
        assert!(status.success(), "a child failed: {err}");
        let _ = reader;
    }
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
    let elapsed = start.elapsed();
    println!(
        "{procs} processes drained {total} units in {:.2?}: {:.0} units/s",
        elapsed,
        total as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(seen.len(), total, "units lost");
    let b = SqliteBackend::open(&u, &Default::default()).unwrap();
    assert_eq!(
        counts(&b, spec),
        [(WorkUnitStatus::Finished, total as i64)]
            .into_iter()
            .collect()
    );
}

#[test]
fn a_process_that_dies_holding_leases_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let n = 10;
    let spec = populate(&path, "s", &[("max_retries", Value::Int(2))], n);
    let u = url(&path);
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
    let b = SqliteBackend::open(&u, &options).unwrap();
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
    // The units run again: attempt 2 of 2 allowed...
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
    let again = match b
        .call(Op::RequestAttempts {
            worker,
            request: req.clone(),
        })
        .unwrap()
    {
        Reply::Attempts(a) => a,
        r => panic!("{r:?}"),
    };
    assert_eq!(again.len(), n);
    for a in &again {
        assert_eq!(
            b.call(Op::NumAttempts { unit: a.unit.key() }).unwrap(),
            Reply::Count(2)
        );
        b.call(Op::Expire {
            attempt: a.id,
            data: None,
        })
        .unwrap();
    }
    // ...and the dead process's attempts counted: a third exceeds max_retries.
    match b
        .call(Op::RequestAttempts {
            worker,
            request: req,
        })
        .unwrap()
    {
        Reply::Attempts(a) => assert!(a.is_empty()),
        r => panic!("{r:?}"),
    }
    assert_eq!(
        counts(&b, spec),
        [(WorkUnitStatus::Failed, n as i64)].into_iter().collect()
    );
}
