//! The Python binding of Coordinate: the native module `coordinate._coordinate`.
//!
//! Thin by design: every method converts its arguments (`convert`), calls
//! the core with the GIL released and panics caught (`guard`), and maps a
//! core error through one function (`errors::to_pyerr`). The package
//! `coordinate` (python/python/coordinate) re-exports these classes next to
//! the exception classes and status enums, which are written in Python.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;

mod clock;
mod convert;
mod errors;
mod functions;
mod handles;
mod values;
mod worker;

/// Runs a core call with the GIL released, so other Python threads run
/// meanwhile; a core error becomes its Python exception and a panic a
/// `RuntimeError` (no Rust panic ever reaches Python as `PanicException`).
pub(crate) fn guard<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    F: FnOnce() -> coordinate::Result<T> + Send,
    T: Send,
{
    match py.detach(move || catch_unwind(AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(errors::to_pyerr(py, e)),
        Err(panic) => Err(errors::panic_to_pyerr(panic)),
    }
}

/// A core error as its Python exception.
pub(crate) fn pyerr(py: Python<'_>, e: coordinate::Error) -> PyErr {
    errors::to_pyerr(py, e)
}

#[pymodule]
#[pyo3(name = "_coordinate")]
fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // `connect` opens sqlite: files, postgresql: databases and http://
    // servers as well as memory:.
    coordinate_sql::install();
    coordinate_server::install();
    m.add_class::<clock::PyMockClock>()?;
    m.add_class::<handles::PyCoordinate>()?;
    m.add_function(pyo3::wrap_pyfunction!(handles::connect, m)?)?;
    m.add_function(pyo3::wrap_pyfunction!(handles::_after_fork_in_child, m)?)?;
    m.add_class::<handles::PyNamespace>()?;
    m.add_class::<handles::PyWorkSpec>()?;
    m.add_class::<handles::PyWorkUnit>()?;
    m.add_class::<worker::PyAttempt>()?;
    m.add_class::<worker::PyWorker>()?;
    values::register(m)?;
    functions::register(m)?;
    Ok(())
}
