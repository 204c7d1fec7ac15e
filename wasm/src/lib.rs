//! The JavaScript binding of Coordinate, for Node and the browser via
//! WebAssembly (wasm-bindgen).
//!
//! Thin by design: every call converts its arguments (`convert`,
//! `records`), calls the core, and maps a core error through one function
//! (`errors::to_js`). The JavaScript column of docs/api.md is `MockClock`
//! and the free functions here, and the handle classes `Coordinate`,
//! `Namespace`, `WorkSpec`, `WorkUnit`, `Worker`, `Attempt` in the package
//! entry point (`wasm/js/api.js`), plain JavaScript over hidden functions of
//! this module (`handles`, `worker`, `wire`); api.js also has the
//! `WorkUnitStatus`/`AttemptStatus` objects and the `CoordinateError`
//! classes.
//!
//! Panics: the wasm build uses `panic=unwind` (std rebuilt with
//! `-Zbuild-std=std,panic_unwind` and the wasm exception-handling feature;
//! see `scripts/wasm-env.sh`). wasm-bindgen then wraps every export in
//! `catch_unwind` and throws a `PanicError` (an `Error` whose message is the
//! panic message), and the module stays usable; with `panic=abort` a panic
//! would be an opaque `RuntimeError: unreachable` that leaves the instance
//! dead.
//!
//! Memory: the handle classes are plain JavaScript objects holding store ids
//! (`wire.rs`), so they own nothing in wasm memory and a dropped handle is
//! ordinary garbage; `free()` (or `using`) only retires the one handle.
//! Each `Coordinate` owns one wasm-bindgen object (`CoordinateCore`), and
//! each `MockClock` is one, freed by the garbage collector through
//! wasm-bindgen's `FinalizationRegistry`.

mod convert;
mod errors;
mod functions;
mod handles;
mod records;
mod wire;
mod worker;

pub use handles::{JsCoordinate, JsMockClock};

/// Results of exported functions: a thrown JavaScript value on failure.
pub(crate) type JsResult<T> = Result<T, wasm_bindgen::JsValue>;
