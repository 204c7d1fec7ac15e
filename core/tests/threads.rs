//! Threads: many workers draining one spec at once must never be handed the
//! same unit twice, and concurrent upserts of one name must be safe
//! (docs/semantics.md §4.6, T-CONCURRENT-EXECUTION and T-ADD-SAME-UNIT).

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};
use std::thread;

use coordinate::{
    map, AddWorkUnitItem, AttemptRequest, Coordinate, MockClock, Namespace, WorkUnitStatus,
};

const THREADS: usize = 8;
const UNITS: usize = 100_000;

fn setup() -> (Namespace, coordinate::WorkSpec) {
    // The clock never moves, so no lease expires while the threads run.
    let coord = Coordinate::with_options(Arc::new(MockClock::default()), Some(7));
    let ns = coord.namespace("threads").unwrap();
    let spec = ns.set_work_spec(map([("name", "spec")])).expect("spec");
    (ns, spec)
}

/// 8 threads, each with its own worker, drain 100,000 units with
/// request_attempts + finish, `batch` units per request.
fn drain(batch: i64) {
    let (ns, spec) = setup();
    let items = (0..UNITS)
        .map(|i| AddWorkUnitItem::named(format!("u{i:06}")))
        .collect();
    assert_eq!(spec.add_work_units(items).expect("add"), UNITS);
    assert_eq!(
        spec.count_work_unit_status().expect("counts"),
        BTreeMap::from([(WorkUnitStatus::Available, UNITS as i64)])
    );

    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let worker = ns.worker(&format!("worker{t}")).expect("worker");
            let start = start.clone();
            thread::spawn(move || {
                let req = AttemptRequest {
                    number_of_work_units: batch,
                    ..Default::default()
                };
                let mut got = Vec::new();
                start.wait();
                loop {
                    let attempts = worker.request_attempts(&req).expect("request");
                    if attempts.is_empty() {
                        break;
                    }
                    assert!(attempts.len() as i64 <= batch);
                    for a in attempts {
                        assert_eq!(a.worker(), &worker);
                        got.push(a.work_unit().name().to_owned());
                        a.finish(None).expect("finish");
                    }
                }
                got
            })
        })
        .collect();

    let mut seen: Vec<String> = Vec::with_capacity(UNITS);
    for h in handles {
        seen.extend(h.join().expect("thread"));
    }
    let handed_out = seen.len();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), handed_out, "a unit was handed out twice");
    assert_eq!(handed_out, UNITS, "not every unit was handed out");
    assert_eq!(
        spec.count_work_unit_status().expect("counts"),
        BTreeMap::from([(WorkUnitStatus::Finished, UNITS as i64)])
    );
    for (_, w) in ns.workers().expect("workers") {
        assert!(w.active_attempts().expect("active").is_empty());
    }
}

#[test]
fn eight_threads_drain_100k_units_one_at_a_time() {
    drain(1);
}

#[test]
fn eight_threads_drain_100k_units_ten_at_a_time() {
    drain(10);
}

/// T-ADD-SAME-UNIT: 8 threads each add unit000..unit999 at once; every call
/// succeeds and exactly 1000 available units remain.
#[test]
fn eight_threads_add_the_same_units() {
    let (_ns, spec) = setup();
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let spec = spec.clone();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                for i in 0..1000 {
                    let name = format!("unit{i:03}");
                    let unit = spec
                        .add_work_unit(&name, Default::default(), Default::default())
                        .expect("add");
                    assert_eq!(unit.name(), name);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    assert_eq!(
        spec.count_work_unit_status().expect("counts"),
        BTreeMap::from([(WorkUnitStatus::Available, 1000)])
    );
    let units = spec.work_units(&Default::default()).expect("units");
    assert_eq!(units.len(), 1000);
    assert!(units
        .keys()
        .zip(0..)
        .all(|(name, i)| *name == format!("unit{i:03}")));
    for unit in units.values() {
        assert_eq!(unit.num_attempts().expect("n"), 0);
        assert!(unit.data().expect("data").is_empty());
    }
}
