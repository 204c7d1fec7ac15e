//! Plain value classes: metas, queries, requests, chained-output items and
//! summary records. Each class wraps its core value (`inner`), and every
//! field is driven by the core's field table (`coordinate::records`): the
//! attributes are properties added to the class at import (`install`), the
//! keyword constructor, `__repr__` and the conversions read the same table,
//! so a new field is one edit in the core (plus the stub). Each getter
//! returns a fresh Python object (mutating a returned list or dict does not
//! change the value).

use coordinate::{
    AddWorkUnitItem, AddWorkUnitMeta, AttemptRequest, FieldValue, Kind, Record, SummaryRecord,
    WorkSpecData, WorkSpecMeta, WorkUnitMeta, WorkUnitQuery, WorkUnitStatus,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyList, PyString, PyTuple};
use pyo3::PyClass;

use crate::convert::{
    from_duration, from_map, from_opt_instant, from_unit_status, to_duration, to_instant, to_map,
    to_opt_instant, to_strings, to_unit_status, to_unit_statuses,
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

// ------------------------------------------------------- field conversions

/// A field value as a Python object, by kind.
fn field_to_py<'py>(py: Python<'py>, v: FieldValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        FieldValue::Int(i) => i.into_pyobject(py)?.into_any(),
        FieldValue::Float(f) => f.into_pyobject(py)?.into_any(),
        FieldValue::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        FieldValue::Text(s) => PyString::new(py, &s).into_any(),
        FieldValue::Duration(d) => from_duration(py, d)?,
        FieldValue::Instant(t) => from_opt_instant(py, t)?,
        FieldValue::Strings(l) => PyList::new(py, l)?.into_any(),
        FieldValue::OptStrings(None) | FieldValue::OptStatuses(None) => py.None().into_bound(py),
        FieldValue::OptStrings(Some(l)) => PyList::new(py, l)?.into_any(),
        FieldValue::OptStatuses(Some(l)) => status_list(py, &l)?,
        FieldValue::Status(s) => from_unit_status(py, s)?,
        FieldValue::Data(m) => from_map(py, &m)?.into_any(),
        FieldValue::UnitMeta(m) => Bound::new(py, PyWorkUnitMeta { inner: m })?.into_any(),
    })
}

/// A pyo3 extraction error re-raised with the same type, naming `arg`.
fn named(py: Python<'_>, arg: &str, e: PyErr) -> PyErr {
    PyErr::from_type(e.get_type(py), format!("{arg}: {}", e.value(py)))
}

/// A Python object as a field value of `kind`, naming `arg` in errors.
fn field_from_py(kind: Kind, obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<FieldValue> {
    let py = obj.py();
    Ok(match kind {
        Kind::Int => FieldValue::Int(obj.extract().map_err(|e| named(py, arg, e))?),
        Kind::Float | Kind::Seconds => {
            FieldValue::Float(obj.extract().map_err(|e| named(py, arg, e))?)
        }
        Kind::Bool => FieldValue::Bool(obj.extract().map_err(|e| named(py, arg, e))?),
        Kind::Text => FieldValue::Text(obj.extract().map_err(|e| named(py, arg, e))?),
        Kind::Duration if obj.is_none() => FieldValue::Duration(Default::default()),
        Kind::Duration => FieldValue::Duration(to_duration(obj, arg)?),
        Kind::Instant => FieldValue::Instant(to_opt_instant(Some(obj), arg)?),
        Kind::Strings => FieldValue::Strings(opt_strings(Some(obj), arg)?.unwrap_or_default()),
        Kind::OptStrings => FieldValue::OptStrings(opt_strings(Some(obj), arg)?),
        Kind::OptStatuses => FieldValue::OptStatuses(opt_statuses(Some(obj), arg)?),
        Kind::Status => FieldValue::Status(to_unit_status(obj, arg)?),
        Kind::Data if obj.is_none() => FieldValue::Data(Default::default()),
        Kind::Data => FieldValue::Data(to_map(obj, arg)?),
        Kind::UnitMeta => FieldValue::UnitMeta(unit_meta_arg(Some(obj))?),
    })
}

/// Sets field `name` of `r` from a Python object (conversion, then the
/// core's checks).
fn set_field<R: Record>(r: &mut R, name: &str, obj: &Bound<'_, PyAny>) -> PyResult<()> {
    let f = R::field(name).ok_or_else(|| {
        PyTypeError::new_err(format!("{}: unexpected keyword argument {name:?}", R::NAME))
    })?;
    let v = field_from_py(f.kind, obj, name)?;
    (f.set)(r, v).map_err(|e| pyerr(obj.py(), e))
}

/// A record from constructor arguments: keywords by field name and, when
/// `positional`, positional arguments in table order; `required` makes
/// every field required.
fn construct<R: Record>(
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
    positional: bool,
    required: bool,
) -> PyResult<R> {
    if !positional && !args.is_empty() {
        return Err(PyTypeError::new_err(format!(
            "{}() takes keyword arguments only",
            R::NAME
        )));
    }
    if args.len() > R::FIELDS.len() {
        return Err(PyTypeError::new_err(format!(
            "{}() takes at most {} arguments ({} given)",
            R::NAME,
            R::FIELDS.len(),
            args.len()
        )));
    }
    let mut r = R::blank();
    let mut given = vec![false; R::FIELDS.len()];
    for (i, a) in args.iter().enumerate() {
        given[i] = true;
        set_field(&mut r, R::FIELDS[i].name, &a)?;
    }
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            let k: String = k.extract()?;
            let i = R::FIELDS.iter().position(|f| f.name == k).ok_or_else(|| {
                PyTypeError::new_err(format!(
                    "{}() got an unexpected keyword argument {k:?}",
                    R::NAME
                ))
            })?;
            if given[i] {
                return Err(PyTypeError::new_err(format!(
                    "{}() got multiple values for argument {k:?}",
                    R::NAME
                )));
            }
            given[i] = true;
            set_field(&mut r, &k, &v)?;
        }
    }
    if required {
        if let Some(i) = given.iter().position(|g| !g) {
            return Err(PyTypeError::new_err(format!(
                "{}() missing required argument {:?}",
                R::NAME,
                R::FIELDS[i].name
            )));
        }
    }
    Ok(r)
}

/// `Name(field=value, ...)` of a record, every field in table order.
fn repr_record<R: Record>(py: Python<'_>, r: &R) -> PyResult<String> {
    let mut fields = Vec::with_capacity(R::FIELDS.len());
    for f in R::FIELDS {
        fields.push((f.name, field_to_py(py, (f.get)(r))?));
    }
    repr_fields(R::NAME, &fields)
}

/// A Python class wrapping a core record.
pub(crate) trait PyRecord:
    PyClass + pyo3::impl_::pyclass::PyClassImpl + Sync + Send + Sized
{
    /// The core record.
    type Core: Record;
    /// Whether the constructor takes positional arguments (in table order).
    const POSITIONAL: bool;
    /// Whether every constructor argument is required.
    const REQUIRED: bool = false;
    /// The wrapped value.
    fn inner(&self) -> &Self::Core;
}

/// A record class whose fields can be set.
pub(crate) trait PyRecordMut:
    PyRecord<Frozen = pyo3::pyclass::boolean_struct::False>
{
    /// The wrapped value, to change.
    fn inner_mut(&mut self) -> &mut Self::Core;
}

/// Adds one read-only property per field of `T`'s table to the class and
/// its `__signature__` (for `inspect` and `help`). Called once at import.
fn add_getters<T: PyRecord>(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let cls = py.get_type::<T>();
    let property = py.import("builtins")?.getattr("property")?;
    let inspect = py.import("inspect")?;
    let parameter = inspect.getattr("Parameter")?;
    let mut params = Vec::new();
    for f in <T::Core as Record>::FIELDS {
        let fget = PyCFunction::new_closure(
            py,
            None,
            None,
            move |args: &Bound<'_, PyTuple>,
                  _kw: Option<&Bound<'_, PyDict>>|
                  -> PyResult<Py<PyAny>> {
                let this = args.get_item(0)?;
                let this = this.cast::<T>()?;
                let v = (f.get)(this.borrow().inner());
                Ok(field_to_py(args.py(), v)?.unbind())
            },
        )?;
        let prop = property.call1((fget, py.None(), py.None(), f.doc))?;
        cls.setattr(f.name, prop)?;
        let kind = parameter.getattr(if T::POSITIONAL {
            "POSITIONAL_OR_KEYWORD"
        } else {
            "KEYWORD_ONLY"
        })?;
        let kw = PyDict::new(py);
        if !T::REQUIRED {
            // Kinds whose blank value is "nothing" take None, as in the stubs.
            let default = match f.kind {
                Kind::Duration
                | Kind::Instant
                | Kind::Strings
                | Kind::OptStrings
                | Kind::OptStatuses
                | Kind::Data
                | Kind::UnitMeta => py.None().into_bound(py),
                _ => field_to_py(py, (f.get)(&<T::Core as Record>::blank()))?,
            };
            kw.set_item("default", default)?;
        }
        params.push(parameter.call((f.name, kind), Some(&kw))?);
    }
    let sig = inspect
        .getattr("Signature")?
        .call1((PyList::new(py, params)?,))?;
    cls.setattr("__signature__", sig)?;
    Ok(())
}

/// `add_getters`, then a setter on each property that converts the value
/// and runs the core's checks (an out-of-range duration raises there).
fn add_properties<T: PyRecordMut>(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_getters::<T>(m)?;
    let py = m.py();
    let cls = py.get_type::<T>();
    for f in <T::Core as Record>::FIELDS {
        let fset = PyCFunction::new_closure(
            py,
            None,
            None,
            move |args: &Bound<'_, PyTuple>, _kw: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
                let this = args.get_item(0)?;
                let value = args.get_item(1)?;
                let v = field_from_py(f.kind, &value, f.name)?;
                let this = this.cast::<T>()?;
                let mut this = this.try_borrow_mut()?;
                (f.set)(this.inner_mut(), v).map_err(|e| pyerr(args.py(), e))
            },
        )?;
        let prop = cls.getattr(f.name)?.call_method1("setter", (fset,))?;
        cls.setattr(f.name, prop)?;
    }
    Ok(())
}

/// Declares a record class wrapping `$core`, with the generic constructor,
/// `__repr__` and `__eq__`, plus the methods given.
macro_rules! record_class {
    ($py:ident, $core:ty, $name:literal, positional = $pos:expr, { $($methods:tt)* }) => {
        #[doc = concat!("The `", $name, "` record (fields: see the core's table).")]
        #[pyclass(module = "coordinate", name = $name, eq)]
        #[derive(Clone, PartialEq)]
        pub(crate) struct $py {
            pub(crate) inner: $core,
        }

        impl PyRecord for $py {
            type Core = $core;
            const POSITIONAL: bool = $pos;
            fn inner(&self) -> &$core {
                &self.inner
            }
        }

        impl PyRecordMut for $py {
            fn inner_mut(&mut self) -> &mut $core {
                &mut self.inner
            }
        }

        impl From<$core> for $py {
            fn from(inner: $core) -> Self {
                $py { inner }
            }
        }

        #[pymethods]
        impl $py {
            #[new]
            #[pyo3(signature = (*args, **kwargs))]
            fn new(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
                construct::<$core>(args, kwargs, $pos, false).map(|inner| $py { inner })
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                repr_record(py, &self.inner)
            }

            $($methods)*
        }
    };
}

record_class!(
    PyWorkSpecMeta,
    WorkSpecMeta,
    "WorkSpecMeta",
    positional = false,
    {
        /// Whether the scheduler may pick this spec at `now`.
        fn can_do_work(&self, now: &Bound<'_, PyAny>) -> PyResult<bool> {
            Ok(self.inner.can_do_work(to_instant(now, "now")?))
        }

        /// Whether a continuous unit may be generated at `now`.
        fn can_start_continuous(&self, now: &Bound<'_, PyAny>) -> PyResult<bool> {
            Ok(self.inner.can_start_continuous(to_instant(now, "now")?))
        }
    }
);

impl From<&PyWorkSpecMeta> for WorkSpecMeta {
    fn from(m: &PyWorkSpecMeta) -> Self {
        m.inner.clone()
    }
}

record_class!(
    PyWorkUnitMeta,
    WorkUnitMeta,
    "WorkUnitMeta",
    positional = true,
    {}
);

impl From<&PyWorkUnitMeta> for WorkUnitMeta {
    fn from(m: &PyWorkUnitMeta) -> Self {
        m.inner
    }
}

record_class!(
    PyWorkUnitQuery,
    WorkUnitQuery,
    "WorkUnitQuery",
    positional = true,
    {}
);

record_class!(
    PyAttemptRequest,
    AttemptRequest,
    "AttemptRequest",
    positional = true,
    {}
);

record_class!(
    PyAddWorkUnitMeta,
    AddWorkUnitMeta,
    "AddWorkUnitMeta",
    positional = true,
    {
        /// The unit meta at `now`: not_before = now + delay when delay > 0.
        fn to_meta(&self, now: &Bound<'_, PyAny>) -> PyResult<PyWorkUnitMeta> {
            Ok(self.inner.to_meta(to_instant(now, "now")?).into())
        }
    }
);

record_class!(
    PyAddWorkUnitItem,
    AddWorkUnitItem,
    "AddWorkUnitItem",
    positional = true,
    {}
);

record_class!(
    PyWorkSpecData,
    WorkSpecData,
    "WorkSpecData",
    positional = false,
    {
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
            let data = self.inner.clone();
            guard(py, move || Ok(data.meta())).map(Into::into)
        }
    }
);

/// How many units of one work spec have one status. Records sort by
/// (namespace, work spec, status).
#[pyclass(module = "coordinate", name = "SummaryRecord", frozen, eq, ord, hash)]
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PySummaryRecord {
    inner: SummaryRecord,
}

impl PyRecord for PySummaryRecord {
    type Core = SummaryRecord;
    const POSITIONAL: bool = true;
    const REQUIRED: bool = true;
    fn inner(&self) -> &SummaryRecord {
        &self.inner
    }
}

#[pymethods]
impl PySummaryRecord {
    #[new]
    #[pyo3(signature = (*args, **kwargs))]
    fn new(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        construct::<SummaryRecord>(args, kwargs, true, true).map(|inner| PySummaryRecord { inner })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr_record(py, &self.inner)
    }
}

/// A core summary as a list of `SummaryRecord`.
pub(crate) fn summary_list(py: Python<'_>, s: Vec<SummaryRecord>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for inner in s {
        list.append(Bound::new(py, PySummaryRecord { inner })?)?;
    }
    Ok(list)
}

/// Adds the record classes and their properties to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWorkSpecMeta>()?;
    m.add_class::<PyWorkUnitMeta>()?;
    m.add_class::<PyWorkUnitQuery>()?;
    m.add_class::<PyAttemptRequest>()?;
    m.add_class::<PyAddWorkUnitMeta>()?;
    m.add_class::<PyAddWorkUnitItem>()?;
    m.add_class::<PySummaryRecord>()?;
    m.add_class::<PyWorkSpecData>()?;
    add_properties::<PyWorkSpecMeta>(m)?;
    add_properties::<PyWorkUnitMeta>(m)?;
    add_properties::<PyWorkUnitQuery>(m)?;
    add_properties::<PyAttemptRequest>(m)?;
    add_properties::<PyAddWorkUnitMeta>(m)?;
    add_properties::<PyAddWorkUnitItem>(m)?;
    add_properties::<PyWorkSpecData>(m)?;
    add_getters::<PySummaryRecord>(m)?;
    Ok(())
}

// --------------------------------------------------------- argument helpers

/// An optional `meta=` argument of `add_work_unit`: None is the zero meta.
pub(crate) fn unit_meta_arg(meta: Option<&Bound<'_, PyAny>>) -> PyResult<WorkUnitMeta> {
    match meta {
        None => Ok(WorkUnitMeta::default()),
        Some(m) if m.is_none() => Ok(WorkUnitMeta::default()),
        Some(m) => match m.cast::<PyWorkUnitMeta>() {
            Ok(m) => Ok(m.borrow().inner),
            Err(_) => Err(PyTypeError::new_err(format!(
                "meta must be a WorkUnitMeta or None, not {}",
                m.get_type().name()?
            ))),
        },
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

/// Copies the record in `obj` (which must be a `T` or None: the default
/// record), then sets each explicitly given keyword field (`Some`) over it:
/// an explicit keyword always wins over the object's field.
fn record_with_overrides<T: PyRecordMut + Clone>(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
    blank: T::Core,
    overrides: &[(&str, Option<&Bound<'_, PyAny>>)],
) -> PyResult<T::Core> {
    let mut r = match obj {
        None => blank,
        Some(o) if o.is_none() => blank,
        Some(o) => match o.cast::<T>() {
            Ok(o) => o.borrow().inner().clone(),
            Err(_) => {
                return Err(PyTypeError::new_err(format!(
                    "{what} must be a {} or None, not {}",
                    <T::Core as Record>::NAME,
                    o.get_type().name()?
                )))
            }
        },
    };
    for (name, v) in overrides {
        if let Some(v) = v {
            set_field(&mut r, name, v)?;
        }
    }
    Ok(r)
}

/// Builds the query of a `query=None, *, names=None, statuses=None,
/// previous_name="", limit=0` method: each keyword given explicitly (even
/// with its default value) overrides the query's field.
pub(crate) fn query_arg(
    query: Option<&Bound<'_, PyAny>>,
    names: Option<&Bound<'_, PyAny>>,
    statuses: Option<&Bound<'_, PyAny>>,
    previous_name: Option<&Bound<'_, PyAny>>,
    limit: Option<&Bound<'_, PyAny>>,
) -> PyResult<WorkUnitQuery> {
    record_with_overrides::<PyWorkUnitQuery>(
        query,
        "query",
        WorkUnitQuery::default(),
        &[
            ("names", names),
            ("statuses", statuses),
            ("previous_name", previous_name),
            ("limit", limit),
        ],
    )
}

/// Builds the request of `request_attempts(request=None, *, ...)`: each
/// keyword given explicitly overrides the request's field; with no request,
/// `number_of_work_units` defaults to 1.
pub(crate) fn request_arg(
    request: Option<&Bound<'_, PyAny>>,
    number_of_work_units: Option<&Bound<'_, PyAny>>,
    available_gb: Option<&Bound<'_, PyAny>>,
    lifetime: Option<&Bound<'_, PyAny>>,
    work_specs: Option<&Bound<'_, PyAny>>,
    runtimes: Option<&Bound<'_, PyAny>>,
) -> PyResult<AttemptRequest> {
    record_with_overrides::<PyAttemptRequest>(
        request,
        "request",
        AttemptRequest {
            number_of_work_units: 1,
            ..AttemptRequest::default()
        },
        &[
            ("number_of_work_units", number_of_work_units),
            ("available_gb", available_gb),
            ("lifetime", lifetime),
            ("work_specs", work_specs),
            ("runtimes", runtimes),
        ],
    )
}

// ------------------------------------------------------------ units to add

/// Item `i` of `add_work_units` as the core grammar's `Value`
/// (`coordinate::parse_add_work_unit`), or the item itself when it already
/// is an `AddWorkUnitItem`. A str is a name; a tuple or list is
/// `(name,)`, `(name, data)`, `(name, data, meta)` or the chained-output
/// `(name, data, meta, priority)`, where `meta` is a `WorkUnitMeta`, a dict
/// `{priority, delay}` or None; a dict is `{name, data, priority, delay}`
/// (the flow-file form) or `{key, data, meta}`.
pub(crate) fn add_item_value(
    obj: &Bound<'_, PyAny>,
    i: usize,
) -> PyResult<Result<coordinate::Value, AddWorkUnitItem>> {
    use coordinate::Value;
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Ok(Value::String(s.to_cow()?.into_owned())));
    }
    if let Ok(item) = obj.cast::<PyAddWorkUnitItem>() {
        return Ok(Err(item.borrow().inner.clone()));
    }
    let arg = format!("items[{i}]");
    let meta_value = |m: &Bound<'_, PyAny>| -> PyResult<Value> {
        if let Ok(m) = m.cast::<PyWorkUnitMeta>() {
            return Ok(coordinate::unit_meta_value(&m.borrow().inner));
        }
        if m.is_none() || m.is_instance_of::<PyDict>() {
            return crate::convert::to_value(m, &format!("{arg} meta"));
        }
        Err(PyTypeError::new_err(format!(
            "{arg}: meta must be a WorkUnitMeta, a dict or None, not {}",
            m.get_type().name()?
        )))
    };
    let parts: Vec<Bound<'_, PyAny>> = if let Ok(t) = obj.cast::<PyTuple>() {
        t.iter().collect()
    } else if let Ok(l) = obj.cast::<PyList>() {
        l.iter().collect()
    } else if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = coordinate::Map::new();
        for (k, v) in d.iter() {
            let key: String = k
                .extract()
                .map_err(|_| PyTypeError::new_err(format!("{arg}: keys must be str")))?;
            let value = if key == "meta" {
                meta_value(&v)?
            } else {
                crate::convert::to_value(&v, &format!("{arg} {key}"))?
            };
            map.insert(key, value);
        }
        return Ok(Ok(Value::Map(map)));
    } else {
        return Err(PyTypeError::new_err(format!(
            "{arg} must be a name, (name, data), (name, data, meta) or a dict, not {}",
            obj.get_type().name()?
        )));
    };
    let mut out = Vec::with_capacity(parts.len().max(2));
    for (j, p) in parts.iter().enumerate() {
        out.push(match j {
            2 => meta_value(p)?,
            1 => crate::convert::to_value(p, &format!("{arg} data"))?,
            _ => crate::convert::to_value(p, &arg)?,
        });
    }
    if out.len() == 1 {
        // `(name,)`: the name alone (a non-name is reported by the grammar).
        out.push(Value::Null);
    }
    Ok(Ok(Value::List(out)))
}

/// Parses the items of `add_work_units` with the core grammar at `now`;
/// an error in item `i` names it (`items[3]: ...`).
pub(crate) fn parse_add_items(
    items: &Bound<'_, PyAny>,
    now: chrono::DateTime<chrono::Utc>,
) -> PyResult<Vec<AddWorkUnitItem>> {
    let py = items.py();
    let mut parsed = Vec::with_capacity(items.len().unwrap_or(0));
    let iter = items
        .try_iter()
        .map_err(|_| PyTypeError::new_err("items must be an iterable of work units"))?;
    for (i, item) in iter.enumerate() {
        match add_item_value(&item?, i)? {
            Err(item) => parsed.push(item),
            Ok(v) => parsed.push(
                coordinate::parse_add_work_unit(&v, now).map_err(|e| pyerr(py, name_item(e, i)))?,
            ),
        }
    }
    Ok(parsed)
}

/// A grammar error of item `i`, its reason prefixed with `items[i]: `.
pub(crate) fn name_item(e: coordinate::Error, i: usize) -> coordinate::Error {
    match e {
        coordinate::Error::BadWorkUnitItem { reason } => coordinate::Error::BadWorkUnitItem {
            reason: format!("items[{i}]: {reason}"),
        },
        coordinate::Error::OutOfRange { what, reason } => coordinate::Error::OutOfRange {
            what: format!("items[{i}] {what}"),
            reason,
        },
        other => other,
    }
}
