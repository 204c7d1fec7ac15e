//! The model-based property test (`support/model.rs`) on the memory engine.

#[path = "support/model.rs"]
mod model;

#[test]
fn engine_matches_model() {
    model::engine_matches_model(10_000);
}

#[test]
fn set_data_on_destroyed_spec_is_gone_whatever_the_data() {
    model::set_data_on_destroyed_spec_is_gone_whatever_the_data();
}

#[test]
fn set_work_spec_on_destroyed_namespace_is_gone_whatever_the_data() {
    model::set_work_spec_on_destroyed_namespace_is_gone_whatever_the_data();
}

#[test]
fn connect_memory_matches_model() {
    model::use_store(std::sync::Arc::new(|clock, seed| {
        coordinate::Coordinate::connect(
            "memory:",
            coordinate::ConnectOptions {
                clock: Some(std::sync::Arc::new(clock.clone())),
                seed: Some(seed),
                ..Default::default()
            },
        )
        .expect("memory: opens")
    }));
    model::engine_matches_model(500);
}
