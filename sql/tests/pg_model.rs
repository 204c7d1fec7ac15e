//! The model-based property test (`core/tests/support/model.rs`) on
//! PostgreSQL, through `Coordinate::connect("postgresql://...")`: random
//! operation sequences against a fresh schema each, compared step by step
//! with the naive reference model (fewer cases than on SQLite: each case
//! creates a schema on the server).

#[path = "../../core/tests/support/model.rs"]
mod model;
mod pg;

use std::sync::Arc;

use coordinate::{ConnectOptions, Coordinate};

#[test]
fn postgres_matches_model() {
    let Some(server) = pg::server() else {
        return;
    };
    coordinate_sql::install();
    model::use_store(Arc::new(move |clock, seed| {
        Coordinate::connect(
            &pg::fresh(&server, "model"),
            ConnectOptions {
                clock: Some(Arc::new(clock.clone())),
                seed: Some(seed),
                ..Default::default()
            },
        )
        .expect("a fresh PostgreSQL schema opens")
    }));
    model::engine_matches_model(24);
}
