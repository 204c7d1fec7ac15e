//! The whole conformance corpus against SQLite: every scenario on a fresh
//! database file (in one temp directory kept for the run), with the
//! scenario's mock clock and seed.

#[path = "../../core/tests/support/corpus.rs"]
mod corpus;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use coordinate::{ConnectOptions, Coordinate};
use coordinate_sql::SqliteBackend;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_owned();
    let next = AtomicU64::new(0);
    let factory: corpus::StoreFactory = Arc::new(move |clock, seed| {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let url = format!("sqlite://{}/scenario-{n}.db", root.display());
        let options = ConnectOptions {
            clock: Some(Arc::new(clock.clone())),
            seed: Some(seed),
            ..Default::default()
        };
        Ok(Coordinate::from_backend(Arc::new(SqliteBackend::open(
            &url, &options,
        )?)))
    });
    // `corpus::main` exits the process; the directory goes with it.
    std::mem::forget(dir);
    corpus::main("sqlite", factory);
}
