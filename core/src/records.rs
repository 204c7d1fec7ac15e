//! Each record's fields, described once.
//!
//! The value records of the API (`WorkSpecMeta`, `WorkSpecData`,
//! `WorkUnitMeta`, `WorkUnitQuery`, `AttemptRequest`, `AddWorkUnitMeta`,
//! `AddWorkUnitItem`, `SummaryRecord`) each have a static table of their
//! fields ([`Record::FIELDS`]): the Python name, the JavaScript (camelCase)
//! name, the [`Kind`] of value, a doc line, and a getter and a setter through
//! the host-neutral [`FieldValue`]. The Python and JavaScript bindings build
//! their record conversions, `repr`s and constructors from these tables, and
//! the conformance runners their canonical forms, so adding a field is one
//! edit here (plus the type stubs).
//!
//! Setters check the value where it enters: a duration outside the valid
//! range or an instant outside years 1 to 9999 is `OutOfRange`, and a NaN
//! unit priority is `BadPriority` (docs/semantics.md §2.3).

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use crate::clock::{check_duration, check_opt_instant, seconds};
use crate::error::{Error, Result};
use crate::meta::{
    AddWorkUnitItem, AddWorkUnitMeta, AttemptRequest, SummaryRecord, WorkSpecData, WorkSpecMeta,
    WorkUnitMeta, WorkUnitQuery,
};
use crate::status::WorkUnitStatus;
use crate::value::{Map, Value};

/// The kind of value a field holds, which decides its host form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A 64-bit signed integer (`int`; JS `number` or `BigInt`).
    Int,
    /// A float (`float`; JS `number`).
    Float,
    /// A boolean.
    Bool,
    /// A string.
    Text,
    /// A duration (`TimeDelta`): Python `timedelta` (or seconds on input),
    /// JavaScript milliseconds, corpus milliseconds.
    Duration,
    /// A float number of seconds kept as a float (`WorkSpecData.interval`,
    /// `AddWorkUnitMeta.delay`).
    Seconds,
    /// An optional instant: Python aware `datetime` or `None`, JavaScript
    /// `Date` or `null`, corpus RFC 3339 text or `null`.
    Instant,
    /// A list of strings (`None`/`null` on input means empty).
    Strings,
    /// An optional list of strings (`None` means "no filter").
    OptStrings,
    /// An optional list of work unit statuses (`None` means "no filter").
    OptStatuses,
    /// A work unit status.
    Status,
    /// A data map.
    Data,
    /// A nested `WorkUnitMeta` record.
    UnitMeta,
}

/// A field's value, host-neutral.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// `Kind::Int`.
    Int(i64),
    /// `Kind::Float` and `Kind::Seconds`.
    Float(f64),
    /// `Kind::Bool`.
    Bool(bool),
    /// `Kind::Text`.
    Text(String),
    /// `Kind::Duration`.
    Duration(TimeDelta),
    /// `Kind::Instant`.
    Instant(Option<DateTime<Utc>>),
    /// `Kind::Strings`.
    Strings(Vec<String>),
    /// `Kind::OptStrings`.
    OptStrings(Option<Vec<String>>),
    /// `Kind::OptStatuses`.
    OptStatuses(Option<Vec<WorkUnitStatus>>),
    /// `Kind::Status`.
    Status(WorkUnitStatus),
    /// `Kind::Data`.
    Data(Map),
    /// `Kind::UnitMeta`.
    UnitMeta(WorkUnitMeta),
}

impl FieldValue {
    /// The kind this value is of (`Float` for both float kinds).
    pub fn kind(&self) -> Kind {
        match self {
            FieldValue::Int(_) => Kind::Int,
            FieldValue::Float(_) => Kind::Float,
            FieldValue::Bool(_) => Kind::Bool,
            FieldValue::Text(_) => Kind::Text,
            FieldValue::Duration(_) => Kind::Duration,
            FieldValue::Instant(_) => Kind::Instant,
            FieldValue::Strings(_) => Kind::Strings,
            FieldValue::OptStrings(_) => Kind::OptStrings,
            FieldValue::OptStatuses(_) => Kind::OptStatuses,
            FieldValue::Status(_) => Kind::Status,
            FieldValue::Data(_) => Kind::Data,
            FieldValue::UnitMeta(_) => Kind::UnitMeta,
        }
    }
}

/// One field of record `R`.
pub struct Field<R: 'static> {
    /// The Python (and Rust, and corpus) name: `min_memory_gb`.
    pub name: &'static str,
    /// The JavaScript name: `minMemoryGb`.
    pub js_name: &'static str,
    /// The kind of value.
    pub kind: Kind,
    /// One line of documentation.
    pub doc: &'static str,
    /// Reads the field.
    pub get: fn(&R) -> FieldValue,
    /// Writes the field, checking the value (see the module docs); a value
    /// of the wrong kind is an `OutOfRange` error naming the field.
    pub set: fn(&mut R, FieldValue) -> Result<()>,
}

impl<R> fmt::Debug for Field<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field")
            .field("name", &self.name)
            .field("js_name", &self.js_name)
            .field("kind", &self.kind)
            .finish()
    }
}

/// A value record with a field table.
pub trait Record: Clone + PartialEq + fmt::Debug + Send + Sync + 'static {
    /// The record's class name in every host: `WorkSpecMeta`.
    const NAME: &'static str;
    /// The fields, in constructor order.
    const FIELDS: &'static [Field<Self>];

    /// The value every field takes when not given.
    fn blank() -> Self;

    /// The field called `name` (Python name).
    fn field(name: &str) -> Option<&'static Field<Self>> {
        Self::FIELDS.iter().find(|f| f.name == name)
    }

    /// The field whose JavaScript name is `js_name`.
    fn js_field(js_name: &str) -> Option<&'static Field<Self>> {
        Self::FIELDS.iter().find(|f| f.js_name == js_name)
    }
}

/// `(name, js_name, kind)` of every field of the record called `record`, or
/// `None` for an unknown record name: the tables in a form hosts can list.
pub fn record_fields(record: &str) -> Option<Vec<(&'static str, &'static str, Kind)>> {
    fn list<R: Record>() -> Vec<(&'static str, &'static str, Kind)> {
        R::FIELDS
            .iter()
            .map(|f| (f.name, f.js_name, f.kind))
            .collect()
    }
    Some(match record {
        WorkSpecMeta::NAME => list::<WorkSpecMeta>(),
        WorkSpecData::NAME => list::<WorkSpecData>(),
        WorkUnitMeta::NAME => list::<WorkUnitMeta>(),
        WorkUnitQuery::NAME => list::<WorkUnitQuery>(),
        AttemptRequest::NAME => list::<AttemptRequest>(),
        AddWorkUnitMeta::NAME => list::<AddWorkUnitMeta>(),
        AddWorkUnitItem::NAME => list::<AddWorkUnitItem>(),
        SummaryRecord::NAME => list::<SummaryRecord>(),
        _ => return None,
    })
}

/// The names of every record with a field table.
pub const RECORD_NAMES: &[&str] = &[
    "WorkSpecMeta",
    "WorkSpecData",
    "WorkUnitMeta",
    "WorkUnitQuery",
    "AttemptRequest",
    "AddWorkUnitMeta",
    "AddWorkUnitItem",
    "SummaryRecord",
];

impl Kind {
    /// The kind's name as hosts list it: `"int"`, `"duration"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Bool => "bool",
            Kind::Text => "text",
            Kind::Duration => "duration",
            Kind::Seconds => "seconds",
            Kind::Instant => "instant",
            Kind::Strings => "strings",
            Kind::OptStrings => "opt_strings",
            Kind::OptStatuses => "opt_statuses",
            Kind::Status => "status",
            Kind::Data => "data",
            Kind::UnitMeta => "unit_meta",
        }
    }
}

fn wrong_kind(field: &str, want: Kind, got: &FieldValue) -> Error {
    Error::OutOfRange {
        what: field.to_owned(),
        reason: format!(
            "expected a {} value, not {}",
            want.as_str(),
            got.kind().as_str()
        ),
    }
}

/// A rust type a field of one kind holds.
trait FieldType: Sized {
    const KIND: Kind;
    fn wrap(&self) -> FieldValue;
    fn unwrap(v: FieldValue, field: &str) -> Result<Self>;
}

macro_rules! field_type {
    ($t:ty, $kind:ident, $variant:ident) => {
        impl FieldType for $t {
            const KIND: Kind = Kind::$kind;
            fn wrap(&self) -> FieldValue {
                FieldValue::$variant(self.clone())
            }
            fn unwrap(v: FieldValue, field: &str) -> Result<Self> {
                match v {
                    FieldValue::$variant(x) => Ok(x),
                    other => Err(wrong_kind(field, Self::KIND, &other)),
                }
            }
        }
    };
}

field_type!(i64, Int, Int);
field_type!(f64, Float, Float);
field_type!(bool, Bool, Bool);
field_type!(String, Text, Text);
field_type!(Vec<String>, Strings, Strings);
field_type!(Option<Vec<String>>, OptStrings, OptStrings);
field_type!(Option<Vec<WorkUnitStatus>>, OptStatuses, OptStatuses);
field_type!(WorkUnitStatus, Status, Status);
field_type!(Map, Data, Data);
field_type!(WorkUnitMeta, UnitMeta, UnitMeta);

impl FieldType for TimeDelta {
    const KIND: Kind = Kind::Duration;
    fn wrap(&self) -> FieldValue {
        FieldValue::Duration(*self)
    }
    fn unwrap(v: FieldValue, field: &str) -> Result<Self> {
        match v {
            FieldValue::Duration(d) => check_duration(d, field),
            other => Err(wrong_kind(field, Self::KIND, &other)),
        }
    }
}

impl FieldType for Option<DateTime<Utc>> {
    const KIND: Kind = Kind::Instant;
    fn wrap(&self) -> FieldValue {
        FieldValue::Instant(*self)
    }
    fn unwrap(v: FieldValue, field: &str) -> Result<Self> {
        match v {
            FieldValue::Instant(t) => check_opt_instant(t, field),
            other => Err(wrong_kind(field, Self::KIND, &other)),
        }
    }
}

/// `Field` for `$rec.$name`, of `$kind` (the Rust type's kind unless given:
/// `Seconds` for an f64 of seconds).
macro_rules! field {
    ($rec:ty, $name:ident, $js:literal, $doc:literal) => {
        field!($rec, $name, $js, $doc, None)
    };
    ($rec:ty, $name:ident, $js:literal, $doc:literal, $kind:expr) => {
        Field {
            name: stringify!($name),
            js_name: $js,
            kind: match $kind {
                Some(k) => k,
                None => kind_of(|r: &$rec| &r.$name),
            },
            doc: $doc,
            get: |r: &$rec| FieldType::wrap(&r.$name),
            set: |r: &mut $rec, v| {
                r.$name = FieldType::unwrap(v, stringify!($name))?;
                Ok(())
            },
        }
    };
}

/// The kind of the field a projection reaches (for `field!`).
const fn kind_of<R, T: FieldType>(_: fn(&R) -> &T) -> Kind {
    T::KIND
}

/// A checked unit priority: NaN is `BadPriority` (±inf is allowed).
pub fn check_priority(p: f64) -> Result<f64> {
    if p.is_nan() {
        Err(Error::BadPriority)
    } else {
        Ok(p)
    }
}

const SECONDS: Option<Kind> = Some(Kind::Seconds);

impl Record for WorkSpecMeta {
    const NAME: &'static str = "WorkSpecMeta";
    const FIELDS: &'static [Field<Self>] = &[
        field!(
            WorkSpecMeta,
            priority,
            "priority",
            "Absolute priority: a higher one always runs first."
        ),
        field!(
            WorkSpecMeta,
            weight,
            "weight",
            "Relative share of pending work among specs of equal priority."
        ),
        field!(
            WorkSpecMeta,
            paused,
            "paused",
            "A paused spec hands out no work."
        ),
        field!(
            WorkSpecMeta,
            continuous,
            "continuous",
            "Whether the scheduler may generate units for this spec."
        ),
        field!(
            WorkSpecMeta,
            can_be_continuous,
            "canBeContinuous",
            "Whether the spec's data allowed `continuous`."
        ),
        field!(
            WorkSpecMeta,
            min_memory_gb,
            "minMemoryGb",
            "The `min_gb` of the data; never used for scheduling."
        ),
        field!(
            WorkSpecMeta,
            interval,
            "interval",
            "Minimum time between generated continuous units."
        ),
        field!(
            WorkSpecMeta,
            next_continuous,
            "nextContinuous",
            "Earliest time of the next continuous unit (none: now)."
        ),
        field!(
            WorkSpecMeta,
            max_running,
            "maxRunning",
            "Most units pending at once (0: unlimited)."
        ),
        field!(
            WorkSpecMeta,
            max_attempts_returned,
            "maxAttemptsReturned",
            "Most attempts handed out by one request (0: unlimited)."
        ),
        field!(
            WorkSpecMeta,
            max_retries,
            "maxRetries",
            "Most attempts a unit may have (0: unlimited)."
        ),
        field!(
            WorkSpecMeta,
            next_work_spec_name,
            "nextWorkSpecName",
            "The `then` spec that receives chained output."
        ),
        field!(
            WorkSpecMeta,
            available_count,
            "availableCount",
            "Available units (filled only by `meta(with_counts)`)."
        ),
        field!(
            WorkSpecMeta,
            pending_count,
            "pendingCount",
            "Pending units (filled only by `meta(with_counts)`)."
        ),
        field!(
            WorkSpecMeta,
            runtime,
            "runtime",
            "Language runtime the spec needs."
        ),
    ];
    fn blank() -> Self {
        Self::default()
    }
}

impl Record for WorkSpecData {
    const NAME: &'static str = "WorkSpecData";
    const FIELDS: &'static [Field<Self>] = &[
        field!(
            WorkSpecData,
            name,
            "name",
            "The spec's name (required, a string)."
        ),
        field!(WorkSpecData, disabled, "disabled", "Start paused."),
        field!(
            WorkSpecData,
            continuous,
            "continuous",
            "The scheduler may generate units."
        ),
        field!(
            WorkSpecData,
            interval,
            "interval",
            "Seconds between generated units.",
            SECONDS
        ),
        field!(WorkSpecData, priority, "priority", "Absolute priority."),
        field!(
            WorkSpecData,
            weight,
            "weight",
            "Relative weight (0: derived from `nice`)."
        ),
        field!(
            WorkSpecData,
            nice,
            "nice",
            "Weight is `20 - nice` when `weight` is 0."
        ),
        field!(WorkSpecData, min_gb, "minGb", "Memory the work needs."),
        field!(
            WorkSpecData,
            max_running,
            "maxRunning",
            "Most units pending at once."
        ),
        field!(
            WorkSpecData,
            max_getwork,
            "maxGetwork",
            "Most attempts per request."
        ),
        field!(
            WorkSpecData,
            max_retries,
            "maxRetries",
            "Most attempts per unit."
        ),
        field!(
            WorkSpecData,
            then,
            "then",
            "The spec that receives chained output."
        ),
        field!(
            WorkSpecData,
            runtime,
            "runtime",
            "The language runtime needed."
        ),
        field!(
            WorkSpecData,
            module,
            "module",
            "The Python module of the task."
        ),
        field!(
            WorkSpecData,
            run_function,
            "runFunction",
            "The function in `module` that runs a unit."
        ),
    ];
    fn blank() -> Self {
        Self::default()
    }
}

impl Record for WorkUnitMeta {
    const NAME: &'static str = "WorkUnitMeta";
    const FIELDS: &'static [Field<Self>] = &[
        Field {
            name: "priority",
            js_name: "priority",
            kind: Kind::Float,
            doc: "Higher runs first; ties go to the smaller name (NaN is refused).",
            get: |r| FieldValue::Float(r.priority),
            set: |r, v| {
                r.priority = check_priority(f64::unwrap(v, "priority")?)?;
                Ok(())
            },
        },
        field!(
            WorkUnitMeta,
            not_before,
            "notBefore",
            "Not handed out before this instant (none: no delay)."
        ),
    ];
    fn blank() -> Self {
        Self::default()
    }
}

impl Record for WorkUnitQuery {
    const NAME: &'static str = "WorkUnitQuery";
    const FIELDS: &'static [Field<Self>] = &[
        field!(
            WorkUnitQuery,
            names,
            "names",
            "Only these names (none: no filter; empty: matches nothing)."
        ),
        field!(
            WorkUnitQuery,
            statuses,
            "statuses",
            "Only these statuses (none: no filter; ANY matches all)."
        ),
        field!(
            WorkUnitQuery,
            previous_name,
            "previousName",
            "Only names sorting strictly after this one (\"\": no bound)."
        ),
        field!(
            WorkUnitQuery,
            limit,
            "limit",
            "At most this many units, smallest names first (<= 0: no limit)."
        ),
    ];
    fn blank() -> Self {
        Self::default()
    }
}

impl Record for AttemptRequest {
    const NAME: &'static str = "AttemptRequest";
    const FIELDS: &'static [Field<Self>] = &[
        field!(
            AttemptRequest,
            number_of_work_units,
            "numberOfWorkUnits",
            "Most units to hand out (<= 0: one)."
        ),
        field!(
            AttemptRequest,
            available_gb,
            "availableGb",
            "Memory the worker has (ignored by the scheduler)."
        ),
        field!(
            AttemptRequest,
            lifetime,
            "lifetime",
            "Lease length (zero: 15 minutes)."
        ),
        field!(
            AttemptRequest,
            work_specs,
            "workSpecs",
            "Only these specs (empty: all)."
        ),
        field!(
            AttemptRequest,
            runtimes,
            "runtimes",
            "Only specs with one of these runtimes (empty: all)."
        ),
    ];
    fn blank() -> Self {
        Self::default()
    }
}

impl Record for AddWorkUnitMeta {
    const NAME: &'static str = "AddWorkUnitMeta";
    const FIELDS: &'static [Field<Self>] = &[
        field!(
            AddWorkUnitMeta,
            priority,
            "priority",
            "The unit's priority."
        ),
        field!(
            AddWorkUnitMeta,
            delay,
            "delay",
            "Seconds before the unit may run.",
            SECONDS
        ),
    ];
    fn blank() -> Self {
        Self::default()
    }
}

impl Record for AddWorkUnitItem {
    const NAME: &'static str = "AddWorkUnitItem";
    const FIELDS: &'static [Field<Self>] = &[
        field!(AddWorkUnitItem, key, "key", "The unit's name."),
        field!(AddWorkUnitItem, data, "data", "The unit's data."),
        field!(AddWorkUnitItem, meta, "meta", "The unit's meta."),
    ];
    fn blank() -> Self {
        Self::default()
    }
}

impl Record for SummaryRecord {
    const NAME: &'static str = "SummaryRecord";
    const FIELDS: &'static [Field<Self>] = &[
        field!(SummaryRecord, namespace, "namespace", "Namespace name."),
        field!(SummaryRecord, work_spec, "workSpec", "Work spec name."),
        field!(SummaryRecord, status, "status", "The status counted."),
        field!(SummaryRecord, count, "count", "How many units have it."),
    ];
    fn blank() -> Self {
        SummaryRecord {
            namespace: String::new(),
            work_spec: String::new(),
            status: WorkUnitStatus::Any,
            count: 0,
        }
    }
}

/// Reads one well-known key of work spec data leniently, by the field's
/// kind: a missing, null or ill-typed key is `None` (the field keeps its
/// default). Integers truncate floats; `interval` clamps into the valid
/// duration range when it is turned into the meta (docs/semantics.md §3.2.2).
pub(crate) fn lenient_data_value(kind: Kind, v: Option<&Value>) -> Option<FieldValue> {
    let v = v?;
    match kind {
        Kind::Int => v.as_i64_truncated().map(FieldValue::Int),
        Kind::Float | Kind::Seconds => v.as_f64().map(FieldValue::Float),
        Kind::Bool => matches!(v, Value::Bool(true)).then_some(FieldValue::Bool(true)),
        Kind::Text => v.as_str().map(|s| FieldValue::Text(s.to_owned())),
        _ => None,
    }
}

/// The duration a work spec's `interval` (seconds) gives: clamped into the
/// valid range, NaN as zero.
pub(crate) fn interval_of(secs: f64) -> TimeDelta {
    seconds(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_table<R: Record>() {
        let mut names = std::collections::BTreeSet::new();
        let mut js = std::collections::BTreeSet::new();
        for f in R::FIELDS {
            assert!(names.insert(f.name), "{}: {} twice", R::NAME, f.name);
            assert!(js.insert(f.js_name), "{}: {} twice", R::NAME, f.js_name);
            // camelCase of the Python name, except where stated.
            let camel: String = f
                .name
                .split('_')
                .enumerate()
                .map(|(i, part)| {
                    if i == 0 {
                        part.to_owned()
                    } else {
                        let mut c = part.chars();
                        c.next()
                            .map(|h| h.to_uppercase().chain(c).collect())
                            .unwrap_or_default()
                    }
                })
                .collect();
            assert_eq!(camel, f.js_name, "{}.{}", R::NAME, f.name);
            // Every getter's value goes back through its setter unchanged.
            let mut r = R::blank();
            let v = (f.get)(&r);
            (f.set)(&mut r, v.clone()).unwrap();
            assert_eq!((f.get)(&r), v);
            assert_eq!(r, R::blank());
            if f.kind != Kind::Seconds {
                assert_eq!(v.kind(), f.kind, "{}.{}", R::NAME, f.name);
            }
        }
        assert_eq!(
            record_fields(R::NAME).map(|l| l.len()),
            Some(R::FIELDS.len())
        );
    }

    #[test]
    fn tables_are_consistent() {
        check_table::<WorkSpecMeta>();
        check_table::<WorkSpecData>();
        check_table::<WorkUnitMeta>();
        check_table::<WorkUnitQuery>();
        check_table::<AttemptRequest>();
        check_table::<AddWorkUnitMeta>();
        check_table::<AddWorkUnitItem>();
        check_table::<SummaryRecord>();
        for name in RECORD_NAMES {
            assert!(record_fields(name).is_some(), "{name}");
        }
        assert!(record_fields("Nope").is_none());
    }

    #[test]
    fn setters_check_what_enters() {
        let mut m = WorkSpecMeta::default();
        let f = WorkSpecMeta::field("interval").unwrap();
        let e = (f.set)(&mut m, FieldValue::Duration(TimeDelta::days(20_000))).unwrap_err();
        assert_eq!(e.code(), "OutOfRange");
        assert!(e.to_string().starts_with("interval: "), "{e}");
        (f.set)(&mut m, FieldValue::Duration(TimeDelta::seconds(5))).unwrap();
        assert_eq!(m.interval, TimeDelta::seconds(5));
        let e = (f.set)(&mut m, FieldValue::Int(5)).unwrap_err();
        assert_eq!(e.code(), "OutOfRange");

        let mut u = WorkUnitMeta::default();
        let p = WorkUnitMeta::field("priority").unwrap();
        assert_eq!(
            (p.set)(&mut u, FieldValue::Float(f64::NAN)),
            Err(Error::BadPriority)
        );
        (p.set)(&mut u, FieldValue::Float(f64::INFINITY)).unwrap();
        assert_eq!(u.priority, f64::INFINITY);
        let nb = WorkUnitMeta::js_field("notBefore").unwrap();
        let far = DateTime::<Utc>::MAX_UTC;
        assert_eq!(
            (nb.set)(&mut u, FieldValue::Instant(Some(far)))
                .unwrap_err()
                .code(),
            "OutOfRange"
        );
        assert_eq!(u.not_before, None);
    }
}
