//! Drains no-op units over HTTP through `coordinated` and reports units/s
//! and request latency.
//!
//! ```text
//! cargo build -p coordinate-server --release --examples --bins
//! target/release/examples/drain_http --units 20000 --workers 4 --batch 1 --mode request-finish
//! ```
//!
//! `--mode request-finish`: request `batch` attempts (one round trip), then
//! finish them (one call each at batch 1, one batch call otherwise).
//! `--mode finish-request`: one batch call finishes the held attempts and
//! requests the next ones (one round trip per step).
//! The parent starts `coordinated` (next to this example's directory, or
//! `--daemon PATH`; `--url` uses a running one), loads the units, then runs
//! `--workers` worker processes (this program with `--worker`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use coordinate::backend::{Op, Reply};
use coordinate::{AddWorkUnitItem, AttemptRequest, Backend, ConnectOptions};
use coordinate_server::HttpBackend;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let batch: i64 = arg(&args, "--batch").map_or(1, |v| v.parse().expect("--batch N"));
    let mode = arg(&args, "--mode").unwrap_or_else(|| "request-finish".into());
    if args.iter().any(|a| a == "--worker") {
        let url = arg(&args, "--url").expect("--url");
        let ns: u64 = arg(&args, "--ns").expect("--ns").parse().expect("ns id");
        let name = arg(&args, "--name").expect("--name");
        return worker(&url, ns, &name, batch, &mode);
    }
    let units: usize = arg(&args, "--units").map_or(20_000, |v| v.parse().expect("--units N"));
    let workers: usize = arg(&args, "--workers").map_or(1, |v| v.parse().expect("--workers N"));
    let store = arg(&args, "--store").unwrap_or_else(|| "memory:".into());
    let mut daemon = None;
    let url = match arg(&args, "--url") {
        Some(u) => u,
        None => {
            let exe = std::env::current_exe().expect("current exe");
            let default = exe
                .parent()
                .and_then(|p| p.parent())
                .map(|p| p.join("coordinated"))
                .expect("target dir");
            let path = arg(&args, "--daemon").map_or(default, Into::into);
            let mut child = Command::new(path)
                .args([
                    "--listen",
                    "127.0.0.1:0",
                    "--store",
                    &store,
                    "--log-level",
                    "warn",
                ])
                .stdout(Stdio::piped())
                .spawn()
                .expect("start coordinated");
            let mut line = String::new();
            BufReader::new(child.stdout.take().expect("stdout"))
                .read_line(&mut line)
                .expect("listening line");
            daemon = Some(child);
            format!(
                "http://{}/",
                line.trim().trim_start_matches("listening on ")
            )
        }
    };
    let admin = HttpBackend::new(&url, &ConnectOptions::default()).expect("client");
    let ns_name = format!("drain-{}", std::process::id());
    let Ok(Reply::Namespace(ns)) = admin.call(Op::Namespace { name: ns_name }) else {
        panic!("namespace")
    };
    let Ok(Reply::Spec(spec)) = admin.call(Op::SetWorkSpec {
        ns: ns.id,
        data: coordinate::map([("name", "noop")]),
    }) else {
        panic!("spec")
    };
    let load = Instant::now();
    for start in (0..units).step_by(10_000) {
        let items = (start..(start + 10_000).min(units))
            .map(|i| AddWorkUnitItem::named(format!("u{i:08}")))
            .collect();
        admin
            .call(Op::AddWorkUnits {
                spec: spec.id,
                items,
            })
            .expect("add units");
    }
    let load = load.elapsed();
    let exe = std::env::current_exe().expect("exe");
    let start = Instant::now();
    let children: Vec<_> = (0..workers)
        .map(|w| {
            Command::new(&exe)
                .args(["--worker", "--url", &url, "--ns", &ns.id.to_string()])
                .args([
                    "--name",
                    &format!("w{w}"),
                    "--batch",
                    &batch.to_string(),
                    "--mode",
                    &mode,
                ])
                .stdout(Stdio::piped())
                .spawn()
                .expect("worker process")
        })
        .collect();
    let mut lat = Vec::new();
    let mut done = 0u64;
    for c in children {
        let out = c.wait_with_output().expect("worker output");
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            if let Some(n) = line.strip_prefix("done ") {
                done += n.parse::<u64>().unwrap_or(0);
            } else if let Some(us) = line.strip_prefix("lat ") {
                lat.extend(us.split(',').filter_map(|v| v.parse::<u64>().ok()));
            }
        }
    }
    let elapsed = start.elapsed();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "store={store} units={units} workers={workers} batch={batch} mode={mode}: {done} done in {:.2}s = {:.0} units/s; round trips p50 {} us, p99 {} us ({} samples); load {:.2}s",
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        lat.len(),
        load.as_secs_f64()
    );
    assert_eq!(done as usize, units, "every unit drained once");
    if let Some(mut d) = daemon {
        let _ = Command::new("kill")
            .args(["-TERM", &d.id().to_string()])
            .status();
        let _ = d.wait();
    }
}

fn worker(url: &str, ns: u64, name: &str, batch: i64, mode: &str) {
    let b = HttpBackend::new(url, &ConnectOptions::default()).expect("client");
    let Ok(Reply::Worker(Some(w))) = b.call(Op::Worker {
        ns,
        name: name.into(),
    }) else {
        panic!("worker")
    };
    let request = Op::RequestAttempts {
        worker: w.id,
        request: AttemptRequest {
            number_of_work_units: batch,
            ..Default::default()
        },
    };
    let mut lat: Vec<u64> = Vec::new();
    let mut timed = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        lat.push(t.elapsed().as_micros() as u64);
    };
    let mut done = 0u64;
    let mut held = Vec::new();
    loop {
        if mode == "finish-request" {
            let mut ops: Vec<Op> = held
                .iter()
                .map(|a: &coordinate::backend::AttemptRef| Op::Finish {
                    attempt: a.id,
                    data: None,
                })
                .collect();
            done += ops.len() as u64;
            ops.push(request.clone());
            let mut results = Vec::new();
            let mut ops = Some(ops);
            timed(&mut || results = b.batch(ops.take().unwrap_or_default()).expect("batch"));
            match results.pop() {
                Some(Ok(Reply::Attempts(a))) => held = a,
                other => panic!("{other:?}"),
            }
            if held.is_empty() {
                break;
            }
            continue;
        }
        let mut got = None;
        timed(&mut || got = Some(b.call(request.clone())));
        let Some(Ok(Reply::Attempts(attempts))) = got else {
            panic!("request: {got:?}")
        };
        if attempts.is_empty() {
            break;
        }
        if batch == 1 {
            for a in &attempts {
                timed(&mut || {
                    b.call(Op::Finish {
                        attempt: a.id,
                        data: None,
                    })
                    .expect("finish");
                });
            }
        } else {
            let ops = attempts
                .iter()
                .map(|a| Op::Finish {
                    attempt: a.id,
                    data: None,
                })
                .collect();
            timed(&mut || {
                b.batch(std::mem::take(&mut Vec::clone(&ops)))
                    .expect("finish batch");
            });
        }
        done += attempts.len() as u64;
    }
    println!("done {done}");
    // A sample of latencies keeps the output small.
    let step = (lat.len() / 20_000).max(1);
    let sample: Vec<String> = lat.iter().step_by(step).map(u64::to_string).collect();
    println!("lat {}", sample.join(","));
}
