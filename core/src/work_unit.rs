//! Work units: one input of a work spec.

use std::fmt;
use std::sync::Arc;

use crate::attempt::Attempt;
use crate::coordinate::Coordinate;
use crate::error::Result;
use crate::meta::WorkUnitMeta;
use crate::state::{priority, Id, Slot, State, UnitState};
use crate::status::WorkUnitStatus;
use crate::value::Map;
use crate::work_spec::WorkSpec;

/// A work unit: one input (a name and a data map) of a work spec.
#[derive(Clone)]
pub struct WorkUnit {
    pub(crate) spec: WorkSpec,
    pub(crate) id: Id,
    pub(crate) slot: Slot,
    name: Arc<str>,
}

impl fmt::Debug for WorkUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WorkUnit({:?}/{:?})", self.spec.name(), self.name)
    }
}

impl PartialEq for WorkUnit {
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec && self.id == other.id
    }
}
impl Eq for WorkUnit {}

impl std::hash::Hash for WorkUnit {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.id.hash(h);
    }
}

impl WorkUnit {
    pub(crate) fn new(spec: WorkSpec, unit: &UnitState, slot: Slot) -> Self {
        WorkUnit {
            spec,
            id: unit.id,
            slot,
            name: unit.name.clone(),
        }
    }

    fn coord(&self) -> &Coordinate {
        self.spec.coord()
    }

    fn read<T>(&self, f: impl FnOnce(&State, &UnitState) -> T) -> Result<T> {
        self.coord().with(|st, _| {
            let unit = st.unit(self.spec.id, self.slot, self.id)?;
            Ok(f(st, unit))
        })
    }

    /// The unit's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The work spec holding this unit.
    pub fn work_spec(&self) -> &WorkSpec {
        &self.spec
    }

    /// The data of the active attempt if there is one, else the unit's own data.
    pub fn data(&self) -> Result<Map> {
        self.read(|st, unit| {
            unit.active
                .and_then(|a| st.attempts.get(&a))
                .map_or_else(|| unit.data.clone(), |a| a.data.clone())
        })
    }

    /// The unit's status now (expired leases are observed first).
    pub fn status(&self) -> Result<WorkUnitStatus> {
        self.coord().with(|st, now| {
            st.unit(self.spec.id, self.slot, self.id)?;
            st.sweep(self.spec.id, now);
            Ok(st.unit_status(st.unit(self.spec.id, self.slot, self.id)?, now))
        })
    }

    /// Priority and not-before time.
    pub fn meta(&self) -> Result<WorkUnitMeta> {
        self.read(|_, unit| WorkUnitMeta {
            priority: unit.priority,
            not_before: unit.not_before,
        })
    }

    /// Replaces priority and not-before time (unset values clear them).
    pub fn set_meta(&self, meta: WorkUnitMeta) -> Result<()> {
        self.update(|unit| {
            unit.priority = priority(meta.priority);
            unit.not_before = meta.not_before;
        })
    }

    /// The unit's priority.
    pub fn priority(&self) -> Result<f64> {
        self.read(|_, unit| unit.priority)
    }

    /// Sets the unit's priority; the new order applies at once.
    pub fn set_priority(&self, p: f64) -> Result<()> {
        self.update(|unit| unit.priority = priority(p))
    }

    /// Changes the unit, keeping it at the right place in its spec's queues.
    fn update(&self, f: impl FnOnce(&mut UnitState)) -> Result<()> {
        self.coord().with(|st, now| {
            st.unit(self.spec.id, self.slot, self.id)?;
            st.spec_mut(self.spec.id)?.requeue(self.slot, now, f);
            Ok(())
        })
    }

    /// The active attempt, if any (expired leases are observed first).
    pub fn active_attempt(&self) -> Result<Option<Attempt>> {
        self.coord().with(|st, now| {
            st.unit(self.spec.id, self.slot, self.id)?;
            st.sweep(self.spec.id, now);
            let unit = st.unit(self.spec.id, self.slot, self.id)?;
            Ok(unit
                .active
                .and_then(|a| Attempt::from_state(st, self.coord(), a)))
        })
    }

    /// Detaches the active attempt (which keeps its status); the unit becomes
    /// available, or delayed if its not-before time is ahead.
    pub fn clear_active_attempt(&self) -> Result<()> {
        self.coord().with(|st, now| {
            st.unit(self.spec.id, self.slot, self.id)?;
            st.clear_active(self.spec.id, self.slot, now)
        })
    }

    /// Every attempt ever made on this unit, oldest first.
    pub fn attempts(&self) -> Result<Vec<Attempt>> {
        self.coord().with(|st, _| {
            let unit = st.unit(self.spec.id, self.slot, self.id)?;
            Ok(st
                .unit_attempts(unit)
                .into_iter()
                .filter_map(|a| Attempt::from_state(st, self.coord(), a))
                .collect())
        })
    }

    /// How many attempts were ever made on this unit.
    pub fn num_attempts(&self) -> Result<usize> {
        self.read(|_, unit| unit.num_attempts as usize)
    }
}
