//! Workers and the request for work.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::attempt::Attempt;
use crate::backend::{Id, Op, Reply, WorkerRef};
use crate::coordinate::{reply, Coordinate, Namespace};
use crate::error::{Error, Result};
use crate::meta::AttemptRequest;
use crate::value::Map;
use crate::work_unit::WorkUnit;

/// A worker: something that asks for work and holds attempts. Workers form
/// a hierarchy (a parent sees its children's attempts).
#[derive(Clone)]
pub struct Worker {
    ns: Namespace,
    pub(crate) id: Id,
    name: Arc<str>,
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Worker({:?})", self.name)
    }
}

impl PartialEq for Worker {
    fn eq(&self, other: &Self) -> bool {
        self.ns.coord == other.ns.coord && self.id == other.id
    }
}
impl Eq for Worker {}

impl std::hash::Hash for Worker {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.id.hash(h);
    }
}

impl Worker {
    /// The handle of the worker `r` describes (a reply's ref, or one a
    /// binding rebuilt from the ids it keeps: only the ids reach the store).
    pub fn from_ref(coord: &Coordinate, r: WorkerRef) -> Self {
        Worker {
            ns: coord.namespace_handle(r.ns),
            id: r.id,
            name: r.name,
        }
    }

    fn coord(&self) -> &Coordinate {
        &self.ns.coord
    }

    fn call(&self, op: Op) -> Result<Reply> {
        self.coord().call(op)
    }

    fn attempts(&self, op: Op) -> Result<Vec<Attempt>> {
        let refs = reply!(self.call(op), Reply::Attempts(a) => a)?;
        Ok(Attempt::from_refs(self.coord(), refs))
    }

    /// The worker's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store's id of this worker.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The namespace of this worker.
    pub fn namespace(&self) -> &Namespace {
        &self.ns
    }

    /// The parent worker, if any.
    pub fn parent(&self) -> Result<Option<Worker>> {
        let r = reply!(self.call(Op::WorkerParent { worker: self.id }), Reply::Worker(w) => w)?;
        Ok(r.map(|r| Worker::from_ref(self.coord(), r)))
    }

    /// Moves this worker under `parent`, or makes it a root with `None`.
    pub fn set_parent(&self, parent: Option<&Worker>) -> Result<()> {
        if let Some(p) = parent {
            if p.coord() != self.coord() {
                return Err(Error::WrongBackend);
            }
        }
        let op = Op::SetParent {
            worker: self.id,
            parent: parent.map(|p| p.id),
        };
        reply!(self.call(op), Reply::Done => ())
    }

    /// The worker's children, sorted by name.
    pub fn children(&self) -> Result<Vec<Worker>> {
        let refs = reply!(self.call(Op::Children { worker: self.id }), Reply::Workers(w) => w)?;
        Ok(refs
            .into_iter()
            .map(|r| Worker::from_ref(self.coord(), r))
            .collect())
    }

    /// Whether the worker is active (informational only).
    pub fn active(&self) -> Result<bool> {
        reply!(self.call(Op::WorkerActive { worker: self.id }), Reply::Bool(b) => b)
    }

    /// Marks the worker inactive; its attempts are unaffected.
    pub fn deactivate(&self) -> Result<()> {
        reply!(self.call(Op::Deactivate { worker: self.id }), Reply::Done => ())
    }

    /// The mode last reported by `update` ("" if never updated).
    pub fn mode(&self) -> Result<String> {
        reply!(self.call(Op::WorkerMode { worker: self.id }), Reply::Text(t) => t)
    }

    /// The data last reported by `update` (empty if never updated).
    pub fn data(&self) -> Result<Map> {
        reply!(self.call(Op::WorkerData { worker: self.id }), Reply::Data(d) => d)
    }

    /// The expiration last reported (15 minutes after creation if never updated).
    pub fn expiration(&self) -> Result<DateTime<Utc>> {
        reply!(self.call(Op::WorkerExpiration { worker: self.id }), Reply::Time(t) => t)
    }

    /// The time of the last update (creation time if never updated).
    pub fn last_update(&self) -> Result<DateTime<Utc>> {
        reply!(self.call(Op::WorkerLastUpdate { worker: self.id }), Reply::Time(t) => t)
    }

    /// Records the worker's state as reported by it and marks it active.
    /// `now` and `expiration` are stored as given; the clock is not read.
    pub fn update(
        &self,
        data: Map,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
        mode: &str,
    ) -> Result<()> {
        let op = Op::UpdateWorker {
            worker: self.id,
            data,
            now,
            expiration,
            mode: mode.to_owned(),
        };
        reply!(self.call(op), Reply::Done => ())
    }

    /// Asks the scheduler for work: picks a spec, then hands out up to the
    /// requested number of its best available units as new attempts, in order.
    /// No work gives an empty list.
    pub fn request_attempts(&self, req: &AttemptRequest) -> Result<Vec<Attempt>> {
        self.attempts(Op::RequestAttempts {
            worker: self.id,
            request: req.clone(),
        })
    }

    /// The operation `request_attempts(req)` sends, for a [`Coordinate::batch`].
    pub fn request_op(&self, req: &AttemptRequest) -> Op {
        Op::RequestAttempts {
            worker: self.id,
            request: req.clone(),
        }
    }

    /// Finishes `done` (each with its data) and then asks for more work, in
    /// one transaction or round trip where the store can. Returns each
    /// finish's result, in order, and the new attempts.
    pub fn finish_and_request(
        &self,
        done: Vec<(Attempt, Option<Map>)>,
        req: &AttemptRequest,
    ) -> Result<(Vec<Result<()>>, Vec<Attempt>)> {
        let mut ops = Vec::with_capacity(done.len() + 1);
        for (attempt, data) in done {
            if attempt.work_unit().work_spec().coord() != self.coord() {
                return Err(Error::WrongBackend);
            }
            ops.push(Op::Finish {
                attempt: attempt.id,
                data,
            });
        }
        ops.push(self.request_op(req));
        let mut replies = self.coord().batch(ops)?;
        let requested = replies.pop().ok_or_else(|| Error::Storage {
            reason: "the store answered a batch with no replies".into(),
        })?;
        let attempts = match requested? {
            Reply::Attempts(refs) => Attempt::from_refs(self.coord(), refs),
            other => return Err(other.unexpected()),
        };
        let finished = replies
            .into_iter()
            .map(|r| match r? {
                Reply::Done => Ok(()),
                other => Err(other.unexpected()),
            })
            .collect();
        Ok((finished, attempts))
    }

    /// Starts an attempt on `unit` regardless of its state, spec limits or
    /// retries; a zero or negative `lifetime` means 15 minutes.
    pub fn make_attempt(&self, unit: &WorkUnit, lifetime: TimeDelta) -> Result<Attempt> {
        if unit.work_spec().namespace().coordinate() != self.coord() {
            return Err(Error::WrongBackend);
        }
        let op = Op::MakeAttempt {
            worker: self.id,
            unit: unit.key(),
            lifetime,
        };
        let r = reply!(self.call(op), Reply::Attempt(Some(a)) => a)?;
        Ok(Attempt::from_ref(self.coord(), *r))
    }

    /// Attempts of this worker not yet completed, oldest first.
    pub fn active_attempts(&self) -> Result<Vec<Attempt>> {
        self.attempts(Op::ActiveAttempts { worker: self.id })
    }

    /// Every attempt of this worker whose unit still exists, oldest first.
    pub fn all_attempts(&self) -> Result<Vec<Attempt>> {
        self.attempts(Op::AllAttempts { worker: self.id })
    }

    /// The active attempts of this worker's children, child by child (sorted by name).
    pub fn child_attempts(&self) -> Result<Vec<Attempt>> {
        self.attempts(Op::ChildAttempts { worker: self.id })
    }
}
