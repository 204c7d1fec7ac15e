//! Several processes on one file: kill -9 durability, concurrent draining,
//! and a process that dies holding leases. The children are the crate's
//! `coordinate-sql-drill` binary (the drills are in `support/drills.rs`,
//! shared with `pg_processes.rs`).

#[path = "support/drills.rs"]
mod drills;

use std::path::Path;
use std::time::{Duration, Instant};

use coordinate::backend::{Op, Reply};
use coordinate::WorkUnitStatus;
use rand::{RngExt, SeedableRng};

use drills::{counts, finishes, lines_of, open, populate, spawn};

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

#[test]
fn kill_9_loses_no_returned_call() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let u = url(&path);
    let n = 30_000;
    let spec = populate(&u, "s", &[], n);
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
        recorded.extend(finishes(&lines));
        if drained {
            break;
        }
    }
    // Restart children until the spec is drained.
    if !drained {
        drills::drain_to_the_end(&u, "100", &mut recorded);
    }
    drills::check_no_finish_lost(&u, spec, n, kills, &recorded);
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
    let u = url(&path);
    let spec = populate(&u, "s", &[], total);
    let start = Instant::now();
    let seen = drills::work_children(procs, &[&u, "s", "1"]);
    let elapsed = start.elapsed();
    println!(
        "{procs} processes drained {total} units in {:.2?}: {:.0} units/s",
        elapsed,
        total as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(seen.len(), total, "units lost");
    let b = open(&u);
    assert_eq!(
        counts(&*b, spec),
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
    // The leases run out and the units run again: attempt 2 of 2 allowed...
    let held = drills::hold_and_die(&url(&path), n);
    let b = &*held.store;
    for a in &held.again {
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
            worker: held.worker,
            request: held.request,
        })
        .unwrap()
    {
        Reply::Attempts(a) => assert!(a.is_empty()),
        r => panic!("{r:?}"),
    }
    assert_eq!(
        counts(b, held.spec),
        [(WorkUnitStatus::Failed, n as i64)].into_iter().collect()
    );
}
