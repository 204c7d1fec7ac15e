//! A load test: 1,000 concurrent client connections to the `coordinated`
//! binary on `memory:`, requesting and finishing units for about 30 s at
//! most. No unit is handed out twice, none is lost, and the daemon's
//! resident memory stays bounded.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use coordinate::backend::{Op, Reply};
use coordinate::{AddWorkUnitItem, AttemptRequest, Backend, ConnectOptions, WorkUnitStatus};
use coordinate_server::HttpBackend;

const CLIENTS: usize = 1000;
const UNITS: usize = 200_000;
const RUN_FOR: Duration = Duration::from_secs(30);

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_thousand_connections_request_and_finish() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coordinated"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--store",
            "memory:",
            "--log-level",
            "warn",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn coordinated");
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = format!(
        "http://{}/",
        line.trim().strip_prefix("listening on ").unwrap()
    );

    let admin = HttpBackend::new(&url, &ConnectOptions::default()).unwrap();
    let Reply::Namespace(ns) = admin
        .call(Op::Namespace {
            name: "load".into(),
        })
        .unwrap()
    else {
        panic!()
    };
    let Reply::Spec(spec) = admin
        .call(Op::SetWorkSpec {
            ns: ns.id,
            data: coordinate::map([("name", "s")]),
        })
        .unwrap()
    else {
        panic!()
    };
    for chunk in (0..UNITS).collect::<Vec<_>>().chunks(20_000) {
        let items = chunk
            .iter()
            .map(|i| AddWorkUnitItem::named(format!("u{i:07}")))
            .collect();
        admin
            .call(Op::AddWorkUnits {
                spec: spec.id,
                items,
            })
            .unwrap();
    }
    let rss_loaded = rss_kib(pid);

    let seen = Arc::new(Mutex::new(HashSet::with_capacity(UNITS)));
    let duplicates = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(CLIENTS + 1));
    let deadline = Instant::now() + RUN_FOR + Duration::from_secs(5);
    let mut threads = Vec::with_capacity(CLIENTS);
    for c in 0..CLIENTS {
        let (url, seen, duplicates, finished, errors, stop, barrier) = (
            url.clone(),
            seen.clone(),
            duplicates.clone(),
            finished.clone(),
            errors.clone(),
            stop.clone(),
            barrier.clone(),
        );
        let ns = ns.id;
        threads.push(
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let b = HttpBackend::new(&url, &ConnectOptions::default()).unwrap();
                    let w = match b.call(Op::Worker {
                        ns,
                        name: format!("w{c}"),
                    }) {
                        Ok(Reply::Worker(Some(w))) => w,
                        other => {
                            errors.lock().unwrap().push(format!("worker: {other:?}"));
                            barrier.wait();
                            return;
                        }
                    };
                    barrier.wait();
                    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                        let got = b.call(Op::RequestAttempts {
                            worker: w.id,
                            request: AttemptRequest::default(),
                        });
                        let attempts = match got {
                            Ok(Reply::Attempts(a)) => a,
                            other => {
                                errors.lock().unwrap().push(format!("request: {other:?}"));
                                return;
                            }
                        };
                        if attempts.is_empty() {
                            return;
                        }
                        for a in attempts {
                            if !seen.lock().unwrap().insert(a.unit.name.to_string()) {
                                duplicates.fetch_add(1, Ordering::Relaxed);
                            }
                            match b.call(Op::Finish {
                                attempt: a.id,
                                data: None,
                            }) {
                                Ok(_) => {
                                    finished.fetch_add(1, Ordering::Relaxed);
                                }
                                Err(e) => errors.lock().unwrap().push(format!("finish: {e}")),
                            }
                        }
                    }
                })
                .unwrap(),
        );
    }
    barrier.wait();
    let started = Instant::now();
    let mut max_rss = rss_loaded;
    while threads.iter().any(|t| !t.is_finished()) {
        max_rss = max_rss.max(rss_kib(pid));
        if started.elapsed() > RUN_FOR {
            stop.store(true, Ordering::Relaxed);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for t in threads {
        t.join().unwrap();
    }
    let elapsed = started.elapsed();

    let Reply::StatusCounts(counts) = admin
        .call(Op::CountWorkUnitStatus { spec: spec.id })
        .unwrap()
    else {
        panic!()
    };
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let exit = child.wait().unwrap();

    let errors = errors.lock().unwrap();
    let done = finished.load(Ordering::Relaxed);
    println!(
        "load: {CLIENTS} connections, {done} units finished in {elapsed:?} ({:.0}/s); daemon RSS {} MiB loaded, {} MiB peak",
        done as f64 / elapsed.as_secs_f64(),
        rss_loaded / 1024,
        max_rss / 1024
    );
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        errors.first()
    );
    assert_eq!(
        duplicates.load(Ordering::Relaxed),
        0,
        "a unit was handed out twice"
    );
    let count = |s| counts.get(&s).copied().unwrap_or(0) as u64;
    assert!(done > 0);
    assert_eq!(
        count(WorkUnitStatus::Finished),
        done,
        "every acknowledged finish is there"
    );
    assert_eq!(
        count(WorkUnitStatus::Pending),
        0,
        "every handed-out unit was finished"
    );
    assert_eq!(
        count(WorkUnitStatus::Finished) + count(WorkUnitStatus::Available),
        UNITS as u64,
        "no unit lost"
    );
    assert_eq!(seen.lock().unwrap().len() as u64, done);
    assert!(
        max_rss < 1024 * 1024,
        "the daemon's RSS peaked at {} MiB",
        max_rss / 1024
    );
    assert!(
        max_rss.saturating_sub(rss_loaded) < 512 * 1024,
        "the daemon grew by {} MiB under load",
        (max_rss - rss_loaded) / 1024
    );
    assert!(exit.success(), "a clean exit after the load");
}
