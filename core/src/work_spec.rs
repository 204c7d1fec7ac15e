//! Work specs: a kind of job, holding its work units.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::backend::{Id, Op, Reply, SpecRef};
use crate::coordinate::{reply, Coordinate, Namespace};
use crate::error::Result;
use crate::meta::{AddWorkUnitItem, Summary, WorkSpecMeta, WorkUnitMeta, WorkUnitQuery};
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
    /// The handle of the work spec `r` describes (a reply's ref, or one a
    /// binding rebuilt from the ids it keeps: only the ids reach the store).
    pub fn from_ref(coord: &Coordinate, r: SpecRef) -> Self {
        WorkSpec {
            ns: coord.namespace_handle(r.ns),
            id: r.id,
            name: r.name,
        }
    }

    pub(crate) fn coord(&self) -> &Coordinate {
        &self.ns.coord
    }

    fn call(&self, op: Op) -> Result<Reply> {
        self.coord().call(op)
    }

    /// The spec's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store's id of this spec.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The namespace holding this spec.
    pub fn namespace(&self) -> &Namespace {
        &self.ns
    }

    /// The spec's data, exactly as last set.
    pub fn data(&self) -> Result<Map> {
        reply!(self.call(Op::SpecData { spec: self.id }), Reply::Data(d) => d)
    }

    /// Replaces the data and recomputes the meta from it. The name may not change.
    pub fn set_data(&self, data: Map) -> Result<()> {
        reply!(self.call(Op::SetSpecData { spec: self.id, data }), Reply::Done => ())
    }

    /// The scheduling metadata; with counts of available and pending units when asked.
    pub fn meta(&self, with_counts: bool) -> Result<WorkSpecMeta> {
        let op = Op::SpecMeta {
            spec: self.id,
            with_counts,
        };
        reply!(self.call(op), Reply::SpecMeta(m) => *m)
    }

    /// Updates the adjustable metadata fields (see
    /// [`WorkSpecMeta::apply_settable`]).
    pub fn set_meta(&self, meta: &WorkSpecMeta) -> Result<()> {
        let op = Op::SetSpecMeta {
            spec: self.id,
            meta: Box::new(meta.clone()),
        };
        reply!(self.call(op), Reply::Done => ())
    }

    /// Adds a unit, or replaces the data and meta of the unit of that name
    /// (a finished or failed unit becomes available again; history is kept).
    pub fn add_work_unit(&self, name: &str, data: Map, meta: WorkUnitMeta) -> Result<WorkUnit> {
        let op = Op::AddWorkUnit {
            spec: self.id,
            name: name.into(),
            data,
            meta,
        };
        let r = reply!(self.call(op), Reply::Unit(r) => r)?;
        Ok(WorkUnit::from_ref(self.clone(), r))
    }

    /// Adds or updates many units in one atomic call; returns how many items
    /// were given.
    pub fn add_work_units(&self, items: Vec<AddWorkUnitItem>) -> Result<usize> {
        let op = Op::AddWorkUnits {
            spec: self.id,
            items,
        };
        reply!(self.call(op), Reply::Count(n) => n as usize)
    }

    /// The unit called `name`.
    pub fn work_unit(&self, name: &str) -> Result<WorkUnit> {
        let op = Op::WorkUnit {
            spec: self.id,
            name: name.into(),
        };
        let r = reply!(self.call(op), Reply::Unit(r) => r)?;
        Ok(WorkUnit::from_ref(self.clone(), r))
    }

    /// The units the query selects, by name.
    pub fn work_units(&self, query: &WorkUnitQuery) -> Result<BTreeMap<String, WorkUnit>> {
        let op = Op::WorkUnits {
            spec: self.id,
            query: query.clone(),
        };
        let refs = reply!(self.call(op), Reply::Units(u) => u)?;
        Ok(refs
            .into_iter()
            .map(|r| (r.name.to_string(), WorkUnit::from_ref(self.clone(), r)))
            .collect())
    }

    /// How many units have each status; statuses with no units are absent.
    pub fn count_work_unit_status(&self) -> Result<BTreeMap<WorkUnitStatus, i64>> {
        let op = Op::CountWorkUnitStatus { spec: self.id };
        reply!(self.call(op), Reply::StatusCounts(c) => c)
    }

    /// Sets the priority of every selected unit.
    pub fn set_work_unit_priorities(&self, query: &WorkUnitQuery, priority: f64) -> Result<()> {
        let op = Op::SetWorkUnitPriorities {
            spec: self.id,
            query: query.clone(),
            priority,
        };
        reply!(self.call(op), Reply::Done => ())
    }

    /// Adds `adjustment` to the priority of every selected unit.
    pub fn adjust_work_unit_priorities(
        &self,
        query: &WorkUnitQuery,
        adjustment: f64,
    ) -> Result<()> {
        let op = Op::AdjustWorkUnitPriorities {
            spec: self.id,
            query: query.clone(),
            adjustment,
        };
        reply!(self.call(op), Reply::Done => ())
    }

    /// Deletes the selected units and their attempts; returns how many.
    pub fn delete_work_units(&self, query: &WorkUnitQuery) -> Result<usize> {
        let op = Op::DeleteWorkUnits {
            spec: self.id,
            query: query.clone(),
        };
        reply!(self.call(op), Reply::Count(n) => n as usize)
    }

    /// Unit counts by status.
    pub fn summarize(&self) -> Result<Summary> {
        reply!(self.call(Op::SummarizeSpec { spec: self.id }), Reply::Summary(s) => s)
    }
}
