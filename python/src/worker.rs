//! Handles: `Worker` and `Attempt`.

use coordinate::{Attempt, Worker};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{
    from_attempt_status, from_instant, from_map, from_opt_instant, to_duration, to_instant, to_map,
    to_opt_duration, to_opt_map,
};
use crate::guard;
use crate::handles::{pyrepr, PyWorkUnit};
use crate::values::request_arg;

// ------------------------------------------------------------------ Attempt

/// One worker's lease on one work unit: it expires unless renewed, and ends
/// when finished, failed, retried or expired.
#[pyclass(module = "coordinate", name = "Attempt", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct PyAttempt {
    inner: Attempt,
}

impl From<Attempt> for PyAttempt {
    fn from(inner: Attempt) -> Self {
        PyAttempt { inner }
    }
}

#[pymethods]
impl PyAttempt {
    /// The work unit this attempt is for.
    #[getter]
    fn work_unit(&self) -> PyWorkUnit {
        self.inner.work_unit().clone().into()
    }

    /// The worker holding this attempt.
    #[getter]
    fn worker(&self) -> PyWorker {
        self.inner.worker().clone().into()
    }

    /// The attempt's status (an AttemptStatus).
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let a = &self.inner;
        from_attempt_status(py, guard(py, || a.status())?)
    }

    /// The attempt's data.
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let a = &self.inner;
        from_map(py, &guard(py, || a.data())?)
    }

    /// When the attempt started.
    fn start_time<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let a = &self.inner;
        from_instant(py, guard(py, || a.start_time())?)
    }

    /// When the attempt left Pending; None while pending.
    fn end_time<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let a = &self.inner;
        from_opt_instant(py, guard(py, || a.end_time())?)
    }

    /// When the lease runs out.
    fn expiration_time<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let a = &self.inner;
        from_instant(py, guard(py, || a.expiration_time())?)
    }

    /// Extends the lease to now + `extend_duration` (timedelta or seconds),
    /// replacing the data if given.
    #[pyo3(signature = (extend_duration, data=None))]
    fn renew(
        &self,
        py: Python<'_>,
        extend_duration: &Bound<'_, PyAny>,
        data: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let d = to_duration(extend_duration, "extend_duration")?;
        let data = to_opt_map(data, "data")?;
        let a = &self.inner;
        guard(py, || a.renew(d, data))
    }

    /// Gives up the lease; the unit becomes available again.
    #[pyo3(signature = (data=None))]
    fn expire(&self, py: Python<'_>, data: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let data = to_opt_map(data, "data")?;
        let a = &self.inner;
        guard(py, || a.expire(data))
    }

    /// Marks the work done (chaining `output` to the spec's `then`).
    #[pyo3(signature = (data=None))]
    fn finish(&self, py: Python<'_>, data: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let data = to_opt_map(data, "data")?;
        let a = &self.inner;
        guard(py, || a.finish(data))
    }

    /// Marks the work failed for good.
    #[pyo3(signature = (data=None))]
    fn fail(&self, py: Python<'_>, data: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let data = to_opt_map(data, "data")?;
        let a = &self.inner;
        guard(py, || a.fail(data))
    }

    /// Gives the unit back, to be tried again after `delay`.
    #[pyo3(signature = (data=None, delay=None), text_signature = "($self, data=None, delay=0)")]
    fn retry(
        &self,
        py: Python<'_>,
        data: Option<&Bound<'_, PyAny>>,
        delay: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let data = to_opt_map(data, "data")?;
        let delay = to_opt_duration(delay, "delay")?;
        let a = &self.inner;
        guard(py, || a.retry(data, delay))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let u = self.inner.work_unit();
        Ok(format!(
            "Attempt(work_spec={}, work_unit={}, worker={})",
            pyrepr(py, u.work_spec().name())?,
            pyrepr(py, u.name())?,
            pyrepr(py, self.inner.worker().name())?
        ))
    }
}

fn attempt_list(v: Vec<Attempt>) -> Vec<PyAttempt> {
    v.into_iter().map(PyAttempt::from).collect()
}

// ------------------------------------------------------------------- Worker

/// A worker: asks for work and holds attempts. Workers form a hierarchy.
#[pyclass(module = "coordinate", name = "Worker", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct PyWorker {
    inner: Worker,
}

impl From<Worker> for PyWorker {
    fn from(inner: Worker) -> Self {
        PyWorker { inner }
    }
}

#[pymethods]
impl PyWorker {
    /// The worker's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// The parent worker, or None.
    fn parent(&self, py: Python<'_>) -> PyResult<Option<PyWorker>> {
        let w = &self.inner;
        Ok(guard(py, || w.parent())?.map(PyWorker::from))
    }

    /// Moves this worker under `parent`, or makes it a root with None.
    fn set_parent(&self, py: Python<'_>, parent: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let parent = match parent {
            Some(p) if !p.is_none() => Some(
                p.cast::<PyWorker>()
                    .map_err(|_| {
                        PyTypeError::new_err(format!(
                            "parent must be a Worker or None, not {}",
                            p.get_type()
                                .name()
                                .map(|n| n.to_string())
                                .unwrap_or_default()
                        ))
                    })?
                    .get()
                    .inner
                    .clone(),
            ),
            _ => None,
        };
        let w = &self.inner;
        guard(py, || w.set_parent(parent.as_ref()))
    }

    /// The worker's children, sorted by name.
    fn children(&self, py: Python<'_>) -> PyResult<Vec<PyWorker>> {
        let w = &self.inner;
        Ok(guard(py, || w.children())?
            .into_iter()
            .map(PyWorker::from)
            .collect())
    }

    /// Whether the worker is active (informational).
    fn active(&self, py: Python<'_>) -> PyResult<bool> {
        let w = &self.inner;
        guard(py, || w.active())
    }

    /// Marks the worker inactive.
    fn deactivate(&self, py: Python<'_>) -> PyResult<()> {
        let w = &self.inner;
        guard(py, || w.deactivate())
    }

    /// The mode last reported by `update` ("" if never updated).
    fn mode(&self, py: Python<'_>) -> PyResult<String> {
        let w = &self.inner;
        guard(py, || w.mode())
    }

    /// The data last reported by `update` ({} if never updated).
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let w = &self.inner;
        from_map(py, &guard(py, || w.data())?)
    }

    /// The expiration last reported.
    fn expiration<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let w = &self.inner;
        from_instant(py, guard(py, || w.expiration())?)
    }

    /// The time of the last update.
    fn last_update<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let w = &self.inner;
        from_instant(py, guard(py, || w.last_update())?)
    }

    /// Records the worker's reported state and marks it active.
    fn update(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        now: &Bound<'_, PyAny>,
        expiration: &Bound<'_, PyAny>,
        mode: String,
    ) -> PyResult<()> {
        let data = to_map(data, "data")?;
        let now = to_instant(now, "now")?;
        let expiration = to_instant(expiration, "expiration")?;
        let w = &self.inner;
        guard(py, || w.update(data, now, expiration, &mode))
    }

    /// Asks the scheduler for work; an empty list when there is none.
    #[pyo3(signature = (request=None, *, number_of_work_units=None, available_gb=None,
        lifetime=None, work_specs=None, runtimes=None),
        text_signature = "($self, request=None, *, number_of_work_units=1, available_gb=0.0, \
            lifetime=0, work_specs=None, runtimes=None)")]
    #[allow(clippy::too_many_arguments)]
    fn request_attempts(
        &self,
        py: Python<'_>,
        request: Option<&Bound<'_, PyAny>>,
        number_of_work_units: Option<&Bound<'_, PyAny>>,
        available_gb: Option<&Bound<'_, PyAny>>,
        lifetime: Option<&Bound<'_, PyAny>>,
        work_specs: Option<&Bound<'_, PyAny>>,
        runtimes: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<PyAttempt>> {
        let req = request_arg(
            request,
            number_of_work_units,
            available_gb,
            lifetime,
            work_specs,
            runtimes,
        )?;
        let w = &self.inner;
        guard(py, || w.request_attempts(&req)).map(attempt_list)
    }

    /// Finishes `finished` (each an `Attempt`, or `(attempt, data)`) and then
    /// asks for more work like `request_attempts(request)`, in one store
    /// transaction or one round trip to a server where the store can.
    /// Returns `(errors, attempts)`: for each finished attempt `None` or the
    /// exception its finish raised (e.g. `NotPendingError`), in order, and
    /// the new attempts.
    #[pyo3(signature = (finished, request=None))]
    fn finish_and_request<'py>(
        &self,
        py: Python<'py>,
        finished: &Bound<'py, PyAny>,
        request: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Vec<Option<PyErr>>, Vec<PyAttempt>)> {
        let req = request_arg(request, None, None, None, None, None)?;
        let mut done = Vec::new();
        for item in finished.try_iter()? {
            let item = item?;
            let (attempt, data) = match item.cast::<PyAttempt>() {
                Ok(a) => (a.get().inner.clone(), None),
                Err(_) => {
                    let (a, data): (Bound<'py, PyAny>, Bound<'py, PyAny>) =
                        item.extract().map_err(|_| {
                            PyTypeError::new_err(
                                "finished: each item must be an Attempt or (attempt, data)",
                            )
                        })?;
                    let a = a.cast::<PyAttempt>().map_err(|_| {
                        PyTypeError::new_err(
                            "finished: each item must be an Attempt or (attempt, data)",
                        )
                    })?;
                    (a.get().inner.clone(), to_opt_map(Some(&data), "data")?)
                }
            };
            done.push((attempt, data));
        }
        let w = &self.inner;
        let (results, attempts) = guard(py, || w.finish_and_request(done, &req))?;
        let errors = results
            .into_iter()
            .map(|r| r.err().map(|e| crate::pyerr(py, e)))
            .collect();
        Ok((errors, attempt_list(attempts)))
    }

    /// Starts an attempt on `work_unit` regardless of its state (lifetime 0 or
    /// negative: 15 minutes).
    #[pyo3(signature = (work_unit, lifetime=None), text_signature = "($self, work_unit, lifetime=0)")]
    fn make_attempt(
        &self,
        py: Python<'_>,
        work_unit: PyRef<'_, PyWorkUnit>,
        lifetime: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyAttempt> {
        let lifetime = to_opt_duration(lifetime, "lifetime")?;
        let unit = work_unit.inner.clone();
        let w = &self.inner;
        guard(py, || w.make_attempt(&unit, lifetime)).map(PyAttempt::from)
    }

    /// Attempts of this worker not yet completed, oldest first.
    fn active_attempts(&self, py: Python<'_>) -> PyResult<Vec<PyAttempt>> {
        let w = &self.inner;
        guard(py, || w.active_attempts()).map(attempt_list)
    }

    /// Every attempt of this worker whose unit still exists, oldest first.
    fn all_attempts(&self, py: Python<'_>) -> PyResult<Vec<PyAttempt>> {
        let w = &self.inner;
        guard(py, || w.all_attempts()).map(attempt_list)
    }

    /// The active attempts of this worker's children.
    fn child_attempts(&self, py: Python<'_>) -> PyResult<Vec<PyAttempt>> {
        let w = &self.inner;
        guard(py, || w.child_attempts()).map(attempt_list)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Worker({})", pyrepr(py, self.inner.name())?))
    }
}
