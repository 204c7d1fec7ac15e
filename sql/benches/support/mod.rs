//! What the store benchmarks (`sqlite.rs`, `postgres.rs`) share: adding
//! units, finishing a claimed batch, and reading the command line and the
//! size lists from the environment.

#![allow(dead_code)]

use coordinate::backend::{AttemptRef, Op};
use coordinate::{AddWorkUnitItem, Backend};

/// Adds units `u0000000`... to `u{n-1}` to `spec`, 10,000 per
/// `AddWorkUnits` call.
pub fn add_units(b: &dyn Backend, spec: u64, n: usize) {
    let mut i = 0;
    while i < n {
        let items = (i..(i + 10_000).min(n))
            .map(|k| AddWorkUnitItem::named(format!("u{k:07}")))
            .collect();
        b.call(Op::AddWorkUnits { spec, items }).expect("add");
        i += 10_000;
    }
}

/// Finishes the attempts a request returned: one `Finish` call each for
/// batch 1, else all of them in one `Backend::batch`.
pub fn finish(b: &dyn Backend, atts: Vec<AttemptRef>, batch: i64) {
    if batch == 1 {
        for a in atts {
            b.call(Op::Finish {
                attempt: a.id,
                data: None,
            })
            .expect("finish");
        }
    } else {
        let ops = atts
            .iter()
            .map(|a| Op::Finish {
                attempt: a.id,
                data: None,
            })
            .collect();
        for r in b.batch(ops).expect("batch") {
            r.expect("finish");
        }
    }
}

/// Whether the measurement `name` is wanted: the command line's arguments
/// (flags aside) name the measurements to run; none runs them all.
pub fn wanted() -> impl Fn(&str) -> bool {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    move |name: &str| args.is_empty() || args.iter().any(|a| a == name)
}

/// The comma-separated numbers in `$var`, or `default`.
pub fn list(var: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(var)
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}
