//! The one place where failures become JavaScript errors.
//!
//! A core error becomes an `Error` whose `name` is the Python class name
//! (`"NotPendingError"`) and whose `code` is the core's variant name
//! (`"NotPending"`). The package entry point (`js/api.js`) installs a factory
//! that builds these as instances of its `CoordinateError` subclasses, so
//! `instanceof NotPendingError` works; without it (the bare wasm-bindgen
//! module) they are plain `Error`s with the same `name` and `code`.
//!
//! Wrong argument types are `TypeError`s and out-of-range arguments
//! `RangeError`s, both naming the argument. Panics never get here:
//! wasm-bindgen's `panic=unwind` support turns them into thrown `PanicError`s
//! (see `lib.rs`).

use std::cell::RefCell;

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;

use crate::JsResult;

thread_local! {
    static FACTORY: RefCell<Option<Function>> = const { RefCell::new(None) };
    static KEPT: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// The value of `r`, or `failed` with `r`'s error kept for `__takeError`.
///
/// How the hottest exports (`Worker.requestAttempts`, `Attempt.finish`)
/// fail: a `JsResult` return reaches JavaScript as two or three wasm
/// values, which V8 hands over in a new Array on every call, while one
/// number is free; `js/api.js` throws `__takeError()` on `failed`.
pub(crate) fn or_keep<T>(r: JsResult<T>, failed: T) -> T {
    r.unwrap_or_else(|err| {
        KEPT.with(|k| *k.borrow_mut() = Some(err));
        failed
    })
}

/// The error that the last failed call of `or_keep` kept (hidden).
#[wasm_bindgen(js_name = "__takeError", skip_typescript)]
pub fn take_error() -> JsValue {
    KEPT.with(|k| k.borrow_mut().take())
        .unwrap_or_else(|| js_sys::Error::new("coordinate: no error was kept").into())
}

/// Installs `(code, message) => Error`, the builder of Coordinate errors.
/// Called once by the package's entry point; not part of the public API.
#[wasm_bindgen(js_name = "__setErrorFactory", skip_typescript)]
pub fn set_error_factory(factory: Function) {
    FACTORY.with(|f| *f.borrow_mut() = Some(factory));
}

/// A Coordinate error object for `code` with `message`.
pub(crate) fn coordinate_error(code: &str, message: &str) -> JsValue {
    let made = FACTORY.with(|f| {
        f.borrow()
            .as_ref()
            .and_then(|f| f.call2(&JsValue::NULL, &code.into(), &message.into()).ok())
    });
    made.unwrap_or_else(|| {
        let err = js_sys::Error::new(message);
        err.set_name(&format!("{code}Error"));
        let _ = Reflect::set(&err, &"code".into(), &code.into());
        err.into()
    })
}

/// A core error as its JavaScript error.
pub(crate) fn to_js(err: coordinate::Error) -> JsValue {
    coordinate_error(err.code(), &err.to_string())
}

/// A `TypeError` with this message (which starts with the argument's name).
pub(crate) fn type_error(message: impl AsRef<str>) -> JsValue {
    js_sys::TypeError::new(message.as_ref()).into()
}

/// A `RangeError` with this message (which starts with the argument's name).
pub(crate) fn range_error(message: impl AsRef<str>) -> JsValue {
    js_sys::RangeError::new(message.as_ref()).into()
}
