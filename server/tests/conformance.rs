//! The whole conformance corpus over HTTP: every scenario gets a fresh
//! isolated test store (`?test_store=NAME`) on one `coordinated` in test
//! mode, carrying its mock clock (as the mock-time header) and its seed.
//! The daemon's store is `memory:` unless `COORDINATE_SERVER_TEST_STORE_URL`
//! names another test-store URL template (`{name}` for the store's name).

#[path = "../../core/tests/support/corpus.rs"]
mod corpus;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use coordinate::{ConnectOptions, Coordinate};
use coordinate_server::{Config, Daemon};

fn main() {
    coordinate_server::install_stores();
    let test_store_url =
        std::env::var("COORDINATE_SERVER_TEST_STORE_URL").unwrap_or_else(|_| "memory:".into());
    let daemon = Daemon::start(Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        store_url: "memory:".into(),
        test_mode: true,
        test_store_url,
        ..Config::default()
    })
    .expect("the daemon starts");
    let base = daemon.url();
    // The daemon lives for the whole run (corpus::main exits the process).
    std::mem::forget(daemon);
    let next = Arc::new(AtomicU64::new(0));
    let factory: corpus::StoreFactory = Arc::new(move |clock, seed| {
        let n = next.fetch_add(1, Ordering::Relaxed);
        Coordinate::connect(
            &format!("{base}?test_store=scenario-{n}"),
            ConnectOptions {
                clock: Some(Arc::new(clock.clone())),
                seed: Some(seed),
                ..Default::default()
            },
        )
    });
    corpus::main("http", factory);
}
