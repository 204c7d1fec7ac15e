//! The model-based property test (`core/tests/support/model.rs`) on SQLite:
//! random operation sequences against a fresh database file each, compared
//! step by step with the naive reference model.

#[path = "../../core/tests/support/model.rs"]
mod model;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use coordinate::{ConnectOptions, Coordinate};

#[test]
fn sqlite_matches_model() {
    coordinate_sql::install();
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_path_buf();
    let next = AtomicU64::new(0);
    model::use_store(Arc::new(move |clock, seed| {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let path = root.join(format!("case-{n}.db"));
        Coordinate::connect(
            &format!("sqlite://{}", path.display()),
            ConnectOptions {
                clock: Some(Arc::new(clock.clone())),
                seed: Some(seed),
                ..Default::default()
            },
        )
        .expect("a fresh SQLite file opens")
    }));
    model::engine_matches_model(400);
}
