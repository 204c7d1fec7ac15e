//! The whole conformance corpus against PostgreSQL: every scenario in a
//! fresh schema of the test server, with the scenario's mock clock and seed.

#[path = "../../core/tests/support/corpus.rs"]
mod corpus;
mod pg;

use std::sync::Arc;

use coordinate::{ConnectOptions, Coordinate};
use coordinate_sql::PgBackend;

fn main() {
    let Some(server) = pg::server() else {
        return;
    };
    let factory: corpus::StoreFactory = Arc::new(move |clock, seed| {
        let url = pg::fresh(&server, "corpus");
        let options = ConnectOptions {
            clock: Some(Arc::new(clock.clone())),
            seed: Some(seed),
            ..Default::default()
        };
        Ok(Coordinate::from_backend(Arc::new(PgBackend::open(
            &url, &options,
        )?)))
    });
    corpus::main("postgresql", factory);
}
