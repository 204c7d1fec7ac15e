//! Several processes on one PostgreSQL store: 8 worker processes with 2
//! connections each draining one spec of 800,000 units (100,000 per
//! process, `COORDINATE_PG_UNITS_PER_PROCESS`; requests of 100): no unit
//! handed out twice, all finished; kill -9 of worker processes mid-drain (every returned finish
//! recorded, no unit lost), a process that dies holding leases, and
//! several processes creating the schema at once. The children are the
//! crate's `coordinate-sql-drill` binary (the drills are in
//! `support/drills.rs`, shared with `processes.rs`).

#[path = "support/drills.rs"]
mod drills;
mod pg;

use std::process::Child;
use std::time::{Duration, Instant};

use coordinate::backend::{Op, Reply};
use coordinate::WorkUnitStatus;
use rand::{RngExt, SeedableRng};

use drills::{counts, finishes, lines_of, open, populate, spawn, stderr_of};

#[test]
fn eight_processes_with_two_connections_each_drain_without_double_handouts() {
    let Some(server) = pg::server() else {
        return;
    };
    let per: usize = std::env::var("COORDINATE_PG_UNITS_PER_PROCESS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let procs = 8;
    let total = per * procs;
    let u = pg::fresh(&server, "eight");
    let spec = populate(&u, "s", &[], total);
    let start = Instant::now();
    // Requests of 100, finished in one call each.
    let seen = drills::work_children(procs, &[&u, "s", "100", "2"]);
    let elapsed = start.elapsed();
    println!(
        "{procs} processes x 2 connections drained {total} units in {:.2?}: {:.0} units/s",
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
            recorded.extend(finishes(&lines));
        }
        if drained {
            break;
        }
    }
    if !drained {
        drills::drain_to_the_end(&u, "300", &mut recorded);
    }
    drills::check_no_finish_lost(&u, spec, n, kills, &recorded);
}

#[test]
fn a_process_that_dies_holding_leases_loses_nothing() {
    let Some(server) = pg::server() else {
        return;
    };
    let u = pg::fresh(&server, "hold");
    // The leases run out and a survivor gets all 10 units back.
    drills::hold_and_die(&u, 10);
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
