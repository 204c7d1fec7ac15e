//! Free functions: output extraction, spec meta extraction, the scheduler
//! and its helpers, and the status text forms used by `coordinate._status`.

use coordinate::{AttemptStatus, Metas, WorkUnitStatus};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::convert::{to_instant, to_map, to_strings, to_value};
use crate::errors::to_pyerr;
use crate::guard;
use crate::values::{PyAddWorkUnitItem, PyWorkSpecMeta};

/// Turns a finished unit's `output` into items for the `then` spec: a dict
/// of name -> AddWorkUnitItem. Never fails; unparseable parts are skipped.
#[pyfunction]
fn extract_work_unit_output<'py>(
    py: Python<'py>,
    output: &Bound<'py, PyAny>,
    now: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let output = to_value(output, "output")?;
    let now = to_instant(now, "now")?;
    let items = guard(py, || {
        Ok(coordinate::extract_work_unit_output(&output, now))
    })?;
    let dict = PyDict::new(py);
    for (k, v) in items {
        dict.set_item(k, PyAddWorkUnitItem { inner: v })?;
    }
    Ok(dict)
}

/// Converts one element of a chained output list into an AddWorkUnitItem.
#[pyfunction]
fn extract_add_work_unit_item(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    now: &Bound<'_, PyAny>,
) -> PyResult<PyAddWorkUnitItem> {
    let obj = to_value(obj, "obj")?;
    let now = to_instant(now, "now")?;
    guard(py, || coordinate::extract_add_work_unit_item(&obj, now))
        .map(|inner| PyAddWorkUnitItem { inner })
}

/// Parses one unit to add with the core's grammar (docs/semantics.md
/// §3.14): a name, `(name, data[, meta[, priority]])` or a dict
/// `{name, data, priority, delay}` / `{key, data, meta}`; `delay` counts
/// from `now`. Flow files use it for their `units`.
#[pyfunction]
fn parse_add_work_unit(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    now: &Bound<'_, PyAny>,
) -> PyResult<PyAddWorkUnitItem> {
    let now = to_instant(now, "now")?;
    match crate::values::add_item_value(obj, 0)? {
        Err(item) => Ok(PyAddWorkUnitItem { inner: item }),
        Ok(v) => guard(py, || coordinate::parse_add_work_unit(&v, now))
            .map(|inner| PyAddWorkUnitItem { inner }),
    }
}

/// `[(name, kind), ...]` of a record's fields, from the core's table (for
/// the conformance runner's canonical forms).
#[pyfunction]
fn _record_fields(record: &str) -> PyResult<Vec<(&'static str, &'static str)>> {
    coordinate::records::record_fields(record)
        .map(|l| l.into_iter().map(|(n, _, k)| (n, k.as_str())).collect())
        .ok_or_else(|| PyTypeError::new_err(format!("no record called {record:?}")))
}

/// Validates work spec data and derives its meta: `(name, WorkSpecMeta)`.
#[pyfunction]
fn extract_work_spec_meta(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
) -> PyResult<(String, PyWorkSpecMeta)> {
    let data = to_map(data, "data")?;
    guard(py, || coordinate::extract_work_spec_meta(&data)).map(|(n, m)| (n, m.into()))
}

fn metas_arg(metas: &Bound<'_, PyAny>) -> PyResult<Metas> {
    let dict = metas.cast::<PyDict>().map_err(|_| {
        PyTypeError::new_err("metas must be a dict of work spec name -> WorkSpecMeta")
    })?;
    let mut out = Metas::new();
    for (k, v) in dict.iter() {
        let name = k
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("metas: keys must be str"))?
            .to_cow()?
            .into_owned();
        let meta = v
            .cast::<PyWorkSpecMeta>()
            .map_err(|_| PyTypeError::new_err(format!("metas[{name:?}] must be a WorkSpecMeta")))?;
        out.insert(name, coordinate::WorkSpecMeta::from(&*meta.borrow()));
    }
    Ok(out)
}

fn metas_dict<'py>(py: Python<'py>, metas: Metas) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in metas {
        dict.set_item(k, PyWorkSpecMeta::from(v))?;
    }
    Ok(dict)
}

/// Keeps only the named specs (an empty list keeps everything).
#[pyfunction]
fn limit_metas_to_names<'py>(
    py: Python<'py>,
    metas: &Bound<'py, PyAny>,
    names: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let metas = metas_arg(metas)?;
    let names = to_strings(names, "names")?;
    let out = guard(py, || Ok(coordinate::limit_metas_to_names(metas, &names)))?;
    metas_dict(py, out)
}

/// Keeps only specs whose runtime is listed (an empty list keeps everything).
#[pyfunction]
fn limit_metas_to_runtimes<'py>(
    py: Python<'py>,
    metas: &Bound<'py, PyAny>,
    runtimes: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let metas = metas_arg(metas)?;
    let runtimes = to_strings(runtimes, "runtimes")?;
    let out = guard(py, || {
        Ok(coordinate::limit_metas_to_runtimes(metas, &runtimes))
    })?;
    metas_dict(py, out)
}

/// Picks a work spec name from `metas` (NoWorkError when none can run);
/// `seed` makes the choice reproducible.
#[pyfunction]
#[pyo3(signature = (metas, now, available_gb, seed=None))]
fn simplified_scheduler(
    py: Python<'_>,
    metas: &Bound<'_, PyAny>,
    now: &Bound<'_, PyAny>,
    available_gb: f64,
    seed: Option<u64>,
) -> PyResult<String> {
    let metas = metas_arg(metas)?;
    let now = to_instant(now, "now")?;
    guard(py, || {
        coordinate::simplified_scheduler(&metas, now, available_gb, seed)
    })
}

/// The text form of the work unit status with this code.
#[pyfunction]
fn _work_unit_status_text(py: Python<'_>, code: i64) -> PyResult<&'static str> {
    WorkUnitStatus::text_of_code(code).map_err(|e| to_pyerr(py, e))
}

/// The code of the work unit status with this text.
#[pyfunction]
fn _work_unit_status_code(py: Python<'_>, text: &str) -> PyResult<i64> {
    text.parse::<WorkUnitStatus>()
        .map(WorkUnitStatus::code)
        .map_err(|e| to_pyerr(py, e))
}

/// The text form of the attempt status with this code.
#[pyfunction]
fn _attempt_status_text(py: Python<'_>, code: i64) -> PyResult<&'static str> {
    AttemptStatus::text_of_code(code).map_err(|e| to_pyerr(py, e))
}

/// The code of the attempt status with this text.
#[pyfunction]
fn _attempt_status_code(py: Python<'_>, text: &str) -> PyResult<i64> {
    text.parse::<AttemptStatus>()
        .map(AttemptStatus::code)
        .map_err(|e| to_pyerr(py, e))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(extract_work_unit_output, m)?)?;
    m.add_function(wrap_pyfunction!(extract_add_work_unit_item, m)?)?;
    m.add_function(wrap_pyfunction!(extract_work_spec_meta, m)?)?;
    m.add_function(wrap_pyfunction!(parse_add_work_unit, m)?)?;
    m.add_function(wrap_pyfunction!(_record_fields, m)?)?;
    // The core's error codes, in declaration order: the exception classes
    // of coordinate._errors are checked against it.
    m.add("ERROR_CODES", coordinate::ERROR_CODES.to_vec())?;
    m.add_function(wrap_pyfunction!(limit_metas_to_names, m)?)?;
    m.add_function(wrap_pyfunction!(limit_metas_to_runtimes, m)?)?;
    m.add_function(wrap_pyfunction!(simplified_scheduler, m)?)?;
    m.add_function(wrap_pyfunction!(_work_unit_status_text, m)?)?;
    m.add_function(wrap_pyfunction!(_work_unit_status_code, m)?)?;
    m.add_function(wrap_pyfunction!(_attempt_status_text, m)?)?;
    m.add_function(wrap_pyfunction!(_attempt_status_code, m)?)?;
    Ok(())
}
