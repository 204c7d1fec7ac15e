//! Plain value classes: metas, queries, requests, chained-output items and
//! summary records. Attributes are read/write; each getter returns a fresh
//! Python object (mutating a returned list or dict does not change the value).

use chrono::{DateTime, TimeDelta, Utc};
use coordinate::{
    AddWorkUnitItem, AddWorkUnitMeta, AttemptRequest, SummaryRecord, WorkSpecData, WorkSpecMeta,
    WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
};
use pyo3::prelude::*;
use pyo3::types::PyList;
use pyo3::BoundObject;

use crate::convert::{
    from_duration, from_map, from_opt_instant, from_unit_status, to_instant, to_map,
    to_opt_duration, to_opt_instant, to_strings, to_unit_status, to_unit_statuses,
};
use crate::{guard, pyerr};

/// `Name(a=repr(a), b=repr(b))`.
pub(crate) fn repr_fields(name: &str, fields: &[(&str, Bound<'_, PyAny>)]) -> PyResult<String> {
    let mut out = format!("{name}(");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push('=');
        out.push_str(&v.repr()?.to_string());
    }
    out.push(')');
    Ok(out)
}

fn obj<'py, T>(py: Python<'py>, v: T) -> PyResult<Bound<'py, PyAny>>
where
    T: IntoPyObject<'py>,
    PyErr: From<T::Error>,
{
    Ok(v.into_pyobject(py)?.into_any().into_bound())
}

// ------------------------------------------------------------- WorkSpecMeta

/// Scheduling metadata of a work spec.
#[pyclass(module = "coordinate", name = "WorkSpecMeta", eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyWorkSpecMeta {
    #[pyo3(get, set)]
    priority: i64,
    #[pyo3(get, set)]
    weight: i64,
    #[pyo3(get, set)]
    paused: bool,
    #[pyo3(get, set)]
    continuous: bool,
    #[pyo3(get, set)]
    can_be_continuous: bool,
    #[pyo3(get, set)]
    min_memory_gb: f64,
    interval: TimeDelta,
    next_continuous: Option<DateTime<Utc>>,
    #[pyo3(get, set)]
    max_running: i64,
    #[pyo3(get, set)]
    max_attempts_returned: i64,
    #[pyo3(get, set)]
    max_retries: i64,
    #[pyo3(get, set)]
    next_work_spec_name: String,
    #[pyo3(get, set)]
    available_count: i64,
    #[pyo3(get, set)]
    pending_count: i64,
    #[pyo3(get, set)]
    runtime: String,
}

impl From<WorkSpecMeta> for PyWorkSpecMeta {
    fn from(m: WorkSpecMeta) -> Self {
        PyWorkSpecMeta {
            priority: m.priority,
            weight: m.weight,
            paused: m.paused,
            continuous: m.continuous,
            can_be_continuous: m.can_be_continuous,
            min_memory_gb: m.min_memory_gb,
            interval: m.interval,
            next_continuous: m.next_continuous,
            max_running: m.max_running,
            max_attempts_returned: m.max_attempts_returned,
            max_retries: m.max_retries,
            next_work_spec_name: m.next_work_spec_name,
            available_count: m.available_count,
            pending_count: m.pending_count,
            runtime: m.runtime,
        }
    }
}

impl From<&PyWorkSpecMeta> for WorkSpecMeta {
    fn from(m: &PyWorkSpecMeta) -> Self {
        WorkSpecMeta {
            priority: m.priority,
            weight: m.weight,
            paused: m.paused,
            continuous: m.continuous,
            can_be_continuous: m.can_be_continuous,
            min_memory_gb: m.min_memory_gb,
            interval: m.interval,
            next_continuous: m.next_continuous,
            max_running: m.max_running,
            max_attempts_returned: m.max_attempts_returned,
            max_retries: m.max_retries,
            next_work_spec_name: m.next_work_spec_name.clone(),
            available_count: m.available_count,
            pending_count: m.pending_count,
            runtime: m.runtime.clone(),
        }
    }
}

#[pymethods]
impl PyWorkSpecMeta {
    #[new]
    #[pyo3(signature = (*, priority=0, weight=0, paused=false, continuous=false,
        can_be_continuous=false, min_memory_gb=0.0, interval=None, next_continuous=None,
        max_running=0, max_attempts_returned=0, max_retries=0,
        next_work_spec_name=String::new(), available_count=0, pending_count=0,
        runtime=String::new()),
        text_signature = "(*, priority=0, weight=0, paused=False, continuous=False, \
            can_be_continuous=False, min_memory_gb=0.0, interval=None, next_continuous=None, \
            max_running=0, max_attempts_returned=0, max_retries=0, next_work_spec_name='', \
            available_count=0, pending_count=0, runtime='')")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        priority: i64,
        weight: i64,
        paused: bool,
        continuous: bool,
        can_be_continuous: bool,
        min_memory_gb: f64,
        interval: Option<&Bound<'_, PyAny>>,
        next_continuous: Option<&Bound<'_, PyAny>>,
        max_running: i64,
        max_attempts_returned: i64,
        max_retries: i64,
        next_work_spec_name: String,
        available_count: i64,
        pending_count: i64,
        runtime: String,
    ) -> PyResult<Self> {
        Ok(PyWorkSpecMeta {
            priority,
            weight,
            paused,
            continuous,
            can_be_continuous,
            min_memory_gb,
            interval: to_opt_duration(interval, "interval")?,
            next_continuous: to_opt_instant(next_continuous, "next_continuous")?,
            max_running,
            max_attempts_returned,
            max_retries,
            next_work_spec_name,
            available_count,
            pending_count,
            runtime,
        })
    }

    /// Minimum time between generated continuous units.
    #[getter]
    fn interval<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_duration(py, self.interval)
    }

    #[setter]
    fn set_interval(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.interval = to_opt_duration(Some(value), "interval")?;
        Ok(())
    }

    /// Earliest time of the next continuous unit (None: now).
    #[getter]
    fn next_continuous<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_opt_instant(py, self.next_continuous)
    }

    #[setter]
    fn set_next_continuous(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.next_continuous = to_opt_instant(Some(value), "next_continuous")?;
        Ok(())
    }

    /// Whether the scheduler may pick this spec at `now`.
    fn can_do_work(&self, now: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(WorkSpecMeta::from(self).can_do_work(to_instant(now, "now")?))
    }

    /// Whether a continuous unit may be generated at `now`.
    fn can_start_continuous(&self, now: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(WorkSpecMeta::from(self).can_start_continuous(to_instant(now, "now")?))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr_fields(
            "WorkSpecMeta",
            &[
                ("priority", obj(py, self.priority)?),
                ("weight", obj(py, self.weight)?),
                ("paused", obj(py, self.paused)?),
                ("continuous", obj(py, self.continuous)?),
                ("can_be_continuous", obj(py, self.can_be_continuous)?),
                ("min_memory_gb", obj(py, self.min_memory_gb)?),
                ("interval", from_duration(py, self.interval)?),
                (
                    "next_continuous",
                    from_opt_instant(py, self.next_continuous)?,
                ),
                ("max_running", obj(py, self.max_running)?),
                (
                    "max_attempts_returned",
                    obj(py, self.max_attempts_returned)?,
                ),
                ("max_retries", obj(py, self.max_retries)?),
                ("next_work_spec_name", obj(py, &self.next_work_spec_name)?),
                ("available_count", obj(py, self.available_count)?),
                ("pending_count", obj(py, self.pending_count)?),
                ("runtime", obj(py, &self.runtime)?),
            ],
        )
    }
}

// ------------------------------------------------------------- WorkUnitMeta

/// Metadata of a work unit: priority and not-before time.
#[pyclass(module = "coordinate", name = "WorkUnitMeta", eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyWorkUnitMeta {
    #[pyo3(get, set)]
    priority: f64,
    not_before: Option<DateTime<Utc>>,
}

impl From<WorkUnitMeta> for PyWorkUnitMeta {
    fn from(m: WorkUnitMeta) -> Self {
        PyWorkUnitMeta {
            priority: m.priority,
            not_before: m.not_before,
        }
    }
}

impl From<&PyWorkUnitMeta> for WorkUnitMeta {
    fn from(m: &PyWorkUnitMeta) -> Self {
        WorkUnitMeta {
            priority: m.priority,
            not_before: m.not_before,
        }
    }
}

#[pymethods]
impl PyWorkUnitMeta {
    #[new]
    #[pyo3(signature = (priority=0.0, not_before=None))]
    fn new(priority: f64, not_before: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(PyWorkUnitMeta {
            priority,
            not_before: to_opt_instant(not_before, "not_before")?,
        })
    }

    /// Not handed out before this instant (None: no delay).
    #[getter]
    fn not_before<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_opt_instant(py, self.not_before)
    }

    #[setter]
    fn set_not_before(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.not_before = to_opt_instant(Some(value), "not_before")?;
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr_fields(
            "WorkUnitMeta",
            &[
                ("priority", obj(py, self.priority)?),
                ("not_before", from_opt_instant(py, self.not_before)?),
            ],
        )
    }
}

/// An optional `meta=` argument of `add_work_unit`: None is the zero meta.
pub(crate) fn unit_meta_arg(meta: Option<&Bound<'_, PyAny>>) -> PyResult<WorkUnitMeta> {
    match meta {
        None => Ok(WorkUnitMeta::default()),
        Some(m) if m.is_none() => Ok(WorkUnitMeta::default()),
        Some(m) => match m.cast::<PyWorkUnitMeta>() {
            Ok(m) => Ok(WorkUnitMeta::from(&*m.borrow())),
            Err(_) => Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "meta must be a WorkUnitMeta or None, not {}",
                m.get_type().name()?
            ))),
        },
    }
}

// ------------------------------------------------------------ WorkUnitQuery

/// Selects work units of a spec. The default selects every unit.
#[pyclass(module = "coordinate", name = "WorkUnitQuery", eq)]
#[derive(Clone, PartialEq, Default)]
pub(crate) struct PyWorkUnitQuery {
    pub(crate) inner: WorkUnitQuery,
}

#[pymethods]
impl PyWorkUnitQuery {
    #[new]
    #[pyo3(signature = (names=None, statuses=None, previous_name=String::new(), limit=0),
        text_signature = "(names=None, statuses=None, previous_name='', limit=0)")]
    fn new(
        names: Option<&Bound<'_, PyAny>>,
        statuses: Option<&Bound<'_, PyAny>>,
        previous_name: String,
        limit: i64,
    ) -> PyResult<Self> {
        Ok(PyWorkUnitQuery {
            inner: WorkUnitQuery {
                names: opt_strings(names, "names")?,
                statuses: opt_statuses(statuses, "statuses")?,
                previous_name,
                limit,
            },
        })
    }

    /// Only these names (None: no filter; an empty list matches nothing).
    #[getter]
    fn names<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.inner.names {
            None => Ok(py.None().into_bound(py)),
            Some(n) => obj(py, n.clone()),
        }
    }

    #[setter]
    fn set_names(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.names = opt_strings(Some(value), "names")?;
        Ok(())
    }

    /// Only these statuses (None: no filter; ANY matches all).
    #[getter]
    fn statuses<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.inner.statuses {
            None => Ok(py.None().into_bound(py)),
            Some(list) => status_list(py, list),
        }
    }

    #[setter]
    fn set_statuses(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.statuses = opt_statuses(Some(value), "statuses")?;
        Ok(())
    }

    /// Only names sorting strictly after this one ("" for no bound).
    #[getter]
    fn previous_name(&self) -> String {
        self.inner.previous_name.clone()
    }

    #[setter]
    fn set_previous_name(&mut self, value: String) {
        self.inner.previous_name = value;
    }

    /// At most this many units, smallest names first (<= 0: no limit).
    #[getter]
    fn limit(&self) -> i64 {
        self.inner.limit
    }

    #[setter]
    fn set_limit(&mut self, value: i64) {
        self.inner.limit = value;
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr_fields(
            "WorkUnitQuery",
            &[
                ("names", self.names(py)?),
                ("statuses", self.statuses(py)?),
                ("previous_name", obj(py, &self.inner.previous_name)?),
                ("limit", obj(py, self.inner.limit)?),
            ],
        )
    }
}

fn opt_strings(v: Option<&Bound<'_, PyAny>>, arg: &str) -> PyResult<Option<Vec<String>>> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => to_strings(v, arg).map(Some),
    }
}

fn opt_statuses(v: Option<&Bound<'_, PyAny>>, arg: &str) -> PyResult<Option<Vec<WorkUnitStatus>>> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => to_unit_statuses(v, arg).map(Some),
    }
}

fn status_list<'py>(py: Python<'py>, list: &[WorkUnitStatus]) -> PyResult<Bound<'py, PyAny>> {
    let out = PyList::empty(py);
    for s in list {
        out.append(from_unit_status(py, *s)?)?;
    }
    Ok(out.into_any())
}

/// Builds the query of a `query=None, *, names=None, statuses=None,
/// previous_name="", limit=0` method: the fields given override the query's.
pub(crate) fn query_arg(
    query: Option<&Bound<'_, PyAny>>,
    names: Option<&Bound<'_, PyAny>>,
    statuses: Option<&Bound<'_, PyAny>>,
    previous_name: &str,
    limit: i64,
) -> PyResult<WorkUnitQuery> {
    let mut q = match query {
        None => WorkUnitQuery::default(),
        Some(q) if q.is_none() => WorkUnitQuery::default(),
        Some(q) => match q.cast::<PyWorkUnitQuery>() {
            Ok(q) => q.borrow().inner.clone(),
            Err(_) => {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "query must be a WorkUnitQuery or None, not {}",
                    q.get_type().name()?
                )))
            }
        },
    };
    if let Some(n) = opt_strings(names, "names")? {
        q.names = Some(n);
    }
    if let Some(s) = opt_statuses(statuses, "statuses")? {
        q.statuses = Some(s);
    }
    if !previous_name.is_empty() {
        q.previous_name = previous_name.to_owned();
    }
    if limit != 0 {
        q.limit = limit;
    }
    Ok(q)
}

// ----------------------------------------------------------- AttemptRequest

/// What a worker asks for in `Worker.request_attempts`.
#[pyclass(module = "coordinate", name = "AttemptRequest", eq)]
#[derive(Clone, PartialEq, Default)]
pub(crate) struct PyAttemptRequest {
    pub(crate) inner: AttemptRequest,
}

#[pymethods]
impl PyAttemptRequest {
    #[new]
    #[pyo3(signature = (number_of_work_units=0, available_gb=0.0, lifetime=None,
        work_specs=None, runtimes=None))]
    fn new(
        number_of_work_units: i64,
        available_gb: f64,
        lifetime: Option<&Bound<'_, PyAny>>,
        work_specs: Option<&Bound<'_, PyAny>>,
        runtimes: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(PyAttemptRequest {
            inner: AttemptRequest {
                available_gb,
                lifetime: to_opt_duration(lifetime, "lifetime")?,
                number_of_work_units,
                work_specs: opt_strings(work_specs, "work_specs")?.unwrap_or_default(),
                runtimes: opt_strings(runtimes, "runtimes")?.unwrap_or_default(),
            },
        })
    }

    /// Most units to hand out (<= 0: one).
    #[getter]
    fn number_of_work_units(&self) -> i64 {
        self.inner.number_of_work_units
    }

    #[setter]
    fn set_number_of_work_units(&mut self, v: i64) {
        self.inner.number_of_work_units = v;
    }

    /// Memory the worker has (ignored by the scheduler).
    #[getter]
    fn available_gb(&self) -> f64 {
        self.inner.available_gb
    }

    #[setter]
    fn set_available_gb(&mut self, v: f64) {
        self.inner.available_gb = v;
    }

    /// Lease length (zero: 15 minutes).
    #[getter]
    fn lifetime<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_duration(py, self.inner.lifetime)
    }

    #[setter]
    fn set_lifetime(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.lifetime = to_opt_duration(Some(v), "lifetime")?;
        Ok(())
    }

    /// Only these specs (empty: all).
    #[getter]
    fn work_specs(&self) -> Vec<String> {
        self.inner.work_specs.clone()
    }

    #[setter]
    fn set_work_specs(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.work_specs = opt_strings(Some(v), "work_specs")?.unwrap_or_default();
        Ok(())
    }

    /// Only specs with one of these runtimes (empty: all).
    #[getter]
    fn runtimes(&self) -> Vec<String> {
        self.inner.runtimes.clone()
    }

    #[setter]
    fn set_runtimes(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.runtimes = opt_strings(Some(v), "runtimes")?.unwrap_or_default();
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr_fields(
            "AttemptRequest",
            &[
                (
                    "number_of_work_units",
                    obj(py, self.inner.number_of_work_units)?,
                ),
                ("available_gb", obj(py, self.inner.available_gb)?),
                ("lifetime", from_duration(py, self.inner.lifetime)?),
                ("work_specs", obj(py, self.inner.work_specs.clone())?),
                ("runtimes", obj(py, self.inner.runtimes.clone())?),
            ],
        )
    }
}

/// Builds the request of `request_attempts(request=None, *, ...)`: the
/// keyword fields given (non-default) override the request's.
pub(crate) fn request_arg(
    request: Option<&Bound<'_, PyAny>>,
    number_of_work_units: i64,
    available_gb: f64,
    lifetime: Option<&Bound<'_, PyAny>>,
    work_specs: Option<&Bound<'_, PyAny>>,
    runtimes: Option<&Bound<'_, PyAny>>,
) -> PyResult<AttemptRequest> {
    let mut r = match request {
        None => AttemptRequest {
            number_of_work_units,
            ..AttemptRequest::default()
        },
        Some(r) if r.is_none() => AttemptRequest {
            number_of_work_units,
            ..AttemptRequest::default()
        },
        Some(r) => {
            let mut r = match r.cast::<PyAttemptRequest>() {
                Ok(r) => r.borrow().inner.clone(),
                Err(_) => {
                    return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                        "request must be an AttemptRequest or None, not {}",
                        r.get_type().name()?
                    )))
                }
            };
            if number_of_work_units != 1 {
                r.number_of_work_units = number_of_work_units;
            }
            r
        }
    };
    if available_gb != 0.0 {
        r.available_gb = available_gb;
    }
    let lifetime = to_opt_duration(lifetime, "lifetime")?;
    if !lifetime.is_zero() {
        r.lifetime = lifetime;
    }
    if let Some(w) = opt_strings(work_specs, "work_specs")? {
        r.work_specs = w;
    }
    if let Some(rt) = opt_strings(runtimes, "runtimes")? {
        r.runtimes = rt;
    }
    Ok(r)
}

// ---------------------------------------------------------- AddWorkUnitMeta

/// Metadata of a unit in chained output: priority and delay in seconds.
#[pyclass(module = "coordinate", name = "AddWorkUnitMeta", eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyAddWorkUnitMeta {
    #[pyo3(get, set)]
    priority: f64,
    #[pyo3(get, set)]
    delay: f64,
}

#[pymethods]
impl PyAddWorkUnitMeta {
    #[new]
    #[pyo3(signature = (priority=0.0, delay=0.0))]
    fn new(priority: f64, delay: f64) -> Self {
        PyAddWorkUnitMeta { priority, delay }
    }

    /// The unit meta at `now`: not_before = now + delay when delay > 0.
    fn to_meta(&self, now: &Bound<'_, PyAny>) -> PyResult<PyWorkUnitMeta> {
        let m = AddWorkUnitMeta {
            priority: self.priority,
            delay: self.delay,
        };
        Ok(m.to_meta(to_instant(now, "now")?).into())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr_fields(
            "AddWorkUnitMeta",
            &[
                ("priority", obj(py, self.priority)?),
                ("delay", obj(py, self.delay)?),
            ],
        )
    }
}

// ---------------------------------------------------------- AddWorkUnitItem

/// One unit to add: a name (`key`), its data and its meta.
#[pyclass(module = "coordinate", name = "AddWorkUnitItem", eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyAddWorkUnitItem {
    pub(crate) inner: AddWorkUnitItem,
}

#[pymethods]
impl PyAddWorkUnitItem {
    #[new]
    #[pyo3(signature = (key=String::new(), data=None, meta=None),
        text_signature = "(key='', data=None, meta=None)")]
    fn new(
        key: String,
        data: Option<&Bound<'_, PyAny>>,
        meta: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(PyAddWorkUnitItem {
            inner: AddWorkUnitItem {
                key,
                data: crate::convert::to_opt_map(data, "data")?.unwrap_or_default(),
                meta: unit_meta_arg(meta)?,
            },
        })
    }

    /// The unit's name.
    #[getter]
    fn key(&self) -> String {
        self.inner.key.clone()
    }

    #[setter]
    fn set_key(&mut self, v: String) {
        self.inner.key = v;
    }

    /// The unit's data (a copy).
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(from_map(py, &self.inner.data)?.into_any())
    }

    #[setter]
    fn set_data(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.data = to_map(v, "data")?;
        Ok(())
    }

    /// The unit's meta (a copy).
    #[getter]
    fn meta(&self) -> PyWorkUnitMeta {
        self.inner.meta.into()
    }

    #[setter]
    fn set_meta(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner.meta = unit_meta_arg(Some(v))?;
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let meta = Bound::new(py, PyWorkUnitMeta::from(self.inner.meta))?.into_any();
        repr_fields(
            "AddWorkUnitItem",
            &[
                ("key", obj(py, &self.inner.key)?),
                ("data", self.data(py)?),
                ("meta", meta),
            ],
        )
    }
}

// ------------------------------------------------------------ SummaryRecord

/// How many units of one work spec have one status. Records sort by
/// (namespace, work spec, status).
#[pyclass(module = "coordinate", name = "SummaryRecord", frozen, eq, ord, hash)]
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PySummaryRecord {
    #[pyo3(get)]
    namespace: String,
    #[pyo3(get)]
    work_spec: String,
    status: WorkUnitStatus,
    #[pyo3(get)]
    count: i64,
}

impl From<SummaryRecord> for PySummaryRecord {
    fn from(r: SummaryRecord) -> Self {
        PySummaryRecord {
            namespace: r.namespace,
            work_spec: r.work_spec,
            status: r.status,
            count: r.count,
        }
    }
}

#[pymethods]
impl PySummaryRecord {
    #[new]
    #[pyo3(signature = (namespace, work_spec, status, count))]
    fn new(
        namespace: String,
        work_spec: String,
        status: &Bound<'_, PyAny>,
        count: i64,
    ) -> PyResult<Self> {
        Ok(PySummaryRecord {
            namespace,
            work_spec,
            status: to_unit_status(status, "status")?,
            count,
        })
    }

    /// The status counted.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_unit_status(py, self.status)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr_fields(
            "SummaryRecord",
            &[
                ("namespace", obj(py, &self.namespace)?),
                ("work_spec", obj(py, &self.work_spec)?),
                ("status", self.status(py)?),
                ("count", obj(py, self.count)?),
            ],
        )
    }
}

/// A core summary as a list of `SummaryRecord`.
pub(crate) fn summary_list(py: Python<'_>, s: Vec<SummaryRecord>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for r in s {
        list.append(Bound::new(py, PySummaryRecord::from(r))?)?;
    }
    Ok(list)
}

// ------------------------------------------------------------- WorkSpecData

/// The typed view of a work spec's well-known data keys.
#[pyclass(module = "coordinate", name = "WorkSpecData", eq, get_all, set_all)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyWorkSpecData {
    name: String,
    disabled: bool,
    continuous: bool,
    interval: f64,
    priority: i64,
    weight: i64,
    nice: i64,
    min_gb: f64,
    max_running: i64,
    max_getwork: i64,
    max_retries: i64,
    then: String,
    runtime: String,
    module: String,
    run_function: String,
}

impl From<WorkSpecData> for PyWorkSpecData {
    fn from(d: WorkSpecData) -> Self {
        PyWorkSpecData {
            name: d.name,
            disabled: d.disabled,
            continuous: d.continuous,
            interval: d.interval,
            priority: d.priority,
            weight: d.weight,
            nice: d.nice,
            min_gb: d.min_gb,
            max_running: d.max_running,
            max_getwork: d.max_getwork,
            max_retries: d.max_retries,
            then: d.then,
            runtime: d.runtime,
            module: d.module,
            run_function: d.run_function,
        }
    }
}

impl From<&PyWorkSpecData> for WorkSpecData {
    fn from(d: &PyWorkSpecData) -> Self {
        WorkSpecData {
            name: d.name.clone(),
            disabled: d.disabled,
            continuous: d.continuous,
            interval: d.interval,
            priority: d.priority,
            weight: d.weight,
            nice: d.nice,
            min_gb: d.min_gb,
            max_running: d.max_running,
            max_getwork: d.max_getwork,
            max_retries: d.max_retries,
            then: d.then.clone(),
            runtime: d.runtime.clone(),
            module: d.module.clone(),
            run_function: d.run_function.clone(),
        }
    }
}

#[pymethods]
impl PyWorkSpecData {
    #[new]
    #[pyo3(signature = (*, name=String::new(), disabled=false, continuous=false, interval=0.0,
        priority=0, weight=0, nice=0, min_gb=0.0, max_running=0, max_getwork=0,
        max_retries=0, then=String::new(), runtime=String::new(), module=String::new(),
        run_function=String::new()),
        text_signature = "(*, name='', disabled=False, continuous=False, interval=0.0, \
            priority=0, weight=0, nice=0, min_gb=0.0, max_running=0, max_getwork=0, \
            max_retries=0, then='', runtime='', module='', run_function='')")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        name: String,
        disabled: bool,
        continuous: bool,
        interval: f64,
        priority: i64,
        weight: i64,
        nice: i64,
        min_gb: f64,
        max_running: i64,
        max_getwork: i64,
        max_retries: i64,
        then: String,
        runtime: String,
        module: String,
        run_function: String,
    ) -> Self {
        PyWorkSpecData {
            name,
            disabled,
            continuous,
            interval,
            priority,
            weight,
            nice,
            min_gb,
            max_running,
            max_getwork,
            max_retries,
            then,
            runtime,
            module,
            run_function,
        }
    }

    /// Reads the well-known keys of work spec data (a missing or ill-typed
    /// key takes its default; `name` must be a non-empty str).
    #[staticmethod]
    fn from_dict(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let data = to_map(data, "data")?;
        WorkSpecData::from_map(&data)
            .map(Into::into)
            .map_err(|e| pyerr(py, e))
    }

    /// The metadata these keys define.
    fn meta(&self, py: Python<'_>) -> PyResult<PyWorkSpecMeta> {
        let data = WorkSpecData::from(self);
        guard(py, move || Ok(data.meta())).map(Into::into)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr_fields(
            "WorkSpecData",
            &[
                ("name", obj(py, &self.name)?),
                ("disabled", obj(py, self.disabled)?),
                ("continuous", obj(py, self.continuous)?),
                ("interval", obj(py, self.interval)?),
                ("priority", obj(py, self.priority)?),
                ("weight", obj(py, self.weight)?),
                ("nice", obj(py, self.nice)?),
                ("min_gb", obj(py, self.min_gb)?),
                ("max_running", obj(py, self.max_running)?),
                ("max_getwork", obj(py, self.max_getwork)?),
                ("max_retries", obj(py, self.max_retries)?),
                ("then", obj(py, &self.then)?),
                ("runtime", obj(py, &self.runtime)?),
                ("module", obj(py, &self.module)?),
                ("run_function", obj(py, &self.run_function)?),
            ],
        )
    }
}
