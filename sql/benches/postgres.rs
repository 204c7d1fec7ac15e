//! PostgreSQL store benchmarks (plain timing, one line per measurement).
//!
//! Needs a server: `$COORDINATE_TEST_POSTGRES` (`make bench-postgres`
//! starts a throwaway one with `scripts/postgres.sh`, fsync on). Every
//! measurement uses a fresh schema. Arguments filter by measurement name:
//!
//! - `claim`: µs per request + finish (one process, batch 1) on a spec
//!   holding 10k and 1M units (`COORDINATE_PG_BENCH_SIZES` changes them):
//!   the claim cost must not grow with the spec;
//! - `drain`: units per second draining 20k and 200k no-op units
//!   (`COORDINATE_PG_BENCH_DRAIN`) with 1 and 4 worker processes, batch 1
//!   (request 1, finish it: two transactions per unit) and batch 100
//!   (request 100, finish them in one `Backend::batch`), direct to
//!   PostgreSQL and through `coordinated` (`target/release/coordinated
//!   --store postgresql://...`, HTTP from each worker process);
//!   `COORDINATE_PG_BENCH_BATCH`, `COORDINATE_PG_BENCH_PROCS` (lists) and
//!   `COORDINATE_PG_BENCH_VIA` (`direct`, `coordinated` or both) pick rows.
//!   Each row runs twice: `separate` finishes a batch in a transaction of
//!   its own, `paired` finishes it in the same transaction as the next
//!   request (`Worker::finish_and_request`); `COORDINATE_PG_BENCH_LOOP`
//!   (`separate`, `paired` or both) picks.
//!
//! Worker processes are this binary again (`COORDINATE_PG_BENCH_CHILD`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use coordinate::backend::{AttemptRef, Op, Reply};
use coordinate::{AttemptRequest, Backend, Map, Value, WorkUnitStatus};
use coordinate_server::HttpBackend;
use coordinate_sql::PgBackend;

mod support;

fn fresh(base: &str, label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() % 1_000_000_000);
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}schema=b_{label}_{}_{nanos}", std::process::id())
}

fn open(url: &str) -> Box<dyn Backend> {
    if url.starts_with("http://") {
        Box::new(HttpBackend::new(url, &Default::default()).expect("client"))
    } else {
        Box::new(PgBackend::open(url, &Default::default()).expect("open the store"))
    }
}

fn setup(b: &dyn Backend, worker: &str) -> (u64, u64) {
    let ns = match b
        .call(Op::Namespace {
            name: "bench".into(),
        })
        .expect("namespace")
    {
        Reply::Namespace(n) => n.id,
        r => panic!("{r:?}"),
    };
    let spec = match b
        .call(Op::WorkSpec {
            ns,
            name: "s".into(),
        })
        .or_else(|_| {
            let data: Map = [("name".to_owned(), Value::from("s"))].into();
            b.call(Op::SetWorkSpec { ns, data })
        })
        .expect("spec")
    {
        Reply::Spec(s) => s.id,
        r => panic!("{r:?}"),
    };
    let worker = match b
        .call(Op::Worker {
            ns,
            name: worker.into(),
        })
        .expect("worker")
    {
        Reply::Worker(Some(w)) => w.id,
        r => panic!("{r:?}"),
    };
    (spec, worker)
}

fn populate(url: &str, n: usize) -> u64 {
    let b = PgBackend::open(url, &Default::default()).expect("open");
    let ns = match b
        .call(Op::Namespace {
            name: "bench".into(),
        })
        .expect("ns")
    {
        Reply::Namespace(n) => n.id,
        r => panic!("{r:?}"),
    };
    let data: Map = [("name".to_owned(), Value::from("s"))].into();
    let spec = match b.call(Op::SetWorkSpec { ns, data }).expect("spec") {
        Reply::Spec(s) => s.id,
        r => panic!("{r:?}"),
    };
    support::add_units(&b, spec, n);
    b.close().expect("close");
    spec
}

/// Requests and finishes until the spec is empty (or `limit` units);
/// returns the units done. `paired` finishes each batch in the same
/// transaction as the next request (`Worker::finish_and_request`'s one
/// `Backend::batch`) instead of in transactions of their own.
fn drain(b: &dyn Backend, spec: u64, worker: u64, batch: i64, paired: bool, limit: usize) -> usize {
    let request = AttemptRequest {
        number_of_work_units: batch,
        ..Default::default()
    };
    let mut done = 0;
    let mut pending: Vec<AttemptRef> = Vec::new();
    loop {
        let asked = done < limit;
        if !paired && !pending.is_empty() {
            support::finish(b, std::mem::take(&mut pending), batch);
        }
        if !asked && pending.is_empty() {
            break;
        }
        let mut ops: Vec<Op> = pending
            .drain(..)
            .map(|a| Op::Finish {
                attempt: a.id,
                data: None,
            })
            .collect();
        if asked {
            ops.push(Op::RequestAttempts {
                worker,
                request: request.clone(),
            });
        }
        let mut replies = if ops.len() == 1 && asked {
            vec![b.call(ops.remove(0))]
        } else {
            b.batch(ops).expect("batch")
        };
        let atts = if asked {
            match replies.pop().expect("a reply").expect("request") {
                Reply::Attempts(a) => a,
                r => panic!("{r:?}"),
            }
        } else {
            Vec::new()
        };
        for r in replies {
            r.expect("finish");
        }
        if asked && atts.is_empty() {
            let left = match b.call(Op::CountWorkUnitStatus { spec }).expect("count") {
                Reply::StatusCounts(c) => c
                    .iter()
                    .filter(|(s, _)| **s != WorkUnitStatus::Finished)
                    .map(|(_, n)| *n)
                    .sum::<i64>(),
                r => panic!("{r:?}"),
            };
            if left == 0 {
                break;
            }
            continue;
        }
        done += atts.len();
        pending = atts;
    }
    done
}

fn child(spec_url: &str) {
    let mut parts = spec_url.splitn(3, ' ');
    let batch: i64 = parts.next().and_then(|b| b.parse().ok()).expect("batch");
    let paired = parts.next() == Some("paired");
    let url = parts.next().expect("url");
    let b = open(url);
    let (spec, worker) = setup(&*b, &format!("w{}", std::process::id()));
    drain(&*b, spec, worker, batch, paired, usize::MAX);
}

fn coordinated() -> Option<PathBuf> {
    let path = std::env::var_os("COORDINATED")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/coordinated")
        });
    path.exists().then_some(path)
}

fn start_daemon(bin: &PathBuf, store: &str) -> (Child, String) {
    use std::io::BufRead;
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
        .spawn()
        .expect("start coordinated");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .expect("address")
        .to_owned();
    (child, format!("http://{addr}/"))
}

fn bench_claim(server: &str, n: usize) {
    let url = fresh(server, "claim");
    let spec = populate(&url, n);
    let b = PgBackend::open(&url, &Default::default()).expect("open");
    let (_, worker) = setup(&b, "w");
    // Warm the statement cache and the server's buffers.
    drain(&b, spec, worker, 1, false, 200);
    let measure = 3_000.min(n);
    let start = Instant::now();
    let done = drain(&b, spec, worker, 1, false, measure);
    let s = start.elapsed().as_secs_f64();
    println!(
        "claim    n={n:>8}: {:>7.1} µs per request+finish (batch 1, 1 process, {done} units)",
        s * 1e6 / done as f64
    );
}

/// One drain measurement: `n` units, `procs` worker processes asking for
/// `batch` units at a time, finishing them apart or `paired` with the next
/// request, direct to PostgreSQL or through the daemon at `via`.
struct Drain<'a> {
    n: usize,
    procs: usize,
    batch: i64,
    paired: bool,
    via: Option<&'a PathBuf>,
}

fn bench_drain(server: &str, row: &Drain) {
    let Drain {
        n,
        procs,
        batch,
        paired,
        via,
    } = *row;
    let mode = if paired { "paired" } else { "separate" };
    let url = fresh(server, "drain");
    populate(&url, n);
    let mut daemon = via.map(|bin| start_daemon(bin, &url));
    let target = daemon.as_ref().map_or(url.clone(), |(_, u)| u.clone());
    let me = std::env::current_exe().expect("own path");
    let start = Instant::now();
    let children: Vec<_> = (0..procs)
        .map(|_| {
            Command::new(&me)
                .env(
                    "COORDINATE_PG_BENCH_CHILD",
                    format!("{batch} {mode} {target}"),
                )
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().expect("wait").success(), "a worker failed");
    }
    let s = start.elapsed().as_secs_f64();
    if let Some((d, _)) = daemon.as_mut() {
        let _ = d.kill();
        let _ = d.wait();
    }
    println!(
        "drain    n={n:>7} procs={procs} batch={batch:>3} {mode:<8} {:<11}: {:>8.0} units/s ({s:.2} s)",
        if via.is_some() {
            "coordinated"
        } else {
            "direct"
        },
        n as f64 / s
    );
}

fn main() {
    if let Ok(spec) = std::env::var("COORDINATE_PG_BENCH_CHILD") {
        child(&spec);
        return;
    }
    let Ok(server) = std::env::var("COORDINATE_TEST_POSTGRES") else {
        eprintln!(
            "bench postgres: set COORDINATE_TEST_POSTGRES=postgresql://... (make bench-postgres starts a server)"
        );
        return;
    };
    let want = support::wanted();
    if want("claim") {
        for n in support::list("COORDINATE_PG_BENCH_SIZES", &[10_000, 1_000_000]) {
            bench_claim(&server, n);
        }
    }
    if want("drain") {
        let daemon = coordinated();
        if daemon.is_none() {
            eprintln!("bench postgres: no target/release/coordinated: skipping the daemon rows");
        }
        let direct =
            std::env::var("COORDINATE_PG_BENCH_VIA").map_or(true, |v| v.contains("direct"));
        let through =
            std::env::var("COORDINATE_PG_BENCH_VIA").map_or(true, |v| v.contains("coordinated"));
        let loops = std::env::var("COORDINATE_PG_BENCH_LOOP");
        let separate = loops.as_ref().map_or(true, |v| v.contains("separate"));
        let paired = loops.as_ref().map_or(true, |v| v.contains("paired"));
        let mut vias = Vec::new();
        if direct {
            vias.push(None);
        }
        if let (true, Some(bin)) = (through, daemon.as_ref()) {
            vias.push(Some(bin));
        }
        for n in support::list("COORDINATE_PG_BENCH_DRAIN", &[20_000, 200_000]) {
            for batch in support::list("COORDINATE_PG_BENCH_BATCH", &[1, 100]) {
                for procs in support::list("COORDINATE_PG_BENCH_PROCS", &[1, 4]) {
                    for pair in [false, true] {
                        if !(if pair { paired } else { separate }) {
                            continue;
                        }
                        for &via in &vias {
                            let batch = batch as i64;
                            let row = Drain {
                                n,
                                procs,
                                batch,
                                paired: pair,
                                via,
                            };
                            bench_drain(&server, &row);
                        }
                    }
                }
            }
        }
    }
}
