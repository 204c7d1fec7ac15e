//! The conformance corpus on the store `COORDINATE_TEST_URL` names
//! (default `memory:`), one fresh store per scenario.

#[path = "support/corpus.rs"]
mod corpus;

fn main() {
    let url = std::env::var("COORDINATE_TEST_URL").unwrap_or_else(|_| "memory:".into());
    corpus::main("rust", corpus::connect_factory(url));
}
