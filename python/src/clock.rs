//! `MockClock`: a clock that moves only when told to.

use coordinate::MockClock;
use pyo3::prelude::*;

use crate::convert::{from_instant, to_duration, to_instant};

/// A clock stopped at an instant (default 2026-01-01T00:00:00Z) that moves
/// only with `advance` and `set`. Pass it to `Coordinate(clock=...)`.
#[pyclass(module = "coordinate", name = "MockClock", frozen)]
pub(crate) struct PyMockClock {
    pub(crate) inner: MockClock,
}

#[pymethods]
impl PyMockClock {
    #[new]
    #[pyo3(signature = (start=None))]
    fn new(start: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let inner = match start {
            Some(s) if !s.is_none() => MockClock::new(to_instant(s, "start")?),
            _ => MockClock::default(),
        };
        Ok(PyMockClock { inner })
    }

    /// The instant the clock shows (an aware UTC datetime).
    fn now<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_instant(py, self.inner.now())
    }

    /// Moves the clock by a timedelta or a number of seconds
    /// (`OutOfRangeError` outside the valid ranges; the clock then stays).
    fn advance(&self, duration: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = to_duration(duration, "duration")?;
        self.inner
            .try_advance(d)
            .map_err(|e| crate::pyerr(duration.py(), e))
    }

    /// Moves the clock to `instant` (backwards is allowed).
    fn set(&self, instant: &Bound<'_, PyAny>) -> PyResult<()> {
        let t = to_instant(instant, "instant")?;
        self.inner
            .try_set(t)
            .map_err(|e| crate::pyerr(instant.py(), e))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("MockClock({})", self.now(py)?.repr()?))
    }
}
