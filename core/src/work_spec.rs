//! Work specs: a kind of job, holding its work units.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;
use std::sync::Arc;

use crate::coordinate::{summarize_spec, Coordinate, Namespace};
use crate::error::{Error, Result};
use crate::meta::{
    extract_work_spec_meta, AddWorkUnitItem, Summary, WorkSpecMeta, WorkUnitMeta, WorkUnitQuery,
};
use crate::state::{priority, Id, Slot, State, Time};
use crate::status::WorkUnitStatus;
use crate::value::Map;
use crate::work_unit::WorkUnit;

/// A work spec: a definition of one kind of job and its work units.
#[derive(Clone)]
pub struct WorkSpec {
    pub(crate) ns: Namespace,
    pub(crate) id: Id,
    name: Arc<str>,
}

impl fmt::Debug for WorkSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WorkSpec({:?})", self.name)
    }
}

impl PartialEq for WorkSpec {
    fn eq(&self, other: &Self) -> bool {
        self.ns.coord == other.ns.coord && self.id == other.id
    }
}
impl Eq for WorkSpec {}

impl std::hash::Hash for WorkSpec {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.id.hash(h);
    }
}

impl WorkSpec {
    pub(crate) fn new(ns: Namespace, id: Id, name: Arc<str>) -> Self {
        WorkSpec { ns, id, name }
    }

    pub(crate) fn coord(&self) -> &Coordinate {
        &self.ns.coord
    }

    /// The spec's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace holding this spec.
    pub fn namespace(&self) -> &Namespace {
        &self.ns
    }

    /// The spec's data, exactly as last set.
    pub fn data(&self) -> Result<Map> {
        self.coord()
            .with(|st, _| Ok(st.spec(self.id)?.data.clone()))
    }

    /// Replaces the data and recomputes the meta from it. The name may not change.
    pub fn set_data(&self, data: Map) -> Result<()> {
        self.coord().with(|st, _| {
            // A dead spec answers Gone before its argument is looked at (§1.4).
            let spec = st.spec_mut(self.id)?;
            let (name, meta) = extract_work_spec_meta(&data)?;
            if *name != *spec.name {
                return Err(Error::ChangedName);
            }
            spec.data = data;
            spec.meta = meta;
            Ok(())
        })
    }

    /// The scheduling metadata; with counts of available and pending units when asked.
    pub fn meta(&self, with_counts: bool) -> Result<WorkSpecMeta> {
        self.coord().with(|st, now| {
            st.spec(self.id)?;
            if with_counts {
                st.sweep(self.id, now);
            }
            st.meta(self.id, with_counts)
        })
    }

    /// Updates the adjustable metadata fields. `can_be_continuous`,
    /// `next_work_spec_name`, `runtime` and the counts are ignored, and
    /// `continuous` stays off for a spec whose data was not continuous.
    pub fn set_meta(&self, meta: &WorkSpecMeta) -> Result<()> {
        self.coord().with(|st, _| {
            st.spec_mut(self.id)?.meta.apply_settable(meta);
            Ok(())
        })
    }

    /// Adds a unit, or replaces the data and meta of the unit of that name
    /// (a finished or failed unit becomes available again; history is kept).
    pub fn add_work_unit(&self, name: &str, data: Map, meta: WorkUnitMeta) -> Result<WorkUnit> {
        self.coord().with(|st, now| {
            let slot = st.put_unit(self.id, name, data, meta, now)?;
            let unit = st.spec(self.id)?.unit(slot).ok_or(Error::Gone)?;
            Ok(WorkUnit::new(self.clone(), unit, slot))
        })
    }

    /// Adds or updates many units in one atomic call; returns how many.
    pub fn add_work_units(&self, items: Vec<AddWorkUnitItem>) -> Result<usize> {
        self.coord()
            .with(|st, now| st.put_units(self.id, items, now))
    }

    /// The unit called `name`.
    pub fn work_unit(&self, name: &str) -> Result<WorkUnit> {
        self.coord().with(|st, _| {
            let (slot, unit) = st
                .spec(self.id)?
                .named(name)
                .ok_or_else(|| Error::NoSuchWorkUnit { name: name.into() })?;
            Ok(WorkUnit::new(self.clone(), unit, slot))
        })
    }

    /// The units the query selects, by name.
    pub fn work_units(&self, query: &WorkUnitQuery) -> Result<BTreeMap<String, WorkUnit>> {
        self.coord().with(|st, now| {
            let selected = select(st, self.id, query, now)?;
            let spec = st.spec(self.id)?;
            Ok(selected
                .into_iter()
                .filter_map(|slot| {
                    let unit = spec.unit(slot)?;
                    Some((
                        unit.name.to_string(),
                        WorkUnit::new(self.clone(), unit, slot),
                    ))
                })
                .collect())
        })
    }

    /// How many units have each status; statuses with no units are absent.
    pub fn count_work_unit_status(&self) -> Result<BTreeMap<WorkUnitStatus, i64>> {
        self.coord().with(|st, now| {
            st.spec(self.id)?;
            st.sweep(self.id, now);
            Ok(st.status_counts(self.id)?.into_iter().collect())
        })
    }

    /// Sets the priority of every selected unit.
    pub fn set_work_unit_priorities(&self, query: &WorkUnitQuery, p: f64) -> Result<()> {
        self.reprioritize(query, |_| p)
    }

    /// Adds `adjustment` to the priority of every selected unit.
    pub fn adjust_work_unit_priorities(
        &self,
        query: &WorkUnitQuery,
        adjustment: f64,
    ) -> Result<()> {
        self.reprioritize(query, |p| p + adjustment)
    }

    fn reprioritize(&self, query: &WorkUnitQuery, f: impl Fn(f64) -> f64) -> Result<()> {
        self.coord().with(|st, now| {
            let selected = select(st, self.id, query, now)?;
            let spec = st.spec_mut(self.id)?;
            for slot in selected {
                spec.requeue(slot, now, |unit| unit.priority = priority(f(unit.priority)));
            }
            Ok(())
        })
    }

    /// Deletes the selected units and their attempts; returns how many.
    pub fn delete_work_units(&self, query: &WorkUnitQuery) -> Result<usize> {
        self.coord().with(|st, now| {
            let selected = select(st, self.id, query, now)?;
            let n = selected.len();
            for slot in selected {
                st.remove_unit(self.id, slot);
            }
            Ok(n)
        })
    }

    /// Unit counts by status.
    pub fn summarize(&self) -> Result<Summary> {
        self.coord().with(|st, now| {
            st.spec(self.id)?;
            Ok(summarize_spec(st, self.id, now))
        })
    }
}

/// The slots of the units a query selects, by name (after sweeping the spec).
fn select(st: &mut State, spec_id: Id, q: &WorkUnitQuery, now: Time) -> Result<Vec<Slot>> {
    st.spec(spec_id)?;
    st.sweep(spec_id, now);
    let st = &*st;
    let spec = st.spec(spec_id)?;
    let limit = usize::try_from(q.limit)
        .ok()
        .filter(|&l| l > 0)
        .unwrap_or(usize::MAX);
    let status_ok = |unit| match &q.statuses {
        None => true,
        Some(list) => {
            let s = st.unit_status(unit, now);
            list.iter().any(|&x| x == WorkUnitStatus::Any || x == s)
        }
    };
    let after = |name: &str| q.previous_name.is_empty() || name > q.previous_name.as_str();
    let mut out = Vec::new();
    match &q.names {
        Some(names) => {
            let mut names: Vec<&String> = names.iter().collect();
            names.sort();
            names.dedup();
            for name in names {
                if out.len() >= limit {
                    break;
                }
                if let Some((slot, unit)) = spec.named(name) {
                    if after(name) && status_ok(unit) {
                        out.push(slot);
                    }
                }
            }
        }
        None => {
            let start = if q.previous_name.is_empty() {
                Bound::Unbounded
            } else {
                Bound::Excluded(q.previous_name.as_str())
            };
            for (_, &slot) in spec.names.range::<str, _>((start, Bound::Unbounded)) {
                if out.len() >= limit {
                    break;
                }
                if spec.unit(slot).is_some_and(status_ok) {
                    out.push(slot);
                }
            }
        }
    }
    Ok(out)
}
