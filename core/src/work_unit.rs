//! Work units: one input of a work spec.

use std::fmt;
use std::sync::Arc;

use crate::attempt::Attempt;
use crate::backend::{Id, Op, Reply, UnitId, UnitRef};
use crate::coordinate::{reply, Coordinate};
use crate::error::Result;
use crate::meta::WorkUnitMeta;
use crate::status::WorkUnitStatus;
use crate::value::Map;
use crate::work_spec::WorkSpec;

/// A work unit: one input (a name and a data map) of a work spec.
#[derive(Clone)]
pub struct WorkUnit {
    pub(crate) spec: WorkSpec,
    pub(crate) id: Id,
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
    /// The handle of the unit `r` describes, in `spec` (a reply's ref, or one
    /// a binding rebuilt from the ids it keeps: only the ids reach the store).
    pub fn from_ref(spec: WorkSpec, r: UnitRef) -> Self {
        WorkUnit::new(spec, r.id, r.name)
    }

    pub(crate) fn new(spec: WorkSpec, id: Id, name: Arc<str>) -> Self {
        WorkUnit { spec, id, name }
    }

    fn coord(&self) -> &Coordinate {
        self.spec.coord()
    }

    /// The id operations on this unit carry.
    pub fn key(&self) -> UnitId {
        UnitId {
            spec: self.spec.id,
            unit: self.id,
        }
    }

    fn call(&self, op: Op) -> Result<Reply> {
        self.coord().call(op)
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
        reply!(self.call(Op::UnitData { unit: self.key() }), Reply::Data(d) => d)
    }

    /// The unit's status now (expired leases are observed first).
    pub fn status(&self) -> Result<WorkUnitStatus> {
        reply!(self.call(Op::UnitStatus { unit: self.key() }), Reply::UnitStatus(s) => s)
    }

    /// Priority and not-before time.
    pub fn meta(&self) -> Result<WorkUnitMeta> {
        reply!(self.call(Op::UnitMeta { unit: self.key() }), Reply::UnitMeta(m) => m)
    }

    /// Replaces priority and not-before time (unset values clear them).
    pub fn set_meta(&self, meta: WorkUnitMeta) -> Result<()> {
        let op = Op::SetUnitMeta {
            unit: self.key(),
            meta,
        };
        reply!(self.call(op), Reply::Done => ())
    }

    /// The unit's priority.
    pub fn priority(&self) -> Result<f64> {
        self.meta().map(|m| m.priority)
    }

    /// Sets the unit's priority; the new order applies at once.
    pub fn set_priority(&self, priority: f64) -> Result<()> {
        let op = Op::SetUnitPriority {
            unit: self.key(),
            priority,
        };
        reply!(self.call(op), Reply::Done => ())
    }

    /// The active attempt, if any (expired leases are observed first).
    pub fn active_attempt(&self) -> Result<Option<Attempt>> {
        let r = reply!(self.call(Op::ActiveAttempt { unit: self.key() }), Reply::Attempt(a) => a)?;
        Ok(r.map(|r| Attempt::from_ref(self.coord(), *r)))
    }

    /// Detaches the active attempt (which keeps its status); the unit becomes
    /// available, or delayed if its not-before time is ahead.
    pub fn clear_active_attempt(&self) -> Result<()> {
        reply!(self.call(Op::ClearActiveAttempt { unit: self.key() }), Reply::Done => ())
    }

    /// Every attempt ever made on this unit, oldest first.
    pub fn attempts(&self) -> Result<Vec<Attempt>> {
        let refs =
            reply!(self.call(Op::UnitAttempts { unit: self.key() }), Reply::Attempts(a) => a)?;
        Ok(Attempt::from_refs(self.coord(), refs))
    }

    /// How many attempts were ever made on this unit.
    pub fn num_attempts(&self) -> Result<usize> {
        reply!(self.call(Op::NumAttempts { unit: self.key() }), Reply::Count(n) => n as usize)
    }
}
