//! Plain value types: metadata records, queries, requests and summaries.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::backend::duration_serde;

use crate::clock::{add, seconds};
use crate::error::{Error, Result};
use crate::records::{interval_of, lenient_data_value, Record};
use crate::status::WorkUnitStatus;
use crate::value::{Map, Value};

/// Scheduling metadata of a work spec, derived from its data and adjustable
/// with `WorkSpec::set_meta`. `Default` gives the zero value of every field.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkSpecMeta {
    /// Absolute priority: a higher one always runs first.
    pub priority: i64,
    /// Relative share of pending work among specs of equal priority.
    pub weight: i64,
    /// A paused spec hands out no work.
    pub paused: bool,
    /// Whether the scheduler may generate units for this spec.
    pub continuous: bool,
    /// Whether the spec's data allowed `continuous` (read-only for `set_meta`).
    pub can_be_continuous: bool,
    /// The `min_gb` of the data; stored, never used for scheduling.
    pub min_memory_gb: f64,
    /// Minimum time between generated continuous units.
    #[serde(with = "duration_serde")]
    pub interval: TimeDelta,
    /// Earliest time of the next continuous unit; `None` means now.
    pub next_continuous: Option<DateTime<Utc>>,
    /// Most units pending at once (0: unlimited).
    pub max_running: i64,
    /// Most attempts handed out by one request (0: unlimited).
    pub max_attempts_returned: i64,
    /// Most attempts a unit may have (0: unlimited).
    pub max_retries: i64,
    /// The `then` spec that receives chained output (read-only for `set_meta`).
    pub next_work_spec_name: String,
    /// Available units (filled only by `meta(true)`).
    pub available_count: i64,
    /// Pending units (filled only by `meta(true)`).
    pub pending_count: i64,
    /// Language runtime the spec needs (read-only for `set_meta`).
    pub runtime: String,
}

impl WorkSpecMeta {
    /// Whether a continuous unit may be generated now.
    pub fn can_start_continuous(&self, now: DateTime<Utc>) -> bool {
        self.continuous
            && self.available_count == 0
            && self.pending_count == 0
            && self.next_continuous.is_none_or(|t| t <= now)
    }

    /// `WorkSpec::set_meta`: copies the adjustable fields of `new`.
    /// `can_be_continuous`, `next_work_spec_name`, `runtime` and the counts
    /// stay, and `continuous` stays off for a spec whose data was not
    /// continuous.
    pub fn apply_settable(&mut self, new: &WorkSpecMeta) {
        self.priority = new.priority;
        self.weight = new.weight;
        self.paused = new.paused;
        self.continuous = new.continuous && self.can_be_continuous;
        self.interval = new.interval;
        self.next_continuous = new.next_continuous;
        self.max_running = new.max_running;
        self.max_attempts_returned = new.max_attempts_returned;
        self.max_retries = new.max_retries;
        self.min_memory_gb = new.min_memory_gb;
    }

    /// Whether the scheduler may pick this spec now.
    pub fn can_do_work(&self, now: DateTime<Utc>) -> bool {
        !self.paused
            && self.weight > 0
            && !(self.max_running > 0 && self.pending_count >= self.max_running)
            && (self.available_count > 0 || self.can_start_continuous(now))
    }
}

/// The typed view of a work spec's well-known data keys.
///
/// Keys match exactly; a missing, null or ill-typed key takes its default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkSpecData {
    /// `name`: the spec's name (required, a string).
    pub name: String,
    /// `disabled`: start paused.
    pub disabled: bool,
    /// `continuous`: the scheduler may generate units.
    pub continuous: bool,
    /// `interval`: seconds between generated units.
    pub interval: f64,
    /// `priority`: absolute priority.
    pub priority: i64,
    /// `weight`: relative weight (0: derived from `nice`).
    pub weight: i64,
    /// `nice`: weight is `20 - nice` when `weight` is 0.
    pub nice: i64,
    /// `min_gb`: memory the work needs.
    pub min_gb: f64,
    /// `max_running`: most units pending at once.
    pub max_running: i64,
    /// `max_getwork`: most attempts per request.
    pub max_getwork: i64,
    /// `max_retries`: most attempts per unit.
    pub max_retries: i64,
    /// `then`: the spec that receives chained output.
    pub then: String,
    /// `runtime`: the language runtime needed.
    pub runtime: String,
    /// `module`: the Python module of the task (used by worker runtimes).
    pub module: String,
    /// `run_function`: the function in `module` that runs a unit.
    pub run_function: String,
}

impl WorkSpecData {
    /// Reads the well-known keys of `data`; fails only on a missing or non-string `name`.
    pub fn from_map(data: &Map) -> Result<Self> {
        let name = match data.get("name") {
            None | Some(Value::Null) => return Err(Error::NoWorkSpecName),
            Some(Value::String(s)) if s.is_empty() => return Err(Error::NoWorkSpecName),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(Error::BadWorkSpecName),
        };
        // Every other key by its field's kind (crate::records).
        let mut typed = WorkSpecData {
            name,
            ..Default::default()
        };
        for field in <WorkSpecData as Record>::FIELDS
            .iter()
            .filter(|f| f.name != "name")
        {
            if let Some(v) = lenient_data_value(field.kind, data.get(field.name)) {
                (field.set)(&mut typed, v)?;
            }
        }
        Ok(typed)
    }

    /// The metadata these keys define (counts zero, `next_continuous` unset).
    pub fn meta(&self) -> WorkSpecMeta {
        let mut weight = self.weight;
        if weight == 0 {
            weight = 20i64.saturating_sub(self.nice);
        }
        if weight <= 0 {
            weight = 1;
        }
        WorkSpecMeta {
            priority: self.priority,
            weight,
            paused: self.disabled,
            continuous: self.continuous,
            can_be_continuous: self.continuous,
            min_memory_gb: self.min_gb,
            interval: interval_of(self.interval),
            next_continuous: None,
            max_running: self.max_running,
            max_attempts_returned: self.max_getwork,
            max_retries: self.max_retries,
            next_work_spec_name: self.then.clone(),
            available_count: 0,
            pending_count: 0,
            runtime: self.runtime.clone(),
        }
    }
}

/// Validates work spec data and derives its metadata: `(name, meta)`.
/// The retention keys are validated too ([`Retention::from_data`]).
pub fn extract_work_spec_meta(data: &Map) -> Result<(String, WorkSpecMeta)> {
    let typed = WorkSpecData::from_map(data)?;
    Retention::from_data(data)?;
    let meta = typed.meta();
    Ok((typed.name, meta))
}

/// A short text for a value in an error message.
fn describe(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) if s.chars().count() <= 40 => format!("{s:?}"),
        Value::String(_) => "a long string".into(),
        Value::Bytes(_) => "bytes".into(),
        Value::List(_) => "a list".into(),
        Value::Map(_) => "a map".into(),
        Value::Null => "null".into(),
    }
}

/// How much history a work spec keeps (docs/semantics.md §3.18), from its
/// data. `Default` keeps everything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// `keep_attempts`: most attempts kept per unit, the newest ones; when
    /// a new attempt would pass it, the oldest are deleted (0 or absent:
    /// every attempt is kept).
    pub keep_attempts: u32,
}

impl Retention {
    /// Reads `keep_attempts` from spec data: absent or null is 0 (keep
    /// all); else a whole number from 0 to 2^32 - 1 (a float with no
    /// fraction counts). Anything else is `InvalidArgument` naming the key.
    pub fn from_data(data: &Map) -> Result<Retention> {
        let bad = |got: &Value| Error::InvalidArgument {
            what: "keep_attempts".into(),
            reason: format!(
                "must be a whole number from 0 to 4294967295 (0 keeps every attempt); got {}",
                describe(got)
            ),
        };
        let keep_attempts = match data.get("keep_attempts") {
            None | Some(Value::Null) => 0,
            Some(v @ Value::Int(i)) => u32::try_from(*i).map_err(|_| bad(v))?,
            Some(Value::Float(f)) if f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX) => {
                *f as u32
            }
            Some(v) => return Err(bad(v)),
        };
        Ok(Retention { keep_attempts })
    }
}

/// Metadata of a work unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkUnitMeta {
    /// Higher runs first; ties go to the smaller name.
    pub priority: f64,
    /// Not handed out before this instant; `None` means no delay.
    pub not_before: Option<DateTime<Utc>>,
}

/// Selects work units of a spec. `Default` selects every unit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkUnitQuery {
    /// Only these names (`None`: no filter; empty: matches nothing).
    pub names: Option<Vec<String>>,
    /// Only these statuses (`None`: no filter; empty: matches nothing; `Any` matches all).
    pub statuses: Option<Vec<WorkUnitStatus>>,
    /// Only names sorting strictly after this one ("" means no bound).
    pub previous_name: String,
    /// At most this many, smallest names first (<= 0: no limit).
    pub limit: i64,
}

/// The query's rules, for every store (semantics §3.3.6).
impl WorkUnitQuery {
    /// The most units the query selects (`usize::MAX` when unlimited).
    pub fn max_units(&self) -> usize {
        usize::try_from(self.limit)
            .ok()
            .filter(|&l| l > 0)
            .unwrap_or(usize::MAX)
    }

    /// Whether a unit of status `s` passes the status filter. Stores skip
    /// computing the status when `statuses` is `None`.
    pub fn admits_status(&self, s: WorkUnitStatus) -> bool {
        self.statuses
            .as_ref()
            .is_none_or(|list| list.iter().any(|&x| x == WorkUnitStatus::Any || x == s))
    }

    /// Whether `name` sorts after `previous_name` (always, when it is "").
    pub fn admits_name(&self, name: &str) -> bool {
        self.previous_name.is_empty() || name > self.previous_name.as_str()
    }

    /// The `names` filter sorted and without repeats; `None` for no filter.
    pub fn sorted_names(&self) -> Option<Vec<&str>> {
        self.names.as_ref().map(|names| {
            let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
            names.sort_unstable();
            names.dedup();
            names
        })
    }
}

/// What a worker asks for in `Worker::request_attempts`. `Default` asks for one unit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AttemptRequest {
    /// Memory the worker has; ignored (as in every original backend).
    pub available_gb: f64,
    /// Lease length; zero or less means 15 minutes.
    #[serde(with = "duration_serde")]
    pub lifetime: TimeDelta,
    /// Most units to hand out; zero or less means 1.
    pub number_of_work_units: i64,
    /// Only these specs (empty: all).
    pub work_specs: Vec<String>,
    /// Only specs with one of these runtimes (empty: all).
    pub runtimes: Vec<String>,
}

/// Metadata of a unit in chained output: `{priority, delay}`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AddWorkUnitMeta {
    /// The unit's priority.
    pub priority: f64,
    /// Seconds before the unit may run.
    pub delay: f64,
}

impl AddWorkUnitMeta {
    /// The unit metadata at `now`: `not_before = now + delay` when delay > 0
    /// (a delay beyond the valid duration range counts as the largest one;
    /// the grammar of `extract_add_work_unit_item` rejects it instead).
    pub fn to_meta(&self, now: DateTime<Utc>) -> WorkUnitMeta {
        WorkUnitMeta {
            priority: self.priority,
            not_before: (self.delay > 0.0).then(|| add(now, seconds(self.delay))),
        }
    }
}

/// One unit to add: a name, its data and its metadata.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AddWorkUnitItem {
    /// The unit's name.
    pub key: String,
    /// The unit's data.
    pub data: Map,
    /// The unit's metadata.
    pub meta: WorkUnitMeta,
}

impl AddWorkUnitItem {
    /// An item with empty data and zero metadata.
    pub fn named(key: impl Into<String>) -> Self {
        AddWorkUnitItem {
            key: key.into(),
            ..Default::default()
        }
    }
}

/// How many units of one spec have one status. Orders by (namespace, spec, status).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SummaryRecord {
    /// Namespace name.
    pub namespace: String,
    /// Work spec name.
    pub work_spec: String,
    /// The status counted.
    pub status: WorkUnitStatus,
    /// How many units have it (always > 0).
    pub count: i64,
}

/// A list of summary records.
pub type Summary = Vec<SummaryRecord>;

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(pairs: &[(&str, Value)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn weight_rule() {
        let w = |pairs: &[(&str, Value)]| {
            let mut m = spec(pairs);
            m.insert("name".into(), "s".into());
            extract_work_spec_meta(&m).unwrap().1.weight
        };
        assert_eq!(w(&[]), 20);
        assert_eq!(w(&[("nice", 5.into())]), 15);
        assert_eq!(w(&[("nice", 100.into())]), 1);
        assert_eq!(w(&[("nice", (-80).into())]), 100);
        assert_eq!(w(&[("weight", 50.into()), ("nice", 5.into())]), 50);
        assert_eq!(w(&[("weight", (-3).into())]), 1);
        assert_eq!(w(&[("weight", "heavy".into())]), 20);
    }

    #[test]
    fn name_validation() {
        assert_eq!(
            extract_work_spec_meta(&Map::new()),
            Err(Error::NoWorkSpecName)
        );
        assert_eq!(
            extract_work_spec_meta(&spec(&[("name", "".into())])),
            Err(Error::NoWorkSpecName)
        );
        assert_eq!(
            extract_work_spec_meta(&spec(&[("name", 4.into())])),
            Err(Error::BadWorkSpecName)
        );
    }

    #[test]
    fn ill_typed_keys_take_defaults() {
        let m = spec(&[
            ("name", "s".into()),
            ("disabled", 1.into()),
            ("interval", 1.5.into()),
            ("then", 3.into()),
            ("Weight", 7.into()),
        ]);
        let (_, meta) = extract_work_spec_meta(&m).unwrap();
        assert!(!meta.paused);
        assert_eq!(meta.interval, TimeDelta::milliseconds(1500));
        assert_eq!(meta.next_work_spec_name, "");
        assert_eq!(meta.weight, 20);
    }
}
