//! SQLite store benchmarks (plain timing, one line per measurement).
//!
//! `cargo bench -p coordinate-sql --bench sqlite` runs everything;
//! arguments filter by measurement name (`add`, `drain`, `procs`), and
//! `COORDINATE_SQL_BENCH_SIZES=10000,100000` picks the spec sizes
//! (default 10k, 100k, 1M). Every measurement uses a fresh file in a temp
//! directory with the default `synchronous=NORMAL` (WAL).
//!
//! - add: units added per second, one `AddWorkUnit` per call (batch 1) or
//!   100 items per `AddWorkUnits` call (batch 100);
//! - drain: µs per unit for request + finish on a spec holding N units,
//!   batch 1 (one request of 1, one finish: two transactions per unit) and
//!   batch 100 (one request of 100, then the 100 finishes as one
//!   `Backend::batch`: two transactions per 100 units);
//! - procs: 4 `coordinate-sql-drill work` processes draining one file.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use coordinate::backend::{Op, Reply};
use coordinate::{AddWorkUnitItem, AttemptRequest, Backend, Map, Value};
use coordinate_sql::SqliteBackend;

mod support;

/// Nanoseconds this thread spent on a CPU (user and kernel), from
/// `/proc/thread-self/schedstat`: on a shared machine the wall time also
/// counts other processes' turns, the CPU time does not.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

const DRILL: &str = env!("CARGO_BIN_EXE_coordinate-sql-drill");

fn open(path: &Path) -> SqliteBackend {
    SqliteBackend::open(&format!("sqlite://{}", path.display()), &Default::default())
        .expect("open the store")
}

fn setup(b: &SqliteBackend) -> (u64, u64, u64) {
    let ns = match b
        .call(Op::Namespace {
            name: "drill".into(),
        })
        .expect("namespace")
    {
        Reply::Namespace(n) => n.id,
        r => panic!("{r:?}"),
    };
    let data: Map = [("name".to_owned(), Value::from("s"))].into();
    let spec = match b.call(Op::SetWorkSpec { ns, data }).expect("spec") {
        Reply::Spec(s) => s.id,
        r => panic!("{r:?}"),
    };
    let worker = match b
        .call(Op::Worker {
            ns,
            name: "w".into(),
        })
        .expect("worker")
    {
        Reply::Worker(Some(w)) => w.id,
        r => panic!("{r:?}"),
    };
    (ns, spec, worker)
}

fn bench_add(n: usize, batch: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let b = open(&dir.path().join("add.db"));
    let (_, spec, _) = setup(&b);
    let start = Instant::now();
    let cpu = cpu_ns();
    let mut i = 0;
    while i < n {
        if batch == 1 {
            b.call(Op::AddWorkUnit {
                spec,
                name: format!("u{i:07}"),
                data: Map::new(),
                meta: Default::default(),
            })
            .expect("add");
            i += 1;
        } else {
            let items = (i..(i + batch).min(n))
                .map(|k| AddWorkUnitItem::named(format!("u{k:07}")))
                .collect();
            b.call(Op::AddWorkUnits { spec, items }).expect("add");
            i += batch;
        }
    }
    let s = start.elapsed().as_secs_f64();
    let c = (cpu_ns() - cpu) as f64 / 1e9;
    println!(
        "add      n={n:>8} batch={batch:>3}: {:>9.0} units/s ({:.2} µs/unit wall, {:.2} µs/unit CPU)",
        n as f64 / s,
        s * 1e6 / n as f64,
        c * 1e6 / n as f64
    );
}

fn bench_drain(n: usize, batch: i64, measure: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let b = open(&dir.path().join("drain.db"));
    let (_, spec, worker) = setup(&b);
    support::add_units(&b, spec, n);
    let request = AttemptRequest {
        number_of_work_units: batch,
        ..Default::default()
    };
    let mut done = 0;
    let start = Instant::now();
    let cpu = cpu_ns();
    while done < measure {
        let atts = match b
            .call(Op::RequestAttempts {
                worker,
                request: request.clone(),
            })
            .expect("request")
        {
            Reply::Attempts(a) => a,
            r => panic!("{r:?}"),
        };
        if atts.is_empty() {
            break;
        }
        done += atts.len();
        support::finish(&b, atts, batch);
    }
    let s = start.elapsed().as_secs_f64();
    let c = (cpu_ns() - cpu) as f64 / 1e9;
    println!(
        "drain    n={n:>8} batch={batch:>3}: {:>7.2} µs wall, {:>7.2} µs CPU per request+finish ({done} units, {:.0} units/s)",
        s * 1e6 / done as f64,
        c * 1e6 / done as f64,
        done as f64 / s
    );
}

fn bench_procs(per: usize, procs: usize, batch: i64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("procs.db");
    let b = open(&path);
    let (_, spec, _) = setup(&b);
    support::add_units(&b, spec, per * procs);
    b.close().expect("close");
    let url = format!("sqlite://{}", path.display());
    let start = Instant::now();
    let children: Vec<_> = (0..procs)
        .map(|_| {
            Command::new(DRILL)
                .args(["work", &url, "s", &batch.to_string()])
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().expect("wait").success(), "a child failed");
    }
    let s = start.elapsed().as_secs_f64();
    let total = per * procs;
    println!(
        "procs    {procs} x {per} batch={batch:>3}: {:>9.0} units/s ({:.2} s)",
        total as f64 / s,
        s
    );
}

fn main() {
    let want = support::wanted();
    let sizes = support::list("COORDINATE_SQL_BENCH_SIZES", &[10_000, 100_000, 1_000_000]);
    if want("add") {
        for &n in &sizes {
            bench_add(n.min(100_000), 1);
            bench_add(n, 100);
        }
    }
    if want("drain") {
        for &n in &sizes {
            bench_drain(n, 1, n.min(20_000));
            bench_drain(n, 100, n.min(100_000));
        }
    }
    if want("procs") {
        bench_procs(25_000, 4, 1);
        bench_procs(25_000, 4, 100);
    }
}
