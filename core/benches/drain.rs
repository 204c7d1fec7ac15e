//! Throughput and memory of the engine's hot paths: adding units, and one
//! worker draining them with request + finish, at 10k, 100k and 1M units.
//!
//! Run with `make bench` (or `cargo bench -p coordinate --bench drain`).
//! Prints resident bytes per unit first, then criterion's timings; each
//! timing's "per element" throughput is the cost per unit.

use std::hint::black_box;
use std::sync::Arc;

use coordinate::{map, AddWorkUnitItem, AttemptRequest, Coordinate, MockClock, WorkSpec, Worker};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};

const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];

/// A coordinate with `specs` specs ("s0".."s9") sharing `units` empty units.
fn setup(specs: usize, units: usize) -> (Coordinate, Vec<WorkSpec>, Worker) {
    let coord = Coordinate::with_options(Arc::new(MockClock::default()), Some(1));
    let ns = coord.namespace("bench").unwrap();
    let specs: Vec<WorkSpec> = (0..specs)
        .map(|i| {
            ns.set_work_spec(map([("name", format!("s{i}"))]))
                .expect("spec")
        })
        .collect();
    let per_spec = units / specs.len();
    for spec in &specs {
        spec.add_work_units(items(per_spec)).expect("add");
    }
    let worker = ns.worker("w").expect("worker");
    (coord, specs, worker)
}

fn items(n: usize) -> Vec<AddWorkUnitItem> {
    (0..n)
        .map(|i| AddWorkUnitItem::named(format!("u{i:07}")))
        .collect()
}

fn drain(worker: &Worker, batch: i64) -> usize {
    let req = AttemptRequest {
        number_of_work_units: batch,
        ..Default::default()
    };
    let mut done = 0;
    loop {
        let attempts = worker.request_attempts(&req).expect("request");
        if attempts.is_empty() {
            return done;
        }
        for a in &attempts {
            a.finish(None).expect("finish");
        }
        done += attempts.len();
    }
}

fn bench_add(c: &mut Criterion) {
    let mut g = c.benchmark_group("add");
    g.sample_size(10);
    for &n in &SIZES {
        for specs in [1, 10] {
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::new(format!("{specs}spec"), n), &n, |b, &n| {
                b.iter_batched(
                    || {
                        let (c, s, _) = setup(specs, specs);
                        s.iter()
                            .for_each(|s| drop(s.delete_work_units(&Default::default())));
                        (
                            c,
                            s,
                            (0..specs).map(|_| items(n / specs)).collect::<Vec<_>>(),
                        )
                    },
                    |(c, s, batches)| {
                        for (spec, batch) in s.iter().zip(batches) {
                            black_box(spec.add_work_units(batch).expect("add"));
                        }
                        c
                    },
                    BatchSize::PerIteration,
                );
            });
        }
    }
}

fn bench_drain(c: &mut Criterion) {
    for batch in [1, 100] {
        let mut g = c.benchmark_group(format!("drain_batch{batch}"));
        g.sample_size(10);
        for &n in &SIZES {
            for specs in [1, 10] {
                g.throughput(Throughput::Elements(n as u64));
                g.bench_with_input(BenchmarkId::new(format!("{specs}spec"), n), &n, |b, &n| {
                    b.iter_batched(
                        || setup(specs, n),
                        |(c, _, w)| {
                            assert_eq!(drain(&w, batch), n);
                            c
                        },
                        BatchSize::PerIteration,
                    );
                });
            }
        }
    }
}

/// Resident set size in bytes, from /proc (Linux only; 0 elsewhere).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Measures each size in a fresh process, so no size reuses another's freed memory.
fn memory_report() {
    if let Some(n) = std::env::var("COORDINATE_MEMORY_UNITS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        let before = rss();
        let kept = setup(1, n);
        let per_unit = rss().saturating_sub(before) as f64 / n as f64;
        println!("memory: {n} units with empty data: {per_unit:.0} resident bytes per unit");
        drop(kept);
        std::process::exit(0);
    }
    let exe = std::env::current_exe().expect("bench executable");
    for n in SIZES {
        let status = std::process::Command::new(&exe)
            .env("COORDINATE_MEMORY_UNITS", n.to_string())
            .status()
            .expect("memory run");
        assert!(status.success());
    }
}

fn main() {
    memory_report();
    let mut c = Criterion::default().configure_from_args();
    bench_add(&mut c);
    bench_drain(&mut c);
    c.final_summary();
}
