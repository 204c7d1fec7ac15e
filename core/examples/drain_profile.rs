//! One worker drains N units (request + finish, batch B) on a mock clock and
//! prints the time per unit: a quick native baseline for the Node benchmark
//! and a target for profilers (`perf record`, `valgrind --tool=callgrind`).
//!
//! `cargo run --release -p coordinate --example drain_profile -- N [B] [SPECS]`

use std::sync::Arc;
use std::time::Instant;

use coordinate::{map, AddWorkUnitItem, AttemptRequest, Coordinate, MockClock};

fn main() -> Result<(), coordinate::Error> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().ok());
    let n = args.next().flatten().unwrap_or(100_000);
    let batch = args.next().flatten().unwrap_or(1);
    let specs = args.next().flatten().unwrap_or(1).max(1);
    let coord = Coordinate::with_options(Arc::new(MockClock::default()), Some(1));
    let ns = coord.namespace("profile").unwrap();
    let mut batches = Vec::new();
    for s in 0..specs {
        let spec = ns.set_work_spec(map([("name", format!("spec{s}"))]))?;
        let items: Vec<_> = (0..n / specs)
            .map(|i| AddWorkUnitItem::named(format!("u{i:07}")))
            .collect();
        batches.push((spec, items));
    }
    let added = Instant::now();
    for (spec, items) in batches {
        spec.add_work_units(items)?;
    }
    let add_ns = added.elapsed().as_nanos() as f64 / n as f64;
    let worker = ns.worker("w")?;
    let req = AttemptRequest {
        number_of_work_units: batch as i64,
        ..Default::default()
    };
    let start = Instant::now();
    let mut done = 0;
    loop {
        let attempts = worker.request_attempts(&req)?;
        if attempts.is_empty() {
            break;
        }
        for attempt in &attempts {
            attempt.finish(None)?;
        }
        done += attempts.len();
    }
    let per_unit = start.elapsed().as_nanos() as f64 / done as f64;
    println!(
        "units={done} batch={batch} add_ns_per_unit={add_ns:.0} drain_ns_per_unit={per_unit:.0}"
    );
    Ok(())
}
