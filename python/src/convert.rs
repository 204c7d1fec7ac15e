//! Conversions between Python objects and core values: data values, maps,
//! instants, durations and statuses. Every conversion names the argument it
//! converts, so a wrong type raises `TypeError("data: ...")`.

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use coordinate::{AttemptStatus, Map, Value, WorkUnitStatus};
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType,
};

use crate::errors::to_pyerr;

/// Data nested deeper than this is refused (it is almost surely a cycle, and
/// unbounded recursion would overflow the stack instead of raising).
const MAX_DEPTH: usize = 200;

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

// ---------------------------------------------------------------- data values

/// A Python value as a core `Value`. `bool` is checked before `int`; ints must
/// fit in 64 signed bits; tuples become lists; dict keys must be `str`.
pub(crate) fn to_value(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Value> {
    value_at(obj, arg, 0)
}

fn value_at(obj: &Bound<'_, PyAny>, arg: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "{arg}: data nested more than {MAX_DEPTH} levels deep (is it self-referential?)"
        )));
    }
    if obj.is_none() {
        Ok(Value::Null)
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Ok(Value::Bool(b.is_true()))
    } else if obj.is_instance_of::<PyInt>() {
        obj.extract::<i64>().map(Value::Int).map_err(|_| {
            PyOverflowError::new_err(format!(
                "{arg}: integer {obj} does not fit in 64 signed bits"
            ))
        })
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        Ok(Value::Float(f.value()))
    } else if let Ok(s) = obj.cast::<PyString>() {
        Ok(Value::String(s.to_cow()?.into_owned()))
    } else if let Ok(b) = obj.cast::<PyBytes>() {
        Ok(Value::Bytes(b.as_bytes().to_vec()))
    } else if let Ok(b) = obj.cast::<PyByteArray>() {
        Ok(Value::Bytes(b.to_vec()))
    } else if let Ok(list) = obj.cast::<PyList>() {
        let mut items = Vec::with_capacity(list.len());
        for item in list.iter() {
            items.push(value_at(&item, arg, depth + 1)?);
        }
        Ok(Value::List(items))
    } else if let Ok(tuple) = obj.cast::<PyTuple>() {
        let mut items = Vec::with_capacity(tuple.len());
        for item in tuple.iter() {
            items.push(value_at(&item, arg, depth + 1)?);
        }
        Ok(Value::List(items))
    } else if let Ok(dict) = obj.cast::<PyDict>() {
        map_at(dict, arg, depth + 1).map(Value::Map)
    } else {
        Err(PyTypeError::new_err(format!(
            "{arg}: a {} cannot be stored in Coordinate data \
             (use None, bool, int, float, str, bytes, list, tuple or dict)",
            type_name(obj)
        )))
    }
}

fn map_at(dict: &Bound<'_, PyDict>, arg: &str, depth: usize) -> PyResult<Map> {
    let mut map = Map::new();
    for (k, v) in dict.iter() {
        let Ok(key) = k.cast::<PyString>() else {
            return Err(PyTypeError::new_err(format!(
                "{arg}: map keys must be str, not {} ({})",
                type_name(&k),
                k.repr().map(|r| r.to_string()).unwrap_or_default()
            )));
        };
        map.insert(key.to_cow()?.into_owned(), value_at(&v, arg, depth)?);
    }
    Ok(map)
}

/// A data map argument: a `dict` with `str` keys.
pub(crate) fn to_map(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Map> {
    match obj.cast::<PyDict>() {
        Ok(dict) => map_at(dict, arg, 1),
        Err(_) => Err(PyTypeError::new_err(format!(
            "{arg} must be a dict, not {}",
            type_name(obj)
        ))),
    }
}

/// An optional data map argument: `None` means "no data".
pub(crate) fn to_opt_map(obj: Option<&Bound<'_, PyAny>>, arg: &str) -> PyResult<Option<Map>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => to_map(o, arg).map(Some),
    }
}

/// A core value as a Python object (lists come back as `list`, maps as `dict`).
pub(crate) fn from_value<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Bytes(b) => PyBytes::new(py, b).into_any(),
        Value::List(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(from_value(py, item)?)?;
            }
            list.into_any()
        }
        Value::Map(m) => from_map(py, m)?.into_any(),
    })
}

/// A core data map as a Python `dict`.
pub(crate) fn from_map<'py>(py: Python<'py>, m: &Map) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in m {
        dict.set_item(k, from_value(py, v)?)?;
    }
    Ok(dict)
}

// ------------------------------------------------------------------- strings

/// A list (or tuple) of `str`; a bare `str` is refused, since iterating it
/// would silently give its characters.
pub(crate) fn to_strings(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Vec<String>> {
    if obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{arg} must be a list of str, not a single str"
        )));
    }
    let mut out = Vec::new();
    for item in obj
        .try_iter()
        .map_err(|_| PyTypeError::new_err(format!("{arg} must be a list of str")))?
    {
        let item = item?;
        let s = item.cast::<PyString>().map_err(|_| {
            PyTypeError::new_err(format!(
                "{arg} must be a list of str, but holds a {}",
                type_name(&item)
            ))
        })?;
        out.push(s.to_cow()?.into_owned());
    }
    Ok(out)
}

// ------------------------------------------------------------------ instants

struct TimeTypes {
    datetime: Py<PyType>,
    timedelta: Py<PyType>,
    utc: Py<PyAny>,
}

static TIME_TYPES: PyOnceLock<TimeTypes> = PyOnceLock::new();

fn time_types(py: Python<'_>) -> PyResult<&TimeTypes> {
    TIME_TYPES.get_or_try_init(py, || {
        let dt = py.import("datetime")?;
        PyResult::Ok(TimeTypes {
            datetime: dt.getattr("datetime")?.cast_into::<PyType>()?.unbind(),
            timedelta: dt.getattr("timedelta")?.cast_into::<PyType>()?.unbind(),
            utc: dt.getattr("timezone")?.getattr("utc")?.unbind(),
        })
    })
}

/// A `datetime` as a UTC instant. A naive datetime is taken as UTC; an aware
/// one is converted from its offset.
pub(crate) fn to_instant(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<DateTime<Utc>> {
    let py = obj.py();
    let types = time_types(py)?;
    if !obj.is_instance(types.datetime.bind(py))? {
        return Err(PyTypeError::new_err(format!(
            "{arg} must be a datetime, not {}",
            type_name(obj)
        )));
    }
    let utc = types.utc.bind(py);
    let tz = obj.getattr("tzinfo")?;
    let aware = if tz.is_none() || tz.is(utc) {
        obj.clone()
    } else {
        obj.call_method1("astimezone", (utc,))?
    };
    let get = |name: &str| -> PyResult<u32> { aware.getattr(name)?.extract::<u32>() };
    let year: i32 = aware.getattr("year")?.extract()?;
    let date = chrono::NaiveDate::from_ymd_opt(year, get("month")?, get("day")?);
    let time = chrono::NaiveTime::from_hms_micro_opt(
        get("hour")?,
        get("minute")?,
        get("second")?,
        get("microsecond")?,
    );
    match (date, time) {
        (Some(d), Some(t)) => {
            coordinate::check_instant(d.and_time(t).and_utc(), arg).map_err(|e| to_pyerr(py, e))
        }
        _ => Err(PyValueError::new_err(format!(
            "{arg}: {obj} is not a valid instant"
        ))),
    }
}

/// An optional instant: `None` means "no time".
pub(crate) fn to_opt_instant(
    obj: Option<&Bound<'_, PyAny>>,
    arg: &str,
) -> PyResult<Option<DateTime<Utc>>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => to_instant(o, arg).map(Some),
    }
}

/// A UTC instant as an aware `datetime` (microsecond precision).
pub(crate) fn from_instant<'py>(py: Python<'py>, t: DateTime<Utc>) -> PyResult<Bound<'py, PyAny>> {
    let types = time_types(py)?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("tzinfo", types.utc.bind(py))?;
    types.datetime.bind(py).call(
        (
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.nanosecond().min(999_999_999) / 1000,
        ),
        Some(&kwargs),
    )
}

/// An optional instant as `datetime` or `None`.
pub(crate) fn from_opt_instant<'py>(
    py: Python<'py>,
    t: Option<DateTime<Utc>>,
) -> PyResult<Bound<'py, PyAny>> {
    match t {
        None => Ok(py.None().into_bound(py)),
        Some(t) => from_instant(py, t),
    }
}

// ----------------------------------------------------------------- durations

/// A duration: a `timedelta`, or an `int`/`float` number of seconds, in the
/// core's valid range (|d| <= 10^9 s; NaN and ±inf refused): outside it,
/// `OutOfRangeError` (a `ValueError`) naming `arg`.
pub(crate) fn to_duration(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<TimeDelta> {
    let py = obj.py();
    let out_of_range = || {
        to_pyerr(
            py,
            coordinate::Error::OutOfRange {
                what: arg.to_owned(),
                reason: format!(
                    "duration {obj} is outside the valid range of ±{} s",
                    coordinate::MAX_DURATION_SECS
                ),
            },
        )
    };
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{arg} must be a timedelta or a number of seconds, not bool"
        )));
    }
    let d = if obj.is_instance_of::<PyInt>() {
        let secs: i64 = obj.extract().map_err(|_| out_of_range())?;
        TimeDelta::try_seconds(secs).ok_or_else(out_of_range)?
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        return coordinate::try_seconds(f.value(), arg).map_err(|e| to_pyerr(py, e));
    } else if obj.is_instance(time_types(py)?.timedelta.bind(py))? {
        let days: i64 = obj.getattr("days")?.extract()?;
        let secs: i64 = obj.getattr("seconds")?.extract()?;
        let micros: i64 = obj.getattr("microseconds")?.extract()?;
        TimeDelta::try_days(days)
            .and_then(|d| d.checked_add(&TimeDelta::try_seconds(secs)?))
            .and_then(|d| d.checked_add(&TimeDelta::microseconds(micros)))
            .ok_or_else(out_of_range)?
    } else {
        return Err(PyTypeError::new_err(format!(
            "{arg} must be a timedelta or a number of seconds, not {}",
            type_name(obj)
        )));
    };
    coordinate::check_duration(d, arg).map_err(|e| to_pyerr(py, e))
}

/// An optional duration argument; `None` means zero.
pub(crate) fn to_opt_duration(obj: Option<&Bound<'_, PyAny>>, arg: &str) -> PyResult<TimeDelta> {
    match obj {
        None => Ok(TimeDelta::zero()),
        Some(o) if o.is_none() => Ok(TimeDelta::zero()),
        Some(o) => to_duration(o, arg),
    }
}

/// A duration as a `timedelta` (microsecond precision, truncated toward zero).
pub(crate) fn from_duration<'py>(py: Python<'py>, d: TimeDelta) -> PyResult<Bound<'py, PyAny>> {
    let secs = d.num_seconds();
    let micros = i64::from(d.subsec_nanos() / 1000);
    time_types(py)?.timedelta.bind(py).call1((
        secs.div_euclid(86_400),
        secs.rem_euclid(86_400),
        micros,
    ))
}

// ------------------------------------------------------------------ statuses

struct Statuses {
    unit_class: Py<PyType>,
    unit: Vec<Py<PyAny>>,
    attempt: Vec<Py<PyAny>>,
}

static STATUSES: PyOnceLock<Statuses> = PyOnceLock::new();

/// The Python enum classes (`coordinate._status`), their members in code order.
fn statuses(py: Python<'_>) -> PyResult<&Statuses> {
    STATUSES.get_or_try_init(py, || {
        let module = py.import("coordinate._status")?;
        let members = |cls: &Bound<'_, PyAny>| -> PyResult<Vec<Py<PyAny>>> {
            cls.try_iter()?.map(|m| m.map(Bound::unbind)).collect()
        };
        let unit_class = module.getattr("WorkUnitStatus")?;
        let attempt_class = module.getattr("AttemptStatus")?;
        let s = Statuses {
            unit: members(&unit_class)?,
            attempt: members(&attempt_class)?,
            unit_class: unit_class.cast_into::<PyType>()?.unbind(),
        };
        if s.unit.len() != WorkUnitStatus::ALL.len() || s.attempt.len() != AttemptStatus::ALL.len()
        {
            return Err(PyValueError::new_err(
                "coordinate._status does not match the core's statuses",
            ));
        }
        Ok(s)
    })
}

/// The `WorkUnitStatus` enum member for a core status.
pub(crate) fn from_unit_status(py: Python<'_>, s: WorkUnitStatus) -> PyResult<Bound<'_, PyAny>> {
    let idx = usize::try_from(s.code()).unwrap_or_default();
    Ok(statuses(py)?.unit[idx].bind(py).clone())
}

/// The `AttemptStatus` enum member for a core status.
pub(crate) fn from_attempt_status(py: Python<'_>, s: AttemptStatus) -> PyResult<Bound<'_, PyAny>> {
    let idx = usize::try_from(s.code()).unwrap_or_default();
    Ok(statuses(py)?.attempt[idx].bind(py).clone())
}

/// A status argument: its enum member, or its text form (`"pending"`).
fn status_text(obj: &Bound<'_, PyAny>, class: &Bound<'_, PyType>, arg: &str) -> PyResult<String> {
    if obj.is_instance(class)? {
        return obj.getattr("value")?.extract();
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    Err(PyTypeError::new_err(format!(
        "{arg} must be a {} (or its text), not {}",
        class.name()?,
        type_name(obj)
    )))
}

/// A `WorkUnitStatus` argument (member or text); unknown text is `InvalidStatusError`.
pub(crate) fn to_unit_status(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<WorkUnitStatus> {
    let py = obj.py();
    let text = status_text(obj, statuses(py)?.unit_class.bind(py), arg)?;
    text.parse().map_err(|e| to_pyerr(py, e))
}

/// A list of work unit statuses.
pub(crate) fn to_unit_statuses(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Vec<WorkUnitStatus>> {
    if obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{arg} must be a list of WorkUnitStatus, not a single str"
        )));
    }
    obj.try_iter()
        .map_err(|_| PyTypeError::new_err(format!("{arg} must be a list of WorkUnitStatus")))?
        .map(|item| to_unit_status(&item?, arg))
        .collect()
}
