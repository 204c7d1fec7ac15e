//! Handles: `Coordinate`, `Namespace`, `WorkSpec`, `WorkUnit`. Each wraps the
//! core handle; equality and hashing follow the core (same object, same id).

use std::sync::Arc;

use coordinate::{Coordinate, Namespace, WorkSpec, WorkUnit};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use crate::clock::PyMockClock;
use crate::convert::{from_map, from_unit_status, to_map, to_opt_map};
use crate::guard;
use crate::values::{query_arg, summary_list, unit_meta_arg, PyWorkSpecMeta, PyWorkUnitMeta};
use crate::worker::{PyAttempt, PyWorker};

/// Python's repr of a str (quotes and escapes as Python writes them).
pub(crate) fn pyrepr(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(PyString::new(py, s).repr()?.to_string())
}

// --------------------------------------------------------------- Coordinate

/// The root of a Coordinate system: holds namespaces by name.
///
/// `Coordinate(clock=None, seed=None)`: without a clock, the system clock;
/// `seed` makes the scheduler's random choices reproducible.
#[pyclass(module = "coordinate", name = "Coordinate", frozen)]
pub(crate) struct PyCoordinate {
    inner: Coordinate,
    clock: Option<Py<PyMockClock>>,
}

/// The `clock=` argument: a `MockClock` or None.
fn clock_arg<'py>(clock: Option<&Bound<'py, PyAny>>) -> PyResult<Option<Bound<'py, PyMockClock>>> {
    match clock {
        Some(c) if !c.is_none() => c.cast::<PyMockClock>().cloned().map(Some).map_err(|_| {
            PyTypeError::new_err(format!(
                "clock must be a MockClock or None, not {}",
                c.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        }),
        _ => Ok(None),
    }
}

/// Opens the store `url` names and returns a `Coordinate` over it.
///
/// `memory:` is a new in-memory store (like `Coordinate()`; `?max_units=`
/// and `?max_bytes=` bound it); `sqlite:///path` (or a plain path) a SQLite
/// file; `postgresql://user@host:port/db` (`?schema=NAME` optional) a
/// PostgreSQL database; `http://host:port/` a `coordinated` server. `clock` (a `MockClock`) is
/// the clock every call reads (sent along to servers in test mode), `seed`
/// seeds this process's scheduler draws, `token` is the bearer token of a
/// server that wants one, `timeout` (seconds or `timedelta`) bounds each call.
/// A URL that cannot be used raises `BadUrlError` (a `ValueError`).
#[pyfunction]
#[pyo3(signature = (url, *, clock=None, seed=None, token=None, timeout=None))]
pub(crate) fn connect(
    py: Python<'_>,
    url: String,
    clock: Option<&Bound<'_, PyAny>>,
    seed: Option<u64>,
    token: Option<String>,
    timeout: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyCoordinate> {
    let clock = clock_arg(clock)?;
    let timeout = match timeout {
        Some(t) if !t.is_none() => {
            let d = crate::convert::to_duration(t, "timeout")?;
            Some(d.to_std().map_err(|_| {
                pyo3::exceptions::PyValueError::new_err("timeout must not be negative")
            })?)
        }
        _ => None,
    };
    let options = coordinate::ConnectOptions {
        clock: clock
            .as_ref()
            .map(|c| Arc::new(c.get().inner.clone()) as Arc<dyn coordinate::Clock>),
        seed,
        token,
        timeout,
    };
    let inner = guard(py, || Coordinate::connect(&url, options))?;
    Ok(PyCoordinate {
        inner,
        clock: clock.map(|c| c.unbind()),
    })
}

/// Called in the child after `os.fork()` (registered by the package with
/// `os.register_at_fork`): every Coordinate opened before the fork refuses
/// further calls with `StorageError` instead of deadlocking on state another
/// parent thread held.
#[pyfunction]
pub(crate) fn _after_fork_in_child() {
    coordinate::after_fork_in_child();
}

#[pymethods]
impl PyCoordinate {
    #[new]
    #[pyo3(signature = (clock=None, seed=None))]
    fn new(clock: Option<&Bound<'_, PyAny>>, seed: Option<u64>) -> PyResult<Self> {
        let clock = clock_arg(clock)?;
        let inner = match &clock {
            Some(c) => Coordinate::with_options(Arc::new(c.get().inner.clone()), seed),
            None => Coordinate::with_options(Arc::new(coordinate::SystemClock), seed),
        };
        Ok(PyCoordinate {
            inner,
            clock: clock.map(|c| c.unbind()),
        })
    }

    /// Releases the store (files, connections); every later call on this
    /// Coordinate or its objects raises `GoneError`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let c = &self.inner;
        guard(py, || c.close())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// The MockClock this Coordinate reads, or None for the system clock.
    #[getter]
    fn clock(&self, py: Python<'_>) -> Option<Py<PyMockClock>> {
        self.clock.as_ref().map(|c| c.clone_ref(py))
    }

    /// The current time of this Coordinate's clock.
    fn now<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::convert::from_instant(py, self.inner.now())
    }

    /// The namespace called `name`, created if absent.
    #[pyo3(signature = (name=String::new()), text_signature = "($self, name='')")]
    fn namespace(&self, py: Python<'_>, name: String) -> PyResult<PyNamespace> {
        let c = &self.inner;
        guard(py, || c.namespace(&name)).map(PyNamespace::from)
    }

    /// Every live namespace, by name.
    fn namespaces<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = &self.inner;
        let all = guard(py, || c.namespaces())?;
        let dict = PyDict::new(py);
        for (k, v) in all {
            dict.set_item(k, PyNamespace::from(v))?;
        }
        Ok(dict)
    }

    /// Unit counts by namespace, work spec and status (a list of SummaryRecord).
    fn summarize<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let c = &self.inner;
        summary_list(py, guard(py, || c.summarize())?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        match &self.clock {
            Some(c) => Ok(format!("Coordinate(clock={})", c.bind(py).repr()?)),
            None => Ok("Coordinate(clock=None)".to_owned()),
        }
    }
}

// ---------------------------------------------------------------- Namespace

/// A namespace: holds work specs and workers by name.
#[pyclass(module = "coordinate", name = "Namespace", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct PyNamespace {
    inner: Namespace,
}

impl From<Namespace> for PyNamespace {
    fn from(inner: Namespace) -> Self {
        PyNamespace { inner }
    }
}

#[pymethods]
impl PyNamespace {
    /// The namespace's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// Deletes the namespace with everything in it (a second call does nothing).
    fn destroy(&self, py: Python<'_>) -> PyResult<()> {
        let n = &self.inner;
        guard(py, || n.destroy())
    }

    /// Creates or updates the work spec named by `data["name"]`.
    fn set_work_spec(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<PyWorkSpec> {
        let data = to_map(data, "data")?;
        let n = &self.inner;
        guard(py, || n.set_work_spec(data)).map(PyWorkSpec::from)
    }

    /// The work spec called `name` (NoSuchWorkSpecError if absent).
    fn work_spec(&self, py: Python<'_>, name: String) -> PyResult<PyWorkSpec> {
        let n = &self.inner;
        guard(py, || n.work_spec(&name)).map(PyWorkSpec::from)
    }

    /// Deletes the work spec called `name` with its units and their attempts.
    fn destroy_work_spec(&self, py: Python<'_>, name: String) -> PyResult<()> {
        let n = &self.inner;
        guard(py, || n.destroy_work_spec(&name))
    }

    /// The names of every work spec, sorted.
    fn work_spec_names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let n = &self.inner;
        guard(py, || n.work_spec_names())
    }

    /// The worker called `name`, created if absent.
    fn worker(&self, py: Python<'_>, name: String) -> PyResult<PyWorker> {
        let n = &self.inner;
        guard(py, || n.worker(&name)).map(PyWorker::from)
    }

    /// Every worker of the namespace, by name.
    fn workers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let n = &self.inner;
        let all = guard(py, || n.workers())?;
        let dict = PyDict::new(py);
        for (k, v) in all {
            dict.set_item(k, PyWorker::from(v))?;
        }
        Ok(dict)
    }

    /// Unit counts by work spec and status.
    fn summarize<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let n = &self.inner;
        summary_list(py, guard(py, || n.summarize())?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Namespace({})", pyrepr(py, self.inner.name())?))
    }
}

// ----------------------------------------------------------------- WorkSpec

/// A work spec: one kind of job, holding its work units.
#[pyclass(module = "coordinate", name = "WorkSpec", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct PyWorkSpec {
    inner: WorkSpec,
}

impl From<WorkSpec> for PyWorkSpec {
    fn from(inner: WorkSpec) -> Self {
        PyWorkSpec { inner }
    }
}

#[pymethods]
impl PyWorkSpec {
    /// The spec's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// The namespace holding this spec.
    #[getter]
    fn namespace(&self) -> PyNamespace {
        self.inner.namespace().clone().into()
    }

    /// The spec's data, exactly as last set.
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.inner;
        from_map(py, &guard(py, || s.data())?)
    }

    /// Replaces the data and recomputes the meta (the name may not change).
    fn set_data(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let data = to_map(data, "data")?;
        let s = &self.inner;
        guard(py, || s.set_data(data))
    }

    /// The scheduling metadata; with available/pending counts if asked.
    #[pyo3(signature = (with_counts=false))]
    fn meta(&self, py: Python<'_>, with_counts: bool) -> PyResult<PyWorkSpecMeta> {
        let s = &self.inner;
        guard(py, || s.meta(with_counts)).map(Into::into)
    }

    /// Updates the adjustable meta fields (see docs/semantics.md §3.2.4).
    fn set_meta(&self, py: Python<'_>, meta: PyRef<'_, PyWorkSpecMeta>) -> PyResult<()> {
        let meta = coordinate::WorkSpecMeta::from(&*meta);
        let s = &self.inner;
        guard(py, || s.set_meta(&meta))
    }

    /// Adds a unit, or replaces the data and meta of the unit of that name.
    #[pyo3(signature = (name, data=None, meta=None))]
    fn add_work_unit(
        &self,
        py: Python<'_>,
        name: String,
        data: Option<&Bound<'_, PyAny>>,
        meta: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyWorkUnit> {
        let data = to_opt_map(data, "data")?.unwrap_or_default();
        let meta = unit_meta_arg(meta)?;
        let s = &self.inner;
        guard(py, || s.add_work_unit(&name, data, meta)).map(PyWorkUnit::from)
    }

    /// Adds or updates many units in one call; returns how many. Each item
    /// is a name, `(name, data)`, `(name, data, meta)`, a dict or an
    /// AddWorkUnitItem: the core's grammar (docs/semantics.md §3.14).
    fn add_work_units(&self, py: Python<'_>, items: &Bound<'_, PyAny>) -> PyResult<usize> {
        let now = self.inner.namespace().coordinate().now();
        let parsed = crate::values::parse_add_items(items, now)?;
        let s = &self.inner;
        guard(py, || s.add_work_units(parsed))
    }

    /// The unit called `name` (NoSuchWorkUnitError if absent).
    fn work_unit(&self, py: Python<'_>, name: String) -> PyResult<PyWorkUnit> {
        let s = &self.inner;
        guard(py, || s.work_unit(&name)).map(PyWorkUnit::from)
    }

    /// The units the query selects, by name (in name order).
    #[pyo3(signature = (query=None, *, names=None, statuses=None, previous_name=None, limit=None),
        text_signature = "($self, query=None, *, names=None, statuses=None, previous_name='', limit=0)")]
    fn work_units<'py>(
        &self,
        py: Python<'py>,
        query: Option<&Bound<'py, PyAny>>,
        names: Option<&Bound<'py, PyAny>>,
        statuses: Option<&Bound<'py, PyAny>>,
        previous_name: Option<&Bound<'py, PyAny>>,
        limit: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let q = query_arg(query, names, statuses, previous_name, limit)?;
        let s = &self.inner;
        let units = guard(py, || s.work_units(&q))?;
        let dict = PyDict::new(py);
        for (k, v) in units {
            dict.set_item(k, PyWorkUnit::from(v))?;
        }
        Ok(dict)
    }

    /// How many units have each status (statuses with no units are absent).
    fn count_work_unit_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.inner;
        let counts = guard(py, || s.count_work_unit_status())?;
        let dict = PyDict::new(py);
        for (k, v) in counts {
            dict.set_item(from_unit_status(py, k)?, v)?;
        }
        Ok(dict)
    }

    /// Sets the priority of every selected unit.
    #[pyo3(signature = (priority, query=None, *, names=None, statuses=None, previous_name=None, limit=None),
        text_signature = "($self, priority, query=None, *, names=None, statuses=None, previous_name='', limit=0)")]
    #[allow(clippy::too_many_arguments)]
    fn set_work_unit_priorities<'py>(
        &self,
        py: Python<'py>,
        priority: f64,
        query: Option<&Bound<'py, PyAny>>,
        names: Option<&Bound<'py, PyAny>>,
        statuses: Option<&Bound<'py, PyAny>>,
        previous_name: Option<&Bound<'py, PyAny>>,
        limit: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        let q = query_arg(query, names, statuses, previous_name, limit)?;
        let s = &self.inner;
        let priority = coordinate::check_priority(priority).map_err(|e| crate::pyerr(py, e))?;
        guard(py, || s.set_work_unit_priorities(&q, priority))
    }

    /// Adds `adjustment` to the priority of every selected unit.
    #[pyo3(signature = (adjustment, query=None, *, names=None, statuses=None, previous_name=None, limit=None),
        text_signature = "($self, adjustment, query=None, *, names=None, statuses=None, previous_name='', limit=0)")]
    #[allow(clippy::too_many_arguments)]
    fn adjust_work_unit_priorities<'py>(
        &self,
        py: Python<'py>,
        adjustment: f64,
        query: Option<&Bound<'py, PyAny>>,
        names: Option<&Bound<'py, PyAny>>,
        statuses: Option<&Bound<'py, PyAny>>,
        previous_name: Option<&Bound<'py, PyAny>>,
        limit: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        let q = query_arg(query, names, statuses, previous_name, limit)?;
        let s = &self.inner;
        let adjustment = coordinate::check_priority(adjustment).map_err(|e| crate::pyerr(py, e))?;
        guard(py, || s.adjust_work_unit_priorities(&q, adjustment))
    }

    /// Deletes the selected units (all of them for no query); returns how many.
    #[pyo3(signature = (query=None, *, names=None, statuses=None, previous_name=None, limit=None),
        text_signature = "($self, query=None, *, names=None, statuses=None, previous_name='', limit=0)")]
    fn delete_work_units<'py>(
        &self,
        py: Python<'py>,
        query: Option<&Bound<'py, PyAny>>,
        names: Option<&Bound<'py, PyAny>>,
        statuses: Option<&Bound<'py, PyAny>>,
        previous_name: Option<&Bound<'py, PyAny>>,
        limit: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<usize> {
        let q = query_arg(query, names, statuses, previous_name, limit)?;
        let s = &self.inner;
        guard(py, || s.delete_work_units(&q))
    }

    /// Unit counts by status.
    fn summarize<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let s = &self.inner;
        summary_list(py, guard(py, || s.summarize())?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("WorkSpec({})", pyrepr(py, self.inner.name())?))
    }
}

// ----------------------------------------------------------------- WorkUnit

/// A work unit: one input (a name and a data map) of a work spec.
#[pyclass(module = "coordinate", name = "WorkUnit", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct PyWorkUnit {
    pub(crate) inner: WorkUnit,
}

impl From<WorkUnit> for PyWorkUnit {
    fn from(inner: WorkUnit) -> Self {
        PyWorkUnit { inner }
    }
}

#[pymethods]
impl PyWorkUnit {
    /// The unit's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// The work spec holding this unit.
    #[getter]
    fn work_spec(&self) -> PyWorkSpec {
        self.inner.work_spec().clone().into()
    }

    /// The active attempt's data if there is one, else the unit's own data.
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let u = &self.inner;
        from_map(py, &guard(py, || u.data())?)
    }

    /// The unit's status now (a WorkUnitStatus).
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let u = &self.inner;
        from_unit_status(py, guard(py, || u.status())?)
    }

    /// Priority and not-before time.
    fn meta(&self, py: Python<'_>) -> PyResult<PyWorkUnitMeta> {
        let u = &self.inner;
        guard(py, || u.meta()).map(Into::into)
    }

    /// Replaces priority and not-before time.
    fn set_meta(&self, py: Python<'_>, meta: PyRef<'_, PyWorkUnitMeta>) -> PyResult<()> {
        let meta = coordinate::WorkUnitMeta::from(&*meta);
        let u = &self.inner;
        guard(py, || u.set_meta(meta))
    }

    /// The unit's priority.
    fn priority(&self, py: Python<'_>) -> PyResult<f64> {
        let u = &self.inner;
        guard(py, || u.priority())
    }

    /// Sets the unit's priority.
    fn set_priority(&self, py: Python<'_>, priority: f64) -> PyResult<()> {
        let u = &self.inner;
        let priority = coordinate::check_priority(priority).map_err(|e| crate::pyerr(py, e))?;
        guard(py, || u.set_priority(priority))
    }

    /// The active attempt, or None.
    fn active_attempt(&self, py: Python<'_>) -> PyResult<Option<PyAttempt>> {
        let u = &self.inner;
        Ok(guard(py, || u.active_attempt())?.map(PyAttempt::from))
    }

    /// Detaches the active attempt; the unit becomes available (or delayed).
    fn clear_active_attempt(&self, py: Python<'_>) -> PyResult<()> {
        let u = &self.inner;
        guard(py, || u.clear_active_attempt())
    }

    /// Every attempt ever made on this unit, oldest first.
    fn attempts(&self, py: Python<'_>) -> PyResult<Vec<PyAttempt>> {
        let u = &self.inner;
        Ok(guard(py, || u.attempts())?
            .into_iter()
            .map(PyAttempt::from)
            .collect())
    }

    /// How many attempts were ever made on this unit.
    fn num_attempts(&self, py: Python<'_>) -> PyResult<usize> {
        let u = &self.inner;
        guard(py, || u.num_attempts())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "WorkUnit({}, {})",
            pyrepr(py, self.inner.work_spec().name())?,
            pyrepr(py, self.inner.name())?
        ))
    }
}
