//! The one place where core errors become Python exceptions.
//!
//! The exception classes are defined in Python (`coordinate/_errors.py`) so
//! that they can inherit from both `CoordinateError` and `KeyError` /
//! `ValueError`; this module looks them up by the core's `Error::code()`.

use std::any::Any;

use coordinate::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyModule;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn error_class<'py>(py: Python<'py>, code: &str) -> PyResult<Bound<'py, PyAny>> {
    let module = ERRORS.get_or_try_init(py, || {
        PyResult::Ok(py.import("coordinate._errors")?.unbind())
    })?;
    module.bind(py).getattr(format!("{code}Error"))
}

/// Converts a core error into an instance of its Python class
/// (`NotPending` -> `coordinate.NotPendingError`), message and name intact.
pub(crate) fn to_pyerr(py: Python<'_>, err: Error) -> PyErr {
    let message = err.to_string();
    let made = error_class(py, err.code()).and_then(|cls| match &err {
        Error::NoSuchWorkSpec { name } | Error::NoSuchWorkUnit { name } => {
            cls.call1((message, name.as_str()))
        }
        Error::BadWorkUnitItem { reason } => cls.call1((message, reason.as_str())),
        _ => cls.call1((message,)),
    });
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// A panic caught at the binding edge becomes a `RuntimeError`, never a
/// `PanicException` (which is a `BaseException` and escapes `except Exception`).
pub(crate) fn panic_to_pyerr(payload: Box<dyn Any + Send>) -> PyErr {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    PyRuntimeError::new_err(format!("internal error in the coordinate core: {detail}"))
}
