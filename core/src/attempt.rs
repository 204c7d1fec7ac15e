//! Attempts: one worker's lease on one work unit.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use crate::backend::{AttemptRef, Id, Op, Reply, UnitRef};
use crate::coordinate::{reply, Coordinate};
use crate::error::Result;
use crate::status::AttemptStatus;
use crate::value::Map;
use crate::work_spec::WorkSpec;
use crate::work_unit::WorkUnit;
use crate::worker::Worker;

/// A lease of one work unit by one worker, which expires unless renewed and
/// ends when it is finished, failed, retried or expired.
#[derive(Clone)]
pub struct Attempt {
    unit: WorkUnit,
    worker: Worker,
    pub(crate) id: Id,
}

impl fmt::Debug for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Attempt({:?}/{:?} by {:?})",
            self.unit.work_spec().name(),
            self.unit.name(),
            self.worker.name()
        )
    }
}

impl PartialEq for Attempt {
    fn eq(&self, other: &Self) -> bool {
        self.coord() == other.coord() && self.id == other.id
    }
}
impl Eq for Attempt {}

impl std::hash::Hash for Attempt {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.id.hash(h);
    }
}

impl Attempt {
    /// The handle of the attempt `r` describes (a reply's ref, or one a
    /// binding rebuilt from the ids it keeps: only the ids reach the store).
    pub fn from_ref(coord: &Coordinate, r: AttemptRef) -> Attempt {
        let UnitRef { spec, id, name } = r.unit;
        Attempt {
            unit: WorkUnit::new(WorkSpec::from_ref(coord, spec), id, name),
            worker: Worker::from_ref(coord, r.worker),
            id: r.id,
        }
    }

    pub(crate) fn from_refs(coord: &Coordinate, refs: Vec<AttemptRef>) -> Vec<Attempt> {
        refs.into_iter()
            .map(|r| Attempt::from_ref(coord, r))
            .collect()
    }

    fn coord(&self) -> &Coordinate {
        self.unit.spec.coord()
    }

    fn call(&self, op: Op) -> Result<Reply> {
        self.coord().call(op)
    }

    /// The store's id of this attempt.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The work unit this attempt is for.
    pub fn work_unit(&self) -> &WorkUnit {
        &self.unit
    }

    /// The worker holding this attempt.
    pub fn worker(&self) -> &Worker {
        &self.worker
    }

    /// The attempt's status (expired leases are observed first).
    pub fn status(&self) -> Result<AttemptStatus> {
        let op = Op::AttemptStatus { attempt: self.id };
        reply!(self.call(op), Reply::AttemptStatus(s) => s)
    }

    /// The attempt's data: a copy of the unit's data, as last replaced.
    pub fn data(&self) -> Result<Map> {
        reply!(self.call(Op::AttemptData { attempt: self.id }), Reply::Data(d) => d)
    }

    /// When the attempt started.
    pub fn start_time(&self) -> Result<DateTime<Utc>> {
        reply!(self.call(Op::AttemptStartTime { attempt: self.id }), Reply::Time(t) => t)
    }

    /// When the attempt left Pending; `None` while pending.
    pub fn end_time(&self) -> Result<Option<DateTime<Utc>>> {
        reply!(self.call(Op::AttemptEndTime { attempt: self.id }), Reply::MaybeTime(t) => t)
    }

    /// When the lease runs out.
    pub fn expiration_time(&self) -> Result<DateTime<Utc>> {
        reply!(self.call(Op::AttemptExpiration { attempt: self.id }), Reply::Time(t) => t)
    }

    /// Extends the lease to `now + extend_duration`, replacing the data if given.
    /// An attempt that is no longer active is expired instead, with `LostLease`.
    pub fn renew(&self, extend_duration: TimeDelta, data: Option<Map>) -> Result<()> {
        let op = Op::Renew {
            attempt: self.id,
            extend: extend_duration,
            data,
        };
        reply!(self.call(op), Reply::Done => ())
    }

    /// Gives up the lease: the unit becomes available again. Expiring an
    /// expired attempt does nothing.
    pub fn expire(&self, data: Option<Map>) -> Result<()> {
        reply!(self.call(Op::Expire { attempt: self.id, data }), Reply::Done => ())
    }

    /// Marks the work done, replacing the data if given; if the attempt is
    /// still active and its spec has a `then`, the `output` key of the data
    /// becomes units of that spec, in the same atomic call. A failed attempt
    /// may still finish.
    pub fn finish(&self, data: Option<Map>) -> Result<()> {
        reply!(self.call(Op::Finish { attempt: self.id, data }), Reply::Done => ())
    }

    /// Marks the work failed for good, replacing the data if given.
    pub fn fail(&self, data: Option<Map>) -> Result<()> {
        reply!(self.call(Op::Fail { attempt: self.id, data }), Reply::Done => ())
    }

    /// Gives the unit back to be tried again after `delay`, replacing the data if given.
    pub fn retry(&self, data: Option<Map>, delay: TimeDelta) -> Result<()> {
        let op = Op::Retry {
            attempt: self.id,
            data,
            delay,
        };
        reply!(self.call(op), Reply::Done => ())
    }
}
