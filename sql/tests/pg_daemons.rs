//! Several `coordinated` daemons on one PostgreSQL store: three daemons,
//! worker threads spread across them (each with its own HTTP client), one
//! daemon killed with SIGKILL in the middle of the run. Each worker's
//! client is given all three daemons (`http://a,b,c/`, from a different
//! one on); the clients of the killed daemon fail over to the next one. Nothing is
//! lost (every unit ends Finished) and nothing is done twice beyond what
//! lease expiry allows (each unit has exactly one Finished attempt; any
//! other attempt of it expired).
//!
//! The daemon is `target/release/coordinated` (or `$COORDINATED`), which
//! `make test-postgres` builds first.

mod pg;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use coordinate::backend::{Op, Reply};
use coordinate::{
    AddWorkUnitItem, AttemptRequest, AttemptStatus, Backend, Error, Map, Value, WorkUnitStatus,
};
use coordinate_server::HttpBackend;
use coordinate_sql::PgBackend;

fn coordinated() -> Option<PathBuf> {
    let path = std::env::var_os("COORDINATED")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/coordinated")
        });
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("COORDINATE_REQUIRE_POSTGRES").is_none(),
        "{} is missing: cargo build --release -p coordinate-server --bin coordinated",
        path.display()
    );
    eprintln!(
        "\n*** SKIPPED: {} is missing (cargo build --release -p coordinate-server --bin coordinated) ***\n",
        path.display()
    );
    None
}

/// A daemon on a free loopback port; its URL.
fn start_daemon(bin: &PathBuf, store: &str) -> (Child, String) {
    let mut child = Command::new(bin)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--store",
            store,
            "--log-level",
            "warn",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start coordinated");
    let out = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("coordinated said {line:?}"))
        .to_owned();
    (child, format!("http://{addr}/"))
}

fn call(b: &dyn Backend, op: Op) -> coordinate::Result<Reply> {
    b.call(op)
}

/// One worker: drains spec `s` through one client given all the daemons
/// (`http://a,b,c/`), listed from `first` on: the client moves to the next
/// daemon when its daemon is gone, and a call cut off there (which may or
/// may not have run) starts the loop again. Returns the attempts whose
/// finish returned.
fn worker(authorities: Arc<Vec<String>>, first: usize, name: String) -> Vec<(u64, String)> {
    let n = authorities.len();
    let list: Vec<&str> = (0..n)
        .map(|i| authorities[(first + i) % n].as_str())
        .collect();
    let b = HttpBackend::new(&format!("http://{}/", list.join(",")), &Default::default())
        .expect("a client");
    let mut finished = Vec::new();
    let mut held: Option<u64> = None;
    'daemons: for _ in 0..(n * 4) {
        let step = (|| -> coordinate::Result<bool> {
            let ns = match call(&b, Op::Namespace { name: "d".into() })? {
                Reply::Namespace(n) => n.id,
                r => panic!("{r:?}"),
            };
            let spec = match call(
                &b,
                Op::WorkSpec {
                    ns,
                    name: "s".into(),
                },
            )? {
                Reply::Spec(s) => s.id,
                r => panic!("{r:?}"),
            };
            let worker = match call(
                &b,
                Op::Worker {
                    ns,
                    name: name.clone(),
                },
            )? {
                Reply::Worker(Some(w)) => w.id,
                r => panic!("{r:?}"),
            };
            // A finish cut off by a dead daemon is tried again here (it may
            // have committed; finishing again is then refused, harmlessly).
            if let Some(attempt) = held.take() {
                let _ = call(
                    &b,
                    Op::Finish {
                        attempt,
                        data: None,
                    },
                );
            }
            let request = AttemptRequest {
                number_of_work_units: 1,
                lifetime: TimeDelta::milliseconds(1_500),
                work_specs: vec!["s".into()],
                ..Default::default()
            };
            loop {
                let attempts = match call(
                    &b,
                    Op::RequestAttempts {
                        worker,
                        request: request.clone(),
                    },
                )? {
                    Reply::Attempts(a) => a,
                    r => panic!("{r:?}"),
                };
                if attempts.is_empty() {
                    let left = match call(&b, Op::CountWorkUnitStatus { spec })? {
                        Reply::StatusCounts(c) => c
                            .iter()
                            .filter(|(s, _)| **s != WorkUnitStatus::Finished)
                            .map(|(_, n)| *n)
                            .sum::<i64>(),
                        r => panic!("{r:?}"),
                    };
                    if left == 0 {
                        return Ok(true);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                for a in attempts {
                    held = Some(a.id);
                    call(
                        &b,
                        Op::Finish {
                            attempt: a.id,
                            data: None,
                        },
                    )?;
                    held = None;
                    finished.push((a.id, a.unit.name.to_string()));
                }
            }
        })();
        match step {
            Ok(_) => break 'daemons,
            Err(Error::Unavailable { .. } | Error::Storage { .. }) => {}
            Err(e) => panic!("worker {name}: {e}"),
        }
    }
    finished
}

#[test]
fn three_daemons_one_killed_lose_nothing() {
    let Some(server) = pg::server() else {
        return;
    };
    let Some(bin) = coordinated() else {
        return;
    };
    let store = pg::fresh(&server, "daemons");
    let n = 3_000;
    {
        let b = PgBackend::open(&store, &Default::default()).unwrap();
        let ns = match b.call(Op::Namespace { name: "d".into() }).unwrap() {
            Reply::Namespace(n) => n.id,
            r => panic!("{r:?}"),
        };
        let data: Map = [("name".to_owned(), Value::from("s"))].into();
        let spec = match b.call(Op::SetWorkSpec { ns, data }).unwrap() {
            Reply::Spec(s) => s.id,
            r => panic!("{r:?}"),
        };
        let items = (0..n)
            .map(|i| AddWorkUnitItem::named(format!("u{i:05}")))
            .collect();
        b.call(Op::AddWorkUnits { spec, items }).unwrap();
    }
    let mut daemons: Vec<(Child, String)> = (0..3).map(|_| start_daemon(&bin, &store)).collect();
    let urls = Arc::new(
        daemons
            .iter()
            .map(|(_, u)| {
                u.trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_owned()
            })
            .collect::<Vec<_>>(),
    );
    let done = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let (urls, done) = (urls.clone(), done.clone());
            std::thread::spawn(move || {
                let r = worker(urls, i % 3, format!("w{i}"));
                done.fetch_add(1, Ordering::Relaxed);
                r
            })
        })
        .collect();
    // Kill daemon 0 once the run is under way.
    let watcher = PgBackend::open(&store, &Default::default()).unwrap();
    let spec = match watcher.call(Op::Namespace { name: "d".into() }).unwrap() {
        Reply::Namespace(ns) => match watcher.call(Op::WorkSpec {
            ns: ns.id,
            name: "s".into(),
        }) {
            Ok(Reply::Spec(s)) => s.id,
            r => panic!("{r:?}"),
        },
        r => panic!("{r:?}"),
    };
    loop {
        let c = match watcher.call(Op::CountWorkUnitStatus { spec }).unwrap() {
            Reply::StatusCounts(c) => c,
            r => panic!("{r:?}"),
        };
        if c.get(&WorkUnitStatus::Finished).copied().unwrap_or(0) >= (n / 4) as i64 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    daemons[0].0.kill().expect("SIGKILL daemon 0");
    daemons[0].0.wait().unwrap();
    let mut finished = Vec::new();
    for t in threads {
        finished.extend(t.join().expect("a worker thread panicked"));
    }
    for (d, _) in daemons.iter_mut().skip(1) {
        d.kill().unwrap();
        d.wait().unwrap();
    }
    assert_eq!(
        match watcher.call(Op::CountWorkUnitStatus { spec }).unwrap() {
            Reply::StatusCounts(c) => c,
            r => panic!("{r:?}"),
        },
        [(WorkUnitStatus::Finished, n as i64)].into_iter().collect(),
        "every unit finished"
    );
    // Each unit: one Finished attempt; any other expired (a lease of a
    // worker cut off from its daemon).
    let mut twice = 0;
    for i in 0..n {
        let unit = match watcher
            .call(Op::WorkUnit {
                spec,
                name: format!("u{i:05}"),
            })
            .unwrap()
        {
            Reply::Unit(u) => u.key(),
            r => panic!("{r:?}"),
        };
        let attempts = match watcher.call(Op::UnitAttempts { unit }).unwrap() {
            Reply::Attempts(a) => a,
            r => panic!("{r:?}"),
        };
        let mut statuses = Vec::new();
        for a in &attempts {
            match watcher.call(Op::AttemptStatus { attempt: a.id }).unwrap() {
                Reply::AttemptStatus(s) => statuses.push(s),
                r => panic!("{r:?}"),
            }
        }
        let done = statuses
            .iter()
            .filter(|s| **s == AttemptStatus::Finished)
            .count();
        assert_eq!(done, 1, "unit u{i:05}: attempts {statuses:?}");
        assert!(
            statuses
                .iter()
                .all(|s| matches!(s, AttemptStatus::Finished | AttemptStatus::Expired)),
            "unit u{i:05}: attempts {statuses:?}"
        );
        if attempts.len() > 1 {
            twice += 1;
        }
    }
    println!(
        "{} finishes returned to workers, {twice} units run again after a lease expired",
        finished.len()
    );
    assert!(
        finished.len() >= n - 6 * 2,
        "workers saw their finishes return"
    );
}
